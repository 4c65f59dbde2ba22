package marketo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/handoff-dev/handoff"
)

// Attribute API names of the handoff custom activity type (see doc.go).
const (
	AttrKind     = "handoffKind" // created | update | reassign
	AttrOwner    = "ownerEmail"
	AttrPriority = "priority"
	AttrSubject  = "subject"
	AttrDue      = "due"
	AttrNote     = "note"
)

// Activity kinds recorded under the handoff activity type.
const (
	KindCreated  = "created"
	KindUpdate   = "update"
	KindReassign = "reassign"
)

const (
	maxNote  = 20000 // keep the activity's attributes well under Marketo's 64 KB (1049)
	hintTTL  = 30 * 24 * time.Hour
	clockPad = 10 * time.Minute // paging tokens start this long before the marker's time
)

// CreateTask requests the configured campaign for the lead with the
// rendered tokens (its flow creates the task in the synced CRM), then logs
// the handoff custom activity carrying spec.HandoffID as its primary
// attribute, which is what FindTask looks up. Each write is a recorded
// step (steps.go): a retry after an error on any later call (606 on the
// activity or on a token refresh, a lost answer) resumes after the
// campaign request instead of requesting it again, with the lead and
// activity time of the first attempt; such an error is marked
// handoff.PartlyWritten.
//
// The returned Task.ID is a marker "<leadId>:<unix seconds>:<handoffId>";
// State is TaskUnknown: Marketo cannot read the CRM task back.
func (c *Client) CreateTask(ctx context.Context, spec handoff.TaskSpec) (handoff.Task, error) {
	if err := c.checkTenant(spec.Tenant); err != nil {
		return handoff.Task{}, err
	}
	if strings.TrimSpace(spec.HandoffID) == "" {
		return handoff.Task{}, &handoff.PermanentError{CRM: crm, Code: "handoff_id", Detail: "create marketo handoff: TaskSpec.HandoffID is empty"}
	}
	fail := func(err error) (handoff.Task, error) {
		return handoff.Task{}, fmt.Errorf("create marketo handoff %s: %w", spec.HandoffID, err)
	}
	st, err := c.loadSteps(ctx, "create", spec.HandoffID)
	if err != nil {
		return fail(err)
	}
	lid, at, resumed := st.place()
	if !resumed {
		if lid, err = c.leadID(ctx, spec.Contact); err != nil {
			return fail(err)
		}
		at = c.now().UTC().Truncate(time.Second)
		if err := st.set(ctx, stepLead, strconv.FormatInt(lid, 10), stepAt, strconv.FormatInt(at.Unix(), 10)); err != nil {
			return fail(err)
		}
	}
	tokens := RenderTask(spec)
	c.saveHint(ctx, spec.HandoffID, lid, at)

	note := "activity only (MARKETO_TASK_TARGET=activity): the task is created in the synced CRM"
	if id := c.s.target.CampaignID; id != 0 {
		if note, err = c.requestCampaignOnce(ctx, st, id, lid, tokens); err != nil {
			return fail(err)
		}
	}
	attrs := []attribute{
		{AttrKind, KindCreated},
		{AttrOwner, tokens.Get("handoff_owner_email")},
		{AttrPriority, string(spec.Priority)},
		{AttrSubject, tokens.Get("handoff_subject")},
		{AttrDue, tokens.Get("handoff_due")},
		{AttrNote, note},
	}
	if err := c.logActivity(ctx, lid, at, spec.HandoffID, attrs); err != nil {
		if st.campaignRequested() {
			err = handoff.PartlyWritten(err)
		}
		return fail(err)
	}
	return handoff.Task{
		ID: marker(lid, at, spec.HandoffID), HandoffID: spec.HandoffID, OwnerID: tokens.Get("handoff_owner_email"),
		State: handoff.TaskUnknown, Priority: spec.Priority, Subject: tokens.Get("handoff_subject"), Due: spec.Due,
	}, nil
}

// leadID is the contact's Marketo lead id, looked up by email when the
// reference has none.
func (c *Client) leadID(ctx context.Context, ref handoff.ContactRef) (int64, error) {
	leadID := ref.ID
	if leadID == "" {
		l, err := c.findLead(ctx, ref, []string{"id"})
		if err != nil {
			return 0, err
		}
		leadID = l.str("id")
	}
	lid, err := strconv.ParseInt(leadID, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("lead id %q is not an integer: %w", leadID, handoff.ErrNotFound)
	}
	return lid, nil
}

