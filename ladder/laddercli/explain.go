package laddercli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/ladder"
)

func runExplain(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("explain", "FILE EVENTS...", `Shows what the ladder decides for recorded events and why: the signals
found in the buyer's words, the handoff score, the decision (action, owner,
SLA, priority, next steps, climb) and every exception and rung checked with
the values its condition saw.

EVENTS are JSON files (or directories of them) holding a handoff.Context, an
array or JSON lines of them, or {"context": {...}, "event": {...}} objects as
recorded in the audit stream. When a context has no signals but has
event.text, the signals are computed from the text first.`, stdout, stderr)
	asJSON := fs.Bool("json", false, "print the decisions as JSON instead of text")
	nowFlag := fs.String("now", "", nowHelp)
	if done, err := parse(fs, args, stdout, func(n int) bool { return n >= 2 }); done {
		return err
	}
	now, err := parseNow(*nowFlag)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return &ExitError{Code: 2, Msg: err.Error()}
	}
	l, err := loadOrReport(fs.Arg(0), stderr)
	if err != nil {
		return err
	}
	events, err := ReadEvents(fs.Args()[1:]...)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return &ExitError{Code: 1, Msg: err.Error()}
	}
	for i, ev := range events {
		c := withSignals(l, ev.Context)
		d := l.Decide(c)
		if *asJSON {
			b, _ := json.MarshalIndent(map[string]any{"event": ev.Name, "decision": d}, "", "  ")
			fmt.Fprintln(stdout, string(b))
			continue
		}
		if i > 0 {
			fmt.Fprintln(stdout, strings.Repeat("─", 72))
		}
		ExplainAt(stdout, l, ev.Name, c, d, now)
	}
	return nil
}

// Explain writes a decision for a RevOps reader.
func Explain(w io.Writer, l *ladder.Ladder, name string, c handoff.Context, d handoff.Decision) {
	ExplainAt(w, l, name, c, d, time.Time{})
}

// ExplainAt is Explain for a handoff made at now: it adds the due time and
// when each climb step runs (now zero: neither).
func ExplainAt(w io.Writer, l *ladder.Ladder, name string, c handoff.Context, d handoff.Decision, now time.Time) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("Event:    %s", name)
	p("Ladder:   %s (version %s), workflow %q", l.File(), d.LadderVersion, l.Workflow(c.Event))
	who := nonEmpty(c.Contact.Name, c.Contact.Email, "unknown contact")
	if c.Account.Name != "" || c.Account.Tier != "" {
		who += " at " + nonEmpty(c.Account.Name, "an account") + tierText(c.Account.Tier)
	}
	p("Buyer:    %s", who)
	if c.Deal.Known {
		p("Deal:     %s, stage %s, probability %.0f%%, amount %s, open=%v",
			nonEmpty(c.Deal.Name, c.Deal.ID), nonEmpty(c.Deal.StageLabel, c.Deal.Stage, "?"), c.Deal.Probability*100, money(c.Deal.Amount), c.Deal.IsOpen)
	}
	p("Channel:  %s %s via %s", nonEmpty(c.Event.Channel, "-"), nonEmpty(c.Event.Kind, "event"), nonEmpty(c.Event.Source, "?"))
	if c.Event.Text != "" {
		p("Said:     %q", truncate(c.Event.Text, 300))
	}
	p("")
	p("Signals:  %s", signalsText(d.Signals))
	if lang := d.Signals.Language; lang != "" || !d.Signals.SentimentKnown && c.Event.Text != "" {
		p("Language: %s", languageText(d.Signals))
	}
	if len(d.Signals.Notes) > 0 {
		p("Set aside:")
		for _, n := range d.Signals.Notes {
			p("  - %s", n)
		}
	}
	for _, st := range d.Trace {
		if st.Kind != ladder.StepScore {
			continue
		}
		v := st.Values
		p("Score:    %.2f (confidence %.2f, sentiment %.2f, value %.2f, risk %.2f, progress %.2f; 0 = leave it to the agent, 1 = a human is needed)",
			d.Score, v.Value("confidence"), v.Value("sentiment"), v.Value("value"), v.Value("risk"), v.Value("progress"))
	}
	p("")
	if d.Matched() == "" {
		p("Decision: CONTINUE: no exception or rung matched; the agent carries on.")
	} else {
		kind := "rung"
		if d.ExceptionID != "" {
			kind = "exception"
		}
		p("Decision: %s by %s %q%s", strings.ToUpper(string(d.Action)), kind, d.Matched(), shadowText(d))
		p("          %s", actionText(d.Action))
		if d.Route != nil {
			p("Owner:    %s", RouteText(d.Route))
			for _, rv := range d.AlsoNeeds {
				p("Also needs: %s %q (%s): %s", rv.Kind, rv.ID, nonEmpty(rv.Description, rv.ID), RouteText(rv.Route))
			}
			p("SLA:      %s%s, priority %s", durationText(d.SLA), slaClockText(l, d), d.Priority)
			if !now.IsZero() {
				p("Due:      %s (handoff at %s)", whenText(l, d, dueAt(l, d, now, 1)), whenText(l, d, now))
			}
		}
		if d.Goal != "" {
			p("Goal:     %s", d.Goal)
		}
		list := func(title string, items []string) {
			if len(items) == 0 {
				return
			}
			p("%s", title)
			for i, s := range items {
				p("  %d. %s", i+1, s)
			}
		}
		list("Next steps:", d.NextSteps)
		list("Constraints:", d.Constraints)
		if len(d.Required) > 0 {
			p("Bundle must include: %s", strings.Join(d.Required, ", "))
		}
		if len(d.Climb) > 0 && d.Route != nil {
			p("If nobody starts the task:")
			for _, s := range d.Climb {
				p("  after %s: %s%s", durationText(time.Duration(s.After*float64(d.SLA))), climbText(s), climbAtText(l, d, now, s.After))
			}
		}
		p("")
		p("Why:")
		for _, r := range d.Reasons {
			p("  %s", r)
		}
	}
	p("")
	p("Checked, in order (exceptions first, then rungs from the top):")
	for _, s := range d.Trace {
		if s.Kind == ladder.StepScore || s.Kind == ladder.StepSignals {
			continue
		}
		mark := "no   "
		switch {
		case s.Skipped != "":
			mark = "skip "
		case s.Error != "":
			mark = "ERROR"
		case s.Matched && s.ID == d.Matched():
			mark = "MATCH"
		case s.Matched:
			mark = "match"
		}
		p("  %s %-9s %s", mark, s.Kind, s.ID)
		if s.Skipped != "" {
			p("          (%s)", s.Skipped)
			continue
		}
		p("          when %s", s.When)
		if len(s.Values) > 0 {
			p("          saw  %s", valuesText(s.Values))
		}
		if s.Error != "" {
			p("          error: %s", s.Error)
		}
	}
}

