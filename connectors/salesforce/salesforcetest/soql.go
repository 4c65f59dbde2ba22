package salesforcetest

import (
	"fmt"
	"strconv"
	"strings"
)

// The fake understands this subset of SOQL, which covers what Handoff's
// client sends (and a little more):
//
//	SELECT field, Rel.field, (SELECT … FROM ChildRelationship [WHERE …]) FROM Object
//	  [WHERE cond [AND|OR cond]…] [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST]] [LIMIT n]
//
// cond is `path op literal` (=, !=, <, >, <=, >=, LIKE) or `path [NOT] IN (literal, …)`;
// literals are 'strings' (with SOQL backslash escapes), numbers, true,
// false, null and unquoted dates. AND binds tighter than OR; parentheses group.

type soqlError struct{ code, msg string }

func (e *soqlError) Error() string { return e.code + ": " + e.msg }

func malformed(format string, a ...any) error {
	return &soqlError{"MALFORMED_QUERY", fmt.Sprintf(format, a...)}
}

type tokKind int

const (
	tIdent tokKind = iota
	tString
	tNumber
	tPunct
	tEOF
)

type token struct {
	kind tokKind
	text string // identifier / punctuation / number text, or the unescaped string
	pos  int
}

func lex(q string) ([]token, error) {
	var out []token
	i := 0
	for i < len(q) {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '\'':
			start := i
			i++
			var b strings.Builder
			closed := false
			for i < len(q) {
				ch := q[i]
				if ch == '\\' {
					if i+1 >= len(q) {
						return nil, malformed("Invalid string literal at column %d", start+1)
					}
					switch e := q[i+1]; e {
					case '\'', '"', '\\':
						b.WriteByte(e)
					case 'n':
						b.WriteByte('\n')
					case 'r':
						b.WriteByte('\r')
					case 't':
						b.WriteByte('\t')
					case 'b':
						b.WriteByte('\b')
					case 'f':
						b.WriteByte('\f')
					case '_', '%':
						b.WriteByte('\\') // kept for LIKE
						b.WriteByte(e)
					default:
						return nil, malformed("Invalid string literal '\\%c' at column %d. Illegal character sequence '\\%c' in string literal.", e, i+1, e)
					}
					i += 2
					continue
				}
				if ch == '\'' {
					closed = true
					i++
					break
				}
				b.WriteByte(ch)
				i++
			}
			if !closed {
				return nil, malformed("unexpected end of string literal starting at column %d", start+1)
			}
			out = append(out, token{tString, b.String(), start})
		case c == '(' || c == ')' || c == ',':
			out = append(out, token{tPunct, string(c), i})
			i++
		case c == '=':
			out = append(out, token{tPunct, "=", i})
			i++
		case c == '!' || c == '<' || c == '>':
			if i+1 < len(q) && q[i+1] == '=' {
				out = append(out, token{tPunct, q[i : i+2], i})
				i += 2
			} else if c == '<' && i+1 < len(q) && q[i+1] == '>' {
				out = append(out, token{tPunct, "!=", i})
				i += 2
			} else if c == '!' {
				return nil, malformed("unexpected token: '!' at column %d", i+1)
			} else {
				out = append(out, token{tPunct, string(c), i})
				i++
			}
		case c == '-' || c == '.' || c >= '0' && c <= '9':
			start := i
			i++
			for i < len(q) && (q[i] >= '0' && q[i] <= '9' || q[i] == '.' || q[i] == '-' || q[i] == ':' || q[i] == 'T' || q[i] == 'Z' || q[i] == '+') {
				i++
			}
			out = append(out, token{tNumber, q[start:i], start})
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			start := i
			for i < len(q) && (q[i] == '_' || q[i] == '.' || q[i] >= 'a' && q[i] <= 'z' || q[i] >= 'A' && q[i] <= 'Z' || q[i] >= '0' && q[i] <= '9') {
				i++
			}
			out = append(out, token{tIdent, q[start:i], start})
		default:
			return nil, malformed("unexpected token: '%c' at column %d", c, i+1)
		}
	}
	out = append(out, token{tEOF, "", len(q)})
	return out, nil
}

type selectItem struct {
	path []string // field path
	sub  *query   // or a child-relationship sub-query
}

type query struct {
	fields  []selectItem
	from    string
	where   cond
	orderBy []string
	desc    bool
	limit   int // -1: none
}

// cond is a WHERE expression.
type cond interface{}

type cmpCond struct {
	path []string
	op   string // = != < > <= >= LIKE IN NOTIN
	vals []any
}

type boolCond struct {
	and         bool
	left, right cond
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token { t := p.toks[p.i]; p.i++; return t }

func (p *parser) isKw(kw string) bool {
	t := p.peek()
	return t.kind == tIdent && strings.EqualFold(t.text, kw)
}

func (p *parser) expectKw(kw string) error {
	if !p.isKw(kw) {
		t := p.peek()
		return malformed("unexpected token: '%s' at column %d, expected %s", t.text, t.pos+1, kw)
	}
	p.i++
	return nil
}

func (p *parser) expectPunct(s string) error {
	t := p.peek()
	if t.kind != tPunct || t.text != s {
		return malformed("unexpected token: '%s' at column %d, expected '%s'", t.text, t.pos+1, s)
	}
	p.i++
	return nil
}

func parseSOQL(q string) (*query, error) {
	toks, err := lex(q)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	qq, err := p.query()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, malformed("unexpected token: '%s' at column %d", t.text, t.pos+1)
	}
	return qq, nil
}

