package ladder

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/ext"
	"github.com/google/cel-go/interpreter"

	"github.com/handoff-dev/handoff"
)

// The variables a condition can use. The struct-typed ones are CEL object
// types built from the root package's Go structs; their field names are the
// `cel` struct tags (account.tier, signals.topics, ...).
const (
	varEvent        = "event"
	varContact      = "contact"
	varAccount      = "account"
	varDeal         = "deal"
	varConversation = "conversation"
	varAgent        = "agent"
	varSignals      = "signals"
	varHistory      = "history"
	varScore        = "score"
	varThresholds   = "thresholds"
	varWorkflow     = "workflow"
)

var contextVars = []struct {
	name string
	typ  reflect.Type
}{
	{varEvent, reflect.TypeFor[handoff.EventFacts]()},
	{varContact, reflect.TypeFor[handoff.ContactFacts]()},
	{varAccount, reflect.TypeFor[handoff.AccountFacts]()},
	{varDeal, reflect.TypeFor[handoff.DealFacts]()},
	{varConversation, reflect.TypeFor[handoff.ConversationFacts]()},
	{varAgent, reflect.TypeFor[handoff.AgentFacts]()},
	{varSignals, reflect.TypeFor[handoff.Signals]()},
	{varHistory, reflect.TypeFor[handoff.HistoryFacts]()},
}

// newEnv builds the CEL environment every condition is checked against.
// The object types come from the Go structs (ext.NativeTypes with the `cel`
// tags as field names), so type checking follows the root package. At run
// time field reads go through ctxProvider's typed getters instead of
// NativeTypes' reflection.
func newEnv() (*cel.Env, *ctxProvider, error) {
	nativeArgs := []any{ext.ParseStructTags(true)}
	opts := []cel.EnvOption{cel.CrossTypeNumericComparisons(true), ext.Strings()}
	for _, v := range contextVars {
		nativeArgs = append(nativeArgs, v.typ)
		opts = append(opts, cel.Variable(v.name, cel.ObjectType(celTypeName(v.typ))))
	}
	opts = append(opts,
		ext.NativeTypes(nativeArgs...),
		cel.Variable(varScore, cel.DoubleType),
		cel.Variable(varThresholds, cel.MapType(cel.StringType, cel.DoubleType)),
		cel.Variable(varWorkflow, cel.StringType),
	)
	env, err := cel.NewEnv(opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("build CEL environment: %w", err)
	}
	prov, err := newCtxProvider(env.CELTypeProvider())
	if err != nil {
		return nil, nil, err
	}
	env, err = env.Extend(cel.CustomTypeProvider(prov))
	if err != nil {
		return nil, nil, fmt.Errorf("build CEL environment: %w", err)
	}
	return env, prov, nil
}

func celTypeName(t reflect.Type) string { return "handoff." + t.Name() }

// evalState is what one Decide evaluates against. The activation hands each
// context variable to CEL as a pointer to it, converted to a per-variable
// type so field getters know which struct is meant; nothing is copied or
// adapted per variable.
type evalState struct {
	c        handoff.Context
	fields   []ref.Val // values of the fields the conditions read, by slot
	vals     []any     // the trace's value of each Ladder.paths entry, read once
	score    ref.Val
	thresh   ref.Val
	workflow ref.Val
}

type (
	eventObj        evalState
	contactObj      evalState
	accountObj      evalState
	dealObj         evalState
	conversationObj evalState
	agentObj        evalState
	signalsObj      evalState
	historyObj      evalState
)

func asState(obj any) *evalState {
	switch o := obj.(type) {
	case *eventObj:
		return (*evalState)(o)
	case *contactObj:
		return (*evalState)(o)
	case *accountObj:
		return (*evalState)(o)
	case *dealObj:
		return (*evalState)(o)
	case *conversationObj:
		return (*evalState)(o)
	case *agentObj:
		return (*evalState)(o)
	case *signalsObj:
		return (*evalState)(o)
	case *historyObj:
		return (*evalState)(o)
	}
	return nil
}

// refValList converts the strings once, so that `x in list` compares
// without converting each element on every test.
func refValList(s []string) ref.Val {
	vals := make([]ref.Val, len(s))
	for i, x := range s {
		vals[i] = types.String(x)
	}
	return types.NewRefValList(types.DefaultTypeAdapter, vals)
}

// thresholdsValue builds the thresholds map once per workflow, with CEL
// keys and values so lookups convert nothing.
func thresholdsValue(th map[string]float64) ref.Val {
	m := make(map[ref.Val]ref.Val, len(th))
	for k, v := range th {
		m[types.String(k)] = types.Double(v)
	}
	return types.NewRefValMap(types.DefaultTypeAdapter, m)
}

