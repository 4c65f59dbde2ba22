package ladder

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/handoff-dev/handoff"
)

// template is a next step or goal with {{path}} placeholders, e.g.
// "Call {{contact.name|the buyer}} about {{deal.name}}". The path is any
// context path a condition can read; the text after "|" is used when the
// value is empty. Placeholders are checked at load.
type template struct {
	parts []tmplPart
}

type tmplPart struct {
	lit  string
	get  func(*handoff.Context) any
	def  string
	path string
}

func (c *compiler) template(p, kind, id, s string) *template {
	if s == "" {
		return nil
	}
	t := &template{}
	rest := s
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if strings.Contains(rest, "}}") {
				c.errAt(p, kind, id, "template %q: unmatched }}", s)
			}
			t.parts = append(t.parts, tmplPart{lit: rest})
			break
		}
		if strings.Contains(rest[:i], "}}") {
			c.errAt(p, kind, id, "template %q: unmatched }}", s)
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			c.errAt(p, kind, id, "template %q: unclosed {{", s)
			return nil
		}
		inner := strings.TrimSpace(rest[i+2 : i+j])
		path, def, _ := strings.Cut(inner, "|")
		path = strings.TrimSpace(path)
		get, ok := accessors[path]
		if !ok {
			c.errAt(p, kind, id, "template %q: unknown field {{%s}}", s, path)
		}
		t.parts = append(t.parts, tmplPart{lit: rest[:i]}, tmplPart{get: get, def: strings.TrimSpace(def), path: path})
		rest = rest[i+j+2:]
	}
	return t
}

func (t *template) render(c *handoff.Context) string {
	if t == nil {
		return ""
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.get == nil {
			b.WriteString(p.lit)
			continue
		}
		s := formatValue(p.get(c))
		if s == "" {
			s = p.def
		}
		b.WriteString(s)
	}
	return b.String()
}

// formatValue renders a context value for templates and reasons.
func formatValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case []string:
		return "[" + strings.Join(x, ", ") + "]"
	default:
		return fmt.Sprint(x)
	}
}
