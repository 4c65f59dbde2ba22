package webhooks

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/handoff-dev/handoff"
)

// HeaderMarketoSecret carries MARKETO_WEBHOOK_SECRET on Marketo calls.
const HeaderMarketoSecret = "X-Handoff-Secret"

// MarketoPayload is the body our Marketo webhook template sends (see
// fixtures/marketo/). lead_id and kind are required; unknown fields are
// ignored. Values may arrive as JSON strings or numbers (Marketo quotes
// string tokens itself and leaves numbers bare).
type MarketoPayload struct {
	LeadID     flexString            `json:"lead_id"`
	ActivityID flexString            `json:"activity_id"` // optional: a unique id for this call, when the template has one
	Email      flexString            `json:"email"`
	Kind       flexString            `json:"kind"`
	Channel    flexString            `json:"channel"`
	OccurredAt flexString            `json:"occurred_at"`
	Campaign   flexString            `json:"campaign"`
	Program    flexString            `json:"program"`
	Trigger    flexString            `json:"trigger"`
	Message    flexString            `json:"message"`
	Fields     map[string]flexString `json:"fields"`
}

// marketoKinds maps the template's kinds to event kinds.
var marketoKinds = map[string]handoff.Kind{
	"form_submission":  handoff.KindFormSubmission,
	"webinar_attended": handoff.KindWebinarAttended,
	"event_scan":       handoff.KindEventScan,
	"ad_click":         handoff.KindAdClick,
	"email_reply":      handoff.KindEmailReply,
	"page_visit":       handoff.KindWebsiteVisit,
	"website_visit":    handoff.KindWebsiteVisit,
	"chat_message":     handoff.KindChatMessage,
}

// marketoChannels is the default channel per kind.
var marketoChannels = map[handoff.Kind]string{
	handoff.KindFormSubmission:  "web",
	handoff.KindWebinarAttended: "webinar",
	handoff.KindEventScan:       "event",
	handoff.KindAdClick:         "ads",
	handoff.KindEmailReply:      "email",
	handoff.KindWebsiteVisit:    "web",
	handoff.KindChatMessage:     "chat",
}

// Marketo serves POST /webhooks/marketo.
func (h *Handlers) Marketo(c echo.Context) error {
	return h.serveJSON(c, handoff.SourceMarketo, "MARKETO_WEBHOOK_SECRET", len(h.s.marketoSecret) > 0,
		func(r *http.Request, _ []byte) *reqError {
			got, header := r.Header.Get(HeaderMarketoSecret), HeaderMarketoSecret
			if got == "" {
				// The other custom header the docs suggest for a Marketo
				// shared secret: Authorization: Bearer {{my.WebhookSecret}}.
				if v, ok := cutBearer(r.Header.Get("Authorization")); ok {
					got, header = v, "Authorization"
				}
			}
			if got == "" {
				return unauthorized("signature_missing", "X-Handoff-Secret header missing")
			}
			if !secretEqual([]byte(got), h.s.marketoSecret) {
				return unauthorized("bad_signature", "%s does not match MARKETO_WEBHOOK_SECRET", header)
			}
			return nil
		},
		func(_ *http.Request, body []byte) ([]handoff.Event, int, *reqError) {
			ev, err := ParseMarketoIn(body, h.s.marketoTenant, h.s.marketoZone, h.now().UTC())
			if err != nil {
				return nil, 0, badRequest("%v", err)
			}
			return []handoff.Event{ev}, 0, nil
		})
}

// cutBearer returns the credentials of "Bearer <secret>" (scheme
// case-insensitive).
func cutBearer(h string) (string, bool) {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	cred = strings.TrimSpace(cred)
	return cred, cred != ""
}

