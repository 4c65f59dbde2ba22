package laddercli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/ladder"
)

const evalHelp = `Runs labelled conversations through the ladder and measures how well it
decides: does it bring in a human when RevOps wants one, and the right one?
LABELLED is a labelled YAML file or a directory of them (*.yaml); several
may be given. LADDER may be builtin:default.

A case escalates when its decision's action is assist, handoff or hold.
  Precision        of the cases the ladder escalated, the share labelled
                   escalate: true (TP / (TP + FP)).
  Recall           of the cases labelled escalate: true, the share the ladder
                   escalated (TP / (TP + FN)).
  Right reviewer   of the correctly escalated cases (TP), the share whose
                   owner (the decision's primary route: account_owner,
                   team:legal, ...) is one of the label's reviewers.
  Hard negatives   of the cases tagged hard_negative, the share the ladder
                   left with the agent.
  Context flips    of the pairs (cases sharing a pair: id), the share whose
                   sides are all right.
  Non-English      of the cases whose lang is not en, the share right.
A case is right when the ladder escalates exactly when the label says so
and, when both escalate, the owner is one of the label's reviewers. Action
(label.action) and second-reviewer (label.also vs the decision's also_needs)
agreement are reported but have no target.

Output: the headline figures with their targets, tables per rung and
exception, per language and per tag, who owned each case (expected vs
decided), and the worst cases: missed escalations first (those the
highest-priority rungs should have taken at the top), then false
escalations, then wrong owners.

Exit status: 0 when every target given is met, 1 when one is not (the
output says which), 2 for usage errors, unreadable or invalid labelled files
and ladders that do not load. A target whose figure has no cases to measure
fails unless it is 0.

Labelled file:
  cases:
    - id: en-email-msa-01
      tags: [email, regulated]
      lang: en
      pair: flip-en-001          # optional: the two sides of a context flip
      text: "Our legal team sent the MSA redlines back."
      context: {account: {tier: tier_1, known: true}}   # as in ladder test
      label:
        escalate: true
        reviewer: team:legal     # or a list of acceptable reviewers
        action: hold             # optional: hold | handoff | assist
        also: [team:security]    # optional second reviewers
        why: "redlines from a known account"`

// EvalCase is one labelled conversation of a labelled evaluation file.
type EvalCase struct {
	ID   string   `yaml:"id"`
	Tags []string `yaml:"tags"`
	Lang string   `yaml:"lang"`
	Pair string   `yaml:"pair"`
	Text string   `yaml:"text"`
	// Context is a handoff.Context with its JSON field names, as in a case
	// file of ladder test.
	Context map[string]any `yaml:"context"`
	Label   EvalLabel      `yaml:"label"`
}

// EvalLabel is what RevOps wants for a case.
type EvalLabel struct {
	Escalate *bool `yaml:"escalate"`
	// Reviewer and Also are one reviewer id or a list of them.
	Reviewer any    `yaml:"reviewer"`
	Action   string `yaml:"action"`
	Also     any    `yaml:"also"`
	Why      string `yaml:"why"`
}

type evalFile struct {
	Ladder string     `yaml:"ladder"`
	Cases  []EvalCase `yaml:"cases"`
}

// labelled is a validated case with where it came from.
type labelled struct {
	EvalCase
	File      string
	Line      int
	Escalate  bool
	Reviewers []string // acceptable owners; empty when not escalating
	Also      []string
	ctx       handoff.Context
}

// Threshold names, as in the report and the flags.
const (
	MetricPrecision     = "precision"
	MetricRecall        = "recall"
	MetricRightReviewer = "right_reviewer"
	MetricHardNegatives = "hard_negatives"
	MetricFlips         = "flips"
	MetricNonEnglish    = "non_english"
)

// Metric is one headline figure: N of Of; Value is nil when Of is 0.
type Metric struct {
	N         int      `json:"n"`
	Of        int      `json:"of"`
	Value     *float64 `json:"value"`
	Threshold *float64 `json:"threshold,omitempty"`
	Pass      *bool    `json:"pass,omitempty"`
}

// EvalMetrics are the headline figures.
type EvalMetrics struct {
	Precision       Metric `json:"precision"`
	Recall          Metric `json:"recall"`
	RightReviewer   Metric `json:"right_reviewer"`
	HardNegatives   Metric `json:"hard_negatives"`
	Flips           Metric `json:"flips"`
	NonEnglish      Metric `json:"non_english"`
	ActionAgreement Metric `json:"action_agreement"`
	AlsoAgreement   Metric `json:"also_agreement"`
	Accuracy        Metric `json:"accuracy"` // all cases right
}

// EvalCounts is the escalation confusion matrix.
type EvalCounts struct {
	TP int `json:"tp"` // labelled escalate, escalated
	FP int `json:"fp"` // labelled not, escalated
	FN int `json:"fn"` // labelled escalate, not escalated
	TN int `json:"tn"` // labelled not, not escalated
}

// GroupStats are the figures of one language or tag.
type GroupStats struct {
	Key              string `json:"key"`
	Cases            int    `json:"cases"`
	Right            int    `json:"right"`
	Escalate         int    `json:"labelled_escalate"`
	Missed           int    `json:"missed_escalations"`
	FalseEscalations int    `json:"false_escalations"`
	WrongReviewer    int    `json:"wrong_reviewer"`
}

