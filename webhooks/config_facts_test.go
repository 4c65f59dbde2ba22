package webhooks_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/handoff-dev/handoff/internal/testredis"
	"github.com/handoff-dev/handoff/jobs"
	"github.com/handoff-dev/handoff/webhooks"
)

// {{system.dateTime}} has no zone; the route reads it in MARKETO_TIME_ZONE
// (default America/Chicago), and a time with an offset as sent.
func TestMarketoTimeZone(t *testing.T) {
	cases := []struct {
		zone, occurred string
		want           time.Time
	}{
		{"", "2026-11-22 10:00:00", time.Date(2026, 11, 22, 16, 0, 0, 0, time.UTC)},               // CST, UTC-6
		{"", "2026-07-01 10:00:00", time.Date(2026, 7, 1, 15, 0, 0, 0, time.UTC)},                 // CDT, UTC-5
		{"UTC", "2026-11-22 10:00:00", time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)},            // configured
		{"", "2026-11-22T10:00:00+01:00", time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)},          // offset wins
		{"Europe/Berlin", "2026-11-22T10:00:00Z", time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}, // Z wins
	}
	for i, c := range cases {
		rdb := testredis.New(t).Client(t)
		r := newRig(t, rdb, func(cfg *webhooks.Config) {
			if c.zone != "" {
				cfg.MarketoTimeZone = c.zone
			}
		})
		body := []byte(`{"lead_id":318581,"kind":"form_submission","occurred_at":"` + c.occurred + `","campaign":"Demo"}`)
		if res := post(t, r.base+"/webhooks/marketo", body, marketoHeaders(mktSecret)); res.status != 200 {
			t.Fatalf("case %d: %d %s", i, res.status, res.body)
		}
		tasks, err := r.insp.ListPendingTasks(jobs.QueueEvents, asynq.PageSize(10))
		if err != nil || len(tasks) != 1 {
			t.Fatalf("case %d: %d tasks, %v", i, len(tasks), err)
		}
		p, err := jobs.DecodeEventPayload(tasks[0].Payload)
		if err != nil {
			t.Fatal(err)
		}
		if !p.Event.OccurredAt.Equal(c.want) {
			t.Errorf("case %d (%q in %q): occurred_at %s, want %s", i, c.occurred, c.zone, p.Event.OccurredAt, c.want)
		}
	}
}

func TestMarketoTimeZoneMustBeAZone(t *testing.T) {
	rdb := testredis.New(t).Client(t)
	ing := jobs.NewIngester(asynq.NewClientFromRedisClient(rdb), rdb, jobs.IngestConfig{})
	_, err := webhooks.New(webhooks.Config{MarketoWebhookSecret: "s", MarketoTimeZone: "Central"}, ing, nil, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "MARKETO_TIME_ZONE") {
		t.Fatalf("bad zone: %v", err)
	}
}

func TestAgentDefaultCRMConfig(t *testing.T) {
	rdb := testredis.New(t).Client(t)
	ing := jobs.NewIngester(asynq.NewClientFromRedisClient(rdb), rdb, jobs.IngestConfig{})
	for _, c := range []struct {
		crm, tenant, want string
	}{
		{"zoho", "1", "AGENT_DEFAULT_CRM"},
		{"hubspot", "", "go together"},
		{"", "62515", "go together"},
	} {
		_, err := webhooks.New(webhooks.Config{AgentWebhookSecret: "whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQ=", AgentDefaultCRM: c.crm, AgentDefaultTenant: c.tenant}, ing, nil, nil, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("crm %q tenant %q: %v, want an error naming %s", c.crm, c.tenant, err, c.want)
		}
	}
}

// A short webhook secret is accepted (a sender may already use it) and
// reported once at start, naming the variable, never the secret.
func TestShortWebhookSecretIsReported(t *testing.T) {
	rdb := testredis.New(t).Client(t)
	ing := jobs.NewIngester(asynq.NewClientFromRedisClient(rdb), rdb, jobs.IngestConfig{})
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	if _, err := webhooks.New(webhooks.Config{AgentWebhookSecret: "nope", MarketoWebhookSecret: "a-long-enough-marketo-secret"}, ing, nil, log, nil); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "webhook secret is short") || !strings.Contains(out, "AGENT_WEBHOOK_SECRET") || strings.Contains(out, "MARKETO_WEBHOOK_SECRET") {
		t.Fatalf("start-up log:\n%s", out)
	}
	if strings.Contains(out, "nope") {
		t.Fatal("the secret itself was logged")
	}
}
