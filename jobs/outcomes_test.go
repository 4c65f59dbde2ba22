package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"github.com/handoff-dev/handoff"
)

// outcomeScenario runs a known sequence (see the comments) and returns the
// harness and the handoff ids.
func outcomeScenario(t *testing.T) (*harness, []string) {
	t.Helper()
	h := newHarness(t, func(_ *Config, d *Deps) {
		d.Decider = ruleDecider{version: "v1", sla: 30 * time.Minute, route: &handoff.Route{To: ToAccountOwner},
			climb: []handoff.ClimbStep{{After: 1, Do: "reassign", To: &handoff.Route{Team: "managers", Owners: []string{"mgr1@acme.example"}}}}}
	})
	ctx := context.Background()
	var ids []string
	for i := 1; i <= 4; i++ {
		ev := agentEvent(fmt.Sprint("p", i), fmt.Sprint("o", i), "pricing?")
		if i == 4 { // no transcript, no sources: 6 of 8 required fields
			ev.Agent.TranscriptURL, ev.Agent.Sources = "", nil
		}
		if err := h.deliver(t, ev); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, HandoffID("62515", fmt.Sprint("o", i), "pricing", fmt.Sprint("agent:p", i)))
	}
	if err := h.deliver(t, agentEvent("c1", "o5", "hello")); err != nil { // continue
		t.Fatal(err)
	}
	if err := h.runPending(t); err != nil {
		t.Fatal(err)
	}
	task := func(i int) string {
		rec, _ := h.p.loadRecord(ctx, ids[i])
		return rec["task_id"]
	}
	created := h.clock.Now()
	// H1 completed 20 min in, "Meeting booked"; H2 started; H3, H4 untouched.
	h.crm.setState(task(0), handoff.TaskCompleted, "Meeting booked", created.Add(20*time.Minute))
	h.crm.setState(task(1), handoff.TaskInProgress, "", time.Time{})
	h.clock.Advance(30 * time.Minute)
	for i := range 3 {
		if err := h.runSLA(t, ids[i], 1); err != nil { // H3 breaches and is reassigned
			t.Fatal(err)
		}
	}
	if _, err := h.p.Release(ctx, "o4", "rep took it by phone"); err != nil {
		t.Fatal(err)
	}
	// H2 completed as not needed; H3 completed by the manager.
	h.crm.setState(task(1), handoff.TaskCompleted, "not_needed", time.Time{})
	h.crm.setState(task(2), handoff.TaskCompleted, "", time.Time{})
	h.clock.Advance(30 * time.Minute)
	for i := 1; i < 3; i++ {
		if err := h.runSLA(t, ids[i], 2); err != nil {
			t.Fatal(err)
		}
	}
	return h, ids
}

func TestOutcomesReportFromKnownSequence(t *testing.T) {
	h, _ := outcomeScenario(t)
	r, err := NewOutcomes(h.rdb).Report(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("decisions", r.Decisions.Total, 5)
	check("decisions continue", r.Decisions.ByAction["continue"], 1)
	check("handoffs", r.Handoffs.Total, 4)
	check("tasks created", r.Handoffs.TasksCreated, 4)
	check("by rung", r.Handoffs.ByRung["pricing"], 4)
	check("by source", r.Handoffs.BySource["agent"], 4)
	check("by channel", r.Handoffs.ByChannel["chat"], 4)
	// Time to human: H1 20m (completed), H2 30m (seen started), H3 60m.
	check("tth samples", r.TimeToHuman.Samples, 3)
	check("tth p50", r.TimeToHuman.P50, 1800)
	check("tth p90", r.TimeToHuman.P90, 3600)
	check("breaches", r.SLA.Breaches, 1)
	check("breach rate", r.SLA.BreachRate, 0.25)
	check("reassignments", r.Reassignments, 1)
	check("completed", r.Resolution.Completed, 3)
	check("released", r.Resolution.Released, 1)
	check("resolution rate", r.Resolution.Rate, 0.75)
	check("escalation accuracy", r.EscalationAccuracy, Ratio{Numerator: 2, Denominator: 3, Ratio: 2.0 / 3})
	check("precision", r.HandoffPrecision, Ratio{Numerator: 1, Denominator: 2, Ratio: 0.5})
	check("completeness samples", r.Completeness.Samples, 4)
	check("completeness mean", r.Completeness.Mean, 0.9375)
	check("completeness p50", r.Completeness.P50, 1)
	check("shadow", r.ShadowAgreement.Denominator, 0)
}

func serveAPI(t *testing.T, h *harness) *echo.Echo {
	t.Helper()
	e := echo.New()
	NewAPI(h.p).Register(e.Group("/api"))
	return e
}

func call(t *testing.T, e *echo.Echo, method, path string, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %s: body is not JSON: %q", method, path, rec.Body.String())
	}
	return rec.Code, out
}