// getState takes a scratch evalState from the ladder's pool and fills it
// for one decision. An evalState is scratch only: nothing a Decision holds
// points into it (values read from it are copies of the caller's context
// fields), so putState can clear and reuse it.
func (l *Ladder) getState(in *handoff.Context) *evalState {
	st, _ := l.states.Get().(*evalState)
	if st == nil || len(st.fields) != l.slots || len(st.vals) != len(l.paths) {
		st = &evalState{fields: make([]ref.Val, l.slots), vals: make([]any, len(l.paths))}
	}
	st.c = *in
	return st
}

func (l *Ladder) initState(st *evalState, wf *workflow) {
	st.thresh, st.workflow = wf.thresholdsVal, wf.idVal
	st.score = types.Double(st.c.Score)
}

// putState clears the state (so the pool keeps nothing of the context
// alive) and returns it to the pool.
func (l *Ladder) putState(st *evalState) {
	st.c = handoff.Context{}
	clear(st.fields)
	clear(st.vals)
	st.score, st.thresh, st.workflow = nil, nil, nil
	l.states.Put(st)
}

// ResolveName implements interpreter.Activation.
func (st *evalState) ResolveName(name string) (any, bool) {
	switch name {
	case varEvent:
		return (*eventObj)(st), true
	case varContact:
		return (*contactObj)(st), true
	case varAccount:
		return (*accountObj)(st), true
	case varDeal:
		return (*dealObj)(st), true
	case varConversation:
		return (*conversationObj)(st), true
	case varAgent:
		return (*agentObj)(st), true
	case varSignals:
		return (*signalsObj)(st), true
	case varHistory:
		return (*historyObj)(st), true
	case varScore:
		return st.score, true
	case varThresholds:
		return st.thresh, true
	case varWorkflow:
		return st.workflow, true
	}
	return nil, false
}

// Parent implements interpreter.Activation.
func (st *evalState) Parent() interpreter.Activation { return nil }

// ctxProvider is the NativeTypes provider with the context's field reads
// replaced by the typed getters. Each field a condition uses gets a slot in
// evalState.fields when the conditions are compiled.
type ctxProvider struct {
	types.Provider
	specs map[string]fieldSpec // "handoff.AccountFacts.tier"

	mu     sync.Mutex // compile time only; guards fields and slots
	fields map[string]*types.FieldType
	slots  int
}

type fieldSpec struct {
	base *types.FieldType // NativeTypes' own, for anything that is not ours
	get  func(*handoff.Context) ref.Val
}

func newCtxProvider(base types.Provider) (*ctxProvider, error) {
	p := &ctxProvider{Provider: base, specs: map[string]fieldSpec{}, fields: map[string]*types.FieldType{}}
	for _, v := range contextVars {
		tn := celTypeName(v.typ)
		names, ok := base.FindStructFieldNames(tn)
		if !ok {
			return nil, fmt.Errorf("build CEL environment: no type %s", tn)
		}
		for _, f := range names {
			bt, _ := base.FindStructFieldType(tn, f)
			path := v.name + "." + f
			get, ok := getters[path]
			if !ok {
				return nil, fmt.Errorf("build CEL environment: no getter for %s", path)
			}
			switch path {
			case "signals.topics": // a list of CEL strings: `in` converts nothing
				get = func(c *handoff.Context) ref.Val { return refValList(c.Signals.Topics) }
			case "signals.negated":
				get = func(c *handoff.Context) ref.Val { return refValList(c.Signals.Negated) }
			}
			p.specs[tn+"."+f] = fieldSpec{base: bt, get: get}
		}
	}
	return p, nil
}

// FindStructFieldType implements types.Provider.
func (p *ctxProvider) FindStructFieldType(structType, fieldName string) (*types.FieldType, bool) {
	key := structType + "." + fieldName
	spec, ok := p.specs[key]
	if !ok {
		return p.Provider.FindStructFieldType(structType, fieldName)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if ft, ok := p.fields[key]; ok {
		return ft, true
	}
	slot, bt, get := p.slots, spec.base, spec.get
	p.slots++
	ft := &types.FieldType{
		Type: bt.Type,
		IsSet: func(obj any) bool {
			st := asState(obj)
			if st == nil {
				return bt.IsSet(obj)
			}
			z, ok := st.field(slot, get).(traits.Zeroer)
			return !ok || !z.IsZeroValue()
		},
		GetFrom: func(obj any) (any, error) {
			st := asState(obj)
			if st == nil {
				return bt.GetFrom(obj)
			}
			return st.field(slot, get), nil
		},
	}
	p.fields[key] = ft
	return ft, true
}

// slotCount is the number of field slots the compiled conditions use.
func (p *ctxProvider) slotCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.slots
}

// field reads a context field once per Decide; conditions that test the
// same field share the CEL value.
func (st *evalState) field(slot int, get func(*handoff.Context) ref.Val) ref.Val {
	if slot >= len(st.fields) { // a field first planned after load (not expected)
		return get(&st.c)
	}
	if v := st.fields[slot]; v != nil {
		return v
	}
	v := get(&st.c)
	st.fields[slot] = v
	return v
}