// StepStats are the figures of one exception or rung. Decided cases are
// right or wrong in one of three ways; Missed counts the labelled cases
// that wanted this step's owner (and action) and did not get it.
type StepStats struct {
	Kind     string `json:"kind"` // exception | rung | none (nothing matched) | unowned | either
	ID       string `json:"id"`
	Action   string `json:"action,omitempty"`
	Reviewer string `json:"reviewer,omitempty"`
	Priority string `json:"priority,omitempty"`
	Decided  int    `json:"decided"`
	Right    int    `json:"right"`
	// FalseEscalations: escalated a case labelled escalate: false.
	FalseEscalations int `json:"false_escalations"`
	// WrongReviewer: escalated a labelled escalation to an owner the label
	// does not accept.
	WrongReviewer int `json:"wrong_reviewer"`
	// KeptBack: a labelled escalation this step (a continue rung, or no
	// match at all) kept with the agent.
	KeptBack int `json:"kept_back"`
	Missed   int `json:"missed"`
	// Precision is Right / Decided; Recall, for a step that escalates, is
	// Right / (Right + Missed): of the cases labelled for its owner, the
	// share it took. Nil when there is nothing to divide by.
	Precision *float64 `json:"precision"`
	Recall    *float64 `json:"recall"`
}

// CaseResult is the outcome of one labelled case.
type CaseResult struct {
	ID      string   `json:"id"`
	File    string   `json:"file"`
	Line    int      `json:"line"`
	Lang    string   `json:"lang,omitempty"`
	Tags    []string `json:"tags,omitempty"`
	Pair    string   `json:"pair,omitempty"`
	Text    string   `json:"text"` // the start of the text, on one line
	Outcome string   `json:"outcome"`
	Right   bool     `json:"right"`
	// Problem is "", missed_escalation, false_escalation or wrong_reviewer.
	Problem  string       `json:"problem,omitempty"`
	Expected EvalExpected `json:"expected"`
	Got      EvalGot      `json:"got"`
	// ShouldHave names the exception or rung that routes to the expected
	// owner, for missed escalations and wrong owners ("" when none does;
	// "a|b" when several could have and none matched).
	ShouldHave string `json:"should_have,omitempty"`
	Reasons    string `json:"reasons"`

	priorityRank int
}

// EvalExpected is a case's label.
type EvalExpected struct {
	Escalate  bool     `json:"escalate"`
	Reviewers []string `json:"reviewers,omitempty"`
	Action    string   `json:"action,omitempty"`
	Also      []string `json:"also,omitempty"`
	Why       string   `json:"why,omitempty"`
}

// EvalGot is what the ladder decided.
type EvalGot struct {
	Escalates bool     `json:"escalates"`
	Action    string   `json:"action"`
	Reviewer  string   `json:"reviewer,omitempty"`
	Matched   string   `json:"matched,omitempty"`
	Kind      string   `json:"kind,omitempty"` // exception | rung
	Priority  string   `json:"priority,omitempty"`
	Also      []string `json:"also,omitempty"`
}

// EvalReport is the outcome of ladder eval; its JSON form is the --json
// output.
type EvalReport struct {
	Ladder        string                    `json:"ladder"`
	LadderVersion string                    `json:"ladder_version"`
	Files         []string                  `json:"files"`
	Cases         int                       `json:"cases"`
	Pass          bool                      `json:"pass"`
	Failed        []string                  `json:"failed"` // metric names below their threshold
	Metrics       EvalMetrics               `json:"metrics"`
	Counts        EvalCounts                `json:"counts"`
	Steps         []StepStats               `json:"steps"`
	Languages     []GroupStats              `json:"languages"`
	Tags          []GroupStats              `json:"tags"`
	Confusion     map[string]map[string]int `json:"confusion"` // expected reviewer -> decided reviewer -> cases
	Notes         []string                  `json:"notes"`
	Worst         []CaseResult              `json:"worst"`
	Results       []CaseResult              `json:"results"`
}

// optFloat is a flag holding a fraction 0..1 that may be unset.
type optFloat struct {
	v   float64
	set bool
}

func (o *optFloat) String() string {
	if o == nil || !o.set {
		return ""
	}
	return strconv.FormatFloat(o.v, 'g', -1, 64)
}

func (o *optFloat) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || v < 0 || v > 1 {
		return errors.New("want a fraction from 0 to 1, such as 0.9")
	}
	o.v, o.set = v, true
	return nil
}

func runEval(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", "[flags] LADDER LABELLED.yaml|DIR...", evalHelp, stdout, stderr)
	thresholds := []struct {
		name string
		v    *optFloat
	}{
		{MetricPrecision, new(optFloat)}, {MetricRecall, new(optFloat)}, {MetricRightReviewer, new(optFloat)},
		{MetricHardNegatives, new(optFloat)}, {MetricFlips, new(optFloat)}, {MetricNonEnglish, new(optFloat)},
	}
	for _, t := range thresholds {
		fs.Var(t.v, strings.TrimPrefix(thresholdFlag(t.name), "--"), "fail (exit 1) when the "+strings.ReplaceAll(t.name, "_", " ")+" figure is below `FRACTION` (0..1, e.g. 0.9)")
	}
	worst := fs.Int("n", 20, "list at most `N` worst cases (negative: all)")
	verbose := fs.Bool("v", false, "list every case, right or wrong")
	asJSON := fs.Bool("json", false, "print the report as JSON (for CI and scripts)")
	pos, done, err := parseInterspersed(fs, args, stdout, func(n int) bool { return n >= 2 })
	if done {
		return err
	}
	l, err := ladder.Load(pos[0])
	if err != nil {
		fmt.Fprintln(stderr, err)
		return &ExitError{Code: 2, Msg: "ladder " + pos[0] + " does not load"}
	}
	files, err := evalFiles(pos[1:])
	if err != nil {
		fmt.Fprintln(stderr, err)
		return &ExitError{Code: 2, Msg: err.Error()}
	}
	cases, problems := loadLabelled(files)
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(stderr, p)
		}
		return &ExitError{Code: 2, Msg: fmt.Sprintf("%d problem(s) in the labelled files", len(problems))}
	}
	limits := map[string]float64{}
	for _, t := range thresholds {
		if t.v.set {
			limits[t.name] = t.v.v
		}
	}
	r := Evaluate(l, cases, limits)
	r.Ladder = pos[0]
	r.Files = files
	if *asJSON {
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return fmt.Errorf("encode the eval report: %w", err)
		}
		fmt.Fprintln(stdout, string(b))
	} else {
		r.Print(stdout, *worst, *verbose)
	}
	if !r.Pass {
		var why []string
		for _, name := range r.Failed {
			why = append(why, thresholdFlag(name))
		}
		return &ExitError{Code: 1, Msg: "below target: " + strings.Join(why, ", ")}
	}
	return nil
}

