package ladder

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/cel-go/common/types"

	"github.com/handoff-dev/handoff"
)

// Trace step kinds.
const (
	StepException = "exception"
	StepRung      = "rung"
	StepScore     = "score"
	StepSignals   = "signals"
)

// The number of values the signals step (at most) and the score step show.
const (
	signalsValues = 6
	scoreValues   = 7
)

// Decide evaluates the ladder for one context. It computes the handoff score
// (and sets c.Score), then checks the exceptions in order (the first that
// matches decides) and, if none matched, every rung (the highest that
// matches decides). Signals are taken from c.Signals as the enricher set
// them. The decision's trace lists every exception and rung with the values
// its condition read. Decide does no I/O and is deterministic.
func (l *Ladder) Decide(in handoff.Context) handoff.Decision {
	act := l.getState(&in) // the one copy of the context this decision reads
	defer l.putState(act)
	c := &act.c
	score, parts := l.computeScore(c)
	c.Score = score
	wf := l.workflowFor(&c.Event)
	l.initState(act, wf)

	d := handoff.Decision{
		LadderVersion: l.version,
		Action:        handoff.ActionContinue,
		Score:         score,
		Signals:       c.Signals,
		Shadow:        l.shadow,
	}
	trace := make([]handoff.TraceStep, 0, len(l.exceptions)+len(l.rungs)+2)
	// Every step's values live in one backing array, sized at load; each
	// step gets a capped window of it, so no step can grow into the next.
	buf := make(handoff.TraceValues, 0, l.valueSlots)
	window := func(start int) handoff.TraceValues {
		return buf[start:len(buf):len(buf)]
	}
	// The signals step shows the same signals as d.Signals (shared, not
	// copied: a decision is read-only data).
	buf = append(buf,
		handoff.TraceValue{Path: "topics", Value: nonNilStrings(c.Signals.Topics)},
		handoff.TraceValue{Path: "negated", Value: nonNilStrings(c.Signals.Negated)},
		handoff.TraceValue{Path: "sentiment", Value: c.Signals.Sentiment},
		handoff.TraceValue{Path: "human_request", Value: c.Signals.HumanRequest},
		handoff.TraceValue{Path: "sentiment_trend", Value: c.Conversation.SentimentTrend},
	)
	if len(c.Signals.Matches) > 0 {
		buf = append(buf, handoff.TraceValue{Path: "matches", Value: c.Signals.Matches})
	}
	trace = append(trace, handoff.TraceStep{Kind: StepSignals, ID: "signals", When: "signals of the buyer's text (computed once per event)", Values: window(0)})
	start := len(buf)
	buf = append(buf,
		handoff.TraceValue{Path: "score", Value: score},
		handoff.TraceValue{Path: "workflow", Value: wf.id},
		handoff.TraceValue{Path: "confidence", Value: parts.Confidence},
		handoff.TraceValue{Path: "sentiment", Value: parts.Sentiment},
		handoff.TraceValue{Path: "value", Value: parts.Value},
		handoff.TraceValue{Path: "risk", Value: parts.Risk},
		handoff.TraceValue{Path: "progress", Value: parts.Progress},
	)
	trace = append(trace, handoff.TraceStep{Kind: StepScore, ID: "score", When: "weighted handoff score", Values: window(start)})
	vals := act.vals // each path's value, read once (never nil once read)
	valuesFor := func(r *rung) handoff.TraceValues {
		start := len(buf)
		for _, i := range r.paths { // sorted by path at load
			if vals[i] == nil {
				vals[i] = l.readers[i](c, wf)
			}
			buf = append(buf, handoff.TraceValue{Path: l.paths[i], Value: vals[i]})
		}
		return window(start)
	}

	var winner *rung
	var winnerVals handoff.TraceValues
	var also []string
	var reviews []*rung // second-review rungs that matched but did not win
	skippedByWinner := ""
	// check traces one exception or rung. Once an exception has matched,
	// everything after it is skipped but the second-review rungs, checked
	// to name them in AlsoNeeds; once a rung has matched, the lower rungs
	// are still checked, to say which also matched.
	check := func(r *rung) handoff.TraceStep {
		step := handoff.TraceStep{Kind: r.kind, ID: r.id, When: r.when}
		switch {
		case winner != nil && winner.kind == StepException && !r.secondReview:
			if skippedByWinner == "" {
				skippedByWinner = `exception "` + winner.id + `" matched first`
			}
			step.Skipped = skippedByWinner
		case !r.applies(wf):
			step.Skipped = r.skipMsg(wf)
		default:
			step.Matched, step.Error = eval(r, act)
			step.Values = valuesFor(r)
			switch {
			case !step.Matched:
			case winner == nil:
				winner, winnerVals = r, step.Values
			default:
				also = append(also, r.id)
				if r.secondReview {
					reviews = append(reviews, r)
				}
			}
		}
		return step
	}
	for _, r := range l.exceptions {
		trace = append(trace, check(r))
	}
	// Rungs from the top down: the first that matches is the highest.
	for i := len(l.rungs) - 1; i >= 0; i-- {
		trace = append(trace, check(l.rungs[i]))
	}
	d.Trace = trace
	if winner == nil {
		return d
	}

	if winner.kind == StepException {
		d.ExceptionID = winner.id
	} else {
		d.RungID = winner.id
	}
	d.Action = winner.action
	d.Reasons = append(d.Reasons, winner.reason(winnerVals))
	if len(also) > 0 {
		d.Reasons = append(d.Reasons, "lower rungs that also matched: "+strings.Join(also, ", "))
	}
	if winner.action == handoff.ActionContinue {
		return d
	}
	route := winner.route
	if route == nil {
		route = l.defaults.route
	}
	d.Route = copyRoute(route)
	d.AlsoNeeds = l.secondReviews(route, reviews)
	for _, rv := range d.AlsoNeeds {
		d.Reasons = append(d.Reasons, "also needs "+rv.Kind+" \""+rv.ID+"\" ("+routeText(rv.Route)+")")
	}
	d.SLA = winner.sla
	if d.SLA == 0 {
		d.SLA = l.defaults.sla
	}
	d.SLAClock = l.slaClock(winner, route)
	d.Priority = winner.priority
	if d.Priority == "" {
		d.Priority = l.defaults.priority
	}
	d.Constraints = slices.Clone(winner.constraints)
	d.NextSteps = make([]string, 0, len(winner.nextSteps))
	for _, t := range winner.nextSteps {
		d.NextSteps = append(d.NextSteps, t.render(c))
	}
	d.Required = slices.Clone(winner.required)
	if d.Required == nil {
		d.Required = slices.Clone(l.defaults.required)
	}
	goal := winner.goal
	if goal == nil {
		goal = l.defaults.goal
	}
	d.Goal = goal.render(c)
	climb := winner.climb
	if climb == nil {
		climb = l.climb
	}
	if climb == nil {
		climb = l.defaults.climb
	}
	d.Climb = make([]handoff.ClimbStep, 0, len(climb))
	for _, s := range climb {
		s.To = copyRoute(s.To)
		d.Climb = append(d.Climb, s)
	}
	return d
}

