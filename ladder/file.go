package ladder

import (
	"errors"
	"fmt"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// The raw shape of a ladder file. Everything that needs validating with a
// precise message (durations, actions, priorities) stays a string here and
// is checked by compile, which knows the line of every node.

type fileLadder struct {
	Version     string               `yaml:"version"`
	Description string               `yaml:"description"`
	Defaults    fileDefaults         `yaml:"defaults"`
	Score       *fileScore           `yaml:"score"`
	Thresholds  map[string]float64   `yaml:"thresholds"`
	Workflows   []fileWorkflow       `yaml:"workflows"`
	Topics      map[string]fileTopic `yaml:"topics"`
	Negations   []string             `yaml:"negations"`
	Human       *fileHuman           `yaml:"human_request"`
	Teams       map[string]fileTeam  `yaml:"teams"`
	Exceptions  []fileRung           `yaml:"exceptions"`
	Rungs       []fileRung           `yaml:"rungs"`
	Climb       []fileClimb          `yaml:"climb"`
	// Calendars are the named working-time calendars teams and routes
	// refer to (see calendars.go).
	Calendars map[string]fileCalendar `yaml:"calendars"`
	// Owners are per-owner facts keyed by email: a time zone and away
	// periods (see owners.go).
	Owners map[string]fileOwner `yaml:"owners"`

	topicOrder    []string // topic ids in file order
	teamOrder     []string // team ids in file order
	calendarOrder []string // calendar names in file order
	ownerOrder    []string // owner emails in file order
}

type fileDefaults struct {
	SLA      string      `yaml:"sla"`
	Priority string      `yaml:"priority"`
	Route    *fileRoute  `yaml:"route"`
	Required []string    `yaml:"required"`
	Goal     string      `yaml:"goal"`
	Climb    []fileClimb `yaml:"climb"`
	Calendar string      `yaml:"calendar"` // for routes whose team (or route) names none
}

type fileScore struct {
	Weights    map[string]float64 `yaml:"weights"`
	TierValue  map[string]float64 `yaml:"tier_value"`
	AmountCap  float64            `yaml:"amount_cap"`
	StallTurns float64            `yaml:"stall_turns"`
	RiskValue  map[string]float64 `yaml:"risk_value"`
}

type fileWorkflow struct {
	ID         string             `yaml:"id"`
	Source     []string           `yaml:"source"`
	Channel    []string           `yaml:"channel"`
	Kind       []string           `yaml:"kind"`
	Thresholds map[string]float64 `yaml:"thresholds"`
}

type fileTopic struct {
	Phrases  []string `yaml:"phrases"`
	Mentions []string `yaml:"mentions"`
	NotWith  []string `yaml:"not_with"`
	Builtin  *bool    `yaml:"builtin"`
	Risk     string   `yaml:"risk"`
	Negation *bool    `yaml:"negation"`
}

type fileHuman struct {
	Phrases []string `yaml:"phrases"`
}

type fileTeam struct {
	Owners   []string `yaml:"owners"`
	Strategy string   `yaml:"strategy"`
	Calendar string   `yaml:"calendar"`
	Capacity *int     `yaml:"capacity"`  // open handoffs per member
	CatchAll string   `yaml:"catch_all"` // who gets the task when the route chain is exhausted
	// Weights: a member's share of the round robin (default 1).
	Weights map[string]int `yaml:"weights"`
	// Notify: chat webhooks told of the team's handoffs (see notify.go).
	Notify []string `yaml:"notify"`
}

type fileRoute struct {
	To       string     `yaml:"to"`
	Team     string     `yaml:"team"`
	Owner    string     `yaml:"owner"`
	Fallback *fileRoute `yaml:"fallback"`
	Calendar string     `yaml:"calendar"`
}

type fileClimb struct {
	After    string     `yaml:"after"`
	Do       string     `yaml:"do"`
	To       *fileRoute `yaml:"to"`
	Priority string     `yaml:"priority"`
	// ExcludeLast: a reassign skips the task's last N owners (default 1).
	ExcludeLast *int `yaml:"exclude_last"`
	// MaxReassignments: a reassign is skipped once the handoff has been
	// reassigned this many times (by any step).
	MaxReassignments *int `yaml:"max_reassignments"`
}

type fileRung struct {
	ID          string      `yaml:"id"`
	Description string      `yaml:"description"`
	When        string      `yaml:"when"`
	Action      string      `yaml:"action"`
	Workflows   []string    `yaml:"workflows"`
	Route       *fileRoute  `yaml:"route"`
	SLA         string      `yaml:"sla"`
	Priority    string      `yaml:"priority"`
	Constraints []string    `yaml:"constraints"`
	NextSteps   []string    `yaml:"next_steps"`
	Required    []string    `yaml:"required"`
	Goal        string      `yaml:"goal"`
	Climb       []fileClimb `yaml:"climb"`
	// SecondReview: when this matches but another rung or exception wins,
	// the decision names it as a second reviewer (Decision.AlsoNeeds).
	SecondReview bool `yaml:"second_review"`
	// SLAClock: "working" (the default when the route has a calendar) or
	// "wall".
	SLAClock string `yaml:"sla_clock"`
}

// source is a parsed ladder file with a way to find the line of any path.
type source struct {
	name string
	file *ast.File
}

// line returns the line of the node at a YAML path such as
// "$.rungs[2].when", falling back to its parents when the node is absent.
func (s *source) line(path string) int {
	for path != "" && path != "$" {
		if n := s.node(path); n != nil {
			return n.GetToken().Position.Line
		}
		i := strings.LastIndexAny(path, ".[")
		if i <= 0 {
			break
		}
		path = path[:i]
	}
	return 1
}

// node returns the node at a YAML path, or nil.
func (s *source) node(path string) ast.Node {
	if s.file == nil {
		return nil
	}
	p, err := yaml.PathString(path)
	if err != nil {
		return nil
	}
	n, err := p.FilterFile(s.file)
	if err != nil || n == nil {
		return nil
	}
	return n
}

// valueStart returns the line where the text of a scalar value begins:
// for a block scalar ("|" or ">") that is the line after the indicator.
func (s *source) valueStart(path string) int {
	n := s.node(path)
	if n == nil {
		return s.line(path)
	}
	tk := n.GetToken()
	if _, ok := n.(*ast.LiteralNode); ok {
		return tk.Position.Line + 1
	}
	return tk.Position.Line
}

// decodeFile parses and strictly decodes a ladder file. YAML syntax errors,
// unknown fields, duplicate keys and type mismatches come back as one
// LintError with the line the YAML library reported.
func decodeFile(name string, data []byte) (*fileLadder, *source, error) {
	src := &source{name: name}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, src, LintErrors{yamlLintError(name, err)}
	}
	src.file = f
	var fl fileLadder
	if err := yaml.UnmarshalWithOptions(data, &fl, yaml.Strict()); err != nil {
		return nil, src, LintErrors{yamlLintError(name, err)}
	}
	fl.topicOrder = mapKeysInOrder(src, "$.topics")
	fl.teamOrder = mapKeysInOrder(src, "$.teams")
	fl.calendarOrder = mapKeysInOrder(src, "$.calendars")
	fl.ownerOrder = mapKeysInOrder(src, "$.owners")
	return &fl, src, nil
}

func yamlLintError(name string, err error) LintError {
	var ye yaml.Error
	if errors.As(err, &ye) {
		line := 0
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			line = tk.Position.Line
		}
		msg := ye.GetMessage()
		msg = strings.TrimPrefix(msg, "unknown field ")
		if msg != ye.GetMessage() {
			msg = "unknown field " + msg
		}
		return LintError{File: name, Line: line, Msg: msg}
	}
	return LintError{File: name, Line: 1, Msg: err.Error()}
}

// mapKeysInOrder lists the keys of the mapping at path in file order, so
// that error messages and Signals are deterministic.
func mapKeysInOrder(src *source, path string) []string {
	n := src.node(path)
	m, ok := n.(*ast.MappingNode)
	if !ok {
		return nil
	}
	keys := make([]string, 0, len(m.Values))
	for _, v := range m.Values {
		if sn, ok := v.Key.(*ast.StringNode); ok {
			keys = append(keys, sn.Value) // "key" or 'key': the key as decoded
			continue
		}
		keys = append(keys, v.Key.String())
	}
	return keys
}

func pathf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
