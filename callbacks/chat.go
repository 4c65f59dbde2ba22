package callbacks

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/handoff-dev/handoff/jobs"
	"github.com/handoff-dev/handoff/ladder"
)

// Chat notifications to people ride on the same delivery task, queue and
// retry policy as callbacks: a payload with a URL is a chat message, sent
// unsigned to that webhook (the URL is its secret) in the target's format.
//
// Formats (see ladder.ParseNotifyTarget for the target syntax):
//   - webhook: a Standard Webhooks-signed JSON event, as the callbacks
//     are ({"type","timestamp","data"}; WebhookEvent), signed with the
//     secret held in the target's environment variable.
//   - slack: {"text": ...} with Slack mrkdwn (<url|label>, *bold*), as
//     Slack incoming webhooks accept (https://api.slack.com/messaging/webhooks).
//   - mattermost: {"text": ...} in Markdown, as Mattermost incoming
//     webhooks accept (https://developers.mattermost.com/integrate/webhooks/incoming/).
//   - google_chat: {"text": ...}, Google Chat's simple text message
//     (https://developers.google.com/workspace/chat/format-messages).
//   - teams: a message with one Adaptive Card attachment, as the Teams
//     Workflows "post to a channel when a webhook request is received"
//     template expects ({"type":"message","attachments":[{"contentType":
//     "application/vnd.microsoft.card.adaptive","content":{AdaptiveCard}}]}).

// NotifyPeople queues one delivery of a per target (jobs.PeopleNotifier).
// A target that does not parse (the ladder lint refuses it) is skipped
// with a warning.
func (s *Sender) NotifyPeople(ctx context.Context, a jobs.Alert) error {
	for _, raw := range a.Targets {
		t, err := ladder.ParseNotifyTarget(raw)
		if err != nil {
			s.log.WarnContext(ctx, "notification target skipped", "handoff_id", a.HandoffID, "error", err)
			continue
		}
		// One id per target: two webhook targets on one URL signed with
		// different secrets are two receivers and get one delivery each.
		key := t.Format + "\x00" + t.URL
		if t.SecretEnv != "" {
			key += "\x00" + t.SecretEnv
		}
		h := sha256.Sum256([]byte(key))
		id := a.ID + "_" + hex.EncodeToString(h[:6])
		pl := payload{V: 1, ID: id, Type: "notify." + a.Kind, Conversation: a.Conversation, URL: t.URL, Format: t.Format}
		if t.Format == ladder.FormatWebhook {
			// Start-up checks that every secret the ladder names is set;
			// a process without it archives the delivery, saying which.
			pl.SecretEnv = t.SecretEnv
			pl.Type, pl.Body, err = WebhookEvent(a, s.now())
		} else {
			pl.Body, err = ChatBody(t.Format, a)
		}
		if err != nil {
			return err
		}
		if err := s.enqueue(ctx, pl, id); err != nil {
			return err
		}
	}
	return nil
}

// chatLines are the message's parts, formatted per target.
type chatLines struct {
	title string
	facts [][2]string
	link  string
}

func lines(a jobs.Alert) chatLines {
	who := a.Owner.Name
	switch {
	case who != "" && a.Owner.Email != "":
		who += " (" + a.Owner.Email + ")"
	case who == "":
		who = a.Owner.Email
	}
	if who == "" {
		who = a.Owner.ID
	}
	if who == "" {
		who = "(no owner)"
	}
	l := chatLines{link: a.TaskURL}
	switch a.Kind {
	case jobs.AlertSLA:
		l.title = fmt.Sprintf("SLA lapsed (%d× the SLA): handoff %s is not started", a.Step, a.HandoffID)
	case jobs.AlertCatchAll:
		l.title = fmt.Sprintf("Nobody on the route could take handoff %s: it went to the catch-all %s", a.HandoffID, who)
	default:
		l.title = fmt.Sprintf("New %s for %s: handoff %s", orWord(a.Action, "handoff"), who, a.HandoffID)
	}
	l.facts = append(l.facts, [2]string{"Owner", who}, [2]string{"Why", orWord(a.Why, "rung "+a.Rung)})
	if a.Rung != "" {
		l.facts = append(l.facts, [2]string{"Rung", a.Rung})
	}
	sla := ""
	if a.SLA > 0 {
		sla = a.SLA.String()
	}
	if !a.Due.IsZero() {
		sla = strings.TrimSpace(sla + " (due " + a.Due.UTC().Format(time.RFC3339) + ")")
	}
	if sla != "" {
		l.facts = append(l.facts, [2]string{"SLA", sla})
	}
	if a.Conversation != "" {
		l.facts = append(l.facts, [2]string{"Conversation", a.Conversation})
	}
	return l
}