// thresholdFlag is the flag that sets a metric's target.
func thresholdFlag(name string) string {
	switch name {
	case MetricRightReviewer:
		return "--min-reviewer"
	}
	return "--min-" + strings.ReplaceAll(name, "_", "-")
}

// parseInterspersed is parse for a command whose flags may also follow its
// arguments (ladder eval LADDER DIR --min-recall 0.9), as CI scripts write
// them; everything after "--" is an argument.
func parseInterspersed(fs *flag.FlagSet, args []string, stdout io.Writer, nargs func(int) bool) (pos []string, done bool, err error) {
	rest := args
	for {
		if done, err := parse(fs, rest, stdout, func(int) bool { return true }); done {
			return nil, true, err
		}
		if fs.NArg() == 0 {
			break
		}
		if used := len(rest) - fs.NArg(); used > 0 && rest[used-1] == "--" {
			pos = append(pos, fs.Args()...)
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if !nargs(len(pos)) {
		fmt.Fprintf(fs.Output(), "handoff ladder %s: wrong number of arguments\n\n", fs.Name())
		fs.Usage()
		return nil, true, &ExitError{Code: 2, Msg: "wrong number of arguments"}
	}
	return pos, false, nil
}

// evalFiles expands directories to their *.yaml files.
func evalFiles(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("labelled cases: %w", err)
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		m, err := filepath.Glob(filepath.Join(a, "*.yaml"))
		if err != nil {
			return nil, fmt.Errorf("labelled cases in %s: %w", a, err)
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("%s: no *.yaml labelled files in the directory", a)
		}
		slices.Sort(m)
		out = append(out, m...)
	}
	return out, nil
}

// validReviewer accepts account_owner, contact_owner, deal_owner,
// team:<id> (lower case, digits, _ and -) and owner:<who>.
func validReviewer(r string) bool {
	switch r {
	case "account_owner", "contact_owner", "deal_owner":
		return true
	}
	if t, ok := strings.CutPrefix(r, "team:"); ok {
		return t != "" && strings.IndexFunc(t, func(c rune) bool {
			return !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-')
		}) < 0
	}
	if o, ok := strings.CutPrefix(r, "owner:"); ok {
		return o != "" && !strings.ContainsAny(o, " \t\n")
	}
	return false
}

// validLang accepts a two-letter lower-case language code.
func validLang(l string) bool {
	return len(l) == 2 && l[0] >= 'a' && l[0] <= 'z' && l[1] >= 'a' && l[1] <= 'z'
}

// loadLabelled reads and validates every file; problems are
// "file:line: message" lines.
func loadLabelled(files []string) ([]labelled, []string) {
	var out []labelled
	var problems []string
	firstAt := map[string]string{}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		var ef evalFile
		if err := yaml.UnmarshalWithOptions(data, &ef, yaml.Strict()); err != nil {
			problems = append(problems, yamlProblem(name, err))
			continue
		}
		if len(ef.Cases) == 0 {
			problems = append(problems, name+":1: no cases")
			continue
		}
		lines := caseLines(data, len(ef.Cases))
		for i, ec := range ef.Cases {
			lc := labelled{EvalCase: ec, File: name, Line: lines[i]}
			at := fmt.Sprintf("%s:%d", name, lines[i])
			bad := func(format string, args ...any) {
				who := fmt.Sprintf("case %q", ec.ID)
				if ec.ID == "" {
					who = fmt.Sprintf("case %d", i+1)
				}
				problems = append(problems, fmt.Sprintf("%s: %s: %s", at, who, fmt.Sprintf(format, args...)))
			}
			if ec.ID == "" {
				bad("no id")
			} else if prev, dup := firstAt[ec.ID]; dup {
				bad("duplicate id (first used at %s)", prev)
			} else {
				firstAt[ec.ID] = at
			}
			if ec.Lang != "" && !validLang(ec.Lang) {
				bad("lang %q: want a two-letter language code such as en, es, de", ec.Lang)
			}
			lb := ec.Label
			if lb.Escalate == nil {
				bad("label.escalate is missing (true or false: should a human be brought in?)")
			} else {
				lc.Escalate = *lb.Escalate
			}
			revs, err := reviewerList(lb.Reviewer)
			if err != nil {
				bad("label.reviewer: %v", err)
			}
			also, err := reviewerList(lb.Also)
			if err != nil {
				bad("label.also: %v", err)
			}
			if lb.Escalate != nil {
				switch {
				case lc.Escalate && len(revs) == 0:
					bad("label.reviewer is missing: who should own it (account_owner, team:legal, ...)")
				case !lc.Escalate && len(revs) > 0 && !(len(revs) == 1 && revs[0] == "none"):
					bad("label.reviewer %s given but label.escalate is false", strings.Join(revs, ", "))
				case !lc.Escalate && lb.Action != "":
					bad("label.action %q given but label.escalate is false", lb.Action)
				case !lc.Escalate && len(also) > 0:
					bad("label.also given but label.escalate is false")
				}
				if lc.Escalate && slices.Contains(ec.Tags, "hard_negative") {
					bad("tagged hard_negative but label.escalate is true (a hard negative must not escalate)")
				}
			}
			for _, r := range slices.Concat(revs, also) {
				if r == "none" && !lc.Escalate {
					continue
				}
				if !validReviewer(r) {
					bad("unknown reviewer %q: want account_owner, contact_owner, deal_owner, team:<id> or owner:<email>", r)
				}
			}
			if lc.Escalate {
				lc.Reviewers = revs
				lc.Also = also
			}
			switch lb.Action {
			case "", string(handoff.ActionHold), string(handoff.ActionHandoff), string(handoff.ActionAssist):
			default:
				bad("label.action %q: want hold, handoff or assist", lb.Action)
			}
			c, err := caseContext(TestCase{Text: ec.Text, Context: ec.Context})
			if err != nil {
				bad("%v", err)
			}
			lc.ctx = c
			out = append(out, lc)
		}
	}
	// A context flip needs both sides.
	sides := map[string][]string{}
	var order []string
	for _, c := range out {
		if c.Pair == "" {
			continue
		}
		if _, ok := sides[c.Pair]; !ok {
			order = append(order, c.Pair)
		}
		sides[c.Pair] = append(sides[c.Pair], fmt.Sprintf("%s:%d", c.File, c.Line))
	}
	for _, p := range order {
		if len(sides[p]) == 1 {
			problems = append(problems, fmt.Sprintf("%s: pair %q has only one case; a context flip needs both sides (the other case must carry the same pair: id)", sides[p][0], p))
		}
	}
	return out, problems
}

