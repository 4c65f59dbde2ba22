package ladder

import "strings"

// Guards on who gets a task: a team's capacity and a climb's exclude_last.

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
