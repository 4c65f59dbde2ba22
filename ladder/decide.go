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

// Decide evaluates the ladder for one context. It computes the handoff score
// (and sets c.Score), then checks the exceptions in order (the first that
// matches decides) and, if none matched, every rung (the highest that
// matches decides). Signals are taken from c.Signals as the enricher set
// them. The decision's trace lists every exception and rung with the values
// its condition read. Decide does no I/O and is deterministic.
func (l *Ladder) Decide(c handoff.Context) handoff.Decision {
	score, parts := l.computeScore(&c)
	c.Score = score
	wf := l.workflowFor(&c.Event)
	act := l.newState(&c, wf)

	d := handoff.Decision{
		LadderVersion: l.version,
		Action:        handoff.ActionContinue,
		Score:         score,
		Signals:       c.Signals,
		Shadow:        l.shadow,
	}
	trace := make([]handoff.TraceStep, 0, len(l.exceptions)+len(l.rungs)+2)
	sigVals := map[string]any{
		"topics": cloneStrings(c.Signals.Topics), "negated": cloneStrings(c.Signals.Negated),
		"sentiment": c.Signals.Sentiment, "human_request": c.Signals.HumanRequest,
		"sentiment_trend": c.Conversation.SentimentTrend,
	}
	if len(c.Signals.Matches) > 0 {
		m := make(map[string][]string, len(c.Signals.Matches))
		for k, v := range c.Signals.Matches {
			m[k] = slices.Clone(v)
		}
		sigVals["matches"] = m
	}
	trace = append(trace, handoff.TraceStep{Kind: StepSignals, ID: "signals", When: "signals of the buyer's text (computed once per event)", Values: sigVals})
	trace = append(trace, handoff.TraceStep{
		Kind: StepScore, ID: "score", When: "weighted handoff score", Matched: false,
		Values: map[string]any{
			"score": score, "workflow": wf.id,
			"confidence": parts.Confidence, "sentiment": parts.Sentiment, "value": parts.Value,
			"risk": parts.Risk, "progress": parts.Progress,
		},
	})
	vals := make([]any, len(l.paths))
	have := make([]bool, len(l.paths))
	valuesFor := func(r *rung) map[string]any {
		m := make(map[string]any, len(r.paths))
		for _, i := range r.paths {
			if !have[i] {
				vals[i] = l.pathValue(&c, wf, l.paths[i])
				have[i] = true
			}
			m[l.paths[i]] = vals[i]
		}
		return m
	}

	var winner *rung
	var winnerVals map[string]any
	var also []string
	skippedByWinner := ""
	for _, r := range l.exceptions {
		step := handoff.TraceStep{Kind: r.kind, ID: r.id, When: r.when}
		switch {
		case winner != nil:
			if skippedByWinner == "" {
				skippedByWinner = `exception "` + winner.id + `" matched first`
			}
			step.Skipped = skippedByWinner
		case !r.applies(wf):
			step.Skipped = r.skipMsg(wf)
		default:
			step.Matched, step.Error = eval(r, act)
			step.Values = valuesFor(r)
			if step.Matched {
				winner, winnerVals = r, step.Values
			}
		}
		trace = append(trace, step)
	}
	exceptionWon := winner != nil
	// Rungs from the top down: the first that matches is the highest.
	for i := len(l.rungs) - 1; i >= 0; i-- {
		r := l.rungs[i]
		step := handoff.TraceStep{Kind: r.kind, ID: r.id, When: r.when}
		switch {
		case exceptionWon:
			if skippedByWinner == "" {
				skippedByWinner = `exception "` + winner.id + `" matched first`
			}
			step.Skipped = skippedByWinner
		case !r.applies(wf):
			step.Skipped = r.skipMsg(wf)
		default:
			step.Matched, step.Error = eval(r, act)
			step.Values = valuesFor(r)
			if step.Matched {
				if winner == nil {
					winner, winnerVals = r, step.Values
				} else {
					also = append(also, r.id)
				}
			}
		}
		trace = append(trace, step)
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
	d.SLA = winner.sla
	if d.SLA == 0 {
		d.SLA = l.defaults.sla
	}
	d.Priority = winner.priority
	if d.Priority == "" {
		d.Priority = l.defaults.priority
	}
	d.Constraints = slices.Clone(winner.constraints)
	for _, t := range winner.nextSteps {
		d.NextSteps = append(d.NextSteps, t.render(&c))
	}
	d.Required = slices.Clone(winner.required)
	if d.Required == nil {
		d.Required = slices.Clone(l.defaults.required)
	}
	goal := winner.goal
	if goal == nil {
		goal = l.defaults.goal
	}
	d.Goal = goal.render(&c)
	climb := winner.climb
	if climb == nil {
		climb = l.climb
	}
	if climb == nil {
		climb = l.defaults.climb
	}
	for _, s := range climb {
		s.To = copyRoute(s.To)
		d.Climb = append(d.Climb, s)
	}
	return d
}

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

func (l *Ladder) pathValue(c *handoff.Context, wf *workflow, path string) any {
	if get, ok := accessors[path]; ok {
		return get(c)
	}
	switch {
	case path == varWorkflow:
		return wf.id
	case path == varThresholds:
		return wf.thresholds
	case strings.HasPrefix(path, varThresholds+"."):
		return wf.thresholds[strings.TrimPrefix(path, varThresholds+".")]
	}
	return nil
}

// reason renders the winning condition with the values it saw.
func (r *rung) reason(vals map[string]any) string {
	var b strings.Builder
	b.Grow(len(r.reasonPrefix) + 32*len(r.pathNames))
	b.WriteString(r.reasonPrefix)
	for i, k := range r.pathNames { // sorted at load
		if i == 0 {
			b.WriteString(" with ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(formatValue(vals[k]))
	}
	return b.String()
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