// caseLines returns the line of each entry of cases:.
func caseLines(data []byte, n int) []int {
	lines := make([]int, n)
	f, err := parser.ParseBytes(data, 0)
	for i := range lines {
		lines[i] = 1
		if err != nil {
			continue
		}
		p, perr := yaml.PathString(fmt.Sprintf("$.cases[%d]", i))
		if perr != nil {
			continue
		}
		if nd, ferr := p.FilterFile(f); ferr == nil && nd != nil {
			lines[i] = nd.GetToken().Position.Line
		}
	}
	return lines
}

// yamlProblem formats a YAML error as "file:line: message".
func yamlProblem(name string, err error) string {
	var ye yaml.Error
	if errors.As(err, &ye) {
		line := 1
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			line = tk.Position.Line
		}
		return fmt.Sprintf("%s:%d: %s", name, line, plainYAMLMessage(ye.GetMessage()))
	}
	return fmt.Sprintf("%s: %v", name, err)
}

// plainYAMLMessage says a type mismatch in the file's words rather than
// the decoder's ("cannot unmarshal string into Go struct field
// evalFile.Cases of type bool" becomes "want true or false, got a string").
func plainYAMLMessage(msg string) string {
	rest, ok := strings.CutPrefix(msg, "cannot unmarshal ")
	if !ok {
		return msg
	}
	got, _, _ := strings.Cut(rest, " ")
	i := strings.LastIndex(rest, " of type ")
	if i < 0 {
		return msg
	}
	want := strings.TrimSpace(rest[i+len(" of type "):])
	switch {
	case want == "bool":
		want = "true or false"
	case strings.HasPrefix(want, "int"), strings.HasPrefix(want, "float"):
		want = "a number"
	case want == "string":
		want = "text"
	case strings.HasPrefix(want, "[]"):
		want = "a list"
	case strings.HasPrefix(want, "map"):
		want = "a mapping"
	}
	return "want " + want + ", got a " + got
}

// reviewerList accepts one reviewer id or a list of them.
func reviewerList(v any) ([]string, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{strings.TrimSpace(x)}, nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				s, ok = colonPair(e)
			}
			if !ok {
				return nil, fmt.Errorf("want reviewer ids, got %v", e)
			}
			out = append(out, strings.TrimSpace(s))
		}
		return out, nil
	}
	if s, ok := colonPair(v); ok {
		return []string{s}, nil
	}
	return nil, fmt.Errorf("want a reviewer id or a list of them, got %v", v)
}

// colonPair reads back "team:legal" that the YAML parser took for a
// one-entry mapping ({team: legal}), as it does inside a flow mapping such
// as label: {reviewer: [account_owner, team:legal]}.
func colonPair(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", false
	}
	for k, val := range m {
		if s, ok := val.(string); ok && (k == "team" || k == "owner") {
			return k + ":" + s, true
		}
	}
	return "", false
}