func orWord(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// ChatBody is the JSON body of an alert for a target format.
func ChatBody(format string, a jobs.Alert) (json.RawMessage, error) {
	l := lines(a)
	var msg any
	switch format {
	case ladder.FormatSlack, ladder.FormatGoogleChat:
		var b strings.Builder
		b.WriteString("*" + slackEscape.Replace(l.title) + "*")
		for _, f := range l.facts {
			b.WriteString("\n" + f[0] + ": " + slackEscape.Replace(f[1]))
		}
		if l.link != "" {
			b.WriteString("\n<" + l.link + "|Open the task>")
		}
		msg = map[string]any{"text": b.String()}
	case ladder.FormatMattermost:
		var b strings.Builder
		b.WriteString("**" + l.title + "**")
		for _, f := range l.facts {
			b.WriteString("\n" + f[0] + ": " + f[1])
		}
		if l.link != "" {
			b.WriteString("\n[Open the task](" + l.link + ")")
		}
		msg = map[string]any{"text": b.String()}
	case ladder.FormatTeams:
		facts := make([]map[string]string, 0, len(l.facts))
		for _, f := range l.facts {
			facts = append(facts, map[string]string{"title": f[0], "value": f[1]})
		}
		card := map[string]any{
			"type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "version": "1.4",
			"body": []any{
				map[string]any{"type": "TextBlock", "text": l.title, "weight": "Bolder", "size": "Medium", "wrap": true},
				map[string]any{"type": "FactSet", "facts": facts},
			},
		}
		if l.link != "" {
			card["actions"] = []any{map[string]any{"type": "Action.OpenUrl", "title": "Open the task", "url": l.link}}
		}
		msg = map[string]any{"type": "message", "attachments": []any{
			map[string]any{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": nil, "content": card},
		}}
	default:
		return nil, fmt.Errorf("notification format %q is not known: %w", format, asynq.SkipRetry)
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("encode %s notification of handoff %s: %w", format, a.HandoffID, err)
	}
	return b, nil
}

// WebhookEvent is the event a webhook notify target receives for a:
// handoff.task_created for a handoff's team (AlertHandoff),
// handoff.sla_breached for a climb notify step (AlertSLA). Its data carry
// the same names as the agent's callbacks of those types, plus what the
// chat messages say in words: reason, sla_seconds and summary.
func WebhookEvent(a jobs.Alert, now time.Time) (string, json.RawMessage, error) {
	typ := jobs.NoticeTaskCreated
	if a.Kind == jobs.AlertSLA {
		typ = jobs.NoticeSLABreached
	}
	data := map[string]any{
		"handoff_id": a.HandoffID, "conversation": a.Conversation, "action": a.Action, "rung": a.Rung, "reason": a.Why,
		"owner":   map[string]any{"id": a.Owner.ID, "email": a.Owner.Email, "name": a.Owner.Name},
		"summary": lines(a).title,
	}
	for k, v := range map[string]string{"task_id": a.TaskID, "task_url": a.TaskURL, "crm": a.CRM, "tenant": a.Tenant} {
		if v != "" {
			data[k] = v
		}
	}
	if a.SLA > 0 {
		data["sla_seconds"] = int64(a.SLA / time.Second)
	}
	if !a.Due.IsZero() {
		data["due_at"] = a.Due.UTC()
	}
	if a.Kind == jobs.AlertSLA {
		data["step"] = a.Step
	}
	b, err := json.Marshal(envelope{Type: typ, Timestamp: now.UTC(), Data: data})
	if err != nil {
		return "", nil, fmt.Errorf("encode the webhook event of handoff %s: %w", a.HandoffID, err)
	}
	return typ, b, nil
}

// sendWebhook posts a signed event to a webhook notify target: same
// signature as a callback, same answers as any delivery.
func (s *Sender) sendWebhook(ctx context.Context, pl payload) error {
	if _, err := ladder.ParseNotifyTarget(ladder.FormatWebhook + ":" + pl.URL); err != nil {
		return fmt.Errorf("notification %s: %v: %w", pl.ID, err, asynq.SkipRetry)
	}
	wh := s.hooks[pl.SecretEnv]
	if wh == nil {
		return fmt.Errorf("notification %s: its signing secret %s is not set in this process (set it and run the task again): %w", pl.ID, pl.SecretEnv, asynq.SkipRetry)
	}
	req, err := s.signedRequest(ctx, wh, pl.URL, pl)
	if err != nil {
		return fmt.Errorf("notification %s: %w", pl.ID, err)
	}
	return s.post(ctx, req, "notification "+pl.ID, "webhook notify target", redactURL(pl.URL), "fix the ladder's notify target")
}

// sendChat posts a chat message: same answers as a callback (2xx done;
// 5xx, 429 and network errors retried; redirects and other 4xx archived).
func (s *Sender) sendChat(ctx context.Context, pl payload) error {
	if _, err := ladder.ParseNotifyTarget(pl.URL); err != nil {
		return fmt.Errorf("notification %s: %v: %w", pl.ID, err, asynq.SkipRetry)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, pl.URL, bytes.NewReader(pl.Body))
	if err != nil {
		return fmt.Errorf("build notification request: %w", asynq.SkipRetry)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Handoff-Notifications/1")
	return s.post(ctx, req, "notification "+pl.ID, pl.Format+" webhook", redactChat(pl.URL), "fix the ladder's notify target")
}

// redactChat keeps scheme and host: a chat webhook's path is its secret.
func redactChat(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Scheme + "://" + u.Host + "/…"
}
