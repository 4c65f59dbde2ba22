// Package ladder loads, validates and evaluates the escalation ladder: a
// YAML file whose CEL conditions decide when the AI agent must stop and a
// human must take over. Decide is pure: no I/O, same context, same decision.
package ladder

import (
	_ "embed"
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/internal/worktime"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultFile is the name errors use for the embedded default ladder.
const DefaultFile = "default.yaml (embedded)"

// DefaultYAML returns the text of the embedded default ladder, e.g. to
// write it out as a starting point.
func DefaultYAML() []byte { return slices.Clone(defaultYAML) }

// Team is a target of the reviewer matrix.
type Team struct {
	Owners   []string `json:"owners"`
	Strategy string   `json:"strategy"` // round_robin | least_open
	Calendar string   `json:"calendar,omitempty"`
	Capacity int      `json:"capacity,omitempty"`  // open handoffs per member; 0: no limit
	CatchAll string   `json:"catch_all,omitempty"` // owner for an exhausted route chain
	// Weights are the members' round-robin shares, in Owners order (nil:
	// all 1).
	Weights []int `json:"weights,omitempty"`
	// Notify are the team's notification targets (see ParseNotifyTarget).
	Notify []string `json:"notify,omitempty"`
}

// Ladder is a compiled, validated ladder. It is immutable and safe for
// concurrent use.
type Ladder struct {
	file       string
	version    string
	desc       string
	exceptions []*rung
	rungs      []*rung // in file order: bottom to top
	teams      map[string]Team
	workflows  []*workflow
	defaultWF  *workflow
	defaults   defaults
	climb      []handoff.ClimbStep
	score      scoreSpec
	text       *textAnalyzer
	topicRisk  map[string]float64
	paths      []string                                // every distinct path any condition reads
	readers    []func(*handoff.Context, *workflow) any // reads paths[i]
	slots      int                                     // context fields the conditions read (evalState.fields)
	states     *sync.Pool                              // scratch evalStates, shared with Shadow copies
	valueSlots int                                     // trace values of one decision: every rung's paths plus the signals and score steps
	shadow     bool
	calendars  map[string]*worktime.Calendar // by name (calendars.go)
	owners     map[string]ownerFacts         // by lower-case email (owners.go)
}

type defaults struct {
	sla      time.Duration
	priority handoff.Priority
	route    *handoff.Route
	required []string
	goal     *template
	climb    []handoff.ClimbStep
}

type workflow struct {
	id            string
	source        []string
	channel       []string
	kind          []string
	thresholds    map[string]float64
	thresholdsVal ref.Val
	idVal         ref.Val
}

func (w *workflow) matches(e *handoff.EventFacts) bool {
	return matchAny(w.source, e.Source) && matchAny(w.channel, e.Channel) && matchAny(w.kind, e.Kind)
}

func matchAny(list []string, v string) bool {
	return len(list) == 0 || slices.Contains(list, v)
}

type rung struct {
	kind         string // rung | exception
	id           string
	desc         string
	when         string
	prog         cel.Program
	paths        []int  // indexes into Ladder.paths
	reasonPrefix string // `rung "id" (description): when`
	action       handoff.Action
	workflows    []string
	route        *handoff.Route
	sla          time.Duration
	priority     handoff.Priority
	constraints  []string
	nextSteps    []*template
	required     []string
	goal         *template
	climb        []handoff.ClimbStep
	secondReview bool   // named in AlsoNeeds when it matches but does not win
	slaClock     string // sla_clock: "" (by the route's calendar), working or wall
}

// Version is the ladder's version string, recorded on every decision.
func (l *Ladder) Version() string { return l.version }

// File is the name the ladder was loaded from.
func (l *Ladder) File() string { return l.file }

// Teams returns the reviewer matrix.
func (l *Ladder) Teams() map[string]Team {
	out := make(map[string]Team, len(l.teams))
	for id, t := range l.teams {
		out[id] = Team{Owners: slices.Clone(t.Owners), Strategy: t.Strategy, Calendar: t.Calendar, Capacity: t.Capacity, CatchAll: t.CatchAll, Weights: slices.Clone(t.Weights), Notify: slices.Clone(t.Notify)}
	}
	return out
}

// RungIDs lists the rung ids bottom to top, and ExceptionIDs the exception
// ids in evaluation order.
func (l *Ladder) RungIDs() []string      { return ids(l.rungs) }
func (l *Ladder) ExceptionIDs() []string { return ids(l.exceptions) }

func ids(rs []*rung) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.id
	}
	return out
}

