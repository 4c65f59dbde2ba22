package hubspottest

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

var seedTime = time.Date(2026, 1, 15, 8, 0, 0, 0, time.UTC).Format(isoMillis)

func pipelineJSON(p Pipeline, order int) map[string]any {
	stages := []map[string]any{}
	for i, st := range p.Stages {
		stages = append(stages, map[string]any{
			"id": st.ID, "label": st.Label, "displayOrder": i, "archived": false,
			"createdAt": seedTime, "updatedAt": seedTime, "writePermissions": "CRUD_ALL",
			"metadata": map[string]string{"isClosed": strconv.FormatBool(st.IsClosed), "probability": st.Probability},
		})
	}
	return map[string]any{"id": p.ID, "label": p.Label, "displayOrder": order, "archived": false, "createdAt": seedTime, "updatedAt": seedTime, "stages": stages}
}

func (s *Server) pipelines(w http.ResponseWriter, _ *http.Request, _ string, _ []byte) {
	res := []map[string]any{}
	for i, p := range s.seed.Pipelines {
		res = append(res, pipelineJSON(p, i))
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": res})
}

func (s *Server) pipeline(w http.ResponseWriter, r *http.Request, _ string, _ []byte) {
	for i, p := range s.seed.Pipelines {
		if p.ID == r.PathValue("id") {
			writeJSON(w, http.StatusOK, pipelineJSON(p, i))
			return
		}
	}
	notFound(w, r.PathValue("id"))
}

func ownerJSON(o Owner) map[string]any {
	m := map[string]any{
		"id": o.ID, "email": o.Email, "type": "PERSON", "firstName": o.FirstName, "lastName": o.LastName,
		"userId": o.UserID, "userIdIncludingInactive": o.UserID, "createdAt": seedTime, "updatedAt": seedTime, "archived": o.Archived,
	}
	if o.Team != "" {
		m["teams"] = []map[string]any{{"id": "team-" + strings.ToLower(strings.ReplaceAll(o.Team, " ", "-")), "name": o.Team, "primary": true}}
	}
	return m
}

// owners is GET /crm/v3/owners?email=&limit=&after=&archived= (docs/crm/hubspot.md).
func (s *Server) owners(w http.ResponseWriter, r *http.Request, _ string, _ []byte) {
	q := r.URL.Query()
	archived := q.Get("archived") == "true"
	limit := 100
	if l, err := strconv.Atoi(q.Get("limit")); err == nil && l > 0 && l <= 500 {
		limit = l
	}
	offset, _ := strconv.Atoi(q.Get("after"))
	var all []Owner
	for _, o := range s.seed.Owners {
		if o.Archived != archived {
			continue
		}
		if e := q.Get("email"); e != "" && !strings.EqualFold(e, o.Email) {
			continue
		}
		all = append(all, o)
	}
	res := []map[string]any{}
	for i := offset; i < len(all) && i < offset+limit; i++ {
		res = append(res, ownerJSON(all[i]))
	}
	resp := map[string]any{"results": res}
	if offset+limit < len(all) {
		resp["paging"] = map[string]any{"next": map[string]any{"after": strconv.Itoa(offset + limit), "link": "?after=" + strconv.Itoa(offset+limit)}}
	}
	writeJSON(w, http.StatusOK, resp)
}

// owner is GET /crm/v3/owners/{ownerId}?idProperty=id|userId&archived=.
// Like the list, it only finds archived owners with archived=true (the
// parameter's default is false), so a deactivated owner is a 404.
func (s *Server) owner(w http.ResponseWriter, r *http.Request, _ string, _ []byte) {
	id := r.PathValue("id")
	byUser := r.URL.Query().Get("idProperty") == "userId"
	archived := r.URL.Query().Get("archived") == "true"
	for _, o := range s.seed.Owners {
		if o.Archived != archived {
			continue
		}
		if (!byUser && o.ID == id) || (byUser && strconv.FormatInt(o.UserID, 10) == id) {
			writeJSON(w, http.StatusOK, ownerJSON(o))
			return
		}
	}
	notFound(w, id)
}

func (s *Server) findThread(id string) (Thread, bool) {
	for _, t := range s.seed.Threads {
		if t.ID == id {
			return t, true
		}
	}
	return Thread{}, false
}

func (s *Server) thread(w http.ResponseWriter, r *http.Request, _ string, _ []byte) {
	t, ok := s.findThread(r.PathValue("id"))
	if !ok {
		notFound(w, r.PathValue("id"))
		return
	}
	created, latest := seedTime, seedTime
	if n := len(t.Messages); n > 0 {
		created = t.Messages[0].CreatedAt.UTC().Format(isoMillis)
		latest = t.Messages[n-1].CreatedAt.UTC().Format(isoMillis)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": t.ID, "createdAt": created, "status": t.Status, "originalChannelId": "1000", "originalChannelAccountId": "8001",
		"latestMessageTimestamp": latest, "spam": false, "inboxId": "147959634", "associatedContactId": t.AssociatedContactID, "archived": false,
	})
}

