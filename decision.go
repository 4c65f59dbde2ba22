package handoff

import "time"

// Action is what the ladder tells the system to do.
type Action string

// Ladder actions.
const (
	ActionContinue Action = "continue" // log only; the agent carries on
	ActionAssist   Action = "assist"   // FYI task for a human; the agent keeps ownership
	ActionHandoff  Action = "handoff"  // ownership moves to one human
	ActionHold     Action = "hold"     // the agent must stop now (and a human is told)
)

// Priority of the CRM task.
type Priority string

// Task priorities.
const (
	PriorityLow    Priority = "low"
	PriorityMedium Priority = "medium"
	PriorityHigh   Priority = "high"
	PriorityUrgent Priority = "urgent"
)

// Route says who should own the task. Exactly one of To, Team or Owner is set;
// Fallback is tried when the target cannot be resolved.
type Route struct {
	To       string `json:"to,omitempty"`       // account_owner | contact_owner | deal_owner
	Team     string `json:"team,omitempty"`     // a team of the reviewer matrix
	Owner    string `json:"owner,omitempty"`    // a fixed owner (email or CRM owner id)
	Strategy string `json:"strategy,omitempty"` // for teams: round_robin | least_open
	// Owners are the team's members, copied from the ladder so the router
	// needs nothing else.
	Owners []string `json:"owners,omitempty"`
	// Notify are the team's notification targets (chat webhooks, see
	// docs/ladder.md), copied from the ladder like Owners.
	Notify   []string `json:"notify,omitempty"`
	Fallback *Route   `json:"fallback,omitempty"`
	// Calendar names the ladder calendar whose working hours the SLA
	// counts (the route's own, its team's or the ladder's default).
	Calendar string `json:"calendar,omitempty"`
	// Capacity is the team's limit of open handoffs per member (0: none);
	// a full member is skipped.
	Capacity int `json:"capacity,omitempty"`
	// CatchAll is the team's designated owner (an email or CRM owner id)
	// for when the whole route chain is exhausted: everyone away, full or
	// inactive in the CRM.
	CatchAll string `json:"catch_all,omitempty"`
	// Weights are the members' shares of the round robin, in Owners order
	// (nil: one each): a member of weight 2 gets two tasks per cycle.
	Weights []int `json:"weights,omitempty"`
}

// SLA clocks: what an SLA counts.
const (
	SLAClockWorking = "working" // working time on the route's calendar
	SLAClockWall    = "wall"    // wall-clock time
)

// Target names the route's first target: "team security", a fixed owner,
// or the relation ("account_owner"); "" for a nil route.
func (r *Route) Target() string {
	switch {
	case r == nil:
		return ""
	case r.Team != "":
		return "team " + r.Team
	case r.Owner != "":
		return r.Owner
	}
	return r.To
}

// Decision is the ladder's answer for one context. It is pure data: the same
// ladder and context always produce the same decision.
type Decision struct {
	LadderVersion string        `json:"ladder_version"`
	Action        Action        `json:"action"`
	RungID        string        `json:"rung_id,omitempty"`      // the rung that matched
	ExceptionID   string        `json:"exception_id,omitempty"` // or the exception that matched
	Route         *Route        `json:"route,omitempty"`
	SLA           time.Duration `json:"sla,omitempty"`
	Priority      Priority      `json:"priority,omitempty"`
	Constraints   []string      `json:"constraints,omitempty"`
	NextSteps     []string      `json:"next_steps,omitempty"`
	Required      []string      `json:"required,omitempty"` // bundle fields the rung requires
	Goal          string        `json:"goal,omitempty"`
	Climb         []ClimbStep   `json:"climb,omitempty"`
	Score         float64       `json:"score"`
	Signals       Signals       `json:"signals"`
	// Reasons are the human-readable conditions that held, with their values.
	Reasons []string    `json:"reasons,omitempty"`
	Trace   []TraceStep `json:"trace"`
	Shadow  bool        `json:"shadow,omitempty"` // produced by the shadow ladder
	// AlsoNeeds are the other sensitive rungs or exceptions that matched the
	// same message: the decision has one accountable owner (Route), and the
	// bundle names these second reviewers ("also needs: security review by
	// team security").
	AlsoNeeds []Review `json:"also_needs,omitempty"`
	// SLAClock is what the SLA counts: SLAClockWorking (time within the
	// working hours of Route.Calendar) or SLAClockWall. Empty means
	// working time when the route has a calendar, else wall time.
	SLAClock string `json:"sla_clock,omitempty"`
}

// Review is a second reviewer a decision asks its owner to bring in.
type Review struct {
	Kind        string `json:"kind"` // exception | rung
	ID          string `json:"id"`   // the rung or exception id
	Description string `json:"description,omitempty"`
	Route       *Route `json:"route,omitempty"`
}

// Matched returns the id of the rung or exception that produced the decision.
func (d Decision) Matched() string {
	if d.ExceptionID != "" {
		return d.ExceptionID
	}
	return d.RungID
}

// Escalates reports whether the decision puts a human in the loop.
func (d Decision) Escalates() bool {
	return d.Action == ActionAssist || d.Action == ActionHandoff || d.Action == ActionHold
}

// ClimbStep is what to do when an SLA lapses with the task not started.
type ClimbStep struct {
	After    float64  `json:"after"` // multiple of the SLA: 1 = at the SLA, 2 = twice the SLA
	Do       string   `json:"do"`    // reassign | notify | raise_priority
	To       *Route   `json:"to,omitempty"`
	Priority Priority `json:"priority,omitempty"`
	// ExcludeLast: a reassign skips the task's last N owners (the one who
	// let the SLA lapse, and before them), so it never hands the task back.
	ExcludeLast int `json:"exclude_last,omitempty"`
	// MaxReassignments caps a reassign: it does not run once the handoff
	// has been reassigned this many times (0: no cap), so a task does not
	// travel the whole company overnight.
	MaxReassignments int `json:"max_reassignments,omitempty"`
}

// TraceStep records one rung or exception that was checked.
type TraceStep struct {
	Kind    string      `json:"kind"` // exception | rung
	ID      string      `json:"id"`
	When    string      `json:"when"`
	Matched bool        `json:"matched"`
	Skipped string      `json:"skipped,omitempty"` // why it was not evaluated (e.g. workflow filter)
	Values  TraceValues `json:"values,omitempty"`  // the context values the condition read
	Error   string      `json:"error,omitempty"`   // evaluation error (treated as not matched)
}