// FindTask finds the handoff's "created" activity. It reads the lead and
// time from the hint CreateTask left in Redis; without one it scans the
// handoff activity type over MARKETO_FIND_LOOKBACK. Not found wraps
// handoff.ErrNotFound; a scan that hits MARKETO_FIND_MAX_PAGES is a
// TransientError (not "not found", which would create a duplicate).
func (c *Client) FindTask(ctx context.Context, tenant, handoffID string) (handoff.Task, error) {
	if err := c.checkTenant(tenant); err != nil {
		return handoff.Task{}, err
	}
	op := "find marketo handoff " + handoffID
	leadID, at, ok := c.hint(ctx, handoffID)
	since := c.now().Add(-c.cfg.FindLookback)
	lead := ""
	if ok {
		since, lead = at.Add(-clockPad), strconv.FormatInt(leadID, 10)
	}
	t, err := c.lookup(ctx, handoffID, lead, since)
	if err != nil {
		return handoff.Task{}, fmt.Errorf("%s: %w", op, err)
	}
	return t, nil
}

// GetTask confirms the handoff activity behind a marker and returns the
// task as Marketo knows it: owner and priority after reassignments, State
// TaskUnknown. Marketo cannot see the CRM task's status; SLA tracking for
// Marketo handoffs reads the task in the synced CRM.
func (c *Client) GetTask(ctx context.Context, tenant, taskID string) (handoff.Task, error) {
	if err := c.checkTenant(tenant); err != nil {
		return handoff.Task{}, err
	}
	lid, at, hid, err := parseMarker(taskID)
	if err != nil {
		return handoff.Task{}, err
	}
	t, err := c.lookup(ctx, hid, strconv.FormatInt(lid, 10), at.Add(-clockPad))
	if err != nil {
		return handoff.Task{}, fmt.Errorf("read marketo handoff %s: %w", taskID, err)
	}
	return t, nil
}

// AppendToTask logs an "update" handoff activity with the note (custom
// activities cannot be edited, so updates are new activities).
func (c *Client) AppendToTask(ctx context.Context, tenant, taskID, note string) error {
	if err := c.checkTenant(tenant); err != nil {
		return err
	}
	lid, _, hid, err := parseMarker(taskID)
	if err != nil {
		return err
	}
	attrs := []attribute{{AttrKind, KindUpdate}, {AttrNote, clip(clean(note), maxNote)}}
	if err := c.logActivity(ctx, lid, c.now().UTC().Truncate(time.Second), hid, attrs); err != nil {
		return fmt.Errorf("append to marketo handoff %s: %w", taskID, err)
	}
	return nil
}

