package handoff

import "time"

// Context is everything the escalation ladder sees when it decides. The
// enricher builds it from an Event plus CRM reads; the ladder adds Signals
// and Score. Field names in the `cel` tags are the names ladder conditions
// use (e.g. `account.tier`, `signals.topics`).
type Context struct {
	Event        EventFacts        `json:"event" cel:"event"`
	Contact      ContactFacts      `json:"contact" cel:"contact"`
	Account      AccountFacts      `json:"account" cel:"account"`
	Deal         DealFacts         `json:"deal" cel:"deal"`
	Conversation ConversationFacts `json:"conversation" cel:"conversation"`
	Agent        AgentFacts        `json:"agent" cel:"agent"`
	Signals      Signals           `json:"signals" cel:"signals"`
	History      HistoryFacts      `json:"history" cel:"history"`
	Score        float64           `json:"score" cel:"score"` // weighted handoff score, 0..1
}

// EventFacts is the part of the triggering event a ladder can test.
type EventFacts struct {
	Source  string `json:"source" cel:"source"`
	Kind    string `json:"kind" cel:"kind"`
	Channel string `json:"channel" cel:"channel"`
	Text    string `json:"text" cel:"text"` // the buyer's words, if any
	Tenant  string `json:"tenant" cel:"tenant"`
	// Property is the changed property's name for property changes.
	Property string `json:"property,omitempty" cel:"property"`
	Value    string `json:"value,omitempty" cel:"value"`
	Campaign string `json:"campaign,omitempty" cel:"campaign"`
}

// ContactFacts describes the buyer.
type ContactFacts struct {
	ID         string `json:"id,omitempty" cel:"id"`
	Email      string `json:"email,omitempty" cel:"email"`
	Name       string `json:"name,omitempty" cel:"name"`
	Title      string `json:"title,omitempty" cel:"title"`
	Seniority  string `json:"seniority,omitempty" cel:"seniority"` // c_suite, vp, director, manager, individual, student, ""
	IsVIP      bool   `json:"is_vip,omitempty" cel:"is_vip"`
	Lifecycle  string `json:"lifecycle,omitempty" cel:"lifecycle"` // lead, mql, sql, opportunity, customer...
	OwnerID    string `json:"owner_id,omitempty" cel:"owner_id"`
	OwnerEmail string `json:"owner_email,omitempty" cel:"owner_email"`
	Known      bool   `json:"known" cel:"known"` // the CRM has a record for this buyer
}

// AccountFacts describes the buyer's company.
type AccountFacts struct {
	ID       string `json:"id,omitempty" cel:"id"`
	Name     string `json:"name,omitempty" cel:"name"`
	Domain   string `json:"domain,omitempty" cel:"domain"`
	Tier     string `json:"tier,omitempty" cel:"tier"`         // normalized: tier_1, tier_2, tier_3 or ""
	Industry string `json:"industry,omitempty" cel:"industry"` // as the CRM spells it
	// IndustryClass is Industry on the documented taxonomy (banking,
	// financial_services, insurance, healthcare, pharma_life_sciences,
	// government, ...; "" when unknown); Regulated is true for the regulated
	// classes. See NormalizeIndustry.
	IndustryClass string  `json:"industry_class,omitempty" cel:"industry_class"`
	Regulated     bool    `json:"regulated,omitempty" cel:"regulated"`
	Employees     int64   `json:"employees,omitempty" cel:"employees"`
	Revenue       float64 `json:"revenue,omitempty" cel:"revenue"`
	IsTarget      bool    `json:"is_target,omitempty" cel:"is_target"` // named / target account
	OwnerID       string  `json:"owner_id,omitempty" cel:"owner_id"`
	OwnerEmail    string  `json:"owner_email,omitempty" cel:"owner_email"`
	Known         bool    `json:"known" cel:"known"`
}

// DealFacts describes the most relevant open deal (or the latest one).
type DealFacts struct {
	ID          string  `json:"id,omitempty" cel:"id"`
	Name        string  `json:"name,omitempty" cel:"name"`
	Stage       string  `json:"stage,omitempty" cel:"stage"` // CRM stage id / API name
	StageLabel  string  `json:"stage_label,omitempty" cel:"stage_label"`
	Probability float64 `json:"probability" cel:"probability"` // 0..1
	IsOpen      bool    `json:"is_open" cel:"is_open"`
	IsWon       bool    `json:"is_won,omitempty" cel:"is_won"`
	Amount      float64 `json:"amount,omitempty" cel:"amount"`
	CloseDate   string  `json:"close_date,omitempty" cel:"close_date"` // YYYY-MM-DD
	OwnerID     string  `json:"owner_id,omitempty" cel:"owner_id"`
	Known       bool    `json:"known" cel:"known"`
}

