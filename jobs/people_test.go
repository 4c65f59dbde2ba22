package jobs

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/handoff-dev/handoff"
)

type recordingPeople struct {
	mu     sync.Mutex
	alerts []Alert
}

func (r *recordingPeople) NotifyPeople(_ context.Context, a Alert) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.alerts = append(r.alerts, a)
	return nil
}

// A handoff routed to a team tells the team's notify targets who owns it,
// why, when it is due and where the task is; a climb notify step tells
// its to: team and the owner's team.
func TestHandoffAndClimbNotifyPeople(t *testing.T) {
	sales := &handoff.Route{Team: "sales", Owners: []string{"mgr1@acme.example"}, Notify: []string{"slack:https://hooks.example/sales"}}
	climb := []handoff.ClimbStep{{After: 1, Do: "notify",
		To: &handoff.Route{Team: "managers", Owners: []string{"mgr1@acme.example"}, Notify: []string{"teams:https://hooks.example/managers"}}}}
	rp := &recordingPeople{}
	h := newHarness(t, func(_ *Config, d *Deps) {
		d.Decider = ruleDecider{version: "v1", sla: time.Hour, route: sales, climb: climb}
		d.People = rp
	})
	if err := h.deliver(t, agentEvent("t1", "conv-p", "pricing")); err != nil {
		t.Fatal(err)
	}
	if err := h.runPending(t); err != nil {
		t.Fatal(err)
	}
	hid := HandoffID("62515", "conv-p", "pricing", "agent:t1")
	if len(rp.alerts) != 1 {
		t.Fatalf("alerts after the task = %+v", rp.alerts)
	}
	a := rp.alerts[0]
	if a.Kind != AlertHandoff || !slices.Equal(a.Targets, sales.Notify) || a.HandoffID != hid || a.Owner.ID != "105" ||
		a.Why == "" || a.Due.IsZero() || a.SLA != time.Hour || !strings.HasPrefix(a.TaskURL, "https://app.hubspot.com/contacts/62515/record/0-27/") {
		t.Fatalf("handoff alert = %+v", a)
	}
	h.clock.Advance(time.Hour)
	if err := h.runSLA(t, hid, 1); err != nil {
		t.Fatal(err)
	}
	if len(rp.alerts) != 2 {
		t.Fatalf("alerts after the SLA = %+v", rp.alerts)
	}
	b := rp.alerts[1]
	if b.Kind != AlertSLA || !slices.Equal(b.Targets, []string{"teams:https://hooks.example/managers", "slack:https://hooks.example/sales"}) ||
		b.Step != 1 || b.Owner.ID != "105" || b.Why != a.Why || b.TaskURL != a.TaskURL || b.ID == a.ID {
		t.Fatalf("climb alert = %+v", b)
	}
}

func TestOwnerTeamTargets(t *testing.T) {
	r := &handoff.Route{To: "account_owner", Fallback: &handoff.Route{Team: "sdr", Notify: []string{"x"}}}
	if got := ownerTeamTargets(r, "account_owner,team sdr"); !slices.Equal(got, []string{"x"}) {
		t.Fatalf("fallback team targets = %v", got)
	}
	if got := ownerTeamTargets(r, "account_owner"); got != nil {
		t.Fatalf("an account owner has no team: %v", got)
	}
}
