package webhooks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/handoff-dev/handoff"
)

// AgentTurnPayload is the contract of POST /webhooks/agent (docs/architecture.md,
// "The two payloads users build against").
type AgentTurnPayload struct {
	Type           string `json:"type"`
	ID             string `json:"id"`
	OccurredAt     string `json:"occurred_at"`
	ConversationID string `json:"conversation_id"`
	Channel        string `json:"channel"`
	Contact        struct {
		Email  string `json:"email"`
		CRM    string `json:"crm"`
		Tenant string `json:"tenant"`
		CRMID  string `json:"crm_id"`
		Type   string `json:"type"`
	} `json:"contact"`
	Turn          int      `json:"turn"`
	BuyerMessage  string   `json:"buyer_message"`
	AgentReply    string   `json:"agent_reply"`
	Confidence    *float64 `json:"confidence"`
	Sources       []string `json:"sources"`
	ToolFailures  int      `json:"tool_failures"`
	TranscriptURL string   `json:"transcript_url"`
	// Signals is the agent's own reading of the buyer's message (optional).
	Signals *AgentSignalsPayload `json:"signals"`
}

// AgentSignalsPayload is the optional "signals" object of an agent turn.
type AgentSignalsPayload struct {
	Intents      []string `json:"intents"`
	Sentiment    *float64 `json:"sentiment"`
	Language     string   `json:"language"`
	HumanRequest bool     `json:"human_request"`
}

// Limits of an agent turn's signals.
const (
	MaxAgentIntents   = 16
	maxAgentIntentLen = 64
)

// Agent serves POST /webhooks/agent.
func (h *Handlers) Agent(c echo.Context) error {
	return h.serveJSON(c, handoff.SourceAgent, "AGENT_WEBHOOK_SECRET", len(h.s.agentKey) > 0,
		func(r *http.Request, body []byte) *reqError {
			return sigError(HeaderWebhookSignature, verifyStandardWebhookKeys(h.s.agentKey, h.s.agentKeyB64, r.Header, body, h.now(), h.s.maxAge))
		},
		func(r *http.Request, body []byte) ([]handoff.Event, int, *reqError) {
			ev, err := ParseAgentTurn(body, r.Header.Get(HeaderWebhookID), h.now().UTC())
			if err != nil {
				return nil, 0, badRequest("%v", err)
			}
			h.defaultAgentCRM(&ev)
			return []handoff.Event{ev}, 0, nil
		})
}

// defaultAgentCRM fills the contact's CRM and tenant from
// AGENT_DEFAULT_CRM / AGENT_DEFAULT_TENANT when the turn names no CRM (a
// turn that names one keeps it; a turn naming the default CRM without a
// tenant gets the default tenant).
func (h *Handlers) defaultAgentCRM(ev *handoff.Event) {
	if h.s.agentCRM == "" {
		return
	}
	if ev.Contact.CRM == "" {
		ev.Contact.CRM = h.s.agentCRM
	}
	if ev.Contact.CRM == h.s.agentCRM && ev.Contact.Tenant == "" {
		ev.Contact.Tenant, ev.Tenant = h.s.agentTenant, h.s.agentTenant
	}
}

