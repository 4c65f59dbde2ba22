package laddercli

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/handoff-dev/handoff"
)

func runDiff(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("diff", "OLD NEW EVENTS...", `Replays recorded events (or fixtures) through two versions of a ladder and
prints what changes: escalations added and removed, owners changed, other
changed decisions, and how often each rung and exception matched under
each version. EVENTS are files or directories as for explain.`, stdout, stderr)
	all := fs.Bool("all", false, "list every changed event (default: the first 50)")
	if done, err := parse(fs, args, stdout, func(n int) bool { return n >= 3 }); done {
		return err
	}
	oldL, err := loadOrReport(fs.Arg(0), stderr)
	if err != nil {
		return err
	}
	newL, err := loadOrReport(fs.Arg(1), stderr)
	if err != nil {
		return err
	}
	events, err := ReadEvents(fs.Args()[2:]...)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return &ExitError{Code: 1, Msg: err.Error()}
	}
	r := Compare(oldL, newL, events)
	r.Print(stdout, *all)
	return nil
}

// decider is what Compare needs from a ladder.
type decider interface {
	Decide(handoff.Context) handoff.Decision
	Signals(string) handoff.Signals
	Version() string
}

// Change is one event whose decision differs between two ladders.
type Change struct {
	Event    string
	Kind     string // escalation added | escalation removed | owner changed | decision changed
	Old, New handoff.Decision
}

// DiffReport is the outcome of replaying events through two ladders.
type DiffReport struct {
	OldVersion, NewVersion string
	Events                 int
	Changes                []Change
	OldRate, NewRate       map[string]int // matched rung/exception id ("" = none) -> events
}

// Counts of changes by kind.
func (r *DiffReport) Count(kind string) int {
	n := 0
	for _, c := range r.Changes {
		if c.Kind == kind {
			n++
		}
	}
	return n
}

// Change kinds.
const (
	EscalationAdded   = "escalation added"
	EscalationRemoved = "escalation removed"
	OwnerChanged      = "owner changed"
	DecisionChanged   = "decision changed"
)

// Compare replays events through two ladders. Signals are computed with
// each ladder's own topic map when the recorded context has none.
func Compare(oldL, newL decider, events []Event) *DiffReport {
	r := &DiffReport{OldVersion: oldL.Version(), NewVersion: newL.Version(), Events: len(events),
		OldRate: map[string]int{}, NewRate: map[string]int{}}
	for _, ev := range events {
		od := oldL.Decide(signalsFor(oldL, ev.Context))
		nd := newL.Decide(signalsFor(newL, ev.Context))
		r.OldRate[od.Matched()]++
		r.NewRate[nd.Matched()]++
		kind := ""
		switch {
		case !od.Escalates() && nd.Escalates():
			kind = EscalationAdded
		case od.Escalates() && !nd.Escalates():
			kind = EscalationRemoved
		case od.Escalates() && routeKey(od.Route) != routeKey(nd.Route):
			kind = OwnerChanged
		case od.Action != nd.Action || od.Matched() != nd.Matched() || od.Priority != nd.Priority || od.SLA != nd.SLA:
			kind = DecisionChanged
		}
		if kind != "" {
			r.Changes = append(r.Changes, Change{Event: ev.Name, Kind: kind, Old: od, New: nd})
		}
	}
	return r
}

func signalsFor(d decider, c handoff.Context) handoff.Context {
	if c.Signals.Topics == nil && c.Event.Text != "" {
		human := c.Signals.HumanRequest
		c.Signals = d.Signals(c.Event.Text)
		c.Signals.HumanRequest = c.Signals.HumanRequest || human
	}
	return c
}

// Print writes the report for a RevOps reader.
func (r *DiffReport) Print(w io.Writer, all bool) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("Replayed %d events: old ladder %s, new ladder %s", r.Events, r.OldVersion, r.NewVersion)
	p("")
	p("Escalations added:   %d", r.Count(EscalationAdded))
	p("Escalations removed: %d", r.Count(EscalationRemoved))
	p("Owners changed:      %d", r.Count(OwnerChanged))
	p("Other changes:       %d (action, rung, priority or SLA)", r.Count(DecisionChanged))
	p("Unchanged:           %d", r.Events-len(r.Changes))
	if len(r.Changes) > 0 {
		p("")
		p("Changed decisions:")
		for i, c := range r.Changes {
			if i == 50 && !all {
				p("  ... and %d more (use -all)", len(r.Changes)-50)
				break
			}
			p("  %-20s %s", c.Kind, c.Event)
			p("      old: %s", decisionLine(c.Old))
			p("      new: %s", decisionLine(c.New))
		}
	}
	p("")
	p("Matches per rung / exception:")
	p("  %-28s %14s %14s %8s", "", "old", "new", "change")
	keys := slices.Sorted(maps.Keys(r.OldRate))
	for k := range r.NewRate {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b string) int {
		if a == "" || b == "" { // "no match" last
			return len(b) - len(a)
		}
		if a < b {
			return -1
		}
		if a > b {
			return 1
		}
		return 0
	})
	for _, k := range keys {
		name := k
		if k == "" {
			name = "(no match: continue)"
		}
		o, n := r.OldRate[k], r.NewRate[k]
		p("  %-28s %14s %14s %+8d", name, rate(o, r.Events), rate(n, r.Events), n-o)
	}
}

func rate(n, total int) string {
	if total == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%.1f%%)", n, 100*float64(n)/float64(total))
}

func decisionLine(d handoff.Decision) string {
	if d.Matched() == "" {
		return "continue (no match)"
	}
	s := fmt.Sprintf("%s by %s", d.Action, d.Matched())
	if d.Route != nil {
		s += fmt.Sprintf(" → %s, %s, SLA %s", routeKey(d.Route), d.Priority, durationText(d.SLA))
	}
	return s
}