// Shadow returns a copy of the ladder whose decisions are marked Shadow, for
// SHADOW_LADDER_FILE: evaluated beside the active ladder, logged and
// counted, never acted on.
func (l *Ladder) Shadow() *Ladder {
	c := *l
	c.shadow = true
	return &c
}

// IsShadow reports whether the ladder marks its decisions Shadow.
func (l *Ladder) IsShadow() bool { return l.shadow }

// BuiltinDefault names the embedded default ladder wherever a ladder file
// is expected (LADDER_FILE, SHADOW_LADDER_FILE, the ladder commands).
const BuiltinDefault = "builtin:default"

// Load reads and compiles a ladder file (BuiltinDefault: the embedded
// default ladder).
func Load(path string) (*Ladder, error) {
	if path == BuiltinDefault {
		return Default()
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read ladder file: %w", err)
	}
	return Parse(path, data)
}

// LoadOrDefault loads the ladder at path, or the embedded default ladder
// when path is empty (LADDER_FILE unset).
func LoadOrDefault(path string) (*Ladder, error) {
	if path == "" {
		return Default()
	}
	return Load(path)
}

// LoadShadow loads a shadow ladder (SHADOW_LADDER_FILE): its decisions are
// marked Shadow, to be logged and counted but never acted on.
func LoadShadow(path string) (*Ladder, error) {
	l, err := Load(path)
	if err != nil {
		return nil, err
	}
	return l.Shadow(), nil
}

// Default returns the embedded default ladder.
func Default() (*Ladder, error) { return Parse(DefaultFile, defaultYAML) }

// Parse compiles a ladder from YAML. Every problem found is returned as a
// LintErrors value naming the file, line, rung or exception and the problem.
func Parse(filename string, data []byte) (*Ladder, error) {
	fl, src, err := decodeFile(filename, data)
	if err != nil {
		return nil, err
	}
	c := &compiler{src: src, f: fl}
	l := c.compile()
	if len(c.errs) > 0 {
		return nil, c.errs.sorted()
	}
	l.valueSlots = signalsValues + scoreValues
	for _, p := range l.paths {
		l.readers = append(l.readers, pathReader(p))
	}
	for _, r := range slices.Concat(l.exceptions, l.rungs) {
		l.valueSlots += len(r.paths)
	}
	return l, nil
}

type compiler struct {
	src  *source
	f    *fileLadder
	errs LintErrors
	env  *cel.Env
	l    *Ladder
}

func (c *compiler) errAt(path, kind, id, format string, args ...any) {
	c.errs = append(c.errs, LintError{File: c.src.name, Line: c.src.line(path), Kind: kind, ID: id, Msg: fmt.Sprintf(format, args...)})
}

func (c *compiler) errLine(line int, kind, id, format string, args ...any) {
	c.errs = append(c.errs, LintError{File: c.src.name, Line: line, Kind: kind, ID: id, Msg: fmt.Sprintf(format, args...)})
}

var (
	validActions    = []string{"continue", "assist", "handoff", "hold"}
	validPriorities = []string{"low", "medium", "high", "urgent"}
	validTo         = []string{"account_owner", "contact_owner", "deal_owner"}
	validStrategies = []string{"round_robin", "least_open"}
	validClimbDo    = []string{"reassign", "notify", "raise_priority"}
	validRisks      = map[string]float64{"low": 0.3, "medium": 0.6, "high": 1}
	validSources    = []string{string(handoff.SourceHubSpot), string(handoff.SourceSalesforce), string(handoff.SourceMarketo), string(handoff.SourceAgent)}
	scoreParts      = []string{"confidence", "sentiment", "value", "risk", "progress"}
)

