package jobs

import (
	"fmt"
	"slices"
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
		capped  int // reassign steps skipped by max_reassignments
	}{
		{"exclude_last 1: the other member", []handoff.ClimbStep{{After: 1, Do: "reassign", To: escalation, ExcludeLast: 1}}, []string{"T1:105:high"}, "100,105", 0},
		{"exclude_last 0: may hand it back", []handoff.ClimbStep{{After: 1, Do: "reassign", To: escalation}}, []string{"T1:100:high"}, "100,100", 0},
		{"exclude_last 2 over two steps", []handoff.ClimbStep{
			{After: 1, Do: "reassign", To: escalation, ExcludeLast: 1},
			{After: 2, Do: "reassign", To: &handoff.Route{Team: "escalation2", Owners: []string{"mgr1@acme.example", "owner@acme.example", "dd1@acme.example"}}, ExcludeLast: 2},
		}, []string{"T1:105:high", "T1:101:high"}, "100,105,101", 0},
		{"nobody else: not reassigned", []handoff.ClimbStep{{After: 1, Do: "reassign", To: only, ExcludeLast: 1}}, nil, "", 0},
		{"max_reassignments 1: the second reassign is skipped", []handoff.ClimbStep{
			{After: 1, Do: "reassign", To: escalation, ExcludeLast: 1},
			{After: 2, Do: "reassign", To: &handoff.Route{Team: "escalation2", Owners: []string{"dd1@acme.example"}}, ExcludeLast: 1, MaxReassignments: 1},
		}, []string{"T1:105:high"}, "100,105", 1},
		{"max_reassignments 2: both run", []handoff.ClimbStep{
			{After: 1, Do: "reassign", To: escalation, ExcludeLast: 1, MaxReassignments: 2},
			{After: 2, Do: "reassign", To: &handoff.Route{Team: "escalation2", Owners: []string{"dd1@acme.example"}}, ExcludeLast: 1, MaxReassignments: 2},
		}, []string{"T1:105:high", "T1:101:high"}, "100,105,101", 0},
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
			// A capped step is counted once, even when its check runs again.
			if err := h.p.checkSLA(t.Context(), hid, len(tc.climb)); err != nil {
				t.Fatal(err)
			}
			rep, err := NewOutcomes(h.rdb).Report(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if rep.ReassignmentsCapped != int64(tc.capped) || rep.Reassignments != int64(len(tc.want)) {
				t.Errorf("outcomes: %d reassignments, %d capped; want %d, %d", rep.Reassignments, rep.ReassignmentsCapped, len(tc.want), tc.capped)
			}
		})
	}
}

func redisZ(score float64, member string) redis.Z { return redis.Z{Score: score, Member: member} }

// rrStart spreads a cycle's turns by weight: each member starts as many
// turns as its weight, a heavier member's turns are interleaved, and
// without weights members take turns.
func TestRoundRobinWeightsStart(t *testing.T) {
	cases := []struct {
		weights []int
		members int
		want    []int // starts of turns 1..len(want)
	}{
		{nil, 3, []int{0, 1, 2, 0, 1, 2}},
		{[]int{3, 1}, 2, []int{0, 0, 1, 0, 0, 0, 1, 0}},
		{[]int{1, 2, 1}, 3, []int{1, 0, 2, 1, 1, 0, 2, 1}},
		{[]int{1, 1}, 3, []int{0, 1, 2}}, // a weights list that does not fit the team: plain turns
	}
	for _, tc := range cases {
		var got []int
		for n := range len(tc.want) {
			got = append(got, rrStart(int64(n+1), tc.members, tc.weights))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("weights %v: starts %v, want %v", tc.weights, got, tc.want)
		}
	}
	// Over many cycles the shares are the weights exactly.
	weights := []int{5, 2, 3}
	counts := make([]int, 3)
	for n := int64(1); n <= 1000; n++ {
		counts[rrStart(n, 3, weights)]++
	}
	if !slices.Equal(counts, []int{500, 200, 300}) {
		t.Errorf("1000 turns at weights %v: %v", weights, counts)
	}
}

// Through the pipeline: a weight-3 member gets three of every four
// handoffs of the team.
func TestRoundRobinWeightsRoute(t *testing.T) {
	route := &handoff.Route{Team: "deal_desk", Owners: []string{"dd1@acme.example", "dd2@acme.example"}, Strategy: StrategyRoundRobin, Weights: []int{3, 1}}
	h := newHarness(t, func(_ *Config, d *Deps) { d.Decider = ruleDecider{version: "v1", sla: time.Hour, route: route} })
	for i := range 8 {
		if err := h.deliver(t, agentEvent(fmt.Sprintf("tw%d", i), fmt.Sprintf("conv-w%d", i), "pricing")); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.runPending(t); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, s := range h.crm.specs {
		got[s.Owner.ID]++
	}
	if len(h.crm.specs) != 8 || got["101"] != 6 || got["102"] != 2 {
		t.Fatalf("owners of 8 handoffs = %v, want 101:6 102:2", got)
	}
}