// Evaluate runs every case through the ladder. limits maps metric names
// (MetricPrecision, ...) to the fraction each must reach.
func Evaluate(l *ladder.Ladder, cases []labelled, limits map[string]float64) *EvalReport {
	r := &EvalReport{Ladder: l.File(), LadderVersion: l.Version(), Cases: len(cases),
		Confusion: map[string]map[string]int{}, Failed: []string{}, Notes: []string{}}
	steps := l.Steps()
	stepAt := map[string]int{}
	r.Steps = make([]StepStats, 0, len(steps)+1)
	for i, s := range steps {
		stepAt[s.ID] = i
		st := StepStats{Kind: s.Kind, ID: s.ID, Action: string(s.Action), Priority: string(s.Priority)}
		if s.Route != nil {
			st.Reviewer = routeKey(s.Route)
		}
		r.Steps = append(r.Steps, st)
	}
	r.Steps = append(r.Steps, StepStats{Kind: "none", ID: "(nothing matched)", Action: string(handoff.ActionContinue)})
	noMatch := len(r.Steps) - 1
	extra := map[string]int{} // unowned / either rows, by id
	extraRow := func(kind, id string) *StepStats {
		i, ok := extra[id]
		if !ok {
			i = len(r.Steps)
			extra[id] = i
			r.Steps = append(r.Steps, StepStats{Kind: kind, ID: id})
		}
		return &r.Steps[i]
	}

	teams := l.Teams()
	missingTeams := map[string]bool{}
	m := &r.Metrics
	var tp, fp, fn, tn, revOK, hardN, hardOK, neN, neOK, actN, actOK, alsoN, alsoOK, right int
	pairs := map[string][]bool{}
	var pairOrder []string
	langs := map[string]*GroupStats{}
	tags := map[string]*GroupStats{}
	group := func(set map[string]*GroupStats, key string) *GroupStats {
		g := set[key]
		if g == nil {
			g = &GroupStats{Key: key}
			set[key] = g
		}
		return g
	}

	for _, lc := range cases {
		for _, rv := range slices.Concat(lc.Reviewers, lc.Also) {
			if t, ok := strings.CutPrefix(rv, "team:"); ok {
				if _, has := teams[t]; !has {
					missingTeams[rv] = true
				}
			}
		}
		c := withSignals(l, lc.ctx)
		d := l.Decide(c)
		got := EvalGot{Escalates: d.Escalates(), Action: string(d.Action), Matched: d.Matched()}
		if d.ExceptionID != "" {
			got.Kind = ladder.StepException
		} else if d.RungID != "" {
			got.Kind = ladder.StepRung
		}
		if got.Escalates {
			got.Reviewer = routeKey(d.Route)
			got.Priority = string(d.Priority)
		}
		for _, a := range d.AlsoNeeds {
			if a.Route != nil {
				got.Also = append(got.Also, routeKey(a.Route))
			}
		}
		res := CaseResult{ID: lc.ID, File: lc.File, Line: lc.Line, Lang: lc.Lang, Tags: lc.Tags, Pair: lc.Pair,
			Text:     preview(c.Event.Text, 100),
			Expected: EvalExpected{Escalate: lc.Escalate, Reviewers: lc.Reviewers, Action: lc.Label.Action, Also: lc.Also, Why: lc.Label.Why},
			Got:      got, Reasons: reasonsLine(d, 220)}
		reviewerRight := got.Escalates && slices.Contains(lc.Reviewers, got.Reviewer)
		switch {
		case lc.Escalate && got.Escalates:
			tp++
			res.Outcome = "tp"
			if reviewerRight {
				revOK++
			} else {
				res.Problem = "wrong_reviewer"
			}
		case lc.Escalate:
			fn++
			res.Outcome, res.Problem = "fn", "missed_escalation"
		case got.Escalates:
			fp++
			res.Outcome, res.Problem = "fp", "false_escalation"
		default:
			tn++
			res.Outcome = "tn"
		}
		res.Right = res.Problem == ""
		if res.Right {
			right++
		}

		// The step that decided, and the one that should have.
		di := noMatch
		if i, ok := stepAt[d.Matched()]; ok && d.Matched() != "" {
			di = i
		}
		ds := &r.Steps[di]
		ds.Decided++
		switch res.Problem {
		case "":
			ds.Right++
		case "false_escalation":
			ds.FalseEscalations++
		case "wrong_reviewer":
			ds.WrongReviewer++
		case "missed_escalation":
			ds.KeptBack++
		}
		res.priorityRank = priorityRank(got.Priority)
		if res.Problem == "missed_escalation" || res.Problem == "wrong_reviewer" {
			owner, rank := shouldHave(steps, d, lc)
			res.ShouldHave = owner
			res.priorityRank = rank
			switch {
			case owner == "":
				want := strings.Join(lc.Reviewers, " or ")
				if lc.Label.Action != "" {
					want += " (" + lc.Label.Action + ")"
				}
				extraRow("unowned", want).Missed++
			case strings.Contains(owner, "|"):
				extraRow("either", owner).Missed++
			default:
				r.Steps[stepAt[owner]].Missed++
			}
		}

		// Headline figures.
		if slices.Contains(lc.Tags, "hard_negative") {
			hardN++
			if !got.Escalates {
				hardOK++
			}
		}
		if lc.Lang != "" && lc.Lang != "en" {
			neN++
			if res.Right {
				neOK++
			}
		}
		if lc.Label.Action != "" {
			actN++
			if got.Action == lc.Label.Action {
				actOK++
			}
		}
		if len(lc.Also) > 0 {
			alsoN++
			ok := true
			for _, a := range lc.Also {
				ok = ok && slices.Contains(got.Also, a)
			}
			if ok {
				alsoOK++
			}
		}
		if lc.Pair != "" {
			if _, seen := pairs[lc.Pair]; !seen {
				pairOrder = append(pairOrder, lc.Pair)
			}
			pairs[lc.Pair] = append(pairs[lc.Pair], res.Right)
		}

		// Per language and tag.
		count := func(g *GroupStats) {
			g.Cases++
			if res.Right {
				g.Right++
			}
			if lc.Escalate {
				g.Escalate++
			}
			switch res.Problem {
			case "missed_escalation":
				g.Missed++
			case "false_escalation":
				g.FalseEscalations++
			case "wrong_reviewer":
				g.WrongReviewer++
			}
		}
		count(group(langs, nonEmpty(lc.Lang, "(no lang)")))
		for _, t := range lc.Tags {
			count(group(tags, t))
		}

		// Who owned it.
		row, col := "none", "none"
		if lc.Escalate {
			row = lc.Reviewers[0]
			if reviewerRight {
				row = got.Reviewer
			}
		}
		if got.Escalates {
			col = nonEmpty(got.Reviewer, "(no route)")
		}
		if r.Confusion[row] == nil {
			r.Confusion[row] = map[string]int{}
		}
		r.Confusion[row][col]++

		r.Results = append(r.Results, res)
	}

	for i := range r.Steps {
		s := &r.Steps[i]
		s.Precision = metric(s.Right, s.Decided).Value
		if s.Kind != "none" && s.Action != string(handoff.ActionContinue) {
			s.Recall = metric(s.Right, s.Right+s.Missed).Value
		}
	}
	flipsOK := 0
	for _, p := range pairOrder {
		if !slices.Contains(pairs[p], false) {
			flipsOK++
		}
	}
	r.Counts = EvalCounts{TP: tp, FP: fp, FN: fn, TN: tn}
	m.Precision = metric(tp, tp+fp)
	m.Recall = metric(tp, tp+fn)
	m.RightReviewer = metric(revOK, tp)
	m.HardNegatives = metric(hardOK, hardN)
	m.Flips = metric(flipsOK, len(pairOrder))
	m.NonEnglish = metric(neOK, neN)
	m.ActionAgreement = metric(actOK, actN)
	m.AlsoAgreement = metric(alsoOK, alsoN)
	m.Accuracy = metric(right, len(cases))
	r.Pass = true
	for _, x := range []struct {
		name string
		m    *Metric
	}{
		{MetricPrecision, &m.Precision}, {MetricRecall, &m.Recall}, {MetricRightReviewer, &m.RightReviewer},
		{MetricHardNegatives, &m.HardNegatives}, {MetricFlips, &m.Flips}, {MetricNonEnglish, &m.NonEnglish},
	} {
		t, ok := limits[x.name]
		if !ok {
			continue
		}
		x.m.Threshold = &t
		pass := t <= 0 || (x.m.Value != nil && *x.m.Value >= t-1e-12)
		x.m.Pass = &pass
		if !pass {
			r.Pass = false
			r.Failed = append(r.Failed, x.name)
		}
	}

	for _, g := range sortedGroups(langs) {
		r.Languages = append(r.Languages, *g)
	}
	for _, g := range sortedGroups(tags) {
		r.Tags = append(r.Tags, *g)
	}
	for _, t := range slices.Sorted(mapKeys(missingTeams)) {
		r.Notes = append(r.Notes, fmt.Sprintf("labels name %s, but the ladder has no team %q: those cases cannot be routed right", t, strings.TrimPrefix(t, "team:")))
	}
	if r.Languages == nil {
		r.Languages = []GroupStats{}
	}
	if r.Tags == nil {
		r.Tags = []GroupStats{}
	}
	if r.Results == nil {
		r.Results = []CaseResult{}
	}

	// Worst cases: missed escalations (highest priority first), then false
	// escalations, then wrong owners; file order within.
	problemRank := map[string]int{"missed_escalation": 0, "false_escalation": 1, "wrong_reviewer": 2}
	r.Worst = []CaseResult{}
	for _, res := range r.Results {
		if !res.Right {
			r.Worst = append(r.Worst, res)
		}
	}
	slices.SortStableFunc(r.Worst, func(a, b CaseResult) int {
		if d := problemRank[a.Problem] - problemRank[b.Problem]; d != 0 {
			return d
		}
		return b.priorityRank - a.priorityRank
	})
	return r
}

