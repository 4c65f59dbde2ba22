package ladder

import "github.com/handoff-dev/handoff"

// Step describes one exception or rung by the decision it makes when it
// wins, for tools that reason about a ladder's coverage (ladder eval).
type Step struct {
	Kind        string // StepException | StepRung
	ID          string
	Description string
	Action      handoff.Action
	// Route is the owner the step's decisions get, with the ladder's
	// default route filled in; nil when Action is continue.
	Route    *handoff.Route
	Priority handoff.Priority
}

// Steps lists the exceptions and rungs in evaluation order: the exceptions,
// then the rungs from the top down.
func (l *Ladder) Steps() []Step {
	out := make([]Step, 0, len(l.exceptions)+len(l.rungs))
	add := func(r *rung) {
		s := Step{Kind: r.kind, ID: r.id, Description: r.desc, Action: r.action}
		if r.action != handoff.ActionContinue {
			route := r.route
			if route == nil {
				route = l.defaults.route
			}
			s.Route = copyRoute(route)
			s.Priority = r.priority
			if s.Priority == "" {
				s.Priority = l.defaults.priority
			}
		}
		out = append(out, s)
	}
	for _, r := range l.exceptions {
		add(r)
	}
	for i := len(l.rungs) - 1; i >= 0; i-- {
		add(l.rungs[i])
	}
	return out
}
