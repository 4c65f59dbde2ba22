// Package handoff holds the domain types shared by every part of Handoff:
// the normalized Event that webhooks produce, the Context the escalation
// ladder sees, the Decision it returns, and the Bundle and TaskSpec that a
// CRM connector turns into a task. It imports only the standard library.
package handoff

import (
	"encoding/json"
	"time"
)

// Source names the system an event came from.
type Source string

// The sources Handoff accepts webhooks from.
const (
	SourceHubSpot    Source = "hubspot"
	SourceSalesforce Source = "salesforce"
	SourceMarketo    Source = "marketo"
	SourceAgent      Source = "agent"
)

// Kind is what happened, normalized across sources.
type Kind string

// Event kinds. They cover the buying-signal channels (visits, forms, scans,
// ads, webinars, email, chat), CRM changes and agent turns.
const (
	KindWebsiteVisit      Kind = "website_visit"
	KindFormSubmission    Kind = "form_submission"
	KindEventScan         Kind = "event_scan" // event / trade-show badge scan
	KindAdClick           Kind = "ad_click"   // e.g. a LinkedIn lead-gen form
	KindWebinarAttended   Kind = "webinar_attended"
	KindEmailReply        Kind = "email_reply"
	KindChatMessage       Kind = "chat_message" // conversation / chat message
	KindPropertyChange    Kind = "property_change"
	KindDealStageChange   Kind = "deal_stage_change"
	KindObjectCreated     Kind = "object_created"
	KindObjectDeleted     Kind = "object_deleted"
	KindObjectMerged      Kind = "object_merged"
	KindAssociationChange Kind = "association_change"
	KindAgentTurn         Kind = "agent_turn"
	KindOther             Kind = "other" // accepted and counted, not escalated on its own
)

// Kinds lists every Kind, for validation and documentation.
var Kinds = []Kind{
	KindWebsiteVisit, KindFormSubmission, KindEventScan, KindAdClick, KindWebinarAttended,
	KindEmailReply, KindChatMessage, KindPropertyChange, KindDealStageChange, KindObjectCreated,
	KindObjectDeleted, KindObjectMerged, KindAssociationChange, KindAgentTurn, KindOther,
}

// Direction says who wrote a message.
type Direction string

// Message directions.
const (
	Inbound  Direction = "inbound"  // from the buyer
	Outbound Direction = "outbound" // from the agent or a rep
)

// ContactRef identifies the buyer in a CRM by id and/or email.
type ContactRef struct {
	CRM    Source `json:"crm,omitempty"`    // the CRM that holds the record
	Tenant string `json:"tenant,omitempty"` // portal id / org id / Marketo instance
	ID     string `json:"id,omitempty"`     // CRM record id (HubSpot contact, SF Contact/Lead, Marketo lead)
	Type   string `json:"type,omitempty"`   // record type when the CRM has several: "contact", "lead"
	Email  string `json:"email,omitempty"`
}

// IsZero reports whether the reference identifies nobody.
func (c ContactRef) IsZero() bool { return c.ID == "" && c.Email == "" }

// ObjectRef points at the CRM record an event is about (a deal, a company...).
type ObjectRef struct {
	Type string `json:"type"` // "contact", "company", "deal", "Opportunity", "Lead", ...
	ID   string `json:"id"`
}

// PropertyChange is a single changed field.
type PropertyChange struct {
	Name     string `json:"name"`
	Value    string `json:"value"`
	Previous string `json:"previous,omitempty"`
}

// Message is a piece of conversation text.
type Message struct {
	ID        string    `json:"id,omitempty"`
	Text      string    `json:"text,omitempty"`
	Direction Direction `json:"direction,omitempty"`
	ThreadID  string    `json:"thread_id,omitempty"`
}

// AgentTurn carries what an AI agent reported about its own turn.
type AgentTurn struct {
	Turn          int      `json:"turn,omitempty"`
	Reply         string   `json:"reply,omitempty"`
	Confidence    *float64 `json:"confidence,omitempty"` // 0..1; nil when the agent did not say
	Sources       []string `json:"sources,omitempty"`
	ToolFailures  int      `json:"tool_failures,omitempty"`
	TranscriptURL string   `json:"transcript_url,omitempty"`
	// Signals is what the agent's own model detected, when it says.
	Signals *AgentSignals `json:"signals,omitempty"`
}

// AgentSignals is the optional "signals" object of an agent turn: the
// agent's own reading of the buyer's message. Handoff exposes it to ladder
// conditions as agent.intents, agent.sentiment (with agent.has_sentiment),
// agent.language and agent.human_request.
type AgentSignals struct {
	Intents      []string `json:"intents,omitempty"`
	Sentiment    *float64 `json:"sentiment,omitempty"` // -1..1
	Language     string   `json:"language,omitempty"`
	HumanRequest bool     `json:"human_request,omitempty"`
}

// Event is the normalized form of everything Handoff receives. Webhook
// parsers produce it; the pipeline consumes it.
type Event struct {
	Source   Source `json:"source"`
	Tenant   string `json:"tenant"`    // HubSpot portal / Salesforce org / Marketo instance / agent tenant
	NativeID string `json:"native_id"` // the source's own id for the event, when it has one
	// DedupeKey is a stable hash of the source's identity fields: two
	// deliveries of the same event have the same key, two different events
	// never do.
	DedupeKey  string    `json:"dedupe_key"`
	Kind       Kind      `json:"kind"`
	Channel    string    `json:"channel,omitempty"` // chat, email, web, event, ads, webinar, crm, ...
	OccurredAt time.Time `json:"occurred_at"`
	ReceivedAt time.Time `json:"received_at"`

	Contact        ContactRef      `json:"contact"`
	Object         *ObjectRef      `json:"object,omitempty"`
	Property       *PropertyChange `json:"property,omitempty"`
	Message        *Message        `json:"message,omitempty"`
	ConversationID string          `json:"conversation_id,omitempty"`
	Agent          *AgentTurn      `json:"agent,omitempty"`

	Campaign   string            `json:"campaign,omitempty"`
	Program    string            `json:"program,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"` // form fields, subscription type, etc.

	// Raw is the source payload of this one event, kept for audit.
	Raw json.RawMessage `json:"raw,omitempty"`
}

// Text returns the buyer's words carried by the event, if any.
func (e *Event) Text() string {
	if e.Message != nil && e.Message.Direction != Outbound {
		return e.Message.Text
	}
	return ""
}