// shouldHave names the step that routes to the label's owner (and action,
// when several do): the first of them that matched but was outranked, else
// the only one; "a|b" when several could have and none matched; "" when
// none routes there. rank is the priority it would have had.
func shouldHave(steps []ladder.Step, d handoff.Decision, lc labelled) (string, int) {
	var cands []ladder.Step
	for _, s := range steps {
		if s.Route != nil && s.Action != handoff.ActionContinue && slices.Contains(lc.Reviewers, routeKey(s.Route)) {
			cands = append(cands, s)
		}
	}
	if lc.Label.Action != "" {
		var same []ladder.Step
		for _, s := range cands {
			if string(s.Action) == lc.Label.Action {
				same = append(same, s)
			}
		}
		if len(same) > 0 {
			cands = same
		}
	}
	if len(cands) == 0 {
		return "", 0
	}
	for _, st := range d.Trace {
		if !st.Matched {
			continue
		}
		for _, s := range cands {
			if s.ID == st.ID {
				return s.ID, priorityRank(string(s.Priority))
			}
		}
	}
	if len(cands) == 1 {
		return cands[0].ID, priorityRank(string(cands[0].Priority))
	}
	ids := make([]string, len(cands))
	rank := 0
	for i, s := range cands {
		ids[i] = s.ID
		rank = max(rank, priorityRank(string(s.Priority)))
	}
	return strings.Join(ids, "|"), rank
}

func priorityRank(p string) int {
	switch handoff.Priority(p) {
	case handoff.PriorityUrgent:
		return 4
	case handoff.PriorityHigh:
		return 3
	case handoff.PriorityMedium:
		return 2
	case handoff.PriorityLow:
		return 1
	}
	return 0
}

func metric(n, of int) Metric {
	m := Metric{N: n, Of: of}
	if of > 0 {
		v := float64(n) / float64(of)
		m.Value = &v
	}
	return m
}