func (c *compiler) compile() *Ladder {
	f := c.f
	env, prov, err := newEnv()
	if err != nil {
		c.errLine(1, "", "", "%v", err)
		return nil
	}
	c.env = env
	l := &Ladder{file: c.src.name, version: f.Version, desc: f.Description, teams: map[string]Team{}, states: &sync.Pool{}}
	c.l = l
	if strings.TrimSpace(f.Version) == "" {
		c.errAt("$.version", "", "", "version is required (it is recorded on every decision)")
	}

	// Calendars, then teams: routes refer to them.
	l.calendars = c.calendars()
	for _, id := range f.teamOrder {
		t := f.Teams[id]
		p := pathf("$.teams.%s", id)
		if len(t.Owners) == 0 {
			c.errAt(p, "team", id, "has no owners")
		}
		for i, o := range t.Owners {
			if strings.TrimSpace(o) == "" {
				c.errAt(pathf("%s.owners[%d]", p, i), "team", id, "empty owner")
			}
		}
		if t.Strategy == "" {
			t.Strategy = "round_robin"
		} else if !slices.Contains(validStrategies, t.Strategy) {
			c.errAt(p+".strategy", "team", id, "unknown strategy %q (want one of %s)", t.Strategy, strings.Join(validStrategies, ", "))
		}
		l.teams[id] = Team{Owners: slices.Clone(t.Owners), Strategy: t.Strategy, Calendar: c.calendarRef(p+".calendar", "team", id, t.Calendar),
			Capacity: c.teamCapacity(p, id, t.Capacity), CatchAll: c.teamCatchAll(p, id, t.CatchAll), Notify: c.notifyTargets(p+".notify", id, t.Notify),
			Weights: c.teamWeights(p, id, t)}
	}
	l.owners = c.owners()

	// Topics and the text analyzer.
	for _, id := range f.topicOrder {
		t := f.Topics[id]
		p := pathf("$.topics.%s", id)
		_, isBuiltin := builtin().Topics[id]
		isBuiltin = isBuiltin || id == "human_request"
		useBuiltin := isBuiltin && (t.Builtin == nil || *t.Builtin)
		if len(t.Phrases) == 0 && len(t.Mentions) == 0 && !useBuiltin {
			if isBuiltin {
				c.errAt(p, "topic", id, "has no phrases (and builtin: false turns the built-in ones off)")
			} else {
				c.errAt(p, "topic", id, "has no phrases (built-in topics: %s)", strings.Join(BuiltinTopics(), ", "))
			}
		}
		if t.Builtin != nil && *t.Builtin && !isBuiltin {
			c.errAt(p+".builtin", "topic", id, "builtin: true, but there is no built-in topic %q (built-in topics: %s)", id, strings.Join(BuiltinTopics(), ", "))
		}
		if t.Risk != "" {
			if _, ok := validRisks[t.Risk]; !ok {
				c.errAt(p+".risk", "topic", id, "unknown risk %q (want low, medium or high)", t.Risk)
			}
		}
		for _, list := range []struct {
			key     string
			phrases []string
		}{{"phrases", t.Phrases}, {"mentions", t.Mentions}, {"not_with", t.NotWith}} {
			for i, ph := range list.phrases {
				if msg := checkPhrase(ph); msg != "" {
					c.errAt(pathf("%s.%s[%d]", p, list.key, i), "topic", id, "%s %q: %s", strings.TrimSuffix(list.key, "s"), ph, msg)
				}
			}
		}
	}
	if f.Human != nil {
		for i, ph := range f.Human.Phrases {
			if msg := checkPhrase(ph); msg != "" {
				c.errAt(pathf("$.human_request.phrases[%d]", i), "", "", "human_request phrase %q: %s", ph, msg)
			}
		}
	}
	l.text = newTextAnalyzer(f)

	// Score.
	l.score = c.scoreSpec()
	l.topicRisk = map[string]float64{}
	for _, id := range f.topicOrder {
		r := f.Topics[id].Risk
		if r == "" {
			r = "medium"
		}
		l.topicRisk[id] = l.score.riskValue[r]
	}

	// Thresholds and workflows.
	base := map[string]float64{}
	maps.Copy(base, f.Thresholds)
	l.defaultWF = &workflow{id: "default", thresholds: base}
	seenWF := map[string]bool{"default": true}
	for i, w := range f.Workflows {
		p := pathf("$.workflows[%d]", i)
		if w.ID == "" {
			c.errAt(p, "workflow", "", "workflow without id")
			continue
		}
		if seenWF[w.ID] {
			c.errAt(p+".id", "workflow", w.ID, "duplicate workflow id")
		}
		seenWF[w.ID] = true
		for j, s := range w.Source {
			if !slices.Contains(validSources, s) {
				c.errAt(pathf("%s.source[%d]", p, j), "workflow", w.ID, "unknown source %q (want one of %s)", s, strings.Join(validSources, ", "))
			}
		}
		for j, k := range w.Kind {
			if !slices.Contains(handoff.Kinds, handoff.Kind(k)) {
				c.errAt(pathf("%s.kind[%d]", p, j), "workflow", w.ID, "unknown event kind %q", k)
			}
		}
		th := maps.Clone(base)
		for _, k := range slices.Sorted(maps.Keys(w.Thresholds)) {
			if _, ok := base[k]; !ok {
				c.errAt(pathf("%s.thresholds.%s", p, k), "workflow", w.ID, "threshold %q is not declared in the top-level thresholds", k)
			}
			th[k] = w.Thresholds[k]
		}
		l.workflows = append(l.workflows, &workflow{id: w.ID, source: w.Source, channel: w.Channel, kind: w.Kind, thresholds: th})
	}
	for _, w := range append([]*workflow{l.defaultWF}, l.workflows...) {
		w.thresholdsVal = thresholdsValue(w.thresholds)
		w.idVal = types.String(w.id)
	}

	// Defaults.
	d := f.Defaults
	l.defaults.sla = 4 * time.Hour
	if d.SLA != "" {
		l.defaults.sla = c.duration("$.defaults.sla", "", "", d.SLA)
	}
	l.defaults.priority = handoff.PriorityMedium
	if d.Priority != "" {
		l.defaults.priority = c.priority("$.defaults.priority", "", "", d.Priority)
	}
	if d.Route != nil {
		l.defaults.route = c.route("$.defaults.route", "", "", d.Route)
	}
	l.defaults.required = c.required("$.defaults.required", "", "", d.Required)
	l.defaults.goal = c.template("$.defaults.goal", "", "", d.Goal)
	l.defaults.climb = c.climb("$.defaults.climb", "", "", d.Climb)
	l.climb = c.climb("$.climb", "climb", "", f.Climb)

	// Exceptions and rungs.
	seenIDs := map[string]string{}
	pathIdx := map[string]int{}
	for i := range f.Exceptions {
		if r := c.rung("exception", pathf("$.exceptions[%d]", i), &f.Exceptions[i], seenIDs, seenWF, pathIdx); r != nil {
			l.exceptions = append(l.exceptions, r)
		}
	}
	for i := range f.Rungs {
		if r := c.rung("rung", pathf("$.rungs[%d]", i), &f.Rungs[i], seenIDs, seenWF, pathIdx); r != nil {
			l.rungs = append(l.rungs, r)
		}
	}
	if len(f.Rungs) == 0 && len(f.Exceptions) == 0 {
		c.errAt("$", "", "", "the ladder has no rungs and no exceptions")
	}
	c.reachability()
	l.slots = prov.slotCount()
	return l
}