// secretEqual compares in constant time, lengths included (both sides are
// hashed first, so the length of the secret does not leak either).
func secretEqual(a, b []byte) bool {
	ha, hb := sha256.Sum256(a), sha256.Sum256(b)
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// ParseMarketo parses one Marketo call for the instance tenant.
//
// Identity: activity_id when the template sends one; otherwise the lead,
// the kind, occurred_at as sent, campaign, program, trigger and a hash of
// the message and form fields. Without occurred_at the second of receipt is
// part of the key: a resend may then be stored twice, which the pipeline
// tolerates, where a key too coarse would drop a real second event.
//
// A time without a zone ("2026-11-22 10:00:00", as {{system.dateTime}}
// prints it) is read as UTC here; the route reads it in MARKETO_TIME_ZONE
// through ParseMarketoIn.
func ParseMarketo(body []byte, tenant string, receivedAt time.Time) (handoff.Event, error) {
	return ParseMarketoIn(body, tenant, time.UTC, receivedAt)
}

// ParseMarketoIn is ParseMarketo reading times without a zone in zone.
func ParseMarketoIn(body []byte, tenant string, zone *time.Location, receivedAt time.Time) (handoff.Event, error) {
	var ev handoff.Event
	var p MarketoPayload
	raw := rawJSON(body)
	switch t := bytes.TrimLeft(body, " \t\r\n"); {
	case len(t) == 0 || t[0] == '[' || t[0] == '"':
		return ev, errors.New("body must be a JSON object (the Marketo webhook template, Request Token Encoding JSON) or a form")
	case t[0] == '{':
		if err := json.Unmarshal(body, &p); err != nil {
			return ev, fmt.Errorf("body is not the Marketo webhook JSON: %s", jsonErr(err))
		}
	default:
		// A Form/Url template: lead_id={{lead.Id}}&kind=...&fields[company]=...
		form, err := parseMarketoForm(body)
		if err != nil {
			return ev, err
		}
		p = form
		raw, _ = json.Marshal(p)
	}
	lead := strings.TrimSpace(string(p.LeadID))
	if lead == "" {
		return ev, errors.New("lead_id is missing (template token {{lead.Id}})")
	}
	if _, err := strconv.ParseUint(lead, 10, 64); err != nil {
		return ev, fmt.Errorf("lead_id %q is not a Marketo lead id", lead)
	}
	k := strings.ToLower(strings.TrimSpace(string(p.Kind)))
	if k == "" {
		return ev, errors.New("kind is missing")
	}
	kind, ok := marketoKinds[k]
	if !ok {
		known := make([]string, 0, len(marketoKinds))
		for n := range marketoKinds {
			known = append(known, n)
		}
		slices.Sort(known)
		return ev, fmt.Errorf("kind %q is not one of %s", k, strings.Join(known, ", "))
	}
	occ := receivedAt
	occRaw := strings.TrimSpace(string(p.OccurredAt))
	if occRaw != "" {
		t, err := parseLooseTimeIn(occRaw, zone)
		if err != nil {
			return ev, fmt.Errorf("occurred_at %q: %v", occRaw, err)
		}
		occ = t
	}
	channel := strings.TrimSpace(string(p.Channel))
	if channel == "" {
		channel = marketoChannels[kind]
	}
	ev = handoff.Event{
		Source:     handoff.SourceMarketo,
		Tenant:     tenant,
		NativeID:   string(p.ActivityID),
		Kind:       kind,
		Channel:    channel,
		OccurredAt: occ,
		ReceivedAt: receivedAt,
		Contact:    handoff.ContactRef{CRM: handoff.SourceMarketo, Tenant: tenant, ID: lead, Type: "lead", Email: strings.TrimSpace(string(p.Email))},
		Campaign:   string(p.Campaign),
		Program:    string(p.Program),
		Raw:        raw,
	}
	if msg := string(p.Message); msg != "" {
		ev.Message = &handoff.Message{Text: msg, Direction: handoff.Inbound}
	}
	attrs := map[string]string{}
	if p.Trigger != "" {
		attrs["trigger"] = string(p.Trigger)
	}
	fieldNames := make([]string, 0, len(p.Fields))
	for name, v := range p.Fields {
		if v != "" {
			attrs["form."+name] = string(v)
			fieldNames = append(fieldNames, name)
		}
	}
	if len(attrs) > 0 {
		ev.Attributes = attrs
	}
	if p.ActivityID != "" {
		ev.DedupeKey = dedupeKey(handoff.SourceMarketo, tenant, lead, "activity", string(p.ActivityID))
		return ev, nil
	}
	// A digest of the content, fields in a stable order.
	slices.Sort(fieldNames)
	d := sha256.New()
	d.Write([]byte(p.Message))
	for _, n := range fieldNames {
		fmt.Fprintf(d, "\x00%s\x00%s", n, p.Fields[n])
	}
	when := occRaw
	if when == "" {
		when = "received:" + strconv.FormatInt(receivedAt.Unix(), 10)
	}
	ev.DedupeKey = dedupeKey(handoff.SourceMarketo, tenant, lead, string(kind), when, string(p.Campaign), string(p.Program), string(p.Trigger), hex.EncodeToString(d.Sum(nil)))
	return ev, nil
}

// parseMarketoForm reads a form-encoded call (Request Token Encoding
// Form/Url, the other encoding a Marketo webhook offers): the same names as
// the JSON template, form fields as fields[<name>] or fields.<name>.
func parseMarketoForm(body []byte) (MarketoPayload, error) {
	var p MarketoPayload
	v, err := url.ParseQuery(string(bytes.TrimSpace(body)))
	if err != nil {
		return p, errors.New("body is neither the Marketo webhook JSON nor a form (Request Token Encoding JSON or Form/Url)")
	}
	// The template's top-level keys, as in the JSON form.
	top := map[string]*flexString{
		"lead_id": &p.LeadID, "activity_id": &p.ActivityID, "email": &p.Email, "kind": &p.Kind,
		"channel": &p.Channel, "occurred_at": &p.OccurredAt, "campaign": &p.Campaign,
		"program": &p.Program, "trigger": &p.Trigger, "message": &p.Message,
	}
	for k, vals := range v {
		val := vals[0]
		if !utf8.ValidString(k) || !utf8.ValidString(val) {
			return p, errors.New("form field is not valid UTF-8")
		}
		if dst := top[k]; dst != nil {
			*dst = flexString(val)
			continue
		}
		name, ok := strings.CutPrefix(k, "fields.")
		if !ok {
			if n, ok2 := strings.CutPrefix(k, "fields["); ok2 && strings.HasSuffix(n, "]") {
				name, ok = strings.TrimSuffix(n, "]"), true
			}
		}
		if ok && name != "" {
			if p.Fields == nil {
				p.Fields = map[string]flexString{}
			}
			p.Fields[name] = flexString(val)
		}
	}
	return p, nil
}

// parseLooseTimeIn accepts RFC 3339, "2006-01-02 15:04:05" and
// "2006-01-02T15:04:05" (read in zone; nil: UTC), a date, or epoch seconds
// or milliseconds.
func parseLooseTimeIn(s string, zone *time.Location) (time.Time, error) {
	if zone == nil {
		zone = time.UTC
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > 1e11 {
			return time.UnixMilli(n).UTC(), nil
		}
		return time.Unix(n, 0).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04:05Z07:00", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, zone); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("want an RFC 3339 time, \"YYYY-MM-DD hh:mm:ss\", a date or epoch milliseconds")
}
