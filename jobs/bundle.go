package jobs

import (
	"fmt"
	"slices"
	"strings"

	"github.com/handoff-dev/handoff"
)

// Bundle field names a ladder rung may list as required (docs/bundle.md).
const (
	FieldGoal          = "goal"
	FieldSummary       = "summary"
	FieldTimeline      = "timeline"
	FieldBuyerAsked    = "buyer_asked"
	FieldAgentReplied  = "agent_replied"
	FieldWhy           = "why"
	FieldTranscriptURL = "transcript_url"
	FieldSources       = "sources"
	FieldConstraints   = "constraints"
	FieldNextSteps     = "next_steps"
	FieldContact       = "contact"
	FieldAccount       = "account"
	FieldDeal          = "deal"
)

// FieldSnapshot is the account and deal snapshot as a whole (the ladder's
// name, docs/ladder.md): filled when the CRM knows the contact or the account.
const FieldSnapshot = "snapshot"

// BundleFields lists every field name Completeness understands.
var BundleFields = []string{
	FieldGoal, FieldSummary, FieldTimeline, FieldBuyerAsked, FieldAgentReplied, FieldWhy, FieldTranscriptURL,
	FieldSources, FieldConstraints, FieldNextSteps, FieldContact, FieldAccount, FieldDeal, FieldSnapshot,
}

// fieldAliases maps the names the ladder file documents for `required`
// (docs/ladder.md, used by ladder/default.yaml) to the bundle's names, so
// both spellings are measured instead of the ladder's counting as missing.
var fieldAliases = map[string]string{
	"activity":    FieldTimeline,
	"asked":       FieldBuyerAsked,
	"agent_reply": FieldAgentReplied,
	"transcript":  FieldTranscriptURL,
}

// BuildBundle assembles the context bundle of a handoff from the decision,
// the context it was made on and the event, then measures completeness.
func BuildBundle(handoffID string, d handoff.Decision, c handoff.Context, ev EventRef) handoff.Bundle {
	b := handoff.Bundle{
		HandoffID:     handoffID,
		Goal:          d.Goal,
		Timeline:      c.History.Recent,
		BuyerAsked:    c.Event.Text,
		AgentReplied:  c.Agent.Reply,
		TranscriptURL: ev.TranscriptURL,
		Sources:       c.Agent.Sources,
		Constraints:   d.Constraints,
		NextSteps:     d.NextSteps,
		Contact:       c.Contact,
		Account:       c.Account,
		Deal:          c.Deal,
		Why: handoff.Why{
			Action: d.Action, Rung: d.Matched(), IsException: d.ExceptionID != "", Reasons: d.Reasons,
			LadderVersion: d.LadderVersion, Score: d.Score, AlsoNeeds: AlsoNeedsLines(d.AlsoNeeds),
		},
	}
	if b.Goal == "" {
		b.Goal = defaultGoal(d, c)
	}
	b.Summary = summary(d, c, ev)
	b.Missing, b.Completeness = Completeness(b, d.Required)
	return b
}

// AlsoNeedsLines words a decision's second reviewers for the rep who owns
// the handoff, one line each, repeats once: what review, by whom, and why
// ("security review by team security — Security or compliance questions
// from a real opportunity"). The review is named after the rung or
// exception id ("legal" → "legal review"); the reviewer is its route's
// first target ("team legal", "the account owner", an owner's address).
func AlsoNeedsLines(rs []handoff.Review) []string {
	var out []string
	for _, r := range rs {
		name := strings.TrimSpace(strings.NewReplacer("-", " ", "_", " ").Replace(r.ID))
		if name == "" {
			continue
		}
		if !strings.HasSuffix(name, "review") {
			name += " review"
		}
		line := name
		if who := reviewer(r.Route); who != "" {
			line += " by " + who
		}
		if d := strings.TrimSpace(r.Description); d != "" {
			line += " — " + d
		}
		if !slices.Contains(out, line) {
			out = append(out, line)
		}
	}
	return out
}

// reviewer names a route's first target for a rep.
func reviewer(r *handoff.Route) string {
	if r == nil || r.Team != "" || r.Owner != "" {
		return r.Target()
	}
	switch r.To {
	case "":
		return ""
	case "account_owner":
		return "the account owner"
	case "contact_owner":
		return "the contact owner"
	case "deal_owner":
		return "the deal owner"
	}
	return "the " + strings.ReplaceAll(r.To, "_", " ")
}

func buyerName(c handoff.Context) string {
	switch {
	case c.Contact.Name != "":
		return c.Contact.Name
	case c.Contact.Email != "":
		return c.Contact.Email
	}
	return "the buyer"
}

func defaultGoal(d handoff.Decision, c handoff.Context) string {
	topic := ""
	if len(d.Signals.Topics) > 0 {
		topic = " about " + strings.Join(d.Signals.Topics, ", ")
	} else if len(c.Signals.Topics) > 0 {
		topic = " about " + strings.Join(c.Signals.Topics, ", ")
	}
	switch d.Action {
	case handoff.ActionAssist:
		return fmt.Sprintf("Help the AI agent with %s%s; the agent keeps the conversation.", buyerName(c), topic)
	case handoff.ActionHold:
		return fmt.Sprintf("The agent has stopped: take over with %s%s now.", buyerName(c), topic)
	}
	return fmt.Sprintf("Take over the conversation with %s%s.", buyerName(c), topic)
}

