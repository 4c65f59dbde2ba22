package ladder

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

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
func newEnv() (*cel.Env, error) {
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
		return nil, fmt.Errorf("build CEL environment: %w", err)
	}
	prov, err := newCtxProvider(env.CELTypeProvider())
	if err != nil {
		return nil, err
	}
	env, err = env.Extend(cel.CustomTypeProvider(prov))
	if err != nil {
		return nil, fmt.Errorf("build CEL environment: %w", err)
	}
	return env, nil
}

func celTypeName(t reflect.Type) string { return "handoff." + t.Name() }

// evalState is what one Decide evaluates against. The activation hands each
// context variable to CEL as a pointer to it, converted to a per-variable
// type so field getters know which struct is meant; nothing is copied or
// adapted per variable.
type evalState struct {
	c        handoff.Context
	topics   ref.Val // signals.topics, built once
	negated  ref.Val
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

func (l *Ladder) newState(c *handoff.Context, wf *workflow) *evalState {
	st := &evalState{c: *c, thresh: wf.thresholdsVal, workflow: types.String(wf.id)}
	st.score = types.Double(st.c.Score)
	st.topics = refValList(st.c.Signals.Topics)
	st.negated = refValList(st.c.Signals.Negated)
	return st
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
// replaced by the typed getters.
type ctxProvider struct {
	types.Provider
	fields map[string]*types.FieldType // "handoff.AccountFacts.tier"
}

func newCtxProvider(base types.Provider) (*ctxProvider, error) {
	p := &ctxProvider{Provider: base, fields: map[string]*types.FieldType{}}
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
			case "signals.topics":
				get = func(*handoff.Context) ref.Val { return nil } // served from evalState
			case "signals.negated":
				get = func(*handoff.Context) ref.Val { return nil }
			}
			p.fields[tn+"."+f] = &types.FieldType{
				Type: bt.Type,
				IsSet: func(obj any) bool {
					st := asState(obj)
					if st == nil {
						return bt.IsSet(obj)
					}
					z, ok := fieldValue(st, path, get).(traits.Zeroer)
					return !ok || !z.IsZeroValue()
				},
				GetFrom: func(obj any) (any, error) {
					st := asState(obj)
					if st == nil {
						return bt.GetFrom(obj)
					}
					return fieldValue(st, path, get), nil
				},
			}
		}
	}
	return p, nil
}

func fieldValue(st *evalState, path string, get func(*handoff.Context) ref.Val) ref.Val {
	switch path {
	case "signals.topics":
		return st.topics
	case "signals.negated":
		return st.negated
	}
	return get(&st.c)
}

// FindStructFieldType implements types.Provider.
func (p *ctxProvider) FindStructFieldType(structType, fieldName string) (*types.FieldType, bool) {
	if ft, ok := p.fields[structType+"."+fieldName]; ok {
		return ft, true
	}
	return p.Provider.FindStructFieldType(structType, fieldName)
}

// reads walks a checked condition and returns the context paths it reads
// ("account.tier", "signals.topics", "thresholds.min_confidence", "score"),
// sorted and deduplicated, plus the string literals tested for membership
// in signals.topics / signals.negated (to catch unknown topic ids).
func reads(a *cel.Ast) (paths []string, topicLits []string) {
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
	return out, topicLits
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
