package jobs

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/handoff-dev/handoff"
)

// A member with the team's capacity of open handoffs is skipped; a full
// team falls back along the route.
func TestCapacitySkipsFullMembers(t *testing.T) {
	members := []string{"dd1@acme.example", "dd2@acme.example"}
	fallback := &handoff.Route{Team: "managers", Owners: []string{"mgr1@acme.example"}}
	cases := []struct {
		name     string
		strategy string
		open     map[string]float64 // open handoffs by owner id
		want     string
	}{
		{"round robin: first member full", StrategyRoundRobin, map[string]float64{"101": 2}, "102"},
		{"round robin: room left", StrategyRoundRobin, map[string]float64{"101": 1}, "101"},
		{"round robin: team full", StrategyRoundRobin, map[string]float64{"101": 2, "102": 3}, "105"},
		{"least open: the emptier member is full too", StrategyLeastOpen, map[string]float64{"101": 2, "102": 2}, "105"},
		{"least open: only one has room", StrategyLeastOpen, map[string]float64{"101": 0, "102": 2}, "101"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			route := &handoff.Route{Team: "deal_desk", Owners: members, Strategy: tc.strategy, Capacity: 2, Fallback: fallback}
			h := newHarness(t, func(_ *Config, d *Deps) { d.Decider = ruleDecider{version: "v1", sla: time.Hour, route: route} })
			for id, n := range tc.open {
				if err := h.rdb.ZAdd(t.Context(), keyOpen(handoff.SourceHubSpot, "62515"), redisZ(n, id)).Err(); err != nil {
					t.Fatal(err)
				}
			}
			if err := h.deliver(t, agentEvent("t1", "conv-cap", "pricing")); err != nil {
				t.Fatal(err)
			}
			if err := h.runPending(t); err != nil {
				t.Fatal(err)
			}
			if len(h.crm.specs) != 1 || h.crm.specs[0].Owner.ID != tc.want {
				t.Fatalf("owner = %+v, want id %s", h.crm.specs, tc.want)
			}
		})
	}
}

// A climb reassignment never hands the task back to the owner who let the
// SLA lapse (exclude_last: 1, the default), nor to the last N owners; when
// nobody else is left the task stays where it is.
func TestClimbExcludesLastOwners(t *testing.T) {
	// owner@ (100) is the account owner and a member of the escalation team.
	escalation := &handoff.Route{Team: "escalation", Owners: []string{"owner@acme.example", "mgr1@acme.example"}}
	only := &handoff.Route{Team: "solo", Owners: []string{"owner@acme.example"}}
	cases := []struct {
		name    string
		climb   []handoff.ClimbStep
		want    []string // reassignments "task:owner:priority"
		history string
	}{
		{"exclude_last 1: the other member", []handoff.ClimbStep{{After: 1, Do: "reassign", To: escalation, ExcludeLast: 1}}, []string{"T1:105:high"}, "100,105"},
		{"exclude_last 0: may hand it back", []handoff.ClimbStep{{After: 1, Do: "reassign", To: escalation}}, []string{"T1:100:high"}, "100,100"},
		{"exclude_last 2 over two steps", []handoff.ClimbStep{
			{After: 1, Do: "reassign", To: escalation, ExcludeLast: 1},
			{After: 2, Do: "reassign", To: &handoff.Route{Team: "escalation2", Owners: []string{"mgr1@acme.example", "owner@acme.example", "dd1@acme.example"}}, ExcludeLast: 2},
		}, []string{"T1:105:high", "T1:101:high"}, "100,105,101"},
		{"nobody else: not reassigned", []handoff.ClimbStep{{After: 1, Do: "reassign", To: only, ExcludeLast: 1}}, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(_ *Config, d *Deps) {
				d.Decider = ruleDecider{version: "v1", sla: time.Hour, route: &handoff.Route{To: "account_owner"}, climb: tc.climb}
			})
			if err := h.deliver(t, agentEvent("t1", "conv-ex", "pricing")); err != nil {
				t.Fatal(err)
			}
			if err := h.runPending(t); err != nil {
				t.Fatal(err)
			}
			hid := HandoffID("62515", "conv-ex", "pricing", "agent:t1")
			for step := 1; step <= len(tc.climb); step++ {
				h.clock.Advance(time.Hour)
				if err := h.runSLA(t, hid, step); err != nil {
					t.Fatalf("step %d: %v", step, err)
				}
			}
			if len(h.crm.reassigns) != len(tc.want) {
				t.Fatalf("reassigns = %v, want %v", h.crm.reassigns, tc.want)
			}
			for i := range tc.want {
				if h.crm.reassigns[i] != tc.want[i] {
					t.Fatalf("reassigns = %v, want %v", h.crm.reassigns, tc.want)
				}
			}
			rec, err := h.p.loadRecord(t.Context(), hid)
			if err != nil {
				t.Fatal(err)
			}
			if rec["owner_history"] != tc.history {
				t.Errorf("owner history %q, want %q", rec["owner_history"], tc.history)
			}
		})
	}
}

func redisZ(score float64, member string) redis.Z { return redis.Z{Score: score, Member: member} }
