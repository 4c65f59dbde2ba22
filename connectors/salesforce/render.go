package salesforce

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"

	"github.com/handoff-dev/handoff"
)

// Field limits of the Task object (sfFieldRef Task). Salesforce counts
// characters as UTF-16 code units, so the limits are applied that way.
const (
	SubjectMax     = 255
	DescriptionMax = 32000
	// headerMax is the room the rendered bundle may take; the rest of
	// Description is kept for updates appended later.
	headerMax = 28000
)

// Salesforce Task picklist values (the documented defaults).
const (
	StatusNotStarted = "Not Started"
	PriorityHigh     = "High"
	PriorityNormal   = "Normal"
	PriorityLow      = "Low"
)

// TaskFields is the JSON body of a Task create / upsert.
type TaskFields struct {
	OwnerID      string `json:"OwnerId,omitempty"`
	WhoID        string `json:"WhoId,omitempty"`
	WhatID       string `json:"WhatId,omitempty"`
	Subject      string `json:"Subject"`
	Description  string `json:"Description"`
	ActivityDate string `json:"ActivityDate,omitempty"` // YYYY-MM-DD
	Priority     string `json:"Priority,omitempty"`     // empty: the org's default
	Status       string `json:"Status,omitempty"`       // empty: the org's default
}

// SFPriority maps a handoff priority to the Task Priority picklist.
func SFPriority(p handoff.Priority) string {
	switch p {
	case handoff.PriorityUrgent, handoff.PriorityHigh:
		return PriorityHigh
	case handoff.PriorityLow:
		return PriorityLow
	default:
		return PriorityNormal
	}
}

func fromSFPriority(p string) handoff.Priority {
	switch strings.ToLower(p) {
	case "high":
		return handoff.PriorityHigh
	case "low":
		return handoff.PriorityLow
	case "normal", "medium":
		return handoff.PriorityMedium
	}
	return ""
}

// RenderTask turns a TaskSpec into Task fields: a one-line Subject of at
// most 255 characters and a plain-text Description (the context bundle)
// well under 32,000 characters. WhatId is the opportunity, else the
// account; it is left out for a lead (Salesforce rejects a WhatId with a
// lead WhoId).
func RenderTask(spec handoff.TaskSpec) TaskFields {
	f := TaskFields{
		OwnerID:     spec.Owner.ID,
		WhoID:       spec.Contact.ID,
		Subject:     renderSubject(spec),
		Description: renderDescription(spec.Bundle, spec.HandoffID),
		Priority:    SFPriority(spec.Priority),
		Status:      StatusNotStarted,
	}
	isLead := strings.HasPrefix(spec.Contact.ID, prefixLead) || strings.EqualFold(spec.Contact.Type, "lead")
	if !isLead {
		f.WhatID = spec.DealID
		if f.WhatID == "" {
			f.WhatID = spec.CompanyID
		}
	}
	if !spec.Due.IsZero() {
		// ActivityDate is a date (midnight UTC); no time zone shift.
		f.ActivityDate = spec.Due.UTC().Format("2006-01-02")
	}
	return f
}

func renderSubject(spec handoff.TaskSpec) string {
	s := oneLine(spec.Subject)
	if s == "" {
		if g := oneLine(spec.Bundle.Goal); g != "" {
			s = "Handoff: " + g
		} else {
			s = "Handoff " + spec.HandoffID
		}
	}
	return TruncateUTF16(s, SubjectMax, "…")
}