// secondReviews names the second-review rungs that matched besides the
// winner, one per route that differs from the owner's: the decision keeps
// one accountable owner and the bundle says who else must look.
func (l *Ladder) secondReviews(owner *handoff.Route, rs []*rung) []handoff.Review {
	if len(rs) == 0 {
		return nil
	}
	var out []handoff.Review
	sameTarget := func(a, b *handoff.Route) bool {
		return a != nil && b != nil && a.To == b.To && a.Team == b.Team && a.Owner == b.Owner
	}
	for _, r := range rs {
		if r.action == handoff.ActionContinue {
			continue
		}
		route := r.route
		if route == nil {
			route = l.defaults.route
		}
		dup := sameTarget(route, owner)
		for i := range out {
			dup = dup || sameTarget(route, out[i].Route)
		}
		if !dup {
			out = append(out, handoff.Review{Kind: r.kind, ID: r.id, Description: r.desc, Route: copyRoute(route)})
		}
	}
	return out
}

// routeText names a route's first target: "team security", "account_owner".
func routeText(r *handoff.Route) string { return r.Target() }

func (r *rung) skipMsg(wf *workflow) string {
	return `workflow "` + wf.id + `" not in [` + strings.Join(r.workflows, " ") + `]`
}

func (r *rung) applies(wf *workflow) bool {
	return len(r.workflows) == 0 || slices.Contains(r.workflows, wf.id)
}

func (l *Ladder) workflowFor(e *handoff.EventFacts) *workflow {
	for _, w := range l.workflows {
		if w.matches(e) {
			return w
		}
	}
	return l.defaultWF
}

// Workflow returns the id of the workflow an event falls in ("default" when
// none of the ladder's workflows matches).
func (l *Ladder) Workflow(e handoff.EventFacts) string { return l.workflowFor(&e).id }

func eval(r *rung, act *evalState) (bool, string) {
	if r.prog == nil {
		return false, "condition did not compile"
	}
	out, _, err := r.prog.Eval(act)
	if err != nil {
		return false, err.Error()
	}
	if b, ok := out.(types.Bool); ok {
		return bool(b), ""
	}
	return false, fmt.Sprintf("condition returned %s, not a bool", out.Type())
}

// pathReader returns the function that reads one condition path from a
// context, resolved once at load so a decision does no lookups by name.
func pathReader(path string) func(c *handoff.Context, wf *workflow) any {
	if get, ok := accessors[path]; ok {
		return func(c *handoff.Context, _ *workflow) any { return get(c) }
	}
	switch {
	case path == varWorkflow:
		return func(_ *handoff.Context, wf *workflow) any { return wf.id }
	case path == varThresholds:
		return func(_ *handoff.Context, wf *workflow) any { return wf.thresholds }
	case strings.HasPrefix(path, varThresholds+"."):
		k := strings.TrimPrefix(path, varThresholds+".")
		return func(_ *handoff.Context, wf *workflow) any { return wf.thresholds[k] }
	}
	return func(*handoff.Context, *workflow) any { return nil }
}

// reason renders the winning condition with the values it saw.
func (r *rung) reason(vals handoff.TraceValues) string {
	var b strings.Builder
	b.Grow(len(r.reasonPrefix) + 32*len(r.paths))
	b.WriteString(r.reasonPrefix)
	for i, v := range vals { // sorted by path at load
		if i == 0 {
			b.WriteString(" with ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(v.Path)
		b.WriteByte('=')
		b.WriteString(formatValue(v.Value))
	}
	return b.String()
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func copyRoute(r *handoff.Route) *handoff.Route {
	if r == nil {
		return nil
	}
	c := *r
	c.Owners = slices.Clone(r.Owners)
	c.Fallback = copyRoute(r.Fallback)
	return &c
}