func actionText(a handoff.Action) string {
	switch a {
	case handoff.ActionAssist:
		return "A human is told (FYI task); the agent keeps the conversation."
	case handoff.ActionHandoff:
		return "Ownership moves to one human; the agent steps back."
	case handoff.ActionHold:
		return "The agent must stop now; a human takes over."
	}
	return "Logged only; the agent carries on."
}

func shadowText(d handoff.Decision) string {
	if d.Shadow {
		return " (shadow ladder: logged, no task)"
	}
	return ""
}

// RouteText describes a route in words.
func RouteText(r *handoff.Route) string {
	if r == nil {
		return "nobody"
	}
	var s string
	switch {
	case r.Team != "":
		s = fmt.Sprintf("team %s (%s: %s)", r.Team, strings.ReplaceAll(r.Strategy, "_", " "), strings.Join(r.Owners, ", "))
	case r.Owner != "":
		s = r.Owner
	default:
		s = strings.ReplaceAll(r.To, "_", " ")
	}
	if r.Fallback != nil {
		s += ", else " + RouteText(r.Fallback)
	}
	return s
}

func climbText(s handoff.ClimbStep) string {
	var parts []string
	switch s.Do {
	case "reassign":
		parts = append(parts, "reassign to "+RouteText(s.To))
	case "notify":
		parts = append(parts, "notify the owner")
		if s.To != nil {
			parts = append(parts, "and "+RouteText(s.To))
		}
	case "raise_priority":
		parts = append(parts, "raise the priority")
	default:
		parts = append(parts, s.Do)
	}
	if s.Priority != "" {
		parts = append(parts, "(priority "+string(s.Priority)+")")
	}
	return strings.Join(parts, " ")
}

func signalsText(s handoff.Signals) string {
	var parts []string
	if len(s.Topics) == 0 {
		parts = append(parts, "no topics")
	}
	for _, t := range s.Topics {
		if m := s.Matches[t]; len(m) > 0 {
			q := make([]string, len(m))
			for i, x := range m {
				q[i] = strconv.Quote(x)
			}
			parts = append(parts, fmt.Sprintf("%s (%s)", t, strings.Join(q, ", ")))
		} else {
			parts = append(parts, t)
		}
	}
	for _, t := range s.Negated {
		parts = append(parts, "not "+t+" (negated)")
	}
	mood := "neutral"
	switch {
	case !s.SentimentKnown && (len(s.Topics) > 0 || s.Language != ""):
		mood = "unknown: no word list for the language"
	case s.Sentiment >= 0.05:
		mood = "positive"
	case s.Sentiment <= -0.5:
		mood = "very negative"
	case s.Sentiment <= -0.05:
		mood = "negative"
	}
	parts = append(parts, fmt.Sprintf("sentiment %+.2f (%s)", s.Sentiment, mood))
	if s.HumanRequest {
		parts = append(parts, "asked for a human")
	}
	return strings.Join(parts, "; ")
}

// languageText names the detected language for a reader.
func languageText(s handoff.Signals) string {
	names := map[string]string{"en": "English", "es": "Spanish", "de": "German", "fr": "French", "pt": "Portuguese", "it": "Italian"}
	if s.Language == "" {
		return "not told (too short, or none of English, Spanish, German, French, Portuguese, Italian)"
	}
	if n, ok := names[s.Language]; ok {
		return n + " (" + s.Language + ")"
	}
	return s.Language
}

// valuesText lists the values in trace order (sorted by path for
// conditions).
func valuesText(v handoff.TraceValues) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = x.Path + "=" + valueText(x.Value)
	}
	return strings.Join(parts, "  ")
}

func valueText(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(truncate(x, 60))
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []string:
		q := make([]string, len(x))
		for i, s := range x {
			q[i] = strconv.Quote(s)
		}
		return "[" + strings.Join(q, ", ") + "]"
	case map[string]int64:
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range x {
				if !yield(k) {
					return
				}
			}
		})
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s:%d", k, x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

func durationText(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	d = d.Round(time.Second)
	var b strings.Builder
	if h := d / time.Hour; h > 0 {
		fmt.Fprintf(&b, "%dh", h)
	}
	if m := (d % time.Hour) / time.Minute; m > 0 {
		fmt.Fprintf(&b, "%dm", m)
	}
	if s := (d % time.Minute) / time.Second; s > 0 {
		fmt.Fprintf(&b, "%ds", s)
	}
	return b.String()
}

func tierText(t string) string {
	if t == "" {
		return ""
	}
	return " (" + strings.ReplaceAll(t, "_", " ") + ")"
}

func money(v float64) string {
	if v == 0 {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

func nonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
