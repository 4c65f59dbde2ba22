package salesforce

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/internal/bundletext"
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

// ReminderLayout is how ReminderDateTime is written: an ISO 8601
// dateTime in UTC with milliseconds, as the REST API returns it.
const ReminderLayout = "2006-01-02T15:04:05.000Z"

// TaskFields is the JSON body of a Task create / upsert.
type TaskFields struct {
	OwnerID      string `json:"OwnerId,omitempty"`
	WhoID        string `json:"WhoId,omitempty"`
	WhatID       string `json:"WhatId,omitempty"`
	Subject      string `json:"Subject"`
	Description  string `json:"Description"`
	ActivityDate string `json:"ActivityDate,omitempty"` // YYYY-MM-DD, in the owner's zone
	// ReminderDateTime is the exact due instant (ActivityDate alone says
	// "today" for a 30-minute SLA); IsReminderSet makes Salesforce remind
	// the owner then.
	ReminderDateTime string `json:"ReminderDateTime,omitempty"`
	IsReminderSet    bool   `json:"IsReminderSet,omitempty"`
	Priority         string `json:"Priority,omitempty"` // empty: the org's default
	Status           string `json:"Status,omitempty"`   // empty: the org's default
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
		Description: RenderDescription(spec.Bundle, spec.HandoffID),
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
		// ActivityDate is a date without a zone: the owner's calendar day of
		// the due time (a 17:00 New York due is not tomorrow in UTC).
		loc := time.UTC
		if spec.DueZone != "" {
			if l, err := time.LoadLocation(spec.DueZone); err == nil {
				loc = l
			}
		}
		f.ActivityDate = spec.Due.In(loc).Format(time.DateOnly)
		f.ReminderDateTime = spec.Due.UTC().Format(ReminderLayout)
		f.IsReminderSet = true
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

// textStyle is the Description's plain text: one-line list items, each
// section bounded so the bundle stays under headerMax.
var textStyle = bundletext.TextStyle{
	InlineGoal: true,
	Para: func(title, s string) string {
		switch title {
		case bundletext.Goal:
			return TruncateUTF16(oneLine(s), 500, "…")
		case bundletext.Summary:
			return TruncateUTF16(plain(s), 3000, "…")
		case bundletext.Asked, bundletext.Replied:
			return TruncateUTF16(plain(s), 4000, "…")
		}
		return oneLine(s)
	},
	Item: oneLine,
	Limits: map[string]bundletext.Limit{
		bundletext.Timeline: {Items: 20, Each: 300}, bundletext.Reasons: {Items: 20, Each: 300},
		bundletext.Sources: {Items: 20, Each: 500}, bundletext.Constraints: {Items: 20, Each: 500},
		bundletext.NextSteps: {Items: 10, Each: 500}, "Missing": {Each: 1000},
	},
	Max: headerMax, Mark: "\n…[truncated]\n\n", Trim: true,
}

var sections = bundletext.Style{TimelineLine: timelineLine, Snapshot: snapshot}

// RenderDescription renders a bundle (and its handoff id) as the Task
// Description's plain text, exactly as RenderTask writes it: the
// console shows it as the owner saw it. It is pure.
func RenderDescription(b handoff.Bundle, handoffID string) string {
	return bundletext.TextOf(b, handoffID, sections, textStyle)
}

func timelineLine(h handoff.HistoryItem) string {
	return bundletext.TimelineLine(h, " ", ": ", oneLine(h.Summary))
}

func snapshot(b handoff.Bundle) []bundletext.Field {
	var s []bundletext.Field
	c := b.Contact
	if c.Name != "" || c.Email != "" {
		line := oneLine(c.Name)
		if c.Title != "" {
			line += ", " + oneLine(c.Title)
		}
		if c.Email != "" {
			line += " <" + oneLine(c.Email) + ">"
		}
		s = append(s, bundletext.Field{Label: "Contact", Value: line})
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
		line := oneLine(a.Name)
		if len(parts) > 0 {
			line += " (" + strings.Join(parts, ", ") + ")"
		}
		if a.OwnerEmail != "" {
			line += ", owner " + oneLine(a.OwnerEmail)
		}
		s = append(s, bundletext.Field{Label: "Account", Value: line})
	}
	d := b.Deal
	if d.Known || d.Name != "" || d.Stage != "" {
		stage := d.StageLabel
		if stage == "" {
			stage = d.Stage
		}
		line := oneLine(d.Name)
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
		s = append(s, bundletext.Field{Label: "Deal", Value: strings.TrimSpace(line + " (" + strings.Join(parts, ", ") + ")")})
	}
	return s
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

// TruncateUTF16 shortens s to at most max UTF-16 code units, cutting on a
// rune boundary and ending with suffix when it had to cut.
func TruncateUTF16(s string, max int, suffix string) string {
	return bundletext.Truncate(s, max, suffix)
}
