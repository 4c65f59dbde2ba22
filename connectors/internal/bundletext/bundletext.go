// Package bundletext turns a handoff's context bundle into the sections of
// a CRM task body, in the contract's order (docs/architecture.md), and
// writes them as plain text (Salesforce Description, Marketo's task token)
// or as HTML (HubSpot hs_task_body). The connectors choose only what is
// theirs: how a timeline line and the account snapshot read, and the plain
// text's length limits and cleaning.
package bundletext

import (
	"fmt"
	"html"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/handoff-dev/handoff"
)

// Section titles, in the contract's order. Plain text writes them in
// capitals.
const (
	Goal        = "Goal"
	Summary     = "Summary"
	Timeline    = "What the buyer did"
	Asked       = "What they asked"
	Replied     = "What the agent replied"
	Why         = "Why it escalated"
	Transcript  = "Transcript"
	Sources     = "Cited sources"
	Constraints = "Constraints"
	NextSteps   = "Next steps"
	Snapshot    = "Account and deal"
	// Reasons titles the reasons inside the why section (plain text).
	Reasons = "Reasons"
)

// Kind is how a section's content is laid out.
type Kind uint8

// Section kinds.
const (
	Para     Kind = iota // free text
	Quote                // the buyer's or the agent's words
	Bullets              // a list
	Numbered             // an ordered list
	Links                // URLs (the transcript: one)
	Fields               // "label: value" lines
)

// Field is one "label: value" line.
type Field struct{ Label, Value string }

// Section is one part of the task body.
type Section struct {
	Title  string
	Kind   Kind
	Text   string   // Para, Quote
	Items  []string // Bullets, Numbered, Links
	Fields []Field  // Fields
}

// Style is what a CRM renders its own way.
type Style struct {
	// TimelineLine is one line of "what the buyer did".
	TimelineLine func(handoff.HistoryItem) string
	// Snapshot is the account-and-deal lines.
	Snapshot func(handoff.Bundle) []Field
}

// Sections lists a bundle's sections in the contract's order. Empty ones
// are included; the writers leave out what is empty.
func Sections(b handoff.Bundle, st Style) []Section {
	var tl []string
	for _, h := range b.Timeline {
		tl = append(tl, st.TimelineLine(h))
	}
	var transcript []string
	if b.TranscriptURL != "" {
		transcript = []string{b.TranscriptURL}
	}
	return []Section{
		{Title: Goal, Kind: Para, Text: b.Goal},
		{Title: Summary, Kind: Para, Text: b.Summary},
		{Title: Timeline, Kind: Bullets, Items: tl},
		{Title: Asked, Kind: Quote, Text: b.BuyerAsked},
		{Title: Replied, Kind: Quote, Text: b.AgentReplied},
		{Title: Why, Kind: Fields, Fields: WhyFields(b.Why)},
		{Title: Transcript, Kind: Links, Items: transcript},
		{Title: Sources, Kind: Links, Items: b.Sources},
		{Title: Constraints, Kind: Bullets, Items: b.Constraints},
		{Title: NextSteps, Kind: Numbered, Items: b.NextSteps},
		{Title: Snapshot, Kind: Fields, Fields: st.Snapshot(b)},
	}
}

// Labels of the why section.
const (
	LabelAction    = "Action"
	LabelRung      = "Rung"
	LabelException = "Exception"
	LabelReason    = "Reason"
	LabelAlsoNeeds = "Also needs"
	LabelVersion   = "Ladder version"
	LabelScore     = "Score"
)

// WhyFields are the lines of the why section: the action, the rung (or
// exception), each reason, each second reviewer ("Also needs: …"), the
// ladder version and the score.
func WhyFields(y handoff.Why) []Field {
	kind := LabelRung
	if y.IsException {
		kind = LabelException
	}
	f := []Field{{LabelAction, string(y.Action)}, {kind, y.Rung}}
	for _, r := range y.Reasons {
		f = append(f, Field{LabelReason, r})
	}
	for _, a := range y.AlsoNeeds {
		f = append(f, Field{LabelAlsoNeeds, a})
	}
	return append(f, Field{LabelVersion, y.LadderVersion}, Field{LabelScore, strconv.FormatFloat(y.Score, 'f', 2, 64)})
}

// TimelineLine is "<time> <source> <kind> (<channel>)<before><summary>",
// sep between the first three, the channel and summary only when set.
func TimelineLine(h handoff.HistoryItem, sep, before, summary string) string {
	line := h.At.UTC().Format("2006-01-02 15:04 UTC") + sep + string(h.Source) + sep + string(h.Kind)
	if h.Channel != "" {
		line += " (" + h.Channel + ")"
	}
	if summary != "" {
		line += before + summary
	}
	return line
}