func (c *compiler) scoreSpec() scoreSpec {
	s := defaultScoreSpec()
	fs := c.f.Score
	if fs == nil {
		return s
	}
	if fs.Weights != nil {
		s.weights = map[string]float64{}
		sum := 0.0
		for _, k := range slices.Sorted(maps.Keys(fs.Weights)) {
			v := fs.Weights[k]
			if !slices.Contains(scoreParts, k) {
				c.errAt("$.score.weights."+k, "", "", "unknown score component %q (want one of %s)", k, strings.Join(scoreParts, ", "))
			}
			if v < 0 || math.IsNaN(v) {
				c.errAt("$.score.weights."+k, "", "", "score weight %q must be >= 0", k)
			}
			s.weights[k] = v
			sum += v
		}
		if sum <= 0 {
			c.errAt("$.score.weights", "", "", "score weights must not all be zero")
		}
	}
	for k, v := range fs.TierValue {
		if v < 0 || v > 1 {
			c.errAt("$.score.tier_value."+k, "", "", "tier value must be within 0..1")
		}
		s.tierValue[k] = v
	}
	for k, v := range fs.RiskValue {
		if _, ok := validRisks[k]; !ok {
			c.errAt("$.score.risk_value."+k, "", "", "unknown risk level %q (want low, medium or high)", k)
		}
		if v < 0 || v > 1 {
			c.errAt("$.score.risk_value."+k, "", "", "risk value must be within 0..1")
		}
		s.riskValue[k] = v
	}
	if fs.AmountCap < 0 {
		c.errAt("$.score.amount_cap", "", "", "amount_cap must be > 0")
	} else if fs.AmountCap > 0 {
		s.amountCap = fs.AmountCap
	}
	if fs.StallTurns < 0 {
		c.errAt("$.score.stall_turns", "", "", "stall_turns must be > 0")
	} else if fs.StallTurns > 0 {
		s.stallTurns = fs.StallTurns
	}
	return s
}

