package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/handoff-dev/handoff"
)

func TestHandoffCreatesOneTaskWithBundle(t *testing.T) {
	h := newHarness(t)
	ev := agentEvent("turn-1", "conv-1", "What is your pricing for 200 seats?")
	if err := h.deliver(t, ev); err != nil {
		t.Fatal(err)
	}
	// Duplicate delivery of the same event: same decision, same handoff.
	if err := h.deliver(t, ev); err != nil {
		t.Fatal(err)
	}
	pend := h.pending(t, TypeCreateTask)
	if len(pend) != 1 {
		t.Fatalf("pending create-task = %d, want 1", len(pend))
	}
	wantID := HandoffID("62515", "conv-1", "pricing", "agent:turn-1")
	if pend[0].ID != wantID {
		t.Fatalf("task id = %s, want the handoff id %s", pend[0].ID, wantID)
	}
	if pend[0].Timeout != 60*time.Second {
		t.Fatalf("timeout = %s", pend[0].Timeout)
	}
	if l := h.lease(t, "conv-1"); l.State != handoff.OwnerPending || l.HandoffID != wantID || l.TaskID != "" {
		t.Fatalf("lease before the task = %+v", l)
	}
	// The same create-task delivered twice (asynq is at-least-once).
	var p CreateTaskPayload
	if err := json.Unmarshal(pend[0].Payload, &p); err != nil {
		t.Fatal(err)
	}
	if p.V != 1 || p.CRM != handoff.SourceHubSpot || p.Tenant != "62515" || p.Event.DedupeKey != "agent:turn-1" || p.Context.Account.Name != "Acme" {
		t.Fatalf("payload = %+v", p)
	}
	for range 2 {
		if err := h.p.createTask(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.crm.Calls("CreateTask"); n != 1 {
		t.Fatalf("CreateTask calls = %d, want 1", n)
	}
	spec := h.crm.specs[0]
	if spec.HandoffID != wantID || spec.Owner.ID != "100" || spec.Priority != handoff.PriorityHigh || spec.CompanyID != "c1" || spec.DealID != "d1" {
		t.Fatalf("spec = %+v", spec)
	}
	if !spec.Due.Equal(h.clock.Now().Add(30 * time.Minute)) {
		t.Fatalf("due = %s, want now+30m", spec.Due)
	}
	b := spec.Bundle
	if b.BuyerAsked != ev.Message.Text || b.AgentReplied != ev.Agent.Reply || b.TranscriptURL != ev.Agent.TranscriptURL ||
		b.Why.Rung != "pricing" || b.Why.LadderVersion != "v1" || len(b.Why.Reasons) != 2 || len(b.Timeline) != 1 {
		t.Fatalf("bundle = %+v", b)
	}
	if b.Completeness != 1 || len(b.Missing) != 0 {
		t.Fatalf("completeness = %v missing %v", b.Completeness, b.Missing)
	}
	if !strings.Contains(b.Summary, "Ana Ruiz (VP Finance) at Acme (tier 1, Software)") || !strings.Contains(b.Summary, "Contract sent (80%)") {
		t.Fatalf("summary = %q", b.Summary)
	}
	l := h.lease(t, "conv-1")
	if l.State != handoff.OwnerPending || l.TaskID != "T1" || l.OwnerID != "100" {
		t.Fatalf("lease = %+v", l)
	}
	sched := h.scheduled(t)
	if len(sched) != 1 || sched[0].ID != wantID+":sla:1" || !sched[0].NextProcessAt.Equal(h.clock.Now().Add(30*time.Minute)) {
		t.Fatalf("scheduled = %+v", sched)
	}
	if got := len(h.auditDecisions(t)); got != 1 {
		t.Fatalf("audit decisions = %d, want 1", got)
	}
	if v := testutil.ToFloat64(h.p.m.handoffs.WithLabelValues("handoff", "pricing", "agent", "chat")); v != 1 {
		t.Fatalf("handoffs metric = %v", v)
	}
}

func TestCreateTaskAfterCrashFindsTheTask(t *testing.T) {
	h := newHarness(t)
	h.crm.crashAfterWrite = 1 // the CRM write succeeds, then the worker "dies"
	if err := h.deliver(t, agentEvent("t1", "conv-c", "pricing please")); err != nil {
		t.Fatal(err)
	}
	err := h.runPending(t)
	if err == nil {
		t.Fatal("first attempt should fail")
	}
	if h.crm.taskCount() != 1 {
		t.Fatalf("the CRM should hold the task already")
	}
	hid := HandoffID("62515", "conv-c", "pricing", "agent:t1")
	rec, _ := h.p.loadRecord(context.Background(), hid)
	if rec["state"] != stateCreating || rec["task_id"] != "" || rec["attempts"] != "1" {
		t.Fatalf("record after crash = %v", rec)
	}
	if err := h.runPending(t); err != nil {
		t.Fatal(err)
	}
	if n := h.crm.Calls("CreateTask"); n != 1 {
		t.Fatalf("CreateTask calls = %d after retry, want 1", n)
	}
	if h.crm.Calls("FindTask") < 1 {
		t.Fatal("FindTask not used")
	}
	rec, _ = h.p.loadRecord(context.Background(), hid)
	if rec["task_id"] != "T1" || rec["state"] != stateCreated {
		t.Fatalf("record = %v", rec)
	}
	if l := h.lease(t, "conv-c"); l.TaskID != "T1" || l.State != handoff.OwnerPending {
		t.Fatalf("lease = %+v", l)
	}
}

func TestCreateTaskRetryAfterFailedWriteCreatesOnce(t *testing.T) {
	h := newHarness(t)
	h.crm.createErrs = []error{&handoff.TransientError{CRM: handoff.SourceHubSpot, Status: 503}}
	if err := h.deliver(t, agentEvent("t1", "conv-r", "pricing")); err != nil {
		t.Fatal(err)
	}
	if err := h.runPending(t); err == nil {
		t.Fatal("want the 503")
	}
	// Too soon to trust "not found": the CRM's search may lag the write.
	if err := h.runPending(t); err == nil || !strings.Contains(err.Error(), "not searchable yet") {
		t.Fatalf("retry within the settle window: %v", err)
	}
	if n := h.crm.Calls("CreateTask"); n != 1 {
		t.Fatalf("CreateTask calls = %d", n)
	}
	h.clock.Advance(time.Minute)
	if err := h.runPending(t); err != nil {
		t.Fatal(err)
	}
	if h.crm.taskCount() != 1 || h.crm.Calls("CreateTask") != 2 || h.crm.Calls("FindTask") != 2 {
		t.Fatalf("tasks=%d create=%d find=%d", h.crm.taskCount(), h.crm.Calls("CreateTask"), h.crm.Calls("FindTask"))
	}
}

// A rate limit after some CRM writes of a create is not "nothing was
// written": the handoff is recorded as partly written (not refused), the
// retry calls CreateTask again at once (the connector resumes after its
// recorded steps) and sends the due time of the first attempt.
func TestCreateTaskRetryAfterPartialWriteResumesWithTheSameDue(t *testing.T) {
	h := newHarness(t)
	// What a connector returns when a multi-call create stopped after some
	// of its writes (Marketo: the campaign was requested, then the activity
	// call got 606).
	h.crm.createErrs = []error{handoff.PartlyWritten(&handoff.RateLimitError{CRM: handoff.SourceHubSpot, Tenant: "62515", RetryAfter: 20 * time.Second, Detail: "606"})}
	if err := h.deliver(t, agentEvent("t1", "conv-pw", "pricing")); err != nil {
		t.Fatal(err)
	}
	if err := h.runPending(t); err == nil {
		t.Fatal("want the rate limit")
	}
	id := h.pending(t, TypeCreateTask)[0].ID
	if st := h.rdb.HGet(t.Context(), keyHandoff(id), "state").Val(); st != statePartial {
		t.Fatalf("state after a partial write = %q, want %q", st, statePartial)
	}
	h.clock.Advance(25 * time.Second)
	if err := h.runPending(t); err != nil {
		t.Fatal(err)
	}
	if h.crm.taskCount() != 1 || h.crm.Calls("CreateTask") != 2 || h.crm.Calls("FindTask") != 0 {
		t.Fatalf("tasks=%d create=%d find=%d", h.crm.taskCount(), h.crm.Calls("CreateTask"), h.crm.Calls("FindTask"))
	}
	if a, b := h.crm.tried[0].Due, h.crm.tried[1].Due; !a.Equal(b) {
		t.Fatalf("due drifted across retries: %s then %s", a, b)
	}
}

func TestFollowUpWhileOwnedThenRelease(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if err := h.deliver(t, agentEvent("t1", "conv-f", "pricing?")); err != nil {
		t.Fatal(err)
	}
	// A second event before the task exists: retried, not a second task.
	err := h.deliver(t, agentEvent("t2", "conv-f", "also pricing for EU?"))
	if err == nil || !strings.Contains(err.Error(), "not created yet") {
		t.Fatalf("follow-up before the task exists: %v", err)
	}
	if err := h.runPending(t); err != nil {
		t.Fatal(err)
	}
	// Redelivered, it is appended to the open task.
	if err := h.deliver(t, agentEvent("t2", "conv-f", "also pricing for EU?")); err != nil {
		t.Fatal(err)
	}
	if err := h.deliver(t, agentEvent("t3", "conv-f", "thanks")); err != nil {
		t.Fatal(err)
	}
	if err := h.deliver(t, agentEvent("t3", "conv-f", "thanks")); err != nil { // duplicate
		t.Fatal(err)
	}
	if n := h.crm.Calls("CreateTask"); n != 1 {
		t.Fatalf("CreateTask calls = %d, want 1", n)
	}
	notes := h.crm.notesOf("T1")
	if len(notes) != 2 || !strings.Contains(notes[0], `The buyer wrote: "also pricing for EU?"`) || !strings.Contains(notes[1], `"thanks"`) {
		t.Fatalf("notes = %q", notes)
	}
	if len(h.pending(t, TypeCreateTask)) != 0 {
		t.Fatal("a follow-up enqueued a create-task")
	}
	// Release: the agent gets the buyer back; the next pricing question is a new handoff.
	l, err := h.p.Release(ctx, "conv-f", "")
	if err != nil || l.State != handoff.OwnerReleased {
		t.Fatalf("release = %+v, %v", l, err)
	}
	if _, err := h.p.Release(ctx, "conv-f", ""); err == nil {
		t.Fatal("second release should fail: not owned")
	}
	if err := h.deliver(t, agentEvent("t4", "conv-f", "pricing for 300 seats now")); err != nil {
		t.Fatal(err)
	}
	if p := h.pending(t, TypeCreateTask); len(p) != 1 || p[0].ID != HandoffID("62515", "conv-f", "pricing", "agent:t4") {
		t.Fatalf("after release, pending = %+v", p)
	}
	conv, err := h.p.Conversation(ctx, "conv-f")
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, c := range conv.History {
		states = append(states, c.From+">"+c.To)
	}
	if got := strings.Join(states, " "); got != "released>pending pending>released pending>pending agent>pending" {
		t.Fatalf("history = %s", got)
	}
}

func TestNonEscalatingEventRecordsOnly(t *testing.T) {
	h := newHarness(t)
	if err := h.deliver(t, agentEvent("t1", "conv-n", "hello there")); err != nil {
		t.Fatal(err)
	}
	if len(h.pending(t, TypeCreateTask)) != 0 || h.lease(t, "conv-n").State != handoff.OwnerAgent {
		t.Fatal("continue must not create anything")
	}
	ds := h.auditDecisions(t)
	if len(ds) != 1 || ds[0].Values["action"] != "continue" {
		t.Fatalf("audit = %+v", ds)
	}
	var rec DecisionRecord
	if err := json.Unmarshal([]byte(ds[0].Values["data"].(string)), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Plan != PlanRecord || len(rec.Decision.Trace) != 1 || rec.Context.Account.Name != "Acme" || rec.LadderVersion != "v1" {
		t.Fatalf("record = %+v", rec)
	}
}

func TestShadowDecisionsCountedNeverActed(t *testing.T) {
	h := newHarness(t, func(_ *Config, d *Deps) {
		d.Shadow = ruleDecider{version: "v2-shadow", pricingAction: handoff.ActionAssist}
	})
	for i, text := range []string{"hello", "pricing?", "ok"} {
		if err := h.deliver(t, agentEvent(string(rune('a'+i)), "conv-s"+string(rune('a'+i)), text)); err != nil {
			t.Fatal(err)
		}
	}
	// Only the active ladder's handoff exists.
	if p := h.pending(t, TypeCreateTask); len(p) != 1 {
		t.Fatalf("pending = %d", len(p))
	}
	if a, d := testutil.ToFloat64(h.p.m.shadow.WithLabelValues("true")), testutil.ToFloat64(h.p.m.shadow.WithLabelValues("false")); a != 2 || d != 1 {
		t.Fatalf("shadow agree=%v disagree=%v", a, d)
	}
	r, err := NewOutcomes(h.rdb).Report(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r.ShadowAgreement.Numerator != 2 || r.ShadowAgreement.Denominator != 3 {
		t.Fatalf("shadow agreement = %+v", r.ShadowAgreement)
	}
}

// The shadow ladder reads the buyer's words with its own topic map: where
// the maps differ, its decision (and the agreement) reflects its topics,
// not the active ladder's, as `ladder diff -resignal` would show.
func TestShadowDecidesOnItsOwnSignals(t *testing.T) {
	h := newHarness(t, func(_ *Config, d *Deps) {
		// The shadow knows "quote" as pricing and no longer knows "pricing".
		d.Shadow = ruleDecider{version: "v2-shadow", topics: map[string]string{"quote": "pricing", "contract": "legal"}}
	})
	cases := []struct {
		text           string
		active, shadow string // matched rung or exception
		activeTopics   []string
		shadowTopics   []string
		agree          bool
		shadowAction   handoff.Action
	}{
		{"Can you send a quote?", "", "pricing", []string{}, []string{"pricing"}, false, handoff.ActionHandoff},
		{"pricing?", "pricing", "", []string{"pricing"}, []string{}, false, handoff.ActionContinue},
		{"hello", "", "", []string{}, []string{}, true, handoff.ActionContinue},
	}
	for i, c := range cases {
		ev := agentEvent(fmt.Sprint("own-", i), fmt.Sprint("conv-own-", i), c.text)
		if err := h.deliver(t, ev); err != nil {
			t.Fatal(err)
		}
		raw, err := h.rdb.Get(context.Background(), "handoff:jobs:decided:"+ev.DedupeKey).Bytes()
		if err != nil {
			t.Fatal(err)
		}
		var rec DecisionRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Rung != c.active || !slices.Equal(rec.Context.Signals.Topics, c.activeTopics) {
			t.Errorf("%q: active decided %q on topics %v, want %q on %v", c.text, rec.Rung, rec.Context.Signals.Topics, c.active, c.activeTopics)
		}
		sr := rec.Shadow
		if sr == nil || sr.Rung != c.shadow || sr.Action != c.shadowAction || sr.Agree != c.agree || !slices.Equal(sr.Topics, c.shadowTopics) {
			t.Errorf("%q: shadow %+v, want rung %q action %s agree %v topics %v", c.text, sr, c.shadow, c.shadowAction, c.agree, c.shadowTopics)
		}
		// The audit record keeps the active ladder's enrichment snapshot.
		if rec.Context.Account.Name != "Acme" {
			t.Errorf("%q: snapshot %+v", c.text, rec.Context.Account)
		}
	}
	r, err := NewOutcomes(h.rdb).Report(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r.ShadowAgreement.Numerator != 1 || r.ShadowAgreement.Denominator != 3 {
		t.Fatalf("shadow agreement = %+v, want 1 of 3", r.ShadowAgreement)
	}
}

func TestAssistKeepsAgentAndAppendsLaterMatches(t *testing.T) {
	h := newHarness(t)
	if err := h.deliver(t, agentEvent("s1", "conv-a", "stall")); err != nil {
		t.Fatal(err)
	}
	if err := h.runPending(t); err != nil {
		t.Fatal(err)
	}
	if l := h.lease(t, "conv-a"); l.State != handoff.OwnerAgent {
		t.Fatalf("assist moved ownership: %+v", l)
	}
	if err := h.deliver(t, agentEvent("s2", "conv-a", "stall again")); err != nil {
		t.Fatal(err)
	}
	if h.crm.Calls("CreateTask") != 1 || len(h.pending(t, TypeCreateTask)) != 0 || len(h.crm.notesOf("T1")) != 1 {
		t.Fatalf("second assist: create=%d notes=%d", h.crm.Calls("CreateTask"), len(h.crm.notesOf("T1")))
	}
	// Contact owner unknown → fallback team sdr.
	if h.crm.specs[0].Owner.ID != "103" {
		t.Fatalf("owner = %+v", h.crm.specs[0].Owner)
	}
}

func TestSLAClimbReassignsThenNotifiesThenReleases(t *testing.T) {
	climb := []handoff.ClimbStep{
		{After: 1, Do: "reassign", To: &handoff.Route{Team: "managers", Owners: []string{"mgr1@acme.example"}}, Priority: handoff.PriorityUrgent},
		{After: 2, Do: "notify"},
	}
	h := newHarness(t, func(_ *Config, d *Deps) {
		d.Decider = ruleDecider{version: "v1", sla: time.Hour, route: &handoff.Route{To: "account_owner"}, climb: climb}
	})
	ctx := context.Background()
	if err := h.deliver(t, agentEvent("t1", "conv-sla", "pricing")); err != nil {
		t.Fatal(err)
	}
	if err := h.runPending(t); err != nil {
		t.Fatal(err)
	}
	hid := HandoffID("62515", "conv-sla", "pricing", "agent:t1")
	created := h.clock.Now()

	h.clock.Advance(time.Hour)
	if err := h.runSLA(t, hid, 1); err != nil {
		t.Fatal(err)
	}
	if len(h.crm.reassigns) != 1 || h.crm.reassigns[0] != "T1:105:urgent" {
		t.Fatalf("reassigns = %v", h.crm.reassigns)
	}
	if l := h.lease(t, "conv-sla"); l.OwnerID != "105" || l.State != handoff.OwnerPending {
		t.Fatalf("lease = %+v", l)
	}
	sched := h.scheduled(t)
	if len(sched) != 1 || sched[0].ID != hid+":sla:2" || !sched[0].NextProcessAt.Equal(created.Add(2*time.Hour)) {
		t.Fatalf("next check = %+v", sched)
	}
	h.clock.Advance(time.Hour)
	if err := h.runSLA(t, hid, 2); err != nil {
		t.Fatal(err)
	}
	if notes := h.crm.notesOf("T1"); len(notes) != 1 || !strings.Contains(notes[0], "SLA lapsed") || len(h.crm.reassigns) != 1 {
		t.Fatalf("notes = %q reassigns = %v", notes, h.crm.reassigns)
	}
	// A human starts it: owned by a human, time to human recorded.
	h.clock.Advance(30 * time.Minute)
	h.crm.setState("T1", handoff.TaskInProgress, "", time.Time{})
	if err := h.runSLA(t, hid, 3); err != nil {
		t.Fatal(err)
	}
	if l := h.lease(t, "conv-sla"); l.State != handoff.OwnerHuman {
		t.Fatalf("lease = %+v", l)
	}
	h.clock.Advance(time.Hour)
	h.crm.setState("T1", handoff.TaskCompleted, "Meeting booked", h.clock.Now())
	if err := h.runSLA(t, hid, 4); err != nil {
		t.Fatal(err)
	}
	if l := h.lease(t, "conv-sla"); l.State != handoff.OwnerReleased {
		t.Fatalf("lease after completion = %+v", l)
	}
	if s := h.scheduled(t); len(s) != 0 {
		t.Fatalf("checks continue after completion: %+v", s)
	}
	r, err := NewOutcomes(h.rdb).Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.SLA.Breaches != 2 || r.SLA.BreachedHandoffs != 1 || r.Reassignments != 1 || r.Resolution.Completed != 1 ||
		r.EscalationAccuracy.Numerator != 0 || r.EscalationAccuracy.Denominator != 1 || r.TimeToHuman.P50 != 2.5*3600 {
		t.Fatalf("report = %+v", r)
	}
	if r.HandoffPrecision.Numerator != 1 || r.HandoffPrecision.Denominator != 1 || r.Resolution.ByDisposition["meeting booked"] != 1 {
		t.Fatalf("precision = %+v", r.HandoffPrecision)
	}
	// The agent has the buyer back: the next event is decided afresh.
	if err := h.deliver(t, agentEvent("t9", "conv-sla", "hello")); err != nil {
		t.Fatal(err)
	}
	if n := len(h.crm.notesOf("T1")); n != 1 {
		t.Fatalf("event after release appended to the closed task (%d notes)", n)
	}
}

func TestSLAUnknownStateStops(t *testing.T) {
	h := newHarness(t)
	if err := h.deliver(t, agentEvent("t1", "conv-u", "pricing")); err != nil {
		t.Fatal(err)
	}
	if err := h.runPending(t); err != nil {
		t.Fatal(err)
	}
	hid := HandoffID("62515", "conv-u", "pricing", "agent:t1")
	h.crm.setState("T1", handoff.TaskUnknown, "", time.Time{})
	if err := h.runSLA(t, hid, 1); err != nil {
		t.Fatal(err)
	}
	if len(h.scheduled(t)) != 0 || h.crm.Calls("ReassignTask") != 0 {
		t.Fatal("unknown state must stop the checks")
	}
	r, _ := NewOutcomes(h.rdb).Report(context.Background())
	if r.Resolution.Untracked != 1 {
		t.Fatalf("untracked = %d", r.Resolution.Untracked)
	}
}

func TestHoldExceptionRoutesToTeam(t *testing.T) {
	h := newHarness(t)
	if err := h.deliver(t, agentEvent("t1", "conv-h", "our legal team has redlines")); err != nil {
		t.Fatal(err)
	}
	if err := h.runPending(t); err != nil {
		t.Fatal(err)
	}
	s := h.crm.specs[0]
	if s.Owner.ID != "106" || !s.Bundle.Why.IsException || s.Bundle.Why.Rung != "legal-language" ||
		!s.Due.Equal(h.clock.Now().Add(4*time.Hour)) || s.Priority != handoff.PriorityMedium {
		t.Fatalf("spec = %+v", s)
	}
	if l := h.lease(t, "conv-h"); l.State != handoff.OwnerPending {
		t.Fatalf("hold must move ownership: %+v", l)
	}
}

func TestConcurrentDuplicateDeliveries(t *testing.T) {
	h := newHarness(t)
	ev := agentEvent("dup", "conv-dup", "pricing, urgently")
	errs := make(chan error, 8)
	for range 8 {
		go func() { errs <- h.deliver(t, ev) }()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := len(h.auditDecisions(t)); n != 1 {
		t.Fatalf("audit decisions = %d, want 1", n)
	}
	if p := h.pending(t, TypeCreateTask); len(p) != 1 {
		t.Fatalf("pending create-task = %d, want 1", len(p))
	}
	r, _ := NewOutcomes(h.rdb).Report(context.Background())
	if r.Decisions.Total != 1 || r.Handoffs.Total != 1 {
		t.Fatalf("counted decisions=%d handoffs=%d", r.Decisions.Total, r.Handoffs.Total)
	}
}

func TestSLAWatchAfterLastCheckedMultiple(t *testing.T) {
	h := newHarness(t, func(c *Config, _ *Deps) { c.MaxSLAChecks = 1 })
	if err := h.deliver(t, agentEvent("t1", "conv-w", "pricing")); err != nil {
		t.Fatal(err)
	}
	if err := h.runPending(t); err != nil {
		t.Fatal(err)
	}
	hid := HandoffID("62515", "conv-w", "pricing", "agent:t1")
	h.clock.Advance(30 * time.Minute)
	if err := h.runSLA(t, hid, 1); err != nil { // breach 1
		t.Fatal(err)
	}
	h.clock.Advance(24 * time.Hour)
	if err := h.runSLA(t, hid, 2); err != nil { // watch only: no breach
		t.Fatal(err)
	}
	s := h.scheduled(t)
	if len(s) != 1 || s[0].ID != hid+":sla:3" || !s[0].NextProcessAt.Equal(h.clock.Now().Add(time.Hour)) {
		t.Fatalf("watch check = %+v", s)
	}
	h.crm.setState("T1", handoff.TaskCompleted, "", time.Time{})
	if err := h.runSLA(t, hid, 3); err != nil {
		t.Fatal(err)
	}
	if l := h.lease(t, "conv-w"); l.State != handoff.OwnerReleased {
		t.Fatalf("lease = %+v", l)
	}
	r, _ := NewOutcomes(h.rdb).Report(context.Background())
	if r.SLA.Breaches != 1 || r.Resolution.Completed != 1 || len(h.scheduled(t)) != 0 {
		t.Fatalf("breaches=%d completed=%d", r.SLA.Breaches, r.Resolution.Completed)
	}
}
