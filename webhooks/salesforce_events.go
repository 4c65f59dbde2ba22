package webhooks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/handoff-dev/handoff"
)

// SalesforceEvent is the JSON body of POST /webhooks/salesforce/events,
// sent by a Flow HTTP callout or Apex (see fixtures/salesforce/README.md).
// The body is one such object, or an array of at most 100 (each then with
// its own id). Unknown fields are ignored.
type SalesforceEvent struct {
	ID             string                  `json:"id"`              // defaults to the webhook-id header (single object only)
	OrganizationID string                  `json:"organization_id"` // required; one of SALESFORCE_ORG_IDS
	Kind           string                  `json:"kind"`            // required; a handoff kind, e.g. email_reply
	OccurredAt     string                  `json:"occurred_at"`     // required; RFC 3339
	Channel        string                  `json:"channel"`
	Contact        *sfEventContact         `json:"contact"`
	Record         *handoff.ObjectRef      `json:"record"`
	Property       *handoff.PropertyChange `json:"property"`
	Message        *handoff.Message        `json:"message"`
	ConversationID string                  `json:"conversation_id"`
	Campaign       string                  `json:"campaign"`
	Fields         map[string]flexString   `json:"fields"`
}

type sfEventContact struct {
	ID    string `json:"id"`
	Type  string `json:"type"` // contact | lead (default: from the id prefix)
	Email string `json:"email"`
}

// SalesforceEvents serves POST /webhooks/salesforce/events.
func (h *Handlers) SalesforceEvents(c echo.Context) error {
	enabled := len(h.s.sfOrgs) > 0 && len(h.s.sfKey) > 0
	return h.serveJSON(c, handoff.SourceSalesforce, "SALESFORCE_ORG_IDS or SALESFORCE_WEBHOOK_SECRET", enabled,
		func(r *http.Request, body []byte) *reqError {
			return sigError(HeaderWebhookSignature, verifyStandardWebhookKeys(h.s.sfKey, h.s.sfKeyB64, r.Header, body, h.now(), h.s.maxAge))
		},
		func(r *http.Request, body []byte) ([]handoff.Event, int, *reqError) {
			events, err := ParseSalesforceEvents(body, r.Header.Get(HeaderWebhookID), h.now().UTC())
			if err != nil {
				return nil, 0, badRequest("%v", err)
			}
			for i := range events {
				org := matchOrg(h.s.sfOrgs, events[i].Tenant)
				if org == "" {
					return nil, 0, &reqError{http.StatusForbidden, "unknown_org", fmt.Sprintf("event %d: organization_id is not one of SALESFORCE_ORG_IDS", i)}
				}
				events[i].Tenant, events[i].Contact.Tenant = org, org
			}
			return events, 0, nil
		})
}

// ParseSalesforceEvents parses the JSON body. Tenant is set to the
// organization_id as sent; the handler replaces it with the configured id
// once the org is checked. The dedupe key is the org (first 15 characters)
// and the event id.
func ParseSalesforceEvents(body []byte, webhookID string, receivedAt time.Time) ([]handoff.Event, error) {
	if !utf8.ValidString(webhookID) {
		return nil, errors.New("webhook-id is not valid UTF-8")
	}
	var items []json.RawMessage
	single := false
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	switch {
	case len(trimmed) > 0 && trimmed[0] == '[':
		if err := json.Unmarshal(body, &items); err != nil {
			return nil, fmt.Errorf("body is not JSON: %s", jsonErr(err))
		}
		if len(items) == 0 {
			return nil, errors.New("empty array: no events")
		}
		if len(items) > MaxBatch {
			return nil, fmt.Errorf("%d events in one request; at most %d are accepted", len(items), MaxBatch)
		}
	case len(trimmed) > 0 && trimmed[0] == '{':
		items, single = []json.RawMessage{body}, true
	default:
		return nil, errors.New("body must be a JSON object or an array of objects")
	}
	out := make([]handoff.Event, 0, len(items))
	for i, raw := range items {
		var e SalesforceEvent
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, fmt.Errorf("event %d: %s", i, jsonErr(err))
		}
		if e.ID == "" && single {
			e.ID = webhookID
		}
		ev, err := e.normalize(raw, receivedAt)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		out = append(out, ev)
	}
	return out, nil
}

func (e *SalesforceEvent) normalize(raw json.RawMessage, receivedAt time.Time) (handoff.Event, error) {
	var ev handoff.Event
	switch {
	case e.ID == "":
		return ev, errors.New("id is missing")
	case e.OrganizationID == "":
		return ev, errors.New("organization_id is missing")
	case len(e.OrganizationID) != 15 && len(e.OrganizationID) != 18:
		return ev, errors.New("organization_id is not a 15- or 18-character org id")
	case e.Kind == "":
		return ev, errors.New("kind is missing")
	case !slices.Contains(handoff.Kinds, handoff.Kind(e.Kind)):
		return ev, fmt.Errorf("kind %q is not one of %v", e.Kind, handoff.Kinds)
	case e.OccurredAt == "":
		return ev, errors.New("occurred_at is missing")
	}
	occ, err := time.Parse(time.RFC3339Nano, e.OccurredAt)
	if err != nil {
		return ev, fmt.Errorf("occurred_at %q is not an RFC 3339 time", e.OccurredAt)
	}
	ev = handoff.Event{
		Source:         handoff.SourceSalesforce,
		Tenant:         e.OrganizationID,
		NativeID:       e.ID,
		Kind:           handoff.Kind(e.Kind),
		Channel:        e.Channel,
		OccurredAt:     occ.UTC(),
		ReceivedAt:     receivedAt,
		Contact:        handoff.ContactRef{CRM: handoff.SourceSalesforce, Tenant: e.OrganizationID},
		Object:         e.Record,
		Property:       e.Property,
		Message:        e.Message,
		ConversationID: e.ConversationID,
		Campaign:       e.Campaign,
		Raw:            raw,
		DedupeKey:      dedupeKey(handoff.SourceSalesforce, "event", e.OrganizationID[:15], e.ID),
	}
	if e.Contact != nil {
		ev.Contact.ID, ev.Contact.Email = e.Contact.ID, e.Contact.Email
		ev.Contact.Type = strings.ToLower(e.Contact.Type)
		if ev.Contact.Type == "" {
			ev.Contact.Type = sfRecordType(e.Contact.ID)
		}
	}
	if ev.Contact.IsZero() && (ev.Object == nil || ev.Object.ID == "") {
		return ev, errors.New("one of contact.id, contact.email or record.id is required")
	}
	if ev.Message != nil {
		switch ev.Message.Direction {
		case "", handoff.Inbound, handoff.Outbound:
		default:
			return ev, fmt.Errorf("message.direction %q: want inbound or outbound", ev.Message.Direction)
		}
		if ev.Message.Direction == "" {
			ev.Message.Direction = handoff.Inbound
		}
	}
	if len(e.Fields) > 0 {
		ev.Attributes = make(map[string]string, len(e.Fields))
		for k, v := range e.Fields {
			ev.Attributes[k] = string(v)
		}
	}
	return ev, nil
}