func (c *compiler) rung(kind, p string, fr *fileRung, ids map[string]string, wfs map[string]bool, pathIdx map[string]int) *rung {
	id := fr.ID
	if id == "" {
		c.errAt(p, kind, "", "%s without id", kind)
		return nil
	}
	if prev, dup := ids[id]; dup {
		c.errAt(p+".id", kind, id, "duplicate id (already used by the %s above)", prev)
	}
	ids[id] = kind
	r := &rung{kind: kind, id: id, desc: fr.Description, when: strings.Join(strings.Fields(fr.When), " "), workflows: fr.Workflows,
		constraints: fr.Constraints, required: c.required(p+".required", kind, id, fr.Required), secondReview: fr.SecondReview}
	if slices.Contains(validActions, fr.Action) {
		r.action = handoff.Action(fr.Action)
	} else if fr.Action == "" {
		c.errAt(p, kind, id, "action is required (one of %s)", strings.Join(validActions, ", "))
	} else {
		c.errAt(p+".action", kind, id, "unknown action %q (want one of %s)", fr.Action, strings.Join(validActions, ", "))
	}
	for i, w := range fr.Workflows {
		if !wfs[w] {
			c.errAt(pathf("%s.workflows[%d]", p, i), kind, id, "unknown workflow %q", w)
		}
	}
	if fr.Route != nil {
		r.route = c.route(p+".route", kind, id, fr.Route)
	}
	if fr.SLA != "" {
		r.sla = c.duration(p+".sla", kind, id, fr.SLA)
	}
	r.slaClock = c.rungSLAClock(p, kind, id, fr, r.route)
	if fr.Priority != "" {
		r.priority = c.priority(p+".priority", kind, id, fr.Priority)
	}
	for i, s := range fr.NextSteps {
		r.nextSteps = append(r.nextSteps, c.template(pathf("%s.next_steps[%d]", p, i), kind, id, s))
	}
	r.goal = c.template(p+".goal", kind, id, fr.Goal)
	r.climb = c.climb(p+".climb", kind, id, fr.Climb)
	if r.action != "" && r.action != handoff.ActionContinue && fr.Route == nil && c.f.Defaults.Route == nil {
		c.errAt(p, kind, id, "action %s needs an owner: add route: or defaults.route", r.action)
	}
	if r.action == handoff.ActionContinue && (fr.Route != nil || fr.SLA != "" || len(fr.NextSteps) > 0) {
		c.errAt(p+".action", kind, id, "action continue creates no task, so route, sla and next_steps have no effect; remove them or change the action")
	}

	// The condition.
	if r.when == "" {
		c.errAt(p, kind, id, "when is required (a CEL condition)")
		return r
	}
	checked, iss := c.env.Compile(fr.When)
	if iss != nil && iss.Err() != nil {
		base := c.src.valueStart(p + ".when")
		for _, e := range iss.Errors() {
			line := base
			if loc := e.Location; loc != nil && loc.Line() > 1 {
				line += loc.Line() - 1
			}
			col := ""
			if loc := e.Location; loc != nil {
				col = fmt.Sprintf(" (column %d)", loc.Column()+1)
			}
			c.errLine(line, kind, id, "when: %s%s", e.Message, col)
		}
		return r
	}
	if !checked.OutputType().IsExactType(cel.BoolType) {
		c.errAt(p+".when", kind, id, "when must be a boolean condition, this one is %s", checked.OutputType())
		return r
	}
	paths, topicLits, enums := reads(checked)
	for _, e := range enums {
		if !slices.Contains(enumValues[e.path], e.value) {
			c.errAt(p+".when", kind, id, "when: %q is not a known %s (want one of %s)", e.value, e.path, quoteList(enumValues[e.path]))
		}
	}
	for _, t := range topicLits {
		if _, ok := c.f.Topics[t]; !ok {
			c.errAt(p+".when", kind, id, "when: unknown topic %q (topics: %s)", t, strings.Join(c.f.topicOrder, ", "))
		}
	}
	for _, path := range paths {
		if k, ok := strings.CutPrefix(path, varThresholds+"."); ok {
			if _, ok := c.f.Thresholds[k]; !ok {
				c.errAt(p+".when", kind, id, "when: unknown threshold %q (declare it under thresholds:)", k)
			}
		}
		idx, ok := pathIdx[path]
		if !ok {
			idx = len(c.l.paths)
			pathIdx[path] = idx
			c.l.paths = append(c.l.paths, path)
		}
		r.paths = append(r.paths, idx)
	}
	r.reasonPrefix = fmt.Sprintf("%s %q", kind, id)
	if r.desc != "" {
		r.reasonPrefix += " (" + r.desc + ")"
	}
	r.reasonPrefix += ": " + r.when
	prog, err := c.env.Program(checked, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		c.errAt(p+".when", kind, id, "when: %v", err)
		return r
	}
	r.prog = prog
	return r
}