func renderDescription(b handoff.Bundle, handoffID string) string {
	var w strings.Builder
	section := func(title, body string) {
		body = strings.TrimSpace(body)
		if body == "" {
			return
		}
		w.WriteString(title)
		w.WriteString("\n")
		w.WriteString(body)
		w.WriteString("\n\n")
	}
	list := func(items []string, max, each int, numbered bool) string {
		var l strings.Builder
		n := 0
		for _, it := range items {
			it = oneLine(it)
			if it == "" {
				continue
			}
			if n == max {
				fmt.Fprintf(&l, "(+%d more)\n", len(items)-max)
				break
			}
			n++
			if numbered {
				fmt.Fprintf(&l, "%d. ", n)
			} else {
				l.WriteString("- ")
			}
			l.WriteString(TruncateUTF16(it, each, "…"))
			l.WriteString("\n")
		}
		return l.String()
	}

	if g := oneLine(b.Goal); g != "" {
		w.WriteString("GOAL: " + TruncateUTF16(g, 500, "…") + "\n\n")
	}
	section("SUMMARY", TruncateUTF16(plain(b.Summary), 3000, "…"))

	var tl []string
	for _, h := range b.Timeline {
		line := h.At.UTC().Format("2006-01-02 15:04 UTC") + " " + string(h.Source) + " " + string(h.Kind)
		if h.Channel != "" {
			line += " (" + h.Channel + ")"
		}
		if s := oneLine(h.Summary); s != "" {
			line += ": " + s
		}
		tl = append(tl, line)
	}
	section("WHAT THE BUYER DID", list(tl, 20, 300, false))
	section("WHAT THEY ASKED", TruncateUTF16(plain(b.BuyerAsked), 4000, "…"))
	section("WHAT THE AGENT REPLIED", TruncateUTF16(plain(b.AgentReplied), 4000, "…"))

	var why strings.Builder
	if b.Why.Action != "" {
		why.WriteString("Action: " + string(b.Why.Action) + "\n")
	}
	if b.Why.Rung != "" {
		if b.Why.IsException {
			why.WriteString("Exception: " + oneLine(b.Why.Rung) + "\n")
		} else {
			why.WriteString("Rung: " + oneLine(b.Why.Rung) + "\n")
		}
	}
	if r := list(b.Why.Reasons, 20, 300, false); r != "" {
		why.WriteString("Reasons:\n" + r)
	}
	if b.Why.LadderVersion != "" {
		why.WriteString("Ladder version: " + oneLine(b.Why.LadderVersion) + "\n")
	}
	why.WriteString("Score: " + strconv.FormatFloat(b.Why.Score, 'f', 2, 64) + "\n")
	section("WHY IT ESCALATED", why.String())

	section("TRANSCRIPT", oneLine(b.TranscriptURL))
	section("CITED SOURCES", list(b.Sources, 20, 500, false))
	section("CONSTRAINTS", list(b.Constraints, 20, 500, false))
	section("NEXT STEPS", list(b.NextSteps, 10, 500, true))
	section("ACCOUNT AND DEAL", snapshot(b))

	var tail strings.Builder
	if len(b.Missing) > 0 {
		fmt.Fprintf(&tail, "Missing context: %s (completeness %d%%)\n\n",
			TruncateUTF16(oneLine(strings.Join(b.Missing, ", ")), 1000, "…"), int(b.Completeness*100+0.5))
	}
	if handoffID != "" {
		tail.WriteString("Handoff ID: " + oneLine(handoffID) + "\n")
	}
	body := TruncateUTF16(w.String(), headerMax-utf16Len(tail.String()), "\n…[truncated]\n\n")
	return strings.TrimRight(body+tail.String(), "\n")
}

func snapshot(b handoff.Bundle) string {
	var s strings.Builder
	c := b.Contact
	if c.Name != "" || c.Email != "" {
		line := "Contact: " + oneLine(c.Name)
		if c.Title != "" {
			line += ", " + oneLine(c.Title)
		}
		if c.Email != "" {
			line += " <" + oneLine(c.Email) + ">"
		}
		s.WriteString(strings.TrimSpace(line) + "\n")
	}
	a := b.Account
	if a.Name != "" {
		var parts []string
		if a.Tier != "" {
			parts = append(parts, a.Tier)
		}
		if a.Industry != "" {
			parts = append(parts, oneLine(a.Industry))
		}
		if a.Employees > 0 {
			parts = append(parts, strconv.FormatInt(a.Employees, 10)+" employees")
		}
		if a.Revenue > 0 {
			parts = append(parts, "annual revenue "+money(a.Revenue))
		}
		line := "Account: " + oneLine(a.Name)
		if len(parts) > 0 {
			line += " (" + strings.Join(parts, ", ") + ")"
		}
		if a.OwnerEmail != "" {
			line += ", owner " + oneLine(a.OwnerEmail)
		}
		s.WriteString(line + "\n")
	}
	d := b.Deal
	if d.Known || d.Name != "" || d.Stage != "" {
		stage := d.StageLabel
		if stage == "" {
			stage = d.Stage
		}
		line := "Deal: " + oneLine(d.Name)
		var parts []string
		if stage != "" {
			parts = append(parts, "stage "+oneLine(stage))
		}
		parts = append(parts, fmt.Sprintf("probability %d%%", int(d.Probability*100+0.5)))
		if d.Amount > 0 {
			parts = append(parts, "amount "+money(d.Amount))
		}
		if d.CloseDate != "" {
			parts = append(parts, "closes "+oneLine(d.CloseDate))
		}
		switch {
		case d.IsOpen:
			parts = append(parts, "open")
		case d.IsWon:
			parts = append(parts, "won")
		default:
			parts = append(parts, "closed")
		}
		s.WriteString(strings.TrimSpace(line) + " (" + strings.Join(parts, ", ") + ")\n")
	}
	return s.String()
}

func money(v float64) string {
	s := strconv.FormatFloat(v, 'f', 0, 64)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// plain keeps text as plain text: newlines normalized, other control
// characters dropped.
func plain(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if r == '\r' {
			return '\n'
		}
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
}

// oneLine collapses whitespace (newlines included) into single spaces and
// drops control characters.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return ' '
		}
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)), " ")
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r) // ranging over a string never yields an invalid rune
	}
	return n
}

// TruncateUTF16 shortens s to at most max UTF-16 code units, cutting on a
// rune boundary and ending with suffix when it had to cut.
func TruncateUTF16(s string, max int, suffix string) string {
	if utf16Len(s) <= max {
		return s
	}
	room := max - utf16Len(suffix)
	if room < 0 {
		room, suffix = max, ""
	}
	n := 0
	for i, r := range s {
		l := utf16.RuneLen(r)
		if n+l > room {
			return s[:i] + suffix
		}
		n += l
	}
	return s
}
