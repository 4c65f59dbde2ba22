package laddercli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/ladder"
)

// CaseFile is a ladder test file.
type CaseFile struct {
	// Ladder is the ladder the cases are written for, relative to the case
	// file (or builtin:default); used when `ladder test` is given only the
	// case file.
	Ladder string     `yaml:"ladder"`
	Cases  []TestCase `yaml:"cases"`
}

// TestCase is one context and what the ladder must decide for it.
type TestCase struct {
	Name string `yaml:"name"`
	// Text is a shortcut for context.event.text.
	Text string `yaml:"text"`
	// Context is a handoff.Context with its JSON field names.
	Context map[string]any `yaml:"context"`
	// Now is when the handoff happens (RFC 3339), for expect.due; default
	// the -now flag.
	Now    string `yaml:"now"`
	Expect Expect `yaml:"expect"`
}

// Expect lists the expected outcome; fields left out are not checked.
type Expect struct {
	Action       string    `yaml:"action"`
	Rung         *string   `yaml:"rung"`      // "" = no rung
	Exception    *string   `yaml:"exception"` // "" = no exception
	Route        *string   `yaml:"route"`     // account_owner | contact_owner | deal_owner | team:<id> | owner:<who>
	Owners       []string  `yaml:"owners"`
	Priority     string    `yaml:"priority"`
	SLA          string    `yaml:"sla"`
	Topics       *[]string `yaml:"topics"`
	Negated      *[]string `yaml:"negated"`
	HumanRequest *bool     `yaml:"human_request"`
	// Due is the task's due time (RFC 3339) for a handoff made at the
	// case's now: on the SLA's clock, working time if the route has a
	// calendar.
	Due string `yaml:"due"`
}

func runTest(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("test", "[FILE] CASES.yaml", `Runs every case of CASES.yaml through the ladder FILE and compares the
decision with the case's expect: block (action, rung, exception, route,
owners, priority, sla, due, topics, negated, human_request; fields left
out are not checked). expect.due is the task's due time for a handoff made
at the case's now: (or -now), in working time when the route has a calendar. Without FILE, the case file's "ladder:" key names the ladder,
relative to the case file. A failing case prints what differs and why the
ladder decided as it did; the exit status is 1 if any case fails.

Case file:
  ladder: ../../ladder/default.yaml
  cases:
    - name: pricing question from a tier-1 account
      text: "What would 40 seats cost?"
      context: {account: {tier: tier_1, known: true}}
      expect: {action: handoff, rung: pricing, route: account_owner, priority: high, sla: 30m}
    - name: the same on a Friday evening, with a calendar on the route
      text: "What would 40 seats cost?"
      now: 2026-12-04T17:00:00-05:00
      expect: {due: 2026-12-07T09:30:00-05:00}`, stdout, stderr)
	verbose := fs.Bool("v", false, "print passing cases too")
	nowFlag := fs.String("now", "", nowHelp+"; a case's now: wins")
	if done, err := parse(fs, args, stdout, func(n int) bool { return n == 1 || n == 2 }); done {
		return err
	}
	casesPath := fs.Arg(fs.NArg() - 1)
	data, err := os.ReadFile(casesPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return &ExitError{Code: 1, Msg: err.Error()}
	}
	cf, lines, err := parseCases(casesPath, data)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return &ExitError{Code: 1, Msg: err.Error()}
	}
	ladderPath := ""
	if fs.NArg() == 2 {
		ladderPath = fs.Arg(0)
	} else if cf.Ladder == "" {
		fmt.Fprintf(stderr, "%s: no ladder given and the case file has no ladder: key\n", casesPath)
		return &ExitError{Code: 2, Msg: "no ladder"}
	} else if cf.Ladder == BuiltinDefault {
		ladderPath = BuiltinDefault
	} else {
		ladderPath = filepath.Join(filepath.Dir(casesPath), cf.Ladder)
	}
	defaultNow, err := parseNow(*nowFlag)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return &ExitError{Code: 2, Msg: err.Error()}
	}
	l, err := loadOrReport(ladderPath, stderr)
	if err != nil {
		return err
	}
	failed := 0
	for i, tc := range cf.Cases {
		loc := fmt.Sprintf("%s:%d", casesPath, lines[i])
		c, err := caseContext(tc)
		if err != nil {
			failed++
			fmt.Fprintf(stdout, "FAIL  %s (%s)\n        %v\n", tc.Name, loc, err)
			continue
		}
		c = withSignals(l, c)
		d := l.Decide(c)
		diffs := append(checkCase(tc.Expect, d), checkDue(l, tc, defaultNow, d)...)
		if len(diffs) == 0 {
			if *verbose {
				fmt.Fprintf(stdout, "ok    %s\n", tc.Name)
			}
			continue
		}
		failed++
		fmt.Fprintf(stdout, "FAIL  %s (%s)\n", tc.Name, loc)
		for _, df := range diffs {
			fmt.Fprintf(stdout, "        %-13s want %-22s got %s\n", df[0], df[1], df[2])
		}
		fmt.Fprintf(stdout, "        signals       %s\n", signalsText(d.Signals))
		if len(d.Reasons) > 0 {
			fmt.Fprintf(stdout, "        because       %s\n", strings.Join(d.Reasons, "\n                      "))
		}
		for _, id := range []*string{tc.Expect.Rung, tc.Expect.Exception} {
			if id == nil || *id == "" || *id == d.Matched() {
				continue
			}
			for _, s := range d.Trace {
				if s.ID != *id {
					continue
				}
				state := "did not match"
				if s.Skipped != "" {
					state = "was skipped: " + s.Skipped
				} else if s.Matched {
					state = "matched, but " + nonEmpty(d.Matched(), "nothing") + " took precedence"
				}
				fmt.Fprintf(stdout, "        %s %q %s\n", s.Kind, s.ID, state)
				if len(s.Values) > 0 {
					fmt.Fprintf(stdout, "          when %s\n          saw  %s\n", s.When, valuesText(s.Values))
				}
			}
		}
		for _, s := range d.Trace {
			if s.Error != "" {
				fmt.Fprintf(stdout, "        error in %s %s: %s\n", s.Kind, s.ID, s.Error)
			}
		}
	}
	fmt.Fprintf(stdout, "%s: %d passed, %d failed (ladder %s, version %s)\n", casesPath, len(cf.Cases)-failed, failed, ladderPath, l.Version())
	if failed > 0 {
		return &ExitError{Code: 1, Msg: fmt.Sprintf("%d case(s) failed", failed)}
	}
	return nil
}