// reachability reports rungs and exceptions that can never produce a
// decision: constant-false conditions, conditions shadowed by an identical
// one with higher precedence, and everything below a constant-true one.
func (c *compiler) reachability() {
	l := c.l
	constVal := func(r *rung) (bool, bool) {
		if r.prog == nil || len(r.paths) > 0 {
			return false, false
		}
		out, _, err := r.prog.Eval(map[string]any{})
		if err != nil {
			return false, false
		}
		b, ok := out.Value().(bool)
		return b, ok
	}
	key := func(r *rung) string {
		return strings.Join(strings.Fields(r.when), " ") + "\x00" + strings.Join(r.workflows, ",")
	}
	line := func(r *rung, list []*rung, base string) int {
		return c.src.line(pathf("%s[%d]", base, slices.Index(list, r)))
	}
	// Exceptions: first match wins.
	seen := map[string]string{}
	alwaysEx := ""
	for _, r := range l.exceptions {
		ln := line(r, l.exceptions, "$.exceptions")
		switch {
		case alwaysEx != "":
			c.errLine(ln, r.kind, r.id, "unreachable: exception %q above always matches", alwaysEx)
			continue
		case seen[key(r)] != "":
			c.errLine(ln, r.kind, r.id, "unreachable: exception %q above has the same condition", seen[key(r)])
		}
		seen[key(r)] = r.id
		if v, ok := constVal(r); ok {
			if !v {
				c.errLine(ln, r.kind, r.id, "unreachable: the condition is always false")
			} else if len(r.workflows) == 0 {
				alwaysEx = r.id
			}
		}
	}
	exKeys := seen
	// Rungs: the highest match wins, so walk from the top down.
	seen = map[string]string{}
	alwaysRung := ""
	for i := len(l.rungs) - 1; i >= 0; i-- {
		r := l.rungs[i]
		ln := line(r, l.rungs, "$.rungs")
		switch {
		case alwaysEx != "":
			c.errLine(ln, r.kind, r.id, "unreachable: exception %q always matches first", alwaysEx)
			continue
		case alwaysRung != "":
			c.errLine(ln, r.kind, r.id, "unreachable: rung %q above always matches", alwaysRung)
			continue
		case exKeys[key(r)] != "":
			c.errLine(ln, r.kind, r.id, "unreachable: exception %q has the same condition and is checked first", exKeys[key(r)])
		case seen[key(r)] != "":
			c.errLine(ln, r.kind, r.id, "unreachable: rung %q above has the same condition and wins", seen[key(r)])
		}
		seen[key(r)] = r.id
		if v, ok := constVal(r); ok {
			if !v {
				c.errLine(ln, r.kind, r.id, "unreachable: the condition is always false")
			} else if len(r.workflows) == 0 {
				alwaysRung = r.id
			}
		}
	}
}

func (c *compiler) duration(p, kind, id, s string) time.Duration {
	d, err := ParseDuration(s)
	if err != nil {
		c.errAt(p, kind, id, "bad duration %q: %v", s, err)
		return 0
	}
	return d
}

// ParseDuration accepts Go durations (30m, 4h, 1h30m) and whole days (2d).
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, fmt.Errorf("want a duration such as 30m, 4h or 2d")
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		d, err = time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("want a duration such as 30m, 4h or 2d")
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("must be positive")
	}
	return d, nil
}

