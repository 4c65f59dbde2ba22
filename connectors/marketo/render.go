package marketo

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/internal/bundletext"
)

// Token is one program "My Token" passed to Request Campaign.
type Token struct {
	Name  string `json:"name"`  // "{{my.handoff_subject}}"
	Value string `json:"value"` // plain text
}

// TaskTokens is what RenderTask produces: the tokens, in a fixed order, that
// the requested campaign's "Create Task" flow step uses.
type TaskTokens []Token

// Get returns the value of the token named like "handoff_body".
func (ts TaskTokens) Get(short string) string {
	name := "{{my." + short + "}}"
	for _, t := range ts {
		if t.Name == name {
			return t.Value
		}
	}
	return ""
}

// The token names the campaign's program must define (as Text My Tokens).
const (
	TokenSubject    = "{{my.handoff_subject}}"
	TokenBody       = "{{my.handoff_body}}"
	TokenOwnerEmail = "{{my.handoff_owner_email}}"
	TokenDue        = "{{my.handoff_due}}"
	TokenPriority   = "{{my.handoff_priority}}"
	TokenID         = "{{my.handoff_id}}"
)

// Value limits. A Text My Token holds up to 524,288 characters, but the
// values land in the synced CRM's task: Salesforce Task Subject is 255
// characters and Description 32,000 (docs/architecture.md). Lengths are counted in
// UTF-16 code units, as Salesforce counts them, and cuts fall on rune
// boundaries.
const (
	MaxSubject = 255
	MaxBody    = 32000
)

const truncMark = "\n[... truncated; see the transcript for the rest]\n"

// RenderTask turns a TaskSpec into the campaign tokens. It is pure.
func RenderTask(spec handoff.TaskSpec) TaskTokens {
	due := ""
	if !spec.Due.IsZero() {
		due = spec.Due.UTC().Format(time.RFC3339)
	}
	return TaskTokens{
		{TokenSubject, clip(clean(subject(spec)), MaxSubject)},
		{TokenBody, RenderBody(spec.Bundle, spec.HandoffID)},
		{TokenOwnerEmail, clean(ownerEmail(spec.Owner))},
		{TokenDue, due},
		{TokenPriority, sfPriority(spec.Priority)},
		{TokenID, clean(spec.HandoffID)},
	}
}

func subject(spec handoff.TaskSpec) string {
	if s := strings.TrimSpace(spec.Subject); s != "" {
		return s
	}
	who := spec.Bundle.Contact.Name
	if who == "" {
		who = spec.Bundle.Contact.Email
	}
	if who == "" {
		who = "a buyer"
	}
	return fmt.Sprintf("Handoff (%s): %s", spec.Bundle.Why.Action, who)
}

func ownerEmail(o handoff.Owner) string {
	if o.Email != "" {
		return o.Email
	}
	if strings.Contains(o.ID, "@") {
		return o.ID
	}
	return ""
}

// sfPriority maps to Salesforce's standard Task Priority values, since the
// campaign's Create Task step writes a Salesforce Task.
func sfPriority(p handoff.Priority) string {
	switch p {
	case handoff.PriorityUrgent, handoff.PriorityHigh:
		return "High"
	case handoff.PriorityLow:
		return "Low"
	}
	return "Normal"
}

// textStyle is the body token's plain text: every value cleaned of token
// syntax, the whole within MaxBody.
var textStyle = bundletext.TextStyle{
	Para:    func(_, s string) string { return s },
	Item:    func(s string) string { return strings.TrimSpace(clean(s)) },
	Section: clean,
	Max:     MaxBody, Mark: truncMark,
}

var sections = bundletext.Style{TimelineLine: timelineLine, Snapshot: snapshot}

// RenderBody writes a bundle's sections in the contract's order as the
// plain text of the body token, exactly as RenderTask passes it (the
// console shows it as the owner saw it). The footer (missing context,
// handoff id) survives truncation. It is pure.
func RenderBody(b handoff.Bundle, handoffID string) string {
	return bundletext.TextOf(b, handoffID, sections, textStyle)
}

func timelineLine(h handoff.HistoryItem) string {
	line := h.At.UTC().Format("2006-01-02 15:04 UTC") + " " + string(h.Kind)
	if h.Channel != "" {
		line += " (" + h.Channel + ")"
	}
	if h.Source != "" {
		line += " via " + string(h.Source)
	}
	if h.Summary != "" {
		line += ": " + h.Summary
	}
	return line
}

func snapshot(b handoff.Bundle) []bundletext.Field {
	var out []bundletext.Field
	add := func(label, v string) { out = append(out, bundletext.Field{Label: label, Value: v}) }
	c := b.Contact
	if c.Name != "" || c.Email != "" {
		parts := nonEmpty(c.Title)
		if c.Name != "" && c.Email != "" {
			parts = append(parts, c.Email)
		}
		add("Contact", first(c.Name, c.Email)+paren(parts))
	}
	a := b.Account
	if a.Name != "" {
		var parts []string
		parts = append(parts, nonEmpty(a.Tier, a.Industry)...)
		if a.Employees > 0 {
			parts = append(parts, fmt.Sprintf("%d employees", a.Employees))
		}
		if a.Revenue > 0 {
			parts = append(parts, "revenue "+money(a.Revenue))
		}
		if a.IsTarget {
			parts = append(parts, "named account")
		}
		add("Account", a.Name+paren(parts))
		if a.OwnerEmail != "" {
			add("Account owner", a.OwnerEmail)
		}
	}
	d := b.Deal
	if d.Name != "" || d.ID != "" {
		parts := nonEmpty(first(d.StageLabel, d.Stage))
		if d.Amount > 0 {
			parts = append(parts, money(d.Amount))
		}
		parts = append(parts, fmt.Sprintf("%.0f%% probability", d.Probability*100))
		if d.CloseDate != "" {
			parts = append(parts, "closes "+d.CloseDate)
		}
		if !d.IsOpen {
			parts = append(parts, "closed")
		}
		add("Deal", first(d.Name, d.ID)+paren(parts))
	}
	return out
}

// paren is " (a, b)", or "" for no parts.
func paren(parts []string) string {
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func money(v float64) string {
	s := strconv.FormatFloat(v, 'f', 0, 64)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func first(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// clean makes a value safe as a token value: no control characters other
// than newline and tab, and no "{{" that Marketo could read as a token.
func clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	for strings.Contains(s, "{{") {
		s = strings.ReplaceAll(s, "{{", "{ {")
	}
	return s
}

// clip cuts s to at most max UTF-16 code units, on a rune boundary.
func clip(s string, limit int) string { return bundletext.Truncate(s, max(limit, 0), "") }