// Owner states of a conversation's ownership lease.
const (
	OwnerAgent    = "agent"
	OwnerPending  = "pending" // a handoff task exists, nobody has started it
	OwnerHuman    = "human"
	OwnerReleased = "released" // the human gave the conversation back
)

// ConversationFacts describes the conversation the event belongs to.
type ConversationFacts struct {
	ID                   string `json:"id,omitempty" cel:"id"`
	Turns                int64  `json:"turns" cel:"turns"`
	TurnsWithoutProgress int64  `json:"turns_without_progress" cel:"turns_without_progress"`
	OwnerState           string `json:"owner_state" cel:"owner_state"` // agent, pending, human, released
	// SentimentTrend is the change of buyer sentiment across the
	// conversation (last minus first), -2..2.
	SentimentTrend float64 `json:"sentiment_trend" cel:"sentiment_trend"`
}

// AgentFacts is what the AI agent said about its own turn.
type AgentFacts struct {
	Confidence    float64  `json:"confidence" cel:"confidence"` // 1 when the agent did not report one
	HasConfidence bool     `json:"has_confidence" cel:"has_confidence"`
	ToolFailures  int64    `json:"tool_failures" cel:"tool_failures"`
	Sources       []string `json:"sources,omitempty" cel:"sources"`
	Reply         string   `json:"reply,omitempty" cel:"reply"`
	Turn          int64    `json:"turn" cel:"turn"`
	// What the agent's own model detected in the buyer's message, when the
	// turn carries "signals" (see AgentSignals): one input among others.
	Intents      []string `json:"intents,omitempty" cel:"intents"`
	Sentiment    float64  `json:"sentiment,omitempty" cel:"sentiment"`
	HasSentiment bool     `json:"has_sentiment,omitempty" cel:"has_sentiment"`
	Language     string   `json:"language,omitempty" cel:"language"`
	HumanRequest bool     `json:"human_request,omitempty" cel:"human_request"`
}

// Signals are computed once per event from the buyer's text.
type Signals struct {
	Topics       []string `json:"topics" cel:"topics"`               // topic ids from the ladder's topic map
	Negated      []string `json:"negated,omitempty" cel:"negated"`   // topics mentioned only in negation
	Sentiment    float64  `json:"sentiment" cel:"sentiment"`         // -1..1 (compound)
	HumanRequest bool     `json:"human_request" cel:"human_request"` // the buyer asked for a person
	// Language is the detected language of the buyer's new words (ISO 639-1:
	// en, es, de, fr, pt, it; "" when too short or not one the ladder knows).
	Language string `json:"language,omitempty" cel:"language"`
	// SentimentKnown is false when no lexicon for the message's language
	// scored it; Sentiment is then 0 and conditions should not read it as
	// neutral.
	SentimentKnown bool `json:"sentiment_known" cel:"sentiment_known"`
	// Matches maps a topic id to the phrases that fired it, for the trace.
	Matches map[string][]string `json:"matches,omitempty" cel:"-"`
	// Notes say in words what the analyzer set aside: quoted replies,
	// signatures, negated, dismissed, past or other-sense mentions.
	Notes []string `json:"notes,omitempty" cel:"-"`
}

// HistoryFacts summarizes the contact's recent activity across channels.
type HistoryFacts struct {
	Total     int64            `json:"total" cel:"total"`
	ByChannel map[string]int64 `json:"by_channel,omitempty" cel:"by_channel"`
	ByKind    map[string]int64 `json:"by_kind,omitempty" cel:"by_kind"`
	Recent    []HistoryItem    `json:"recent,omitempty" cel:"-"`
}

// HistoryItem is one past event in the contact's timeline.
type HistoryItem struct {
	At      time.Time `json:"at"`
	Source  Source    `json:"source"`
	Kind    Kind      `json:"kind"`
	Channel string    `json:"channel,omitempty"`
	Summary string    `json:"summary,omitempty"`
}
