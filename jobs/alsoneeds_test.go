package jobs

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/handoff-dev/handoff"
)

func TestAlsoNeedsLines(t *testing.T) {
	got := AlsoNeedsLines([]handoff.Review{
		{Kind: "rung", ID: "security-review", Description: "Security or compliance questions", Route: &handoff.Route{Team: "security", Fallback: &handoff.Route{To: "account_owner"}}},
		{Kind: "rung", ID: "legal", Route: &handoff.Route{Team: "legal"}},
		{Kind: "exception", ID: "exec_to_exec", Route: &handoff.Route{To: "account_owner"}},
		{Kind: "rung", ID: "late-stage", Route: &handoff.Route{To: "deal_owner"}},
		{Kind: "rung", ID: "privacy", Route: &handoff.Route{Owner: "dpo@acme.example"}},
		{Kind: "rung", ID: "pricing"},
		{Kind: "rung", ID: "legal", Route: &handoff.Route{Team: "legal"}}, // repeated
		{Kind: "rung", ID: ""},                                            // nothing to say
	})
	want := []string{
		"security review by team security — Security or compliance questions",
		"legal review by team legal",
		"exec to exec review by the account owner",
		"late stage review by the deal owner",
		"privacy review by dpo@acme.example",
		"pricing review",
	}
	if !slices.Equal(got, want) {
		t.Errorf("lines:\n%q\nwant\n%q", got, want)
	}
	if AlsoNeedsLines(nil) != nil {
		t.Error("no reviews, no lines")
	}
}

// A decision's second reviewers reach the task's bundle (Why.AlsoNeeds)
// and the outcome counters, once per handoff even when delivered twice.
func TestAlsoNeedsThroughThePipeline(t *testing.T) {
	reviews := []handoff.Review{
		{Kind: "rung", ID: "security-review", Description: "Security questions", Route: &handoff.Route{Team: "security", Owners: []string{"sec@acme.example"}}},
		{Kind: "exception", ID: "legal", Route: &handoff.Route{Team: "legal"}},
	}
	h := newHarness(t, func(_ *Config, d *Deps) {
		d.Decider = ruleDecider{version: "v1", sla: 30 * time.Minute, route: &handoff.Route{To: "account_owner"}, alsoNeeds: reviews}
	})
	ev := agentEvent("an-1", "conv-an", "pricing and our SOC 2 report?")
	for range 2 {
		if err := h.deliver(t, ev); err != nil {
			t.Fatal(err)
		}
	}
	// A second handoff without reviewers.
	h2 := agentEvent("an-2", "conv-an2", "hello")
	if err := h.deliver(t, h2); err != nil {
		t.Fatal(err)
	}
	if err := h.runPending(t); err != nil {
		t.Fatal(err)
	}
	if len(h.crm.specs) != 1 {
		t.Fatalf("%d tasks created, want 1", len(h.crm.specs))
	}
	want := []string{"security review by team security — Security questions", "legal review by team legal"}
	if got := h.crm.specs[0].Bundle.Why.AlsoNeeds; !slices.Equal(got, want) {
		t.Errorf("bundle why.also_needs = %q, want %q", got, want)
	}
	r, err := NewOutcomes(h.rdb).Report(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	hs := r.Handoffs
	if hs.Total != 1 || hs.WithAlsoNeeds != 1 || len(hs.AlsoNeeds) != 2 || hs.AlsoNeeds["security-review"] != 1 || hs.AlsoNeeds["legal"] != 1 {
		t.Errorf("handoffs = %+v, want 1 with also_needs security-review 1, legal 1", hs)
	}
}