// ParseAgentTurn parses one agent turn. webhookID (the webhook-id header,
// the turn's id) is its identity.
func ParseAgentTurn(body []byte, webhookID string, receivedAt time.Time) (handoff.Event, error) {
	var ev handoff.Event
	if !utf8.ValidString(webhookID) {
		return ev, errors.New("webhook-id is not valid UTF-8")
	}
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return ev, errors.New("body must be a JSON object (an agent.turn)")
	}
	var p AgentTurnPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return ev, fmt.Errorf("body is not an agent turn: %s", jsonErr(err))
	}
	switch {
	case p.Type != "" && p.Type != "agent.turn":
		return ev, fmt.Errorf("type %q is not supported (want agent.turn)", p.Type)
	case p.ID == "":
		return ev, errors.New("id is missing")
	case p.ConversationID == "":
		return ev, errors.New("conversation_id is missing")
	case p.OccurredAt == "":
		return ev, errors.New("occurred_at is missing")
	case p.Contact.Email == "" && p.Contact.CRMID == "":
		return ev, errors.New("contact.email or contact.crm_id is required")
	case p.Confidence != nil && (math.IsNaN(*p.Confidence) || *p.Confidence < 0 || *p.Confidence > 1):
		return ev, fmt.Errorf("confidence %v is outside 0..1", *p.Confidence)
	case p.ToolFailures < 0 || p.Turn < 0:
		return ev, errors.New("turn and tool_failures must not be negative")
	}
	if webhookID == "" {
		webhookID = p.ID
	}
	occ, err := time.Parse(time.RFC3339Nano, p.OccurredAt)
	if err != nil {
		return ev, fmt.Errorf("occurred_at %q is not an RFC 3339 time", p.OccurredAt)
	}
	crm := handoff.Source(strings.ToLower(p.Contact.CRM))
	switch crm {
	case "", handoff.SourceHubSpot, handoff.SourceSalesforce, handoff.SourceMarketo:
	default:
		return ev, fmt.Errorf("contact.crm %q: want hubspot, salesforce or marketo", p.Contact.CRM)
	}
	if p.Contact.CRMID != "" && crm == "" {
		return ev, errors.New("contact.crm is required with contact.crm_id")
	}
	channel := p.Channel
	if channel == "" {
		channel = "chat"
	}
	ev = handoff.Event{
		Source:         handoff.SourceAgent,
		Tenant:         p.Contact.Tenant,
		NativeID:       p.ID,
		DedupeKey:      dedupeKey(handoff.SourceAgent, webhookID),
		Kind:           handoff.KindAgentTurn,
		Channel:        channel,
		OccurredAt:     occ.UTC(),
		ReceivedAt:     receivedAt,
		Contact:        handoff.ContactRef{CRM: crm, Tenant: p.Contact.Tenant, ID: p.Contact.CRMID, Type: p.Contact.Type, Email: p.Contact.Email},
		ConversationID: p.ConversationID,
		Agent: &handoff.AgentTurn{
			Turn: p.Turn, Reply: p.AgentReply, Confidence: p.Confidence, Sources: p.Sources,
			ToolFailures: p.ToolFailures, TranscriptURL: p.TranscriptURL,
		},
		Raw: rawJSON(body),
	}
	if p.Signals != nil {
		sig, err := agentSignals(p.Signals)
		if err != nil {
			return handoff.Event{}, err
		}
		ev.Agent.Signals = sig
	}
	if p.BuyerMessage != "" {
		ev.Message = &handoff.Message{ID: p.ID, Text: p.BuyerMessage, Direction: handoff.Inbound, ThreadID: p.ConversationID}
	}
	return ev, nil
}

// agentSignals validates a turn's "signals": intents are lower-case ids
// (a letter, then letters, digits, "_" or "-"; at most MaxAgentIntents,
// repeats dropped), sentiment is within -1..1, language is an ISO 639-1
// code ("de"; a region, as in "pt-BR", is dropped). An object that says
// nothing is no signals.
func agentSignals(p *AgentSignalsPayload) (*handoff.AgentSignals, error) {
	s := &handoff.AgentSignals{HumanRequest: p.HumanRequest}
	if len(p.Intents) > MaxAgentIntents {
		return nil, fmt.Errorf("signals.intents has %d entries; at most %d", len(p.Intents), MaxAgentIntents)
	}
	for i, in := range p.Intents {
		if !validIntent(in) {
			return nil, fmt.Errorf("signals.intents[%d] %q is not an intent id (lower-case letters, digits, _ or -, starting with a letter, at most %d characters)",
				i, truncateID(in), maxAgentIntentLen)
		}
		if !slices.Contains(s.Intents, in) {
			s.Intents = append(s.Intents, in)
		}
	}
	if v := p.Sentiment; v != nil {
		if math.IsNaN(*v) || *v < -1 || *v > 1 {
			return nil, fmt.Errorf("signals.sentiment %v is outside -1..1", *v)
		}
		s.Sentiment = v
	}
	if p.Language != "" {
		lang, ok := languageCode(p.Language)
		if !ok {
			return nil, fmt.Errorf("signals.language %q is not an ISO 639-1 language code (like \"en\" or \"pt-BR\")", truncateID(p.Language))
		}
		s.Language = lang
	}
	if len(s.Intents) == 0 && s.Sentiment == nil && s.Language == "" && !s.HumanRequest {
		return nil, nil
	}
	return s, nil
}

func validIntent(s string) bool {
	if s == "" || len(s) > maxAgentIntentLen || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// languageCode returns the lower-case two-letter primary language of a
// code such as "de", "DE", "pt-BR" or "en_US".
func languageCode(s string) (string, bool) {
	primary, region, hasRegion := strings.Cut(strings.ReplaceAll(s, "_", "-"), "-")
	if len(primary) != 2 || hasRegion && (region == "" || len(region) > 8) {
		return "", false
	}
	primary = strings.ToLower(primary)
	for i := 0; i < 2; i++ {
		if primary[i] < 'a' || primary[i] > 'z' {
			return "", false
		}
	}
	for i := 0; i < len(region); i++ {
		c := region[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return "", false
		}
	}
	return primary, true
}

// truncateID keeps an echoed bad value short in an error.
func truncateID(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}
