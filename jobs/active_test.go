package jobs

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/handoff-dev/handoff"
)

// statusCRM is the fake CRM with an owner active flag, as the HubSpot and
// Salesforce connectors have.
type statusCRM struct {
	*fakeCRM
	mu       sync.Mutex
	inactive map[string]bool
	checks   int
}

func (s *statusCRM) OwnerActive(_ context.Context, _, id string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checks++
	return !s.inactive[id], nil
}

func (s *statusCRM) deactivate(id string) {
	s.mu.Lock()
	s.inactive[id] = true
	s.mu.Unlock()
}

func (s *statusCRM) checked() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.checks
}

var managersFallback = &handoff.Route{Team: "managers", Owners: []string{"mgr1@acme.example"}}

// A deactivation is seen once the active flag's short TTL has passed,
// while the email → id cache (a day) is kept.
func TestDeactivationSeenWithinOwnerActiveTTL(t *testing.T) {
	var crm *statusCRM
	h := newHarness(t, func(c *Config, d *Deps) {
		c.OwnerActiveTTL = 300 * time.Millisecond
		crm = &statusCRM{fakeCRM: d.CRMs[handoff.SourceHubSpot].(*fakeCRM), inactive: map[string]bool{}}
		d.CRMs = map[handoff.Source]CRM{handoff.SourceHubSpot: crm}
		d.Decider = ruleDecider{version: "v1", sla: time.Hour, route: &handoff.Route{Owner: "dd1@acme.example", Fallback: managersFallback}}
	})
	handoffTo := func(conv string) string {
		t.Helper()
		n := len(h.crm.specs)
		if err := h.deliver(t, agentEvent("t-"+conv, conv, "pricing")); err != nil {
			t.Fatal(err)
		}
		if err := h.runPending(t); err != nil {
			t.Fatal(err)
		}
		if len(h.crm.specs) != n+1 {
			t.Fatalf("%s: %d tasks, want %d", conv, len(h.crm.specs), n+1)
		}
		return h.crm.specs[n].Owner.ID
	}
	if got := handoffTo("conv-a1"); got != "101" {
		t.Fatalf("first owner %s, want dd1 (101)", got)
	}
	crm.deactivate("101")
	if got := handoffTo("conv-a2"); got != "101" {
		t.Fatalf("within the TTL the cached flag holds: owner %s, want 101", got)
	}
	time.Sleep(400 * time.Millisecond)
	if got := handoffTo("conv-a3"); got != "105" {
		t.Fatalf("after the TTL the deactivated dd1 is skipped: owner %s, want the fallback mgr1 (105)", got)
	}
	if n := h.crm.Calls("OwnerByEmail"); n != 2 {
		t.Errorf("OwnerByEmail calls = %d, want 2 (dd1 and mgr1 once each: the email cache is kept)", n)
	}
	if crm.checked() < 2 {
		t.Errorf("active checks = %d, want the flag read again after its TTL", crm.checked())
	}
}

// The CRM refusing the task's owner as inactive (handoff.ErrOwnerUnavailable)
// sends the task along the route's fallback instead of failing it; the
// owner is remembered as inactive.
func TestOwnerUnavailableAtCreateFallsBack(t *testing.T) {
	h := newHarness(t, func(_ *Config, d *Deps) {
		d.Decider = ruleDecider{version: "v1", sla: time.Hour, route: &handoff.Route{To: ToAccountOwner, Fallback: managersFallback}}
	})
	h.crm.createErrs = []error{fmt.Errorf("%w: %w", handoff.ErrOwnerUnavailable,
		&handoff.PermanentError{CRM: handoff.SourceSalesforce, Status: 400, Code: "INACTIVE_OWNER_OR_USER", Detail: "inactive user"})}
	if err := h.deliver(t, agentEvent("t1", "conv-inactive", "pricing")); err != nil {
		t.Fatal(err)
	}
	if err := h.runPending(t); err != nil {
		t.Fatalf("the handoff failed instead of falling back: %v", err)
	}
	if len(h.crm.tried) != 2 || h.crm.tried[0].Owner.ID != "100" || h.crm.tried[1].Owner.ID != "105" {
		t.Fatalf("creates tried %d owners, want the account owner (100), then mgr1 (105)", len(h.crm.tried))
	}
	if len(h.crm.specs) != 1 || h.crm.specs[0].Owner.ID != "105" {
		t.Fatalf("tasks %+v, want one for mgr1", h.crm.specs)
	}
	if v, _ := h.rdb.Get(t.Context(), keyOwnerActive(handoff.SourceHubSpot, "62515", "100")).Result(); v != "0" {
		t.Errorf("active flag of the refused owner %q, want 0", v)
	}
}

// With every member away the task goes to the team's catch-all, flagged
// in the bundle, counted and alerted to the team's notify targets.
func TestExhaustedRouteGoesToCatchAll(t *testing.T) {
	team := &handoff.Route{Team: "deal_desk", Owners: []string{"dd1@acme.example", "dd2@acme.example"}, CatchAll: "counsel@acme.example",
		Notify: []string{"slack:https://hooks.example/deal-desk"}}
	rp := &recordingPeople{}
	h := newHarness(t, func(_ *Config, d *Deps) {
		d.Decider = ruleDecider{version: "v1", sla: time.Hour, route: team}
		d.People = rp
	})
	for _, who := range team.Owners {
		if _, err := h.p.SetAway(t.Context(), who, h.clock.Now().Add(24*time.Hour), "offsite"); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.deliver(t, agentEvent("t1", "conv-ca", "pricing")); err != nil {
		t.Fatal(err)
	}
	if err := h.runPending(t); err != nil {
		t.Fatal(err)
	}
	if len(h.crm.specs) != 1 || h.crm.specs[0].Owner.ID != "106" {
		t.Fatalf("tasks %+v, want one for the catch-all counsel (106)", h.crm.specs)
	}
	reasons := h.crm.specs[0].Bundle.Why.Reasons
	if len(reasons) == 0 || !strings.HasPrefix(reasons[len(reasons)-1], "Routed to the catch-all counsel@acme.example: nobody on the route could take it (tried team deal_desk, dd1@acme.example (away until ") ||
		!strings.Contains(reasons[len(reasons)-1], "dd2@acme.example (away until ") {
		t.Errorf("bundle reasons %q do not flag the catch-all", reasons)
	}
	if n, _ := h.rdb.HGet(t.Context(), keyOutcomes, "catch_all").Int(); n != 1 {
		t.Errorf("catch_all outcome = %d, want 1", n)
	}
	if len(rp.alerts) != 1 || rp.alerts[0].Kind != AlertCatchAll || !slices.Equal(rp.alerts[0].Targets, team.Notify) ||
		rp.alerts[0].Owner.ID != "106" || !strings.HasPrefix(rp.alerts[0].Why, "Routed to the catch-all counsel@acme.example: nobody on the route could take it") {
		t.Errorf("alerts = %+v, want one catch_all alert to the team's targets", rp.alerts)
	}
}