// summary is one paragraph: who, where, what happened, why it escalated.
func summary(d handoff.Decision, c handoff.Context, ev EventRef) string {
	var s strings.Builder
	s.WriteString(buyerName(c))
	if c.Contact.Title != "" {
		s.WriteString(" (" + c.Contact.Title + ")")
	}
	if c.Account.Name != "" {
		s.WriteString(" at " + c.Account.Name)
		var facts []string
		if c.Account.Tier != "" {
			facts = append(facts, strings.ReplaceAll(c.Account.Tier, "_", " "))
		}
		if c.Account.Industry != "" {
			facts = append(facts, c.Account.Industry)
		}
		if len(facts) > 0 {
			s.WriteString(" (" + strings.Join(facts, ", ") + ")")
		}
	}
	fmt.Fprintf(&s, " %s", describeKind(ev.Kind))
	if ev.Channel != "" {
		fmt.Fprintf(&s, " via %s", ev.Channel)
	}
	if c.Conversation.Turns > 0 {
		fmt.Fprintf(&s, " (turn %d of the conversation, %d without progress)", c.Conversation.Turns, c.Conversation.TurnsWithoutProgress)
	}
	s.WriteString(".")
	if c.History.Total > 1 {
		fmt.Fprintf(&s, " %d recent events across %d channels.", c.History.Total, max(len(c.History.ByChannel), 1))
	}
	if c.Deal.Known {
		name := c.Deal.Name
		if name == "" {
			name = "The deal"
		}
		stage := c.Deal.StageLabel
		if stage == "" {
			stage = c.Deal.Stage
		}
		fmt.Fprintf(&s, " %s is at %s (%.0f%%).", name, stage, c.Deal.Probability*100)
	}
	fmt.Fprintf(&s, " The ladder (%s) chose %s at %s", d.LadderVersion, d.Action, d.Matched())
	if len(d.Reasons) > 0 {
		fmt.Fprintf(&s, " because %s", strings.Join(d.Reasons, "; "))
	}
	s.WriteString(".")
	return s.String()
}

func describeKind(k handoff.Kind) string {
	switch k {
	case handoff.KindAgentTurn, handoff.KindChatMessage:
		return "wrote in a conversation"
	case handoff.KindFormSubmission:
		return "submitted a form"
	case handoff.KindEmailReply:
		return "replied to an email"
	case handoff.KindWebinarAttended:
		return "attended a webinar"
	case handoff.KindEventScan:
		return "was scanned at an event"
	case handoff.KindAdClick:
		return "clicked an ad"
	case handoff.KindWebsiteVisit:
		return "visited the website"
	case handoff.KindDealStageChange:
		return "had a deal stage change"
	}
	return "had a " + strings.ReplaceAll(string(k), "_", " ") + " event"
}

// Completeness returns the required fields that are empty and the share of
// required fields that are filled (1 when nothing is required). Unknown
// field names count as missing, so a typo in the ladder shows up.
func Completeness(b handoff.Bundle, required []string) ([]string, float64) {
	if len(required) == 0 {
		return nil, 1
	}
	var missing []string
	seen := map[string]bool{}
	n := 0
	for _, f := range required {
		f = strings.ToLower(strings.TrimSpace(f))
		if a, ok := fieldAliases[f]; ok {
			f = a
		}
		if seen[f] {
			continue
		}
		seen[f] = true
		n++
		if !filled(b, f) {
			missing = append(missing, f)
		}
	}
	slices.Sort(missing)
	return missing, float64(n-len(missing)) / float64(n)
}

func filled(b handoff.Bundle, f string) bool {
	switch f {
	case FieldGoal:
		return b.Goal != ""
	case FieldSummary:
		return b.Summary != ""
	case FieldTimeline:
		return len(b.Timeline) > 0
	case FieldBuyerAsked:
		return strings.TrimSpace(b.BuyerAsked) != ""
	case FieldAgentReplied:
		return strings.TrimSpace(b.AgentReplied) != ""
	case FieldWhy:
		return b.Why.Rung != "" || len(b.Why.Reasons) > 0
	case FieldTranscriptURL:
		return b.TranscriptURL != ""
	case FieldSources:
		return len(b.Sources) > 0
	case FieldConstraints:
		return len(b.Constraints) > 0
	case FieldNextSteps:
		return len(b.NextSteps) > 0
	case FieldContact:
		return b.Contact.Known || b.Contact.Name != ""
	case FieldAccount:
		return b.Account.Known || b.Account.Name != ""
	case FieldDeal:
		return b.Deal.Known || b.Deal.ID != ""
	case FieldSnapshot:
		return filled(b, FieldContact) || filled(b, FieldAccount)
	}
	return false
}

// taskSubject is the CRM task subject (connectors truncate to their limits).
func taskSubject(d handoff.Decision, c handoff.Context) string {
	verb := map[handoff.Action]string{
		handoff.ActionHandoff: "Take over", handoff.ActionHold: "Urgent: agent stopped", handoff.ActionAssist: "FYI: assist the agent",
	}[d.Action]
	if verb == "" {
		verb = "Follow up"
	}
	s := fmt.Sprintf("%s: %s (%s)", verb, buyerName(c), d.Matched())
	if c.Account.Name != "" {
		s = fmt.Sprintf("%s: %s at %s (%s)", verb, buyerName(c), c.Account.Name, d.Matched())
	}
	return s
}