func TestAPI(t *testing.T) {
	h, ids := outcomeScenario(t)
	e := serveAPI(t, h)

	code, out := call(t, e, http.MethodGet, "/api/outcomes", "")
	if code != 200 || out["handoffs"].(map[string]any)["total"].(float64) != 4 {
		t.Fatalf("outcomes: %d %v", code, out)
	}

	code, out = call(t, e, http.MethodGet, "/api/decisions?action=handoff&limit=2", "")
	ds := out["decisions"].([]any)
	if code != 200 || len(ds) != 2 {
		t.Fatalf("decisions: %d %v", code, out)
	}
	first := ds[0].(map[string]any)
	if first["handoff_id"] != ids[3] || first["rung"] != "pricing" || len(first["decision"].(map[string]any)["trace"].([]any)) != 1 {
		t.Fatalf("newest decision = %v", first)
	}
	if first["context"].(map[string]any)["account"].(map[string]any)["name"] != "Acme" {
		t.Fatalf("enrichment snapshot missing: %v", first["context"])
	}
	for q, want := range map[string]int{"contact=ANA@acme.example": 5, "rung=pricing": 4, "action=continue": 1, "contact=x@y": 0} {
		_, out = call(t, e, http.MethodGet, "/api/decisions?"+q, "")
		if n := len(out["decisions"].([]any)); n != want {
			t.Errorf("decisions?%s: %d, want %d", q, n, want)
		}
	}
	code, out = call(t, e, http.MethodGet, "/api/decisions?limit=0", "")
	if code != 400 || out["error"].(map[string]any)["code"] != "bad_limit" {
		t.Fatalf("bad limit: %d %v", code, out)
	}
	code, _ = call(t, e, http.MethodGet, "/api/decisions?action=maybe", "")
	if code != 400 {
		t.Fatalf("bad action: %d", code)
	}

	code, out = call(t, e, http.MethodGet, "/api/conversations/o4", "")
	if code != 200 || out["owner"].(map[string]any)["state"] != "released" || len(out["history"].([]any)) != 3 {
		t.Fatalf("conversation o4: %d %v", code, out)
	}
	if r := out["history"].([]any)[0].(map[string]any)["reason"]; r != "rep took it by phone" {
		t.Fatalf("reason = %v", r)
	}
	code, out = call(t, e, http.MethodPost, "/api/conversations/o4/release", "")
	if code != 409 || out["error"].(map[string]any)["code"] != "not_owned" {
		t.Fatalf("release of a released conversation: %d %v", code, out)
	}
	code, _ = call(t, e, http.MethodGet, "/api/conversations/nope", "")
	if code != 404 {
		t.Fatalf("unknown conversation: %d", code)
	}

	// A fresh handoff, released through the API with a reason.
	if err := h.deliver(t, agentEvent("p9", "o9", "pricing")); err != nil {
		t.Fatal(err)
	}
	code, out = call(t, e, http.MethodPost, "/api/conversations/o9/release", `{"reason":"handled in a call"}`)
	if code != 200 || out["owner"].(map[string]any)["state"] != "released" {
		t.Fatalf("release: %d %v", code, out)
	}
	code, _ = call(t, e, http.MethodPost, "/api/conversations/o9/release", `{"reason":`)
	if code != 400 {
		t.Fatalf("bad body: %d", code)
	}
}

func TestAuditOneRecordPerDecisionAndBounded(t *testing.T) {
	h := newHarness(t, func(c *Config, _ *Deps) { c.AuditMaxAge = time.Hour })
	ctx := context.Background()
	// 300 entries older than AUDIT_MAX_AGE: MINID ~ trims whole stream
	// nodes (100 entries each), so the next append drops them.
	old := h.clock.Now().Add(-2 * time.Hour).UnixMilli()
	pipe := h.rdb.Pipeline()
	for i := range 300 {
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: keyAudit, ID: fmt.Sprintf("%d-%d", old, i), Values: map[string]any{"type": "old"}})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		ev := agentEvent(fmt.Sprint("a", i), "conv-audit", "hello")
		for range 2 { // each delivered twice
			if err := h.deliver(t, ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := len(h.auditDecisions(t)); n != 3 {
		t.Fatalf("audit decisions = %d, want 3", n)
	}
	if n := h.rdb.XLen(ctx, keyAudit).Val(); n > 200 {
		t.Fatalf("stream length %d: old entries were not trimmed", n)
	}
}
