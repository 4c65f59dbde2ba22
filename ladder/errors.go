package ladder

import (
	"fmt"
	"sort"
	"strings"
)

// LintError is one problem found in a ladder file. Kind is "rung",
// "exception", "topic", "team", "workflow", "climb" or "" for file-level
// problems; ID names the rung, exception, topic, team or workflow.
type LintError struct {
	File string
	Line int
	Kind string
	ID   string
	Msg  string
}

func (e LintError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.ID != "" {
		kind := e.Kind
		if kind == "" {
			kind = "rung"
		}
		fmt.Fprintf(&b, "%s %q: ", kind, e.ID)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// LintErrors is the list of problems Parse found. Its Error prints one
// "file:line: rung \"id\": msg" line per problem, sorted by line.
type LintErrors []LintError

func (es LintErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

func (es LintErrors) sorted() LintErrors {
	sort.SliceStable(es, func(i, j int) bool { return es[i].Line < es[j].Line })
	return es
}