func (p *parser) query() (*query, error) {
	if err := p.expectKw("SELECT"); err != nil {
		return nil, err
	}
	q := &query{limit: -1}
	for {
		t := p.peek()
		switch {
		case t.kind == tPunct && t.text == "(":
			p.i++
			sub, err := p.query()
			if err != nil {
				return nil, err
			}
			if err := p.expectPunct(")"); err != nil {
				return nil, err
			}
			q.fields = append(q.fields, selectItem{sub: sub})
		case t.kind == tIdent && !strings.EqualFold(t.text, "FROM"):
			p.i++
			q.fields = append(q.fields, selectItem{path: strings.Split(t.text, ".")})
		default:
			return nil, malformed("unexpected token: '%s' at column %d", t.text, t.pos+1)
		}
		if t := p.peek(); t.kind == tPunct && t.text == "," {
			p.i++
			continue
		}
		break
	}
	if err := p.expectKw("FROM"); err != nil {
		return nil, err
	}
	t := p.next()
	if t.kind != tIdent || strings.Contains(t.text, ".") {
		return nil, malformed("unexpected token: '%s' at column %d, expected an object name", t.text, t.pos+1)
	}
	q.from = t.text
	if p.isKw("WHERE") {
		p.i++
		c, err := p.orCond()
		if err != nil {
			return nil, err
		}
		q.where = c
	}
	if p.isKw("ORDER") {
		p.i++
		if err := p.expectKw("BY"); err != nil {
			return nil, err
		}
		t := p.next()
		if t.kind != tIdent {
			return nil, malformed("unexpected token: '%s' at column %d, expected a field", t.text, t.pos+1)
		}
		q.orderBy = strings.Split(t.text, ".")
		if p.isKw("ASC") {
			p.i++
		} else if p.isKw("DESC") {
			p.i++
			q.desc = true
		}
		if p.isKw("NULLS") {
			p.i++
			if !p.isKw("FIRST") && !p.isKw("LAST") {
				return nil, malformed("expected FIRST or LAST after NULLS")
			}
			p.i++
		}
	}
	if p.isKw("LIMIT") {
		p.i++
		t := p.next()
		n, err := strconv.Atoi(t.text)
		if t.kind != tNumber || err != nil || n < 0 {
			return nil, malformed("unexpected token: '%s' at column %d, expected a LIMIT number", t.text, t.pos+1)
		}
		q.limit = n
	}
	return q, nil
}

func (p *parser) orCond() (cond, error) {
	l, err := p.andCond()
	if err != nil {
		return nil, err
	}
	for p.isKw("OR") {
		p.i++
		r, err := p.andCond()
		if err != nil {
			return nil, err
		}
		l = &boolCond{and: false, left: l, right: r}
	}
	return l, nil
}

func (p *parser) andCond() (cond, error) {
	l, err := p.term()
	if err != nil {
		return nil, err
	}
	for p.isKw("AND") {
		p.i++
		r, err := p.term()
		if err != nil {
			return nil, err
		}
		l = &boolCond{and: true, left: l, right: r}
	}
	return l, nil
}

func (p *parser) term() (cond, error) {
	t := p.next()
	if t.kind == tPunct && t.text == "(" {
		c, err := p.orCond()
		if err != nil {
			return nil, err
		}
		return c, p.expectPunct(")")
	}
	if t.kind != tIdent {
		return nil, malformed("unexpected token: '%s' at column %d, expected a field", t.text, t.pos+1)
	}
	c := &cmpCond{path: strings.Split(t.text, ".")}
	op := p.next()
	switch {
	case op.kind == tPunct && op.text != "(" && op.text != ")" && op.text != ",":
		c.op = op.text
	case op.kind == tIdent && strings.EqualFold(op.text, "LIKE"):
		c.op = "LIKE"
	case op.kind == tIdent && strings.EqualFold(op.text, "IN"):
		c.op = "IN"
	case op.kind == tIdent && strings.EqualFold(op.text, "NOT") && p.isKw("IN"):
		p.i++
		c.op = "NOTIN"
	default:
		return nil, malformed("unexpected token: '%s' at column %d, expected an operator", op.text, op.pos+1)
	}
	if c.op == "IN" || c.op == "NOTIN" {
		if err := p.expectPunct("("); err != nil {
			return nil, err
		}
		for {
			v, err := p.literal()
			if err != nil {
				return nil, err
			}
			c.vals = append(c.vals, v)
			if t := p.peek(); t.kind == tPunct && t.text == "," {
				p.i++
				continue
			}
			break
		}
		return c, p.expectPunct(")")
	}
	v, err := p.literal()
	if err != nil {
		return nil, err
	}
	c.vals = []any{v}
	return c, nil
}

func (p *parser) literal() (any, error) {
	t := p.next()
	switch t.kind {
	case tString:
		return t.text, nil
	case tNumber:
		if f, err := strconv.ParseFloat(t.text, 64); err == nil {
			return f, nil
		}
		return t.text, nil // a date or dateTime literal
	case tIdent:
		switch strings.ToLower(t.text) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
	}
	return nil, malformed("unexpected token: '%s' at column %d, expected a value", t.text, t.pos+1)
}