func sortedGroups(set map[string]*GroupStats) []*GroupStats {
	out := make([]*GroupStats, 0, len(set))
	for _, g := range set {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b *GroupStats) int {
		if a.Cases != b.Cases {
			return b.Cases - a.Cases
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// preview is the text from its first non-blank line on, its lines joined
// with " / " and cut to n runes: an email's greeting line alone says
// nothing.
func preview(s string, n int) string {
	var parts []string
	size := 0
	for line := range strings.SplitSeq(s, "\n") {
		if line = strings.Join(strings.Fields(line), " "); line != "" {
			parts = append(parts, line)
			if size += utf8.RuneCountInString(line) + 3; size > n {
				break
			}
		}
	}
	return cutRunes(strings.Join(parts, " / "), n)
}

func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// reasonsLine is the decision's reasons on one line.
func reasonsLine(d handoff.Decision, n int) string {
	if len(d.Reasons) == 0 {
		return cutRunes("nothing matched; signals: "+signalsText(d.Signals), n)
	}
	return cutRunes(strings.Join(d.Reasons, "; "), n)
}

// Print writes the report for a RevOps reader: the headline, the tables,
// then at most worst worst cases (negative: all) and, with all, every case.
func (r *EvalReport) Print(w io.Writer, worst int, all bool) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("Ladder %s (version %s): %d labelled cases from %d file(s)", r.Ladder, r.LadderVersion, r.Cases, len(r.Files))
	p("")
	p("  %-40s %7s  %-13s %s", "Headline", "result", "cases", "target")
	m := r.Metrics
	for _, x := range []struct {
		title string
		m     Metric
	}{
		{"Escalation precision", m.Precision},
		{"Escalation recall", m.Recall},
		{"Right reviewer (of correct escalations)", m.RightReviewer},
		{"Hard negatives left with the agent", m.HardNegatives},
		{"Context flips with both sides right", m.Flips},
		{"Non-English cases right", m.NonEnglish},
		{"Action as labelled", m.ActionAgreement},
		{"Second reviewer named (label.also)", m.AlsoAgreement},
		{"All cases right", m.Accuracy},
	} {
		target := ""
		if x.m.Threshold != nil {
			verdict := "PASS"
			if !*x.m.Pass {
				verdict = "FAIL"
			}
			target = fmt.Sprintf("≥ %s  %s", pct(*x.m.Threshold), verdict)
		}
		p("  %-40s %7s  %-13s %s", x.title, pctOf(x.m), fmt.Sprintf("%d of %d", x.m.N, x.m.Of), target)
	}
	c := r.Counts
	p("")
	p("  Escalations: %d caught, %d missed, %d false; %d correctly left with the agent.", c.TP, c.FN, c.FP, c.TN)
	p("  Precision: of the cases the ladder escalated, the share RevOps wanted a human for.")
	p("  Recall: of the cases RevOps wanted a human for, the share the ladder escalated.")
	p("  Right reviewer: of those correctly escalated, the share given to an owner the label accepts.")
	p("  A case is right when it escalates as labelled and, if it does, goes to an accepted owner.")
	p("")
	switch {
	case r.Pass && hasThresholds(m):
		p("Result: PASS (every target met)")
	case r.Pass:
		p("Result: no targets given (set them with --min-precision, --min-recall, ...)")
	default:
		var why []string
		for _, name := range r.Failed {
			x := r.metricByName(name)
			why = append(why, fmt.Sprintf("%s %s is below %s (%s)", strings.ReplaceAll(name, "_", " "), pctOf(x), pct(*x.Threshold), thresholdFlag(name)))
		}
		p("Result: FAIL: %s", strings.Join(why, "; "))
	}
	for _, n := range r.Notes {
		p("Note: %s", n)
	}

	p("")
	p("By rung / exception, in the order the ladder checks them:")
	p("  %-32s %-24s %7s %6s %6s %9s %9s %9s %6s %6s", "", "owner", "decided", "right", "", "false esc", "wrong own", "kept back", "missed", "recall")
	var unowned []StepStats
	section := ""
	for _, s := range r.Steps {
		switch s.Kind {
		case "unowned", "either":
			unowned = append(unowned, s)
			continue
		case "none":
			if s.Decided == 0 {
				continue
			}
		}
		if title := stepSection(s.Kind); title != section {
			section = title
			if title != "" {
				p("  %s", title)
			}
		}
		owner := "-"
		if s.Reviewer != "" {
			owner = s.Reviewer + " " + s.Action
		} else if s.Kind == ladder.StepRung || s.Kind == ladder.StepException {
			owner = "(" + s.Action + ")"
		}
		name := s.ID
		if s.Kind == "none" {
			name = "(no rung or exception matched)"
		}
		p("    %-30s %-24s %7d %6d %6s %9d %9d %9d %6d %6s", cutRunes(name, 30), cutRunes(owner, 24), s.Decided, s.Right, pctShort(s.Precision),
			s.FalseEscalations, s.WrongReviewer, s.KeptBack, s.Missed, pctShort(s.Recall))
	}
	for _, s := range unowned {
		if s.Kind == "either" {
			p("  missed, %s could have taken it: %d", strings.ReplaceAll(s.ID, "|", " or "), s.Missed)
		} else {
			p("  missed, no rung or exception routes to %s: %d", s.ID, s.Missed)
		}
	}
	p("  decided: cases this step decided; right: of those, decided as labelled.")
	p("  false esc: escalated a case RevOps would leave with the agent.")
	p("  wrong own: escalated, but to an owner the label does not accept.")
	p("  kept back: RevOps wanted a human, but this step (or no match) left it with the agent.")
	p("  missed: cases labelled for this step's owner (and action) that did not reach it.")
	p("  recall: of the cases labelled for this step's owner, the share it took (right / (right + missed)).")

	groups := func(title string, gs []GroupStats) {
		if len(gs) == 0 {
			return
		}
		p("")
		p("%s", title)
		p("  %-22s %6s %6s %7s %9s %7s %9s %9s", "", "cases", "right", "", "escalate", "missed", "false esc", "wrong own")
		for _, g := range gs {
			p("  %-22s %6d %6d %7s %9d %7d %9d %9d", cutRunes(g.Key, 22), g.Cases, g.Right, pct(float64(g.Right)/float64(g.Cases)),
				g.Escalate, g.Missed, g.FalseEscalations, g.WrongReviewer)
		}
		p("  escalate: cases labelled for a human; missed / false esc / wrong own as above.")
	}
	groups("By language:", r.Languages)
	groups("By tag:", r.Tags)

	r.printConfusion(p)

	p("")
	if len(r.Worst) == 0 {
		p("Worst cases: none, every case is right.")
	} else {
		n := len(r.Worst)
		if worst >= 0 && worst < n {
			n = worst
		}
		p("Worst cases (%d of %d wrong; missed escalations first, by priority):", n, len(r.Worst))
		for i, res := range r.Worst[:n] {
			p("%3d. %s  %s  %s:%d", i+1, problemTitle(res.Problem), res.ID, res.File, res.Line)
			printCase(p, res)
		}
		if n < len(r.Worst) {
			p("     ... and %d more (use -n %d, or --json)", len(r.Worst)-n, len(r.Worst))
		}
	}
	if all {
		p("")
		p("Every case:")
		for _, res := range r.Results {
			mark := "ok   "
			if !res.Right {
				mark = "WRONG"
			}
			p("  %s %s  %s:%d  expected %s, got %s", mark, res.ID, res.File, res.Line, expectedText(res.Expected), gotText(res.Got))
		}
	}
}

func printCase(p func(string, ...any), res CaseResult) {
	p("     said:     %q", res.Text)
	p("     expected: %s", expectedText(res.Expected))
	if res.Expected.Why != "" {
		p("               (%s)", cutRunes(res.Expected.Why, 160))
	}
	got := gotText(res.Got)
	if res.ShouldHave != "" {
		got += "; should have been " + strings.ReplaceAll(res.ShouldHave, "|", " or ")
	}
	p("     got:      %s", got)
	p("     because:  %s", res.Reasons)
}

func problemTitle(p string) string {
	switch p {
	case "missed_escalation":
		return "MISSED ESCALATION"
	case "false_escalation":
		return "FALSE ESCALATION"
	case "wrong_reviewer":
		return "WRONG OWNER"
	}
	return p
}

func expectedText(e EvalExpected) string {
	if !e.Escalate {
		return "leave with the agent"
	}
	s := "escalate to " + strings.Join(e.Reviewers, " or ")
	if e.Action != "" {
		s += " (" + e.Action + ")"
	}
	if len(e.Also) > 0 {
		s += ", also " + strings.Join(e.Also, ", ")
	}
	return s
}

func gotText(g EvalGot) string {
	by := "nothing matched"
	if g.Matched != "" {
		by = g.Kind + " " + g.Matched
	}
	if !g.Escalates {
		return g.Action + " (" + by + ")"
	}
	s := fmt.Sprintf("%s to %s (%s", g.Action, nonEmpty(g.Reviewer, "(no route)"), by)
	if g.Priority != "" {
		s += ", " + g.Priority
	}
	s += ")"
	if len(g.Also) > 0 {
		s += ", also " + strings.Join(g.Also, ", ")
	}
	return s
}

func (r *EvalReport) printConfusion(p func(string, ...any)) {
	if len(r.Confusion) == 0 {
		return
	}
	seen := map[string]bool{}
	for row, cols := range r.Confusion {
		seen[row] = true
		for col := range cols {
			seen[col] = true
		}
	}
	keys := slices.SortedFunc(mapKeys(seen), func(a, b string) int {
		if d := reviewerOrder(a) - reviewerOrder(b); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	var cols []string
	for _, k := range keys {
		for _, row := range r.Confusion {
			if row[k] > 0 {
				cols = append(cols, k)
				break
			}
		}
	}
	p("")
	p("Who owned it: expected owner (rows) against the ladder's choice (columns); none = left with the agent")
	head := fmt.Sprintf("  %-20s", "expected \\ got")
	for _, c := range cols {
		head += fmt.Sprintf(" %*s", max(len(shortReviewer(c)), 4), shortReviewer(c))
	}
	p("%s %6s", head, "right")
	for _, row := range keys {
		cells, ok := r.Confusion[row]
		if !ok {
			continue
		}
		line := fmt.Sprintf("  %-20s", cutRunes(row, 20))
		total := 0
		for _, c := range cols {
			line += fmt.Sprintf(" %*s", max(len(shortReviewer(c)), 4), countText(cells[c]))
			total += cells[c]
		}
		p("%s %6s", line, fmt.Sprintf("%d/%d", cells[row], total))
	}
}

func countText(n int) string {
	if n == 0 {
		return "."
	}
	return strconv.Itoa(n)
}

func reviewerOrder(k string) int {
	switch {
	case k == "none":
		return 0
	case k == "account_owner":
		return 1
	case k == "contact_owner":
		return 2
	case k == "deal_owner":
		return 3
	case strings.HasPrefix(k, "team:"):
		return 4
	}
	return 5
}

// shortReviewer is a column heading: team:legal -> legal, account_owner ->
// account.
func shortReviewer(k string) string {
	if t, ok := strings.CutPrefix(k, "team:"); ok {
		return t
	}
	if o, ok := strings.CutSuffix(k, "_owner"); ok {
		return o
	}
	if o, ok := strings.CutPrefix(k, "owner:"); ok {
		return cutRunes(o, 12)
	}
	return k
}

func hasThresholds(m EvalMetrics) bool {
	for _, x := range []Metric{m.Precision, m.Recall, m.RightReviewer, m.HardNegatives, m.Flips, m.NonEnglish} {
		if x.Threshold != nil {
			return true
		}
	}
	return false
}

func (r *EvalReport) metricByName(name string) Metric {
	m := r.Metrics
	switch name {
	case MetricPrecision:
		return m.Precision
	case MetricRecall:
		return m.Recall
	case MetricRightReviewer:
		return m.RightReviewer
	case MetricHardNegatives:
		return m.HardNegatives
	case MetricFlips:
		return m.Flips
	case MetricNonEnglish:
		return m.NonEnglish
	}
	return Metric{}
}

func stepSection(kind string) string {
	switch kind {
	case ladder.StepException:
		return "Exceptions:"
	case ladder.StepRung:
		return "Rungs, from the top:"
	}
	return ""
}

// pctShort is a whole percentage, "-" for nil.
func pctShort(v *float64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(100**v, 'f', 0, 64) + "%"
}

func pct(v float64) string { return strconv.FormatFloat(100*v, 'f', 1, 64) + "%" }

func pctOf(m Metric) string {
	if m.Value == nil {
		return "n/a"
	}
	return pct(*m.Value)
}
