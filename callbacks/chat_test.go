package callbacks

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/internal/testredis"
	"github.com/handoff-dev/handoff/jobs"
)

func alert(targets ...string) jobs.Alert {
	return jobs.Alert{ID: "msg_alert_1", Kind: jobs.AlertHandoff, Targets: targets, HandoffID: "h1", Conversation: "conv-1",
		Action: "handoff", Rung: "pricing", Why: "asks about pricing (topic pricing)",
		Owner: handoff.Owner{ID: "105", Email: "mgr1@acme.example", Name: "Mia <Mgr>"}, SLA: time.Hour,
		Due: time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC), TaskURL: "https://app.hubspot.com/contacts/62515/record/0-27/T1"}
}

// A Slack-compatible webhook that answers 500 once receives the message
// on the retry: owner, reason, due time and the task's link, unsigned.
// Queueing the alert again sends nothing more; a redirect is archived.
func TestChatNotificationDelivered(t *testing.T) {
	var slackCalls atomic.Int32 // the two targets are delivered in either order
	rc := newReceiver(t, func(_ int, r *http.Request, _ []byte) int {
		if strings.HasPrefix(r.URL.Path, "/moved") {
			return http.StatusFound
		}
		if slackCalls.Add(1) == 1 {
			return 500
		}
		return 200
	})
	h := startSenderURL(t, "https://agent.example/hooks")
	ctx := context.Background()
	a := alert("slack:"+rc.srv.URL+"/services/T/B/x", rc.srv.URL+"/moved")
	if err := h.s.NotifyPeople(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := h.s.NotifyPeople(ctx, a); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the slack message arrives after a 500", 10*time.Second, func() bool { return rc.count() >= 3 })
	time.Sleep(300 * time.Millisecond)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var slack []string
	for i, r := range rc.got {
		if r.URL.Path == "/services/T/B/x" {
			var m map[string]any
			if err := json.Unmarshal(rc.bodies[i], &m); err != nil {
				t.Fatal(err)
			}
			slack = append(slack, m["text"].(string))
			if r.Header.Get("webhook-signature") != "" {
				t.Fatal("a chat message carries the callback signature")
			}
		}
	}
	if len(slack) != 2 || slack[0] != slack[1] {
		t.Fatalf("slack deliveries (want a 500 then one retry): %q", slack)
	}
	for _, want := range []string{"Mia &lt;Mgr&gt; (mgr1@acme.example)", "asks about pricing", "due 2026-12-02T15:00:00Z", "1h0m0s",
		"<https://app.hubspot.com/contacts/62515/record/0-27/T1|Open the task>"} {
		if !strings.Contains(slack[0], want) {
			t.Errorf("slack text lacks %q:\n%s", want, slack[0])
		}
	}
	if n := len(rc.got); n != 3 {
		t.Fatalf("%d requests: want 2 to slack and 1 redirect, not followed", n)
	}
	tasks, err := h.insp.ListArchivedTasks(Queue)
	if err != nil || len(tasks) != 1 || !strings.Contains(tasks[0].LastErr, "redirect") || strings.Contains(tasks[0].LastErr, "/moved") {
		t.Fatalf("archived = %+v, %v", tasks, err)
	}
}

func TestChatBodies(t *testing.T) {
	a := alert()
	b, err := ChatBody("teams", a)
	if err != nil {
		t.Fatal(err)
	}
	var msg struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string `json:"contentType"`
			Content     struct {
				Type string `json:"type"`
				Body []struct {
					Type  string              `json:"type"`
					Text  string              `json:"text"`
					Facts []map[string]string `json:"facts"`
				} `json:"body"`
				Actions []map[string]string `json:"actions"`
			} `json:"content"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(b, &msg); err != nil {
		t.Fatal(err)
	}
	if msg.Type != "message" || len(msg.Attachments) != 1 || msg.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" {
		t.Fatalf("teams message: %s", b)
	}
	c := msg.Attachments[0].Content
	if c.Type != "AdaptiveCard" || len(c.Body) != 2 || c.Body[1].Type != "FactSet" || c.Body[1].Facts[0]["value"] != "Mia <Mgr> (mgr1@acme.example)" ||
		len(c.Actions) != 1 || c.Actions[0]["type"] != "Action.OpenUrl" || c.Actions[0]["url"] != a.TaskURL {
		t.Fatalf("teams card: %s", b)
	}
	b, _ = ChatBody("mattermost", a)
	if !strings.Contains(string(b), "[Open the task](https://app.hubspot.com/") || !strings.Contains(string(b), "**New handoff") {
		t.Fatalf("mattermost: %s", b)
	}
	b, _ = ChatBody("google_chat", a)
	var gc map[string]string
	if err := json.Unmarshal(b, &gc); err != nil || len(gc) != 1 || !strings.HasSuffix(gc["text"], "<"+a.TaskURL+"|Open the task>") {
		t.Fatalf("google chat: %s", b)
	}
	if _, err := ChatBody("irc", a); err == nil {
		t.Fatal("unknown format accepted")
	}
}

// Without AGENT_CALLBACK_URL the sender still delivers chat messages and
// queues no callbacks.
func TestChatOnlySender(t *testing.T) {
	h := startSenderURL(t, "https://agent.example/hooks")
	s, err := New(Config{}, Deps{Redis: h.rdb, Enqueuer: asynq.NewClientFromRedisClient(h.rdb)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Notify(context.Background(), notice("msg_x")); err != nil {
		t.Fatal(err)
	}
	if _, err := h.insp.GetTaskInfo(Queue, "msg_x"); err == nil {
		t.Fatal("a callback was queued without AGENT_CALLBACK_URL")
	}
}

func secretOf(b byte) string {
	return "whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat(string(rune(b)), 32)))
}

// A webhook notify target gets the alert as a signed JSON event that the
// Standard Webhooks library verifies with that target's own secret (the
// default NOTIFY_WEBHOOK_SECRET, or the variable the target names), after
// a 500; a 400 is not retried; a target whose secret this process lacks
// is archived saying which variable to set.
func TestWebhookNotifyTargetSigned(t *testing.T) {
	def, ops := secretOf('d'), secretOf('o')
	var opsCalls atomic.Int32
	rc := newReceiver(t, func(_ int, r *http.Request, _ []byte) int {
		switch {
		case r.URL.Path == "/bad":
			return http.StatusBadRequest
		case r.URL.Path == "/ops" && opsCalls.Add(1) <= 2:
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	cfg := validConfig("https://agent.example/hooks")
	cfg.NotifyWebhookSecret = def
	h := startSenderWith(t, cfg, map[string]string{"OPS_HOOK_SECRET": ops})
	ctx := context.Background()
	a := alert("webhook:"+rc.srv.URL+"/default", "webhook:OPS_HOOK_SECRET:"+rc.srv.URL+"/ops", "webhook:"+rc.srv.URL+"/bad",
		"webhook:MISSING_SECRET:"+rc.srv.URL+"/missing")
	a.TaskID, a.CRM, a.Tenant = "T1", "hubspot", "62515"
	for range 2 {
		if err := h.s.NotifyPeople(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "the deliveries", 10*time.Second, func() bool {
		arch, _ := h.insp.ListArchivedTasks(Queue)
		done, _ := h.insp.ListCompletedTasks(Queue)
		return len(arch) == 2 && len(done) == 2
	})
	time.Sleep(300 * time.Millisecond)
	verifiers := map[string]string{"/default": def, "/ops": ops, "/bad": def}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	byPath := map[string]int{}
	ids := map[string]string{}
	for i, r := range rc.got {
		byPath[r.URL.Path]++
		wh, err := standardwebhooks.NewWebhook(verifiers[r.URL.Path])
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Verify(rc.bodies[i], r.Header); err != nil {
			t.Errorf("%s: does not verify with its secret: %v", r.URL.Path, err)
		}
		if prev, ok := ids[r.URL.Path]; ok && prev != r.Header.Get("webhook-id") {
			t.Errorf("%s: webhook-id changed between attempts: %s, %s", r.URL.Path, prev, r.Header.Get("webhook-id"))
		}
		ids[r.URL.Path] = r.Header.Get("webhook-id")
		var ev struct {
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
		if err := json.Unmarshal(rc.bodies[i], &ev); err != nil {
			t.Fatal(err)
		}
		o, _ := ev.Data["owner"].(map[string]any)
		if ev.Type != jobs.NoticeTaskCreated || ev.Data["handoff_id"] != "h1" || ev.Data["task_url"] != a.TaskURL || ev.Data["task_id"] != "T1" ||
			ev.Data["reason"] != a.Why || ev.Data["sla_seconds"] != float64(3600) || ev.Data["due_at"] != "2026-12-02T15:00:00Z" ||
			o["email"] != "mgr1@acme.example" || ev.Data["conversation"] != "conv-1" {
			t.Errorf("%s: event %s", r.URL.Path, rc.bodies[i])
		}
	}
	if byPath["/default"] != 1 || byPath["/ops"] != 3 || byPath["/bad"] != 1 || byPath["/missing"] != 0 {
		t.Fatalf("requests per target %v: want default 1, ops 3 (two 500s), bad 1 (400 not retried), missing 0", byPath)
	}
	if ids["/default"] == ids["/ops"] {
		t.Error("two targets share a webhook-id")
	}
	arch, _ := h.insp.ListArchivedTasks(Queue)
	var errs []string
	for _, ti := range arch {
		errs = append(errs, ti.LastErr)
		if strings.Contains(ti.LastErr, def) || strings.Contains(ti.LastErr, ops) {
			t.Fatal("a secret in an error")
		}
	}
	joined := strings.Join(errs, " | ")
	if !strings.Contains(joined, "answered 400") || !strings.Contains(joined, "MISSING_SECRET is not set") {
		t.Fatalf("archived: %s", joined)
	}
	// The climb's event is an SLA breach, with its step.
	a.Kind, a.Step = jobs.AlertSLA, 2
	typ, body, err := WebhookEvent(a, time.Now())
	if err != nil || typ != jobs.NoticeSLABreached || !strings.Contains(string(body), `"step":2`) {
		t.Fatalf("SLA event %s %s %v", typ, body, err)
	}
}

func TestWebhookSecretChecked(t *testing.T) {
	rdb := testredis.New(t).Client(t)
	_, err := New(Config{}, Deps{Redis: rdb, Enqueuer: asynq.NewClientFromRedisClient(rdb), WebhookSecrets: map[string]string{"OPS": "hunter2hunter2hunter2"}})
	if err == nil || !strings.Contains(err.Error(), "OPS: must start with whsec_") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("bad named secret: %v", err)
	}
	if err := (Config{NotifyWebhookSecret: "whsec_c2hvcnQ="}).Validate(); err == nil || !strings.Contains(err.Error(), "NOTIFY_WEBHOOK_SECRET") {
		t.Fatalf("short NOTIFY_WEBHOOK_SECRET: %v", err)
	}
}

// Two webhook targets on one URL, signed with different secrets, are two
// receivers: each gets its own delivery (and webhook-id), signed with its
// own secret.
func TestWebhookTargetsSharingAURLWithTwoSecrets(t *testing.T) {
	def, ops := secretOf('d'), secretOf('o')
	rc := newReceiver(t, func(int, *http.Request, []byte) int { return http.StatusNoContent })
	cfg := validConfig("https://agent.example/hooks")
	cfg.NotifyWebhookSecret = def
	h := startSenderWith(t, cfg, map[string]string{"OPS_HOOK_SECRET": ops})
	a := alert("webhook:"+rc.srv.URL+"/shared", "webhook:OPS_HOOK_SECRET:"+rc.srv.URL+"/shared")
	if err := h.s.NotifyPeople(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "both deliveries", 10*time.Second, func() bool {
		done, _ := h.insp.ListCompletedTasks(Queue)
		return len(done) == 2
	})
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.got) != 2 {
		t.Fatalf("%d requests, want 2", len(rc.got))
	}
	if rc.got[0].Header.Get("webhook-id") == rc.got[1].Header.Get("webhook-id") {
		t.Fatal("the two targets share a webhook-id")
	}
	verified := map[string]int{}
	for i, r := range rc.got {
		for name, secret := range map[string]string{"default": def, "ops": ops} {
			wh, err := standardwebhooks.NewWebhook(secret)
			if err != nil {
				t.Fatal(err)
			}
			if wh.Verify(rc.bodies[i], r.Header) == nil {
				verified[name]++
			}
		}
	}
	if verified["default"] != 1 || verified["ops"] != 1 {
		t.Fatalf("deliveries verifying with each secret: %v, want one each", verified)
	}
}

// A catch-all alert says that nobody on the route could take the handoff
// and who has it now, with the reason the route was exhausted.
func TestChatBodyCatchAll(t *testing.T) {
	a := alert("slack:https://hooks.example/x")
	a.Kind = jobs.AlertCatchAll
	a.Why = "Routed to the catch-all mgr1@acme.example: nobody on the route could take it (tried team deal_desk, dd1@acme.example (away until 2026-12-03))"
	b, err := ChatBody("slack", a)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"*Nobody on the route could take handoff h1: it went to the catch-all Mia &lt;Mgr&gt; (mgr1@acme.example)*", "dd1@acme.example (away until 2026-12-03)"} {
		if !strings.Contains(m["text"], want) {
			t.Errorf("catch-all message lacks %q:\n%s", want, m["text"])
		}
	}
}