// ReassignTask re-requests the campaign with the new owner (a CRM task
// cannot be reassigned through Marketo, so the flow creates one for the new
// owner, with the original subject and due time) and logs a "reassign"
// activity, which GetTask/FindTask then report as the owner. The campaign
// request is a recorded step per handoff, owner and priority, so a retry of
// the same reassignment never requests it twice; a priority change for the
// same owner only logs the activity (a second campaign run would be a
// second task for the same person).
func (c *Client) ReassignTask(ctx context.Context, tenant, taskID string, owner handoff.Owner, priority handoff.Priority) error {
	if err := c.checkTenant(tenant); err != nil {
		return err
	}
	lid, _, hid, err := parseMarker(taskID)
	if err != nil {
		return err
	}
	email := ownerEmail(owner)
	if email == "" {
		return &handoff.PermanentError{CRM: crm, Code: "owner", Detail: fmt.Sprintf("reassign marketo handoff %s: the owner has no email", taskID)}
	}
	op := "reassign marketo handoff " + taskID
	st, err := c.loadSteps(ctx, "reassign:"+strings.ToLower(email)+":"+string(priority), hid)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if id := c.s.target.CampaignID; id != 0 && !st.campaignRequested() {
		cur, err := c.GetTask(ctx, tenant, taskID)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if !strings.EqualFold(cur.OwnerID, email) {
			due := ""
			if !cur.Due.IsZero() {
				due = cur.Due.UTC().Format(time.RFC3339)
			}
			body := fmt.Sprintf("This handoff was reassigned from %s to %s (priority %s). The full context is in the earlier task %q on this person.\n\nHandoff ID: %s\n",
				first(cur.OwnerID, "(unknown)"), email, priority, cur.Subject, hid)
			tokens := TaskTokens{
				{TokenSubject, clip(clean("[Reassigned] "+first(cur.Subject, "Handoff "+hid)), MaxSubject)},
				{TokenBody, clean(body)},
				{TokenOwnerEmail, clean(email)},
				{TokenDue, due},
				{TokenPriority, sfPriority(priority)},
				{TokenID, clean(hid)},
			}
			if _, err := c.requestCampaignOnce(ctx, st, id, lid, tokens); err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
		}
	}
	attrs := []attribute{{AttrKind, KindReassign}, {AttrOwner, email}, {AttrPriority, string(priority)}}
	if err := c.logActivity(ctx, lid, c.now().UTC().Truncate(time.Second), hid, attrs); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// ---- Marketo calls ----

type triggerBody struct {
	Input triggerInput `json:"input"`
}

type triggerInput struct {
	Leads  []leadKey  `json:"leads"`
	Tokens TaskTokens `json:"tokens"`
}

type leadKey struct {
	ID int64 `json:"id"`
}

// trigger requests a campaign for one lead with tokens.
func (c *Client) trigger(ctx context.Context, campaignID int, leadID int64, tokens TaskTokens) error {
	_, err := c.call(ctx, request{op: fmt.Sprintf("request marketo campaign %d", campaignID), method: "POST",
		path: "/rest/v1/campaigns/" + strconv.Itoa(campaignID) + "/trigger.json",
		body: triggerBody{Input: triggerInput{Leads: []leadKey{{ID: leadID}}, Tokens: tokens}}})
	return err
}

type attribute struct {
	APIName string `json:"apiName"`
	Value   string `json:"value"`
}

type externalActivity struct {
	LeadID                int64       `json:"leadId"`
	ActivityDate          string      `json:"activityDate"`
	ActivityTypeID        int         `json:"activityTypeId"`
	PrimaryAttributeValue string      `json:"primaryAttributeValue"`
	Attributes            []attribute `json:"attributes"`
}

type externalBody struct {
	Input []externalActivity `json:"input"`
}

// logActivity adds one handoff custom activity.
func (c *Client) logActivity(ctx context.Context, leadID int64, at time.Time, handoffID string, attrs []attribute) error {
	var kept []attribute
	for _, a := range attrs {
		if a.Value != "" {
			if a.APIName != AttrNote {
				a.Value = clip(a.Value, MaxSubject) // string attributes hold 255 characters
			}
			kept = append(kept, a)
		}
	}
	env, err := c.call(ctx, request{op: "log marketo handoff activity", method: "POST", path: "/rest/v1/activities/external.json",
		body: externalBody{Input: []externalActivity{{
			LeadID: leadID, ActivityDate: at.Format(time.RFC3339), ActivityTypeID: c.cfg.ActivityTypeID,
			PrimaryAttributeValue: handoffID, Attributes: kept,
		}}}})
	if err != nil {
		return err
	}
	if _, err := c.checkRecords(ctx, env); err != nil {
		return fmt.Errorf("log marketo handoff activity: %w", err)
	}
	return nil
}

// activity is one entry of Get Lead Activities.
type activity struct {
	ID                    json.Number `json:"id"`
	MarketoGUID           string      `json:"marketoGUID"`
	LeadID                json.Number `json:"leadId"`
	ActivityDate          string      `json:"activityDate"`
	ActivityTypeID        json.Number `json:"activityTypeId"`
	PrimaryAttributeValue string      `json:"primaryAttributeValue"`
	Attributes            []struct {
		Name    string `json:"name"`
		APIName string `json:"apiName"`
		Value   any    `json:"value"`
	} `json:"attributes"`
}

func (a activity) attr(name string) string {
	want := normName(name)
	for _, at := range a.Attributes {
		if normName(at.APIName) == want || normName(at.Name) == want {
			switch v := at.Value.(type) {
			case string:
				return v
			case nil:
				return ""
			default:
				return fmt.Sprint(v)
			}
		}
	}
	return ""
}

// normName folds "handoffKind", "Handoff Kind" and "handoff_kind" together.
func normName(s string) string {
	return strings.ToLower(strings.NewReplacer(" ", "", "_", "", "-", "").Replace(s))
}

// lookup finds the handoff's activities (of the lead, if known) since a
// time and folds them into a Task.
func (c *Client) lookup(ctx context.Context, handoffID, leadID string, since time.Time) (handoff.Task, error) {
	env, err := c.call(ctx, request{op: "get marketo paging token", method: "GET", path: "/rest/v1/activities/pagingtoken.json",
		query: url.Values{"sinceDatetime": {since.UTC().Format(time.RFC3339)}}})
	if err != nil {
		return handoff.Task{}, err
	}
	tok := env.NextPageToken
	typeID := strconv.Itoa(c.cfg.ActivityTypeID)
	var found []activity
	for page := 0; ; page++ {
		if page >= c.cfg.FindMaxPages {
			return handoff.Task{}, &handoff.TransientError{CRM: crm, Err: fmt.Errorf("activity search stopped after %d pages (MARKETO_FIND_MAX_PAGES) without finding the handoff", page)}
		}
		q := url.Values{"activityTypeIds": {typeID}, "nextPageToken": {tok}}
		if leadID != "" {
			q.Set("leadIds", leadID)
		}
		env, err := c.call(ctx, request{op: "read marketo activities", method: "GET", path: "/rest/v1/activities.json", query: q})
		if err != nil {
			return handoff.Task{}, err
		}
		var acts []activity
		if len(env.Result) > 0 && string(env.Result) != "null" {
			if err := json.Unmarshal(env.Result, &acts); err != nil {
				return handoff.Task{}, &handoff.TransientError{CRM: crm, Err: fmt.Errorf("decode activities: %w", err)}
			}
		}
		for _, a := range acts {
			if a.PrimaryAttributeValue == handoffID && a.ActivityTypeID.String() == typeID {
				found = append(found, a)
			}
		}
		if !env.MoreResult || env.NextPageToken == "" || env.NextPageToken == tok {
			break
		}
		tok = env.NextPageToken
	}
	return fold(handoffID, found)
}

// fold replays a handoff's activities, oldest first.
func fold(handoffID string, acts []activity) (handoff.Task, error) {
	sort.SliceStable(acts, func(i, j int) bool { return acts[i].ActivityDate < acts[j].ActivityDate })
	var t handoff.Task
	created := false
	for _, a := range acts {
		switch a.attr(AttrKind) {
		case KindCreated:
			if created {
				continue
			}
			created = true
			lid, _ := a.LeadID.Int64()
			at, _ := time.Parse(time.RFC3339, a.ActivityDate)
			t = handoff.Task{ID: marker(lid, at, handoffID), HandoffID: handoffID, OwnerID: a.attr(AttrOwner),
				State: handoff.TaskUnknown, Priority: handoff.Priority(a.attr(AttrPriority)), Subject: a.attr(AttrSubject)}
			if d, err := time.Parse(time.RFC3339, a.attr(AttrDue)); err == nil {
				t.Due = d
			}
		case KindReassign:
			if o := a.attr(AttrOwner); o != "" {
				t.OwnerID = o
			}
			if p := a.attr(AttrPriority); p != "" {
				t.Priority = handoff.Priority(p)
			}
		}
	}
	if !created {
		return handoff.Task{}, fmt.Errorf("no handoff activity for %s: %w", handoffID, handoff.ErrNotFound)
	}
	return t, nil
}

// ---- markers and hints ----

func marker(leadID int64, at time.Time, handoffID string) string {
	return fmt.Sprintf("%d:%d:%s", leadID, at.Unix(), handoffID)
}

func parseMarker(id string) (leadID int64, at time.Time, handoffID string, err error) {
	parts := strings.SplitN(id, ":", 3)
	if len(parts) == 3 && parts[2] != "" {
		l, e1 := strconv.ParseInt(parts[0], 10, 64)
		s, e2 := strconv.ParseInt(parts[1], 10, 64)
		if e1 == nil && e2 == nil {
			return l, time.Unix(s, 0).UTC(), parts[2], nil
		}
	}
	return 0, time.Time{}, "", fmt.Errorf("marketo task id %q is not a handoff marker (<leadId>:<unix>:<handoffId>): %w", id, handoff.ErrNotFound)
}

func (c *Client) hintKey(handoffID string) string { return c.prefix + "task:" + handoffID }

// saveHint records where the handoff's activity will be, so FindTask reads
// one lead's activities instead of scanning the instance. Best effort.
func (c *Client) saveHint(ctx context.Context, handoffID string, leadID int64, at time.Time) {
	v := strconv.FormatInt(leadID, 10) + ":" + strconv.FormatInt(at.Unix(), 10)
	if err := c.d.Redis.Set(ctx, c.hintKey(handoffID), v, hintTTL).Err(); err != nil {
		c.log.WarnContext(ctx, "marketo task hint not saved", "handoff_id", handoffID, "err", err)
	}
}

func (c *Client) hint(ctx context.Context, handoffID string) (int64, time.Time, bool) {
	v, err := c.d.Redis.Get(ctx, c.hintKey(handoffID)).Result()
	if err != nil {
		if !errors.Is(err, redis.Nil) {
			c.log.WarnContext(ctx, "marketo task hint not read", "handoff_id", handoffID, "err", err)
		}
		return 0, time.Time{}, false
	}
	l, s, ok := strings.Cut(v, ":")
	lid, e1 := strconv.ParseInt(l, 10, 64)
	sec, e2 := strconv.ParseInt(s, 10, 64)
	if !ok || e1 != nil || e2 != nil {
		return 0, time.Time{}, false
	}
	return lid, time.Unix(sec, 0), true
}