func (c *compiler) priority(p, kind, id, s string) handoff.Priority {
	if !slices.Contains(validPriorities, s) {
		c.errAt(p, kind, id, "unknown priority %q (want one of %s)", s, strings.Join(validPriorities, ", "))
		return ""
	}
	return handoff.Priority(s)
}

func (c *compiler) route(p, kind, id string, fr *fileRoute) *handoff.Route {
	set := 0
	for _, v := range []string{fr.To, fr.Team, fr.Owner} {
		if v != "" {
			set++
		}
	}
	if set != 1 {
		c.errAt(p, kind, id, "route needs exactly one of to, team or owner")
	}
	r := &handoff.Route{To: fr.To, Team: fr.Team, Owner: fr.Owner}
	var team Team
	if fr.To != "" && !slices.Contains(validTo, fr.To) {
		c.errAt(p+".to", kind, id, "unknown route target %q (want one of %s)", fr.To, strings.Join(validTo, ", "))
	}
	if fr.Team != "" {
		t, ok := c.l.teams[fr.Team]
		if !ok {
			c.errAt(p+".team", kind, id, "unknown team %q (teams: %s)", fr.Team, strings.Join(c.f.teamOrder, ", "))
		}
		r.Owners = t.Owners
		r.Strategy = t.Strategy
		r.Capacity = t.Capacity
		r.Notify = t.Notify
		r.CatchAll = t.CatchAll
		r.Weights = t.Weights
		team = t
	}
	r.Calendar = c.routeCalendar(p, kind, id, fr, team)
	if fr.Fallback != nil {
		r.Fallback = c.route(p+".fallback", kind, id, fr.Fallback)
	}
	return r
}

func (c *compiler) climb(p, kind, id string, steps []fileClimb) []handoff.ClimbStep {
	var out []handoff.ClimbStep
	last := 0.0
	for i, s := range steps {
		sp := pathf("%s[%d]", p, i)
		after, err := parseAfter(s.After)
		if err != nil {
			c.errAt(sp+".after", kind, id, "climb step %d: bad after %q: %v", i+1, s.After, err)
		} else if after <= last {
			c.errAt(sp+".after", kind, id, "climb step %d: after must be later than the previous step", i+1)
		}
		last = after
		if !slices.Contains(validClimbDo, s.Do) {
			c.errAt(sp+".do", kind, id, "climb step %d: unknown do %q (want one of %s)", i+1, s.Do, strings.Join(validClimbDo, ", "))
		}
		st := handoff.ClimbStep{After: after, Do: s.Do}
		if s.To != nil {
			st.To = c.route(sp+".to", kind, id, s.To)
		} else if s.Do == "reassign" {
			c.errAt(sp, kind, id, "climb step %d: reassign needs to: (a route)", i+1)
		}
		if s.Priority != "" {
			st.Priority = c.priority(sp+".priority", kind, id, s.Priority)
		}
		st.ExcludeLast = c.excludeLast(sp, kind, id, i, s)
		st.MaxReassignments = c.maxReassignments(sp, kind, id, i, s)
		out = append(out, st)
	}
	return out
}

func quoteList(vals []string) string {
	q := make([]string, 0, len(vals))
	for _, v := range vals {
		if v != "" {
			q = append(q, strconv.Quote(v))
		}
	}
	return strings.Join(q, ", ")
}

// parseAfter reads a climb delay as a multiple of the SLA: "1x", "1.5x" or 2.
func parseAfter(s string) (float64, error) {
	s = strings.TrimSuffix(strings.TrimSpace(s), "x")
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) {
		return 0, fmt.Errorf("want a positive multiple of the SLA such as 1x or 1.5x")
	}
	return v, nil
}

// BundleFields are the context-bundle fields a rung may require (the
// pipeline measures completeness against them; see docs/bundle.md).
var BundleFields = []string{"goal", "summary", "activity", "asked", "agent_reply", "why", "transcript",
	"sources", "constraints", "next_steps", "snapshot", "contact", "account", "deal"}

// required checks the names of required bundle fields: a typo would
// otherwise make every task say the field is missing.
func (c *compiler) required(path, kind, id string, names []string) []string {
	for i, n := range names {
		if !slices.Contains(BundleFields, n) {
			c.errAt(fmt.Sprintf("%s[%d]", path, i), kind, id, "unknown bundle field %q in required (known: %s)", n, strings.Join(BundleFields, ", "))
		}
	}
	return names
}
