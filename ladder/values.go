package ladder

import (
	"maps"
	"slices"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	"github.com/handoff-dev/handoff"
)

// getters read one context path as a CEL value without reflection. They
// serve the CEL programs (through ctxProvider), the trace (the values each
// condition saw) and the next-step templates. A test checks that every
// `cel`-tagged field of the context has one and that it reads that field.
var getters = map[string]func(c *handoff.Context) ref.Val{
	"score": func(c *handoff.Context) ref.Val { return types.Double(c.Score) },

	"event.source":   func(c *handoff.Context) ref.Val { return types.String(c.Event.Source) },
	"event.kind":     func(c *handoff.Context) ref.Val { return types.String(c.Event.Kind) },
	"event.channel":  func(c *handoff.Context) ref.Val { return types.String(c.Event.Channel) },
	"event.text":     func(c *handoff.Context) ref.Val { return types.String(c.Event.Text) },
	"event.tenant":   func(c *handoff.Context) ref.Val { return types.String(c.Event.Tenant) },
	"event.property": func(c *handoff.Context) ref.Val { return types.String(c.Event.Property) },
	"event.value":    func(c *handoff.Context) ref.Val { return types.String(c.Event.Value) },
	"event.campaign": func(c *handoff.Context) ref.Val { return types.String(c.Event.Campaign) },

	"contact.id":          func(c *handoff.Context) ref.Val { return types.String(c.Contact.ID) },
	"contact.email":       func(c *handoff.Context) ref.Val { return types.String(c.Contact.Email) },
	"contact.name":        func(c *handoff.Context) ref.Val { return types.String(c.Contact.Name) },
	"contact.title":       func(c *handoff.Context) ref.Val { return types.String(c.Contact.Title) },
	"contact.seniority":   func(c *handoff.Context) ref.Val { return types.String(c.Contact.Seniority) },
	"contact.is_vip":      func(c *handoff.Context) ref.Val { return types.Bool(c.Contact.IsVIP) },
	"contact.lifecycle":   func(c *handoff.Context) ref.Val { return types.String(c.Contact.Lifecycle) },
	"contact.owner_id":    func(c *handoff.Context) ref.Val { return types.String(c.Contact.OwnerID) },
	"contact.owner_email": func(c *handoff.Context) ref.Val { return types.String(c.Contact.OwnerEmail) },
	"contact.known":       func(c *handoff.Context) ref.Val { return types.Bool(c.Contact.Known) },

	"account.id":             func(c *handoff.Context) ref.Val { return types.String(c.Account.ID) },
	"account.name":           func(c *handoff.Context) ref.Val { return types.String(c.Account.Name) },
	"account.domain":         func(c *handoff.Context) ref.Val { return types.String(c.Account.Domain) },
	"account.tier":           func(c *handoff.Context) ref.Val { return types.String(c.Account.Tier) },
	"account.industry":       func(c *handoff.Context) ref.Val { return types.String(c.Account.Industry) },
	"account.industry_class": func(c *handoff.Context) ref.Val { return types.String(c.Account.IndustryClass) },
	"account.regulated":      func(c *handoff.Context) ref.Val { return types.Bool(c.Account.Regulated) },
	"account.employees":      func(c *handoff.Context) ref.Val { return types.Int(c.Account.Employees) },
	"account.revenue":        func(c *handoff.Context) ref.Val { return types.Double(c.Account.Revenue) },
	"account.is_target":      func(c *handoff.Context) ref.Val { return types.Bool(c.Account.IsTarget) },
	"account.owner_id":       func(c *handoff.Context) ref.Val { return types.String(c.Account.OwnerID) },
	"account.owner_email":    func(c *handoff.Context) ref.Val { return types.String(c.Account.OwnerEmail) },
	"account.known":          func(c *handoff.Context) ref.Val { return types.Bool(c.Account.Known) },

	"deal.id":          func(c *handoff.Context) ref.Val { return types.String(c.Deal.ID) },
	"deal.name":        func(c *handoff.Context) ref.Val { return types.String(c.Deal.Name) },
	"deal.stage":       func(c *handoff.Context) ref.Val { return types.String(c.Deal.Stage) },
	"deal.stage_label": func(c *handoff.Context) ref.Val { return types.String(c.Deal.StageLabel) },
	"deal.probability": func(c *handoff.Context) ref.Val { return types.Double(c.Deal.Probability) },
	"deal.is_open":     func(c *handoff.Context) ref.Val { return types.Bool(c.Deal.IsOpen) },
	"deal.is_won":      func(c *handoff.Context) ref.Val { return types.Bool(c.Deal.IsWon) },
	"deal.amount":      func(c *handoff.Context) ref.Val { return types.Double(c.Deal.Amount) },
	"deal.close_date":  func(c *handoff.Context) ref.Val { return types.String(c.Deal.CloseDate) },
	"deal.owner_id":    func(c *handoff.Context) ref.Val { return types.String(c.Deal.OwnerID) },
	"deal.known":       func(c *handoff.Context) ref.Val { return types.Bool(c.Deal.Known) },

	"conversation.id":                     func(c *handoff.Context) ref.Val { return types.String(c.Conversation.ID) },
	"conversation.turns":                  func(c *handoff.Context) ref.Val { return types.Int(c.Conversation.Turns) },
	"conversation.turns_without_progress": func(c *handoff.Context) ref.Val { return types.Int(c.Conversation.TurnsWithoutProgress) },
	"conversation.owner_state":            func(c *handoff.Context) ref.Val { return types.String(c.Conversation.OwnerState) },
	"conversation.sentiment_trend":        func(c *handoff.Context) ref.Val { return types.Double(c.Conversation.SentimentTrend) },

	"agent.confidence":     func(c *handoff.Context) ref.Val { return types.Double(c.Agent.Confidence) },
	"agent.has_confidence": func(c *handoff.Context) ref.Val { return types.Bool(c.Agent.HasConfidence) },
	"agent.tool_failures":  func(c *handoff.Context) ref.Val { return types.Int(c.Agent.ToolFailures) },
	"agent.sources":        func(c *handoff.Context) ref.Val { return stringList(c.Agent.Sources) },
	"agent.reply":          func(c *handoff.Context) ref.Val { return types.String(c.Agent.Reply) },
	"agent.turn":           func(c *handoff.Context) ref.Val { return types.Int(c.Agent.Turn) },
	"agent.intents":        func(c *handoff.Context) ref.Val { return stringList(c.Agent.Intents) },
	"agent.sentiment":      func(c *handoff.Context) ref.Val { return types.Double(c.Agent.Sentiment) },
	"agent.has_sentiment":  func(c *handoff.Context) ref.Val { return types.Bool(c.Agent.HasSentiment) },
	"agent.language":       func(c *handoff.Context) ref.Val { return types.String(c.Agent.Language) },
	"agent.human_request":  func(c *handoff.Context) ref.Val { return types.Bool(c.Agent.HumanRequest) },

	"signals.topics":          func(c *handoff.Context) ref.Val { return stringList(c.Signals.Topics) },
	"signals.negated":         func(c *handoff.Context) ref.Val { return stringList(c.Signals.Negated) },
	"signals.sentiment":       func(c *handoff.Context) ref.Val { return types.Double(c.Signals.Sentiment) },
	"signals.human_request":   func(c *handoff.Context) ref.Val { return types.Bool(c.Signals.HumanRequest) },
	"signals.language":        func(c *handoff.Context) ref.Val { return types.String(c.Signals.Language) },
	"signals.sentiment_known": func(c *handoff.Context) ref.Val { return types.Bool(c.Signals.SentimentKnown) },

	"history.total":      func(c *handoff.Context) ref.Val { return types.Int(c.History.Total) },
	"history.by_channel": func(c *handoff.Context) ref.Val { return countMap(c.History.ByChannel) },
	"history.by_kind":    func(c *handoff.Context) ref.Val { return countMap(c.History.ByKind) },
}