// TextOf renders a bundle (and its handoff id) as plain text.
func TextOf(b handoff.Bundle, handoffID string, st Style, ts TextStyle) string {
	return Text(Sections(b, st), footer(b, handoffID), ts)
}

// HTMLOf renders a bundle (and its handoff id, after marker) as HTML.
func HTMLOf(b handoff.Bundle, handoffID string, st Style, marker string) string {
	return HTML(Sections(b, st), footer(b, handoffID), marker)
}

func footer(b handoff.Bundle, handoffID string) Footer {
	return Footer{Missing: b.Missing, Completeness: b.Completeness, HandoffID: handoffID}
}

// Footer is what follows the sections and survives truncation: the
// missing required fields and the handoff id.
type Footer struct {
	Missing      []string
	Completeness float64
	HandoffID    string
}

// Percent is a fraction as a whole percentage.
func Percent(f float64) int { return int(f*100 + 0.5) }

// ---- plain text ----

// Limit bounds one section's list in plain text: at most Items entries
// (then "(+N more)"), each at most Each UTF-16 code units. Zero: no bound.
type Limit struct{ Items, Each int }

// TextStyle is how a CRM's plain text is cleaned and bounded.
type TextStyle struct {
	// InlineGoal writes "GOAL: …" on one line instead of a section.
	InlineGoal bool
	// Para prepares the text of a Para, Quote or Links section, by title.
	Para func(title, s string) string
	// Item prepares one list item or field value; "" drops an item.
	Item func(s string) string
	// Limits bound lists, by section title (Reasons for the why section's).
	Limits map[string]Limit
	// Section is applied to each finished section text (may be nil).
	Section func(s string) string
	// Max is the longest body in UTF-16 code units; the sections are cut
	// (ending with Mark) so that the footer always fits.
	Max  int
	Mark string
	// Trim drops the final newline.
	Trim bool
}

// Text writes sections and footer as plain text: "TITLE\ntext" blocks
// separated by a blank line, then the footer lines.
func Text(secs []Section, foot Footer, st TextStyle) string {
	var parts []string
	for _, s := range secs {
		text := st.section(s)
		if st.Section != nil {
			text = st.Section(text)
		}
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		if s.Title == Goal && st.InlineGoal {
			parts = append(parts, "GOAL: "+text+"\n")
			continue
		}
		parts = append(parts, strings.ToUpper(s.Title)+"\n"+text+"\n")
	}
	var tail strings.Builder
	if len(foot.Missing) > 0 {
		missing := strings.Join(foot.Missing, ", ")
		if l := st.Limits["Missing"]; l.Each > 0 {
			missing = Truncate(st.Item(missing), l.Each, "…")
		}
		fmt.Fprintf(&tail, "\nMissing context: %s (completeness %d%%)\n", missing, Percent(foot.Completeness))
	}
	if foot.HandoffID != "" {
		fmt.Fprintf(&tail, "\nHandoff ID: %s\n", st.Item(foot.HandoffID))
	}
	body, end := strings.Join(parts, "\n"), tail.String()
	if st.Trim {
		body, end = body+"\n", strings.TrimPrefix(end, "\n")
	}
	out := Truncate(body, st.Max-Len16(end), st.Mark) + end
	if st.Trim {
		return strings.TrimRight(out, "\n")
	}
	return out
}

func (st TextStyle) section(s Section) string {
	switch s.Kind {
	case Para, Quote:
		return st.Para(s.Title, s.Text)
	case Links:
		if s.Title == Transcript {
			return st.Para(s.Title, strings.Join(s.Items, " "))
		}
		return st.list(s.Title, s.Items, false)
	case Bullets, Numbered:
		return st.list(s.Title, s.Items, s.Kind == Numbered)
	}
	if s.Title == Why {
		return st.why(s.Fields)
	}
	var w strings.Builder
	for _, f := range s.Fields {
		w.WriteString(strings.TrimSpace(f.Label+": "+f.Value) + "\n")
	}
	return w.String()
}

func (st TextStyle) list(title string, items []string, numbered bool) string {
	lim := st.Limits[title]
	var l strings.Builder
	n := 0
	for _, it := range items {
		it = st.Item(it)
		if it == "" {
			continue
		}
		if lim.Items > 0 && n == lim.Items {
			fmt.Fprintf(&l, "(+%d more)\n", len(items)-lim.Items)
			break
		}
		n++
		if numbered {
			l.WriteString(strconv.Itoa(n) + ". ")
		} else {
			l.WriteString("- ")
		}
		if lim.Each > 0 {
			it = Truncate(it, lim.Each, "…")
		}
		l.WriteString(it + "\n")
	}
	return l.String()
}

