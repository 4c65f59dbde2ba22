package ladder

import (
	"maps"
	"slices"
	"strings"
)

// Guards on who gets a task: a team's capacity and weights, a climb's
// exclude_last and max_reassignments.

// teamCapacity checks a team's capacity: (open handoffs per member).
func (c *compiler) teamCapacity(p, id string, capacity *int) int {
	if capacity == nil {
		return 0
	}
	if *capacity < 1 {
		c.errAt(p+".capacity", "team", id, "capacity must be at least 1 (leave it out for no limit)")
		return 0
	}
	return *capacity
}

// teamCatchAll checks a team's catch_all: one owner, named by email or CRM
// owner id, without spaces or commas.
func (c *compiler) teamCatchAll(p, id, who string) string {
	if who != "" && (strings.TrimSpace(who) != who || strings.ContainsAny(who, " ,")) {
		c.errAt(p+".catch_all", "team", id, "catch_all %q must be one owner's email or CRM owner id", who)
		return ""
	}
	return who
}

// excludeLast checks a climb step's exclude_last: a reassign skips the
// task's last N owners, 1 (the one who let the SLA lapse) unless set.
func (c *compiler) excludeLast(sp, kind, id string, i int, s fileClimb) int {
	if s.ExcludeLast == nil {
		if s.Do == "reassign" {
			return 1
		}
		return 0
	}
	switch {
	case s.Do != "reassign":
		c.errAt(sp+".exclude_last", kind, id, "climb step %d: exclude_last only applies to reassign", i+1)
	case *s.ExcludeLast < 0:
		c.errAt(sp+".exclude_last", kind, id, "climb step %d: exclude_last must be 0 or more", i+1)
	default:
		return *s.ExcludeLast
	}
	return 0
}

// teamWeights checks a team's weights: each key a member, each weight at
// least 1, and only for round_robin (least_open balances by open count).
// The result is in member order, nil when every weight is 1.
func (c *compiler) teamWeights(p, id string, t fileTeam) []int {
	if len(t.Weights) == 0 {
		return nil
	}
	if t.Strategy != "round_robin" {
		c.errAt(p+".weights", "team", id, "weights only apply to strategy round_robin (this team is %s)", t.Strategy)
		return nil
	}
	for _, who := range slices.Sorted(maps.Keys(t.Weights)) {
		if !slices.Contains(t.Owners, who) {
			c.errAt(p+".weights", "team", id, "weight for %q, who is not one of the team's owners", who)
		}
		if t.Weights[who] < 1 {
			c.errAt(p+".weights", "team", id, "weight of %q must be at least 1 (take the member out of owners, or mark them away)", who)
		}
	}
	out := make([]int, len(t.Owners))
	uneven := false
	for i, who := range t.Owners {
		out[i] = 1
		if w, ok := t.Weights[who]; ok && w >= 1 {
			out[i] = w
		}
		uneven = uneven || out[i] != 1
	}
	if !uneven {
		return nil
	}
	return out
}

// maxReassignments checks a climb step's max_reassignments: a reassign
// runs only while the handoff has been reassigned fewer times (0: no cap).
func (c *compiler) maxReassignments(sp, kind, id string, i int, s fileClimb) int {
	switch {
	case s.MaxReassignments == nil:
		return 0
	case s.Do != "reassign":
		c.errAt(sp+".max_reassignments", kind, id, "climb step %d: max_reassignments only applies to reassign", i+1)
	case *s.MaxReassignments < 1:
		c.errAt(sp+".max_reassignments", kind, id, "climb step %d: max_reassignments must be at least 1 (leave it out for no cap)", i+1)
	default:
		return *s.MaxReassignments
	}
	return 0
}