// accessors read one context path as a plain Go value, for the trace (the
// values each condition saw) and the next-step templates; lists and maps
// are copied so the decision shares nothing with the context. A test checks
// that every `cel`-tagged field of the context has one, like getters.
var accessors = map[string]func(c *handoff.Context) any{
	"score": func(c *handoff.Context) any { return c.Score },

	"event.source":   func(c *handoff.Context) any { return c.Event.Source },
	"event.kind":     func(c *handoff.Context) any { return c.Event.Kind },
	"event.channel":  func(c *handoff.Context) any { return c.Event.Channel },
	"event.text":     func(c *handoff.Context) any { return c.Event.Text },
	"event.tenant":   func(c *handoff.Context) any { return c.Event.Tenant },
	"event.property": func(c *handoff.Context) any { return c.Event.Property },
	"event.value":    func(c *handoff.Context) any { return c.Event.Value },
	"event.campaign": func(c *handoff.Context) any { return c.Event.Campaign },

	"contact.id":          func(c *handoff.Context) any { return c.Contact.ID },
	"contact.email":       func(c *handoff.Context) any { return c.Contact.Email },
	"contact.name":        func(c *handoff.Context) any { return c.Contact.Name },
	"contact.title":       func(c *handoff.Context) any { return c.Contact.Title },
	"contact.seniority":   func(c *handoff.Context) any { return c.Contact.Seniority },
	"contact.is_vip":      func(c *handoff.Context) any { return c.Contact.IsVIP },
	"contact.lifecycle":   func(c *handoff.Context) any { return c.Contact.Lifecycle },
	"contact.owner_id":    func(c *handoff.Context) any { return c.Contact.OwnerID },
	"contact.owner_email": func(c *handoff.Context) any { return c.Contact.OwnerEmail },
	"contact.known":       func(c *handoff.Context) any { return c.Contact.Known },

	"account.id":             func(c *handoff.Context) any { return c.Account.ID },
	"account.name":           func(c *handoff.Context) any { return c.Account.Name },
	"account.domain":         func(c *handoff.Context) any { return c.Account.Domain },
	"account.tier":           func(c *handoff.Context) any { return c.Account.Tier },
	"account.industry":       func(c *handoff.Context) any { return c.Account.Industry },
	"account.industry_class": func(c *handoff.Context) any { return c.Account.IndustryClass },
	"account.regulated":      func(c *handoff.Context) any { return c.Account.Regulated },
	"account.employees":      func(c *handoff.Context) any { return c.Account.Employees },
	"account.revenue":        func(c *handoff.Context) any { return c.Account.Revenue },
	"account.is_target":      func(c *handoff.Context) any { return c.Account.IsTarget },
	"account.owner_id":       func(c *handoff.Context) any { return c.Account.OwnerID },
	"account.owner_email":    func(c *handoff.Context) any { return c.Account.OwnerEmail },
	"account.known":          func(c *handoff.Context) any { return c.Account.Known },

	"deal.id":          func(c *handoff.Context) any { return c.Deal.ID },
	"deal.name":        func(c *handoff.Context) any { return c.Deal.Name },
	"deal.stage":       func(c *handoff.Context) any { return c.Deal.Stage },
	"deal.stage_label": func(c *handoff.Context) any { return c.Deal.StageLabel },
	"deal.probability": func(c *handoff.Context) any { return c.Deal.Probability },
	"deal.is_open":     func(c *handoff.Context) any { return c.Deal.IsOpen },
	"deal.is_won":      func(c *handoff.Context) any { return c.Deal.IsWon },
	"deal.amount":      func(c *handoff.Context) any { return c.Deal.Amount },
	"deal.close_date":  func(c *handoff.Context) any { return c.Deal.CloseDate },
	"deal.owner_id":    func(c *handoff.Context) any { return c.Deal.OwnerID },
	"deal.known":       func(c *handoff.Context) any { return c.Deal.Known },

	"conversation.id":                     func(c *handoff.Context) any { return c.Conversation.ID },
	"conversation.turns":                  func(c *handoff.Context) any { return c.Conversation.Turns },
	"conversation.turns_without_progress": func(c *handoff.Context) any { return c.Conversation.TurnsWithoutProgress },
	"conversation.owner_state":            func(c *handoff.Context) any { return c.Conversation.OwnerState },
	"conversation.sentiment_trend":        func(c *handoff.Context) any { return c.Conversation.SentimentTrend },

	"agent.confidence":     func(c *handoff.Context) any { return c.Agent.Confidence },
	"agent.has_confidence": func(c *handoff.Context) any { return c.Agent.HasConfidence },
	"agent.tool_failures":  func(c *handoff.Context) any { return c.Agent.ToolFailures },
	"agent.sources":        func(c *handoff.Context) any { return cloneStrings(c.Agent.Sources) },
	"agent.reply":          func(c *handoff.Context) any { return c.Agent.Reply },
	"agent.turn":           func(c *handoff.Context) any { return c.Agent.Turn },
	"agent.intents":        func(c *handoff.Context) any { return cloneStrings(c.Agent.Intents) },
	"agent.sentiment":      func(c *handoff.Context) any { return c.Agent.Sentiment },
	"agent.has_sentiment":  func(c *handoff.Context) any { return c.Agent.HasSentiment },
	"agent.language":       func(c *handoff.Context) any { return c.Agent.Language },
	"agent.human_request":  func(c *handoff.Context) any { return c.Agent.HumanRequest },

	"signals.topics":          func(c *handoff.Context) any { return cloneStrings(c.Signals.Topics) },
	"signals.negated":         func(c *handoff.Context) any { return cloneStrings(c.Signals.Negated) },
	"signals.sentiment":       func(c *handoff.Context) any { return c.Signals.Sentiment },
	"signals.human_request":   func(c *handoff.Context) any { return c.Signals.HumanRequest },
	"signals.language":        func(c *handoff.Context) any { return c.Signals.Language },
	"signals.sentiment_known": func(c *handoff.Context) any { return c.Signals.SentimentKnown },

	"history.total":      func(c *handoff.Context) any { return c.History.Total },
	"history.by_channel": func(c *handoff.Context) any { return cloneCounts(c.History.ByChannel) },
	"history.by_kind":    func(c *handoff.Context) any { return cloneCounts(c.History.ByKind) },
}

func cloneStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

func cloneCounts(m map[string]int64) map[string]int64 {
	if m == nil {
		return map[string]int64{}
	}
	return maps.Clone(m)
}

func stringList(s []string) ref.Val {
	if s == nil {
		s = []string{}
	}
	return types.NewStringList(types.DefaultTypeAdapter, s)
}

func countMap(m map[string]int64) ref.Val {
	if m == nil {
		m = map[string]int64{}
	}
	return types.NewDynamicMap(types.DefaultTypeAdapter, m)
}