// why writes the why fields with a value, the reasons as a list; the score
// only when something else was written.
func (st TextStyle) why(fields []Field) string {
	var w strings.Builder
	var reasons []string
	flush := func() {
		if r := st.list(Reasons, reasons, false); r != "" {
			w.WriteString(Reasons + ":\n" + r)
		}
		reasons = nil
	}
	for _, f := range fields {
		if f.Label == LabelReason {
			reasons = append(reasons, f.Value)
			continue
		}
		flush()
		v := f.Value
		if f.Label != LabelAction {
			v = st.Item(v)
		}
		if v == "" || (f.Label == LabelScore && w.Len() == 0) {
			continue
		}
		w.WriteString(f.Label + ": " + v + "\n")
	}
	flush()
	return w.String()
}

// Len16 is the length of s in UTF-16 code units, as Salesforce counts.
func Len16(s string) int {
	n := 0
	for _, r := range s {
		if l := utf16.RuneLen(r); l > 0 {
			n += l
		} else {
			n++
		}
	}
	return n
}

// Truncate shortens s to at most max UTF-16 code units, cutting on a rune
// boundary and ending with suffix when it had to cut.
func Truncate(s string, max int, suffix string) string {
	if Len16(s) <= max {
		return s
	}
	room := max - Len16(suffix)
	if room < 0 {
		room, suffix = max, ""
	}
	n := 0
	for i, r := range s {
		l := Len16(string(r))
		if n+l > room {
			return s[:i] + suffix
		}
		n += l
	}
	return s
}

// ---- HTML ----

// HTML writes sections and footer as HTML, every value escaped: a heading
// per section, paragraphs with <br> line breaks, lists, block quotes, and
// http(s) links. The why and snapshot sections are always written.
// marker prefixes the handoff id line.
func HTML(secs []Section, foot Footer, marker string) string {
	var w strings.Builder
	heading := func(s string) { w.WriteString(HTMLSection(s, "")) }
	list := func(items []string) {
		if len(items) == 0 {
			return
		}
		w.WriteString("<ul>\n")
		for _, it := range items {
			w.WriteString("<li>" + it + "</li>\n")
		}
		w.WriteString("</ul>\n")
	}
	for _, s := range secs {
		switch s.Kind {
		case Para, Quote:
			if s.Text == "" {
				continue
			}
			heading(s.Title)
			if s.Kind == Quote {
				w.WriteString("<blockquote>" + para(s.Text) + "</blockquote>\n")
			} else {
				w.WriteString(para(s.Text))
			}
		case Bullets, Links:
			if len(s.Items) == 0 {
				continue
			}
			heading(s.Title)
			var items []string
			for _, it := range s.Items {
				if s.Kind == Links {
					items = append(items, link(it))
				} else {
					items = append(items, esc(it))
				}
			}
			if s.Title == Transcript {
				w.WriteString("<p>" + strings.Join(items, " ") + "</p>\n")
				continue
			}
			list(items)
		case Numbered:
			if len(s.Items) == 0 {
				continue
			}
			heading(s.Title)
			w.WriteString("<ol>\n")
			for _, it := range s.Items {
				w.WriteString("<li>" + esc(it) + "</li>\n")
			}
			w.WriteString("</ol>\n")
		case Fields:
			heading(s.Title)
			var items []string
			for _, f := range s.Fields {
				items = append(items, "<strong>"+esc(f.Label)+":</strong> "+esc(f.Value))
			}
			list(items)
		}
	}
	if len(foot.Missing) > 0 {
		w.WriteString("<p><strong>Missing context:</strong> " + esc(strings.Join(foot.Missing, ", ")) + " (bundle " + strconv.FormatFloat(foot.Completeness*100, 'f', 0, 64) + "% complete)</p>\n")
	}
	if foot.HandoffID != "" {
		w.WriteString("<p>" + esc(marker+foot.HandoffID) + "</p>\n")
	}
	return w.String()
}

// HTMLSection is one free-text section as HTML: an escaped heading and
// the text's paragraph (none when the text is blank).
func HTMLSection(title, text string) string {
	return "<h3>" + esc(title) + "</h3>\n" + para(text)
}

func esc(s string) string { return html.EscapeString(s) }

// para is a paragraph with the text's line breaks ("" when blank).
func para(s string) string {
	if s = strings.TrimSpace(s); s == "" {
		return ""
	}
	lines := strings.Split(s, "\n")
	for i := range lines {
		lines[i] = esc(lines[i])
	}
	return "<p>" + strings.Join(lines, "<br>") + "</p>\n"
}

// link renders an http(s) URL as a link and anything else as text.
func link(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return esc(raw)
	}
	return `<a href="` + esc(u.String()) + `">` + esc(raw) + `</a>`
}