// reads walks a checked condition and returns the context paths it reads
// ("account.tier", "signals.topics", "thresholds.min_confidence", "score"),
// sorted and deduplicated, plus the string literals tested for membership
// in signals.topics / signals.negated (to catch unknown topic ids).
func reads(a *cel.Ast) (paths []string, topicLits []string, enumLits []enumLit) {
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			paths = append(paths, p)
		}
	}
	var walk func(e ast.Expr)
	walk = func(e ast.Expr) {
		switch e.Kind() {
		case ast.IdentKind:
			add(e.AsIdent())
		case ast.SelectKind:
			if p, ok := selectPath(e); ok {
				add(p)
				return
			}
			walk(e.AsSelect().Operand())
		case ast.CallKind:
			call := e.AsCall()
			enumLits = append(enumLits, enumComparisons(call)...)
			if call.FunctionName() == "@in" && len(call.Args()) == 2 {
				lhs, rhs := call.Args()[0], call.Args()[1]
				if p, ok := selectPath(rhs); ok && (p == "signals.topics" || p == "signals.negated") && lhs.Kind() == ast.LiteralKind {
					if s, ok := lhs.AsLiteral().(types.String); ok {
						topicLits = append(topicLits, string(s))
					}
				}
			}
			if call.IsMemberFunction() {
				walk(call.Target())
			}
			for _, arg := range call.Args() {
				walk(arg)
			}
		case ast.ListKind:
			for _, el := range e.AsList().Elements() {
				walk(el)
			}
		case ast.MapKind:
			for _, en := range e.AsMap().Entries() {
				me := en.AsMapEntry()
				walk(me.Key())
				walk(me.Value())
			}
		case ast.StructKind:
			for _, f := range e.AsStruct().Fields() {
				walk(f.AsStructField().Value())
			}
		case ast.ComprehensionKind:
			comp := e.AsComprehension()
			walk(comp.IterRange())
			// The loop body refers to iteration variables, not the
			// context; the range is what the condition read.
		}
	}
	walk(a.NativeRep().Expr())
	// Comprehension variables and macros' accumulators are not context.
	out := paths[:0]
	for _, p := range paths {
		root, _, _ := strings.Cut(p, ".")
		if isContextVar(root) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out, topicLits, enumLits
}

// enumValues are the closed sets of values some context fields take; a
// condition comparing them with anything else has a typo.
var enumValues = map[string][]string{
	"event.kind":               kindNames(),
	"event.source":             {"hubspot", "salesforce", "marketo", "agent"},
	"account.tier":             {"tier_1", "tier_2", "tier_3", ""},
	"contact.seniority":        {"c_suite", "vp", "director", "manager", "individual", "student", ""},
	"conversation.owner_state": {handoff.OwnerAgent, handoff.OwnerPending, handoff.OwnerHuman, handoff.OwnerReleased},
}

func kindNames() []string {
	out := make([]string, len(handoff.Kinds))
	for i, k := range handoff.Kinds {
		out[i] = string(k)
	}
	return out
}

// enumLit is a string literal compared with an enumerated field.
type enumLit struct {
	path, value string
}

// enumComparisons finds `field == 'x'`, `field != 'x'` and
// `field in ['x', 'y']` on enumerated fields.
func enumComparisons(call ast.CallExpr) []enumLit {
	args := call.Args()
	if len(args) != 2 {
		return nil
	}
	lit := func(e ast.Expr) (string, bool) {
		if e.Kind() != ast.LiteralKind {
			return "", false
		}
		s, ok := e.AsLiteral().(types.String)
		return string(s), ok
	}
	var out []enumLit
	switch call.FunctionName() {
	case "_==_", "_!=_":
		for i := range 2 {
			if p, ok := selectPath(args[i]); ok && enumValues[p] != nil {
				if v, ok := lit(args[1-i]); ok {
					out = append(out, enumLit{p, v})
				}
			}
		}
	case "@in":
		if p, ok := selectPath(args[0]); ok && enumValues[p] != nil && args[1].Kind() == ast.ListKind {
			for _, el := range args[1].AsList().Elements() {
				if v, ok := lit(el); ok {
					out = append(out, enumLit{p, v})
				}
			}
		}
	}
	return out
}

// selectPath returns "var.field" for a select on a context variable.
func selectPath(e ast.Expr) (string, bool) {
	if e.Kind() != ast.SelectKind {
		return "", false
	}
	sel := e.AsSelect()
	op := sel.Operand()
	if op.Kind() != ast.IdentKind || !isContextVar(op.AsIdent()) {
		return "", false
	}
	return op.AsIdent() + "." + sel.FieldName(), true
}

func isContextVar(name string) bool {
	switch name {
	case varScore, varThresholds, varWorkflow:
		return true
	}
	for _, v := range contextVars {
		if v.name == name {
			return true
		}
	}
	return false
}
