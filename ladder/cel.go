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
func newEnv() (*cel.Env, error) {
	nativeArgs := []any{ext.ParseStructTags(true)}
	opts := []cel.EnvOption{cel.CrossTypeNumericComparisons(true), ext.Strings()}
	for _, v := range contextVars {
		nativeArgs = append(nativeArgs, v.typ)
		opts = append(opts, cel.Variable(v.name, cel.ObjectType("handoff."+v.typ.Name())))
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
	return env, nil
}

// activation resolves the condition variables for one Decide. The struct
// values are adapted once per Decide and shared by every program.
type activation struct {
	vals       [8]ref.Val
	score      ref.Val
	thresholds ref.Val
	workflow   ref.Val
}

func (l *Ladder) newActivation(c *handoff.Context, wf *workflow) *activation {
	a := l.adapter
	return &activation{
		vals: [8]ref.Val{
			a.NativeToValue(&c.Event), a.NativeToValue(&c.Contact), a.NativeToValue(&c.Account),
			a.NativeToValue(&c.Deal), a.NativeToValue(&c.Conversation), a.NativeToValue(&c.Agent),
			a.NativeToValue(&c.Signals), a.NativeToValue(&c.History),
		},
		score:      types.Double(c.Score),
		thresholds: wf.thresholdsVal,
		workflow:   types.String(wf.id),
	}
}

func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case varEvent:
		return a.vals[0], true
	case varContact:
		return a.vals[1], true
	case varAccount:
		return a.vals[2], true
	case varDeal:
		return a.vals[3], true
	case varConversation:
		return a.vals[4], true
	case varAgent:
		return a.vals[5], true
	case varSignals:
		return a.vals[6], true
	case varHistory:
		return a.vals[7], true
	case varScore:
		return a.score, true
	case varThresholds:
		return a.thresholds, true
	case varWorkflow:
		return a.workflow, true
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }

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