// parseCases decodes a case file strictly and returns the line of each case.
func parseCases(name string, data []byte) (*CaseFile, []int, error) {
	var cf CaseFile
	if err := yaml.UnmarshalWithOptions(data, &cf, yaml.Strict()); err != nil {
		return nil, nil, fmt.Errorf("%s: %s", name, yaml.FormatError(err, false, false))
	}
	if len(cf.Cases) == 0 {
		return nil, nil, fmt.Errorf("%s: no cases", name)
	}
	lines := make([]int, len(cf.Cases))
	f, err := parser.ParseBytes(data, 0)
	for i := range cf.Cases {
		lines[i] = 1
		if err != nil {
			continue
		}
		p, perr := yaml.PathString(fmt.Sprintf("$.cases[%d]", i))
		if perr != nil {
			continue
		}
		if n, ferr := p.FilterFile(f); ferr == nil && n != nil {
			lines[i] = n.GetToken().Position.Line
		}
		if cf.Cases[i].Name == "" {
			cf.Cases[i].Name = fmt.Sprintf("case %d", i+1)
		}
	}
	return &cf, lines, nil
}

func caseContext(tc TestCase) (handoff.Context, error) {
	c := blankContext()
	if tc.Context != nil {
		raw, err := json.Marshal(tc.Context)
		if err != nil {
			return c, fmt.Errorf("context: %w", err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return c, fmt.Errorf("context: %w", err)
		}
	}
	if tc.Text != "" {
		c.Event.Text = tc.Text
	}
	c.Normalize()
	return c, nil
}

// checkCase returns (field, want, got) for every expectation not met.
func checkCase(e Expect, d handoff.Decision) [][3]string {
	var out [][3]string
	add := func(field, want, got string) {
		if want != got {
			out = append(out, [3]string{field, want, got})
		}
	}
	none := func(s string) string {
		if s == "" {
			return "(none)"
		}
		return s
	}
	if e.Action != "" {
		add("action", e.Action, string(d.Action))
	}
	if e.Rung != nil {
		add("rung", none(*e.Rung), none(d.RungID))
	}
	if e.Exception != nil {
		add("exception", none(*e.Exception), none(d.ExceptionID))
	}
	if e.Route != nil {
		add("route", none(*e.Route), none(routeKey(d.Route)))
	}
	if e.Owners != nil {
		var got []string
		if d.Route != nil {
			got = d.Route.Owners
		}
		add("owners", strings.Join(e.Owners, ","), strings.Join(got, ","))
	}
	if e.Priority != "" {
		add("priority", e.Priority, none(string(d.Priority)))
	}
	if e.SLA != "" {
		want, err := ladder.ParseDuration(e.SLA)
		if err != nil {
			add("sla", e.SLA+" (bad duration)", durationText(d.SLA))
		} else {
			add("sla", durationText(want), durationText(d.SLA))
		}
	}
	if e.Topics != nil {
		add("topics", listText(*e.Topics), listText(d.Signals.Topics))
	}
	if e.Negated != nil {
		add("negated", listText(*e.Negated), listText(d.Signals.Negated))
	}
	if e.HumanRequest != nil {
		add("human_request", fmt.Sprint(*e.HumanRequest), fmt.Sprint(d.Signals.HumanRequest))
	}
	return out
}

func listText(l []string) string {
	s := slices.Clone(l)
	slices.Sort(s)
	return "[" + strings.Join(s, ", ") + "]"
}

// routeKey is the compact form of a route's first target used in case
// files and diffs: account_owner, team:legal, owner:ana@acme.example.
func routeKey(r *handoff.Route) string {
	switch {
	case r == nil:
		return ""
	case r.Team != "":
		return "team:" + r.Team
	case r.Owner != "":
		return "owner:" + r.Owner
	}
	return r.To
}