func messageJSON(threadID string, m ThreadMessage) map[string]any {
	at := m.CreatedAt.UTC().Format(isoMillis)
	base := map[string]any{"id": m.ID, "type": m.Type, "createdAt": at, "archived": false}
	switch m.Type {
	case "MESSAGE":
		sender := map[string]any{"actorId": "V-" + strconv.Itoa(len(m.SenderName)*1000+7), "name": m.SenderName}
		if m.SenderAddr != "" {
			sender["deliveryIdentifier"] = map[string]string{"type": "HS_EMAIL_ADDRESS", "value": m.SenderAddr}
		}
		status := "RECEIVED"
		if m.Direction == "OUTGOING" {
			status, sender["actorId"] = "SENT", "A-9100007"
		}
		base["conversationsThreadId"] = threadID
		base["updatedAt"] = at
		base["createdBy"] = sender["actorId"]
		base["client"] = map[string]string{"clientType": "HUBSPOT"}
		base["senders"] = []map[string]any{sender}
		base["recipients"] = []map[string]any{}
		text, trunc := m.Text, "NOT_TRUNCATED"
		if m.TruncateAt > 0 && m.TruncateAt < len(text) {
			text, trunc = text[:m.TruncateAt], "TRUNCATED"
		}
		base["text"] = text
		base["richText"] = "<div>" + htmlEscape(text) + "</div>"
		base["attachments"] = []any{}
		base["truncationStatus"] = trunc
		base["status"] = map[string]string{"statusType": status}
		base["direction"] = m.Direction
		base["channelId"] = "1000"
		base["channelAccountId"] = "8001"
	case "COMMENT":
		base["createdBy"] = "A-9100007"
		base["client"] = map[string]string{"clientType": "HUBSPOT"}
		base["text"] = m.Text
		base["richText"] = "<p>" + htmlEscape(m.Text) + "</p>"
		base["attachments"] = []any{}
	}
	return base
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;").Replace(s)
}

// threadMessages is GET …/threads/{threadId}/messages?limit&after&sort (docs/crm/hubspot.md);
// the default sort is -createdAt (newest first).
func (s *Server) threadMessages(w http.ResponseWriter, r *http.Request, _ string, _ []byte) {
	t, ok := s.findThread(r.PathValue("id"))
	if !ok {
		notFound(w, r.PathValue("id"))
		return
	}
	q := r.URL.Query()
	msgs := append([]ThreadMessage(nil), t.Messages...)
	asc := q.Get("sort") == "createdAt"
	sort.SliceStable(msgs, func(i, j int) bool {
		if asc {
			return msgs[i].CreatedAt.Before(msgs[j].CreatedAt)
		}
		return msgs[i].CreatedAt.After(msgs[j].CreatedAt)
	})
	limit := 20
	if l, err := strconv.Atoi(q.Get("limit")); err == nil && l > 0 && l <= 500 {
		limit = l
	}
	offset, _ := strconv.Atoi(q.Get("after"))
	res := []map[string]any{}
	for i := offset; i < len(msgs) && i < offset+limit; i++ {
		res = append(res, messageJSON(t.ID, msgs[i]))
	}
	resp := map[string]any{"results": res}
	if offset+limit < len(msgs) {
		resp["paging"] = map[string]any{"next": map[string]any{"after": strconv.Itoa(offset + limit)}}
	}
	writeJSON(w, http.StatusOK, resp)
}

// originalContent is GET …/threads/{threadId}/messages/{messageId}/original-content
// (docs/crm/hubspot.md): the full text and rich text of a truncated message.
func (s *Server) originalContent(w http.ResponseWriter, r *http.Request, _ string, _ []byte) {
	t, ok := s.findThread(r.PathValue("id"))
	if !ok {
		notFound(w, r.PathValue("id"))
		return
	}
	for _, m := range t.Messages {
		if m.ID == r.PathValue("msg") && m.Type == "MESSAGE" {
			writeJSON(w, http.StatusOK, map[string]any{"text": m.Text, "richText": "<div>" + htmlEscape(m.Text) + "</div>", "attachments": []any{}})
			return
		}
	}
	notFound(w, r.PathValue("msg"))
}
