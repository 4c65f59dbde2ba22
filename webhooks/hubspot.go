package webhooks

import (
	"bytes"
	"crypto/sha256"
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

	"github.com/labstack/echo/v4"

	"github.com/handoff-dev/handoff"
)

// HubSpot serves POST /webhooks/hubspot: app webhook batches (JSON arrays
// of up to 100 events, classic "contact.propertyChange" and generic
// "object.*" formats, conversation events) signed with v3, and workflow
// "Send a webhook" requests (one JSON object, the enrolled record) signed
// with v2 or v1. A batch may mix portals: each event's tenant is its
// portalId. Events of unknown subscription types are accepted and counted.
//
// Workflow "Send a webhook" actions may also use GET (no body, v2-signed
// over the empty body), served here too.
//
// Workflow requests carry no event type; the workflow's URL may say what
// the enrollment means with static query parameters, e.g.
// /webhooks/hubspot?kind=form_submission&channel=web (they are covered by
// the signature).
func (h *Handlers) HubSpot(c echo.Context) error {
	return h.serveJSON(c, handoff.SourceHubSpot, "HUBSPOT_CLIENT_SECRET", len(h.s.hubspotSecret) > 0,
		h.verifyHubSpot, h.parseHubSpotRequest)
}

// verifyHubSpot checks v3 when the request carries a v3 signature (app
// webhooks send it alongside v1), else v1/v2 (workflow webhooks and custom
// workflow actions sign with v2). A timestamp header without a v3
// signature is not by itself a v3 request: whether HubSpot adds the
// timestamp to v2-signed requests is UNCONFIRMED (docs/crm/hubspot.md §2.2), so a v1/v2
// signature is checked then; only with no signature at all is the missing
// v3 signature reported.
func (h *Handlers) verifyHubSpot(r *http.Request, body []byte) *reqError {
	sig3, ts := r.Header.Get(HeaderHubSpotSignatureV3), r.Header.Get(HeaderHubSpotTimestamp)
	if sig3 != "" {
		uri := HubSpotV3URI(h.s.baseURL, r.RequestURI)
		err := VerifyHubSpotV3(h.s.hubspotSecret, r.Method, uri, body, ts, sig3, h.now(), h.s.maxAge)
		if errors.Is(err, errSigMismatch) {
			if alt := hubspotV3URIAlternate(h.s.baseURL, r.RequestURI); alt != "" {
				err = VerifyHubSpotV3(h.s.hubspotSecret, r.Method, alt, body, ts, sig3, h.now(), h.s.maxAge)
			}
		}
		return sigError("X-HubSpot-Signature-v3", err)
	}
	if sig := r.Header.Get(HeaderHubSpotSignature); sig != "" {
		err := VerifyHubSpotV1V2(h.s.hubspotSecret, r.Header.Get(HeaderHubSpotSigVersion), r.Method, h.s.baseURL+r.RequestURI, body, sig)
		return sigError("X-HubSpot-Signature", err)
	}
	if ts != "" {
		return sigError("X-HubSpot-Signature-v3", errSigMissing)
	}
	return unauthorized("signature_missing", "no HubSpot signature: expected X-HubSpot-Signature-v3 with X-HubSpot-Request-Timestamp (or X-HubSpot-Signature for workflow webhooks)")
}

// sigError turns a verification error into a 401 naming the header.
func sigError(header string, err error) *reqError {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errTSStale):
		return unauthorized("stale_timestamp", "request timestamp is outside the accepted window (check the sender's clock, or a replay)")
	case errors.Is(err, errTSMissing), errors.Is(err, errTSMalformed):
		return unauthorized("bad_timestamp", "request timestamp: %v", err)
	case errors.Is(err, errSigMismatch):
		return unauthorized("bad_signature", "%s does not match the request (check the secret and PUBLIC_BASE_URL)", header)
	default:
		return unauthorized("bad_signature", "%s: %v", header, err)
	}
}

func (h *Handlers) parseHubSpotRequest(r *http.Request, body []byte) ([]handoff.Event, int, *reqError) {
	now := h.now().UTC()
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if r.Method == http.MethodGet || (len(trimmed) > 0 && trimmed[0] == '{') {
		ev, err := ParseHubSpotWorkflow(body, r.URL.Query(), now)
		if err != nil {
			return nil, 0, badRequest("%v", err)
		}
		return []handoff.Event{ev}, 0, nil
	}
	events, unknown, err := ParseHubSpotBatch(body, now)
	if errors.Is(err, errEmptyBatch) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, badRequest("%v", err)
	}
	if unknown > 0 {
		h.m.ignored.WithLabelValues(string(handoff.SourceHubSpot), "unknown_subscription").Add(float64(unknown))
	}
	dropped := 0
	if h.s.hubspotAppID != "" {
		kept := events[:0]
		for _, ev := range events {
			if app := ev.Attributes["app_id"]; app != "" && app != h.s.hubspotAppID {
				dropped++
				continue
			}
			kept = append(kept, ev)
		}
		events = kept
		if dropped > 0 {
			h.m.ignored.WithLabelValues(string(handoff.SourceHubSpot), "other_app").Add(float64(dropped))
		}
	}
	return events, dropped, nil
}

// hsEvent is one event of a HubSpot webhook batch. Ids are json.Number so
// that large ids survive exactly (they may be sent as numbers or strings).
type hsEvent struct {
	EventID              json.Number   `json:"eventId"`
	SubscriptionID       json.Number   `json:"subscriptionId"`
	PortalID             json.Number   `json:"portalId"`
	AppID                json.Number   `json:"appId"`
	OccurredAt           json.Number   `json:"occurredAt"`
	SubscriptionType     string        `json:"subscriptionType"`
	EventType            string        `json:"eventType"` // older docs' name
	AttemptNumber        json.Number   `json:"attemptNumber"`
	ObjectID             json.Number   `json:"objectId"`
	ObjectTypeID         string        `json:"objectTypeId"`
	PropertyName         string        `json:"propertyName"`
	PropertyValue        *flexString   `json:"propertyValue"`
	ChangeSource         string        `json:"changeSource"`
	ChangeFlag           string        `json:"changeFlag"`
	SourceID             string        `json:"sourceId"`
	MessageID            string        `json:"messageId"`
	MessageType          string        `json:"messageType"`
	PrimaryObjectID      json.Number   `json:"primaryObjectId"`
	MergedObjectIDs      []json.Number `json:"mergedObjectIds"`
	NewObjectID          json.Number   `json:"newObjectId"`
	AssociationType      string        `json:"associationType"`
	FromObjectID         json.Number   `json:"fromObjectId"`
	ToObjectID           json.Number   `json:"toObjectId"`
	AssociationRemoved   *bool         `json:"associationRemoved"`
	IsPrimaryAssociation *bool         `json:"isPrimaryAssociation"`
}

// flexString accepts a JSON string, number, boolean or null as text.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	switch {
	case string(b) == "null":
		*f = ""
	case string(b) == "true" || string(b) == "false":
		*f = flexString(b)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("want a string or a number, got %.20s", b)
		}
		*f = flexString(n)
	}
	return nil
}

// hubspotObjectTypes maps objectTypeId to the classic type names.
var hubspotObjectTypes = map[string]string{
	"0-1": "contact", "0-2": "company", "0-3": "deal", "0-5": "ticket",
	"0-7": "product", "0-8": "line_item", "0-27": "task", "0-11": "conversation",
}

var hubspotKnownObjects = []string{"contact", "company", "deal", "ticket", "product", "line_item", "conversation", "object"}

// errEmptyBatch: the batch is "[]". The handler acknowledges it (there is
// nothing to store, and a redelivery would not change that, docs/crm/hubspot.md §1.3).
var errEmptyBatch = errors.New("empty batch: the JSON array has no events")

// ParseHubSpotBatch parses a webhook batch (a JSON array of at most
// MaxBatch events) into events, and reports how many were of a
// subscription type it does not know (they are returned as KindOther).
func ParseHubSpotBatch(body []byte, receivedAt time.Time) ([]handoff.Event, int, error) {
	evs, raws, err := scanHubSpotBatch(body)
	if err != nil {
		return nil, 0, fmt.Errorf("body is not a valid HubSpot webhook batch: %w", err)
	}
	return normalizeHubSpot(evs, raws, receivedAt)
}

func normalizeHubSpot(evs []hsEvent, raws []json.RawMessage, receivedAt time.Time) ([]handoff.Event, int, error) {
	if len(evs) == 0 {
		return nil, 0, errEmptyBatch
	}
	out := make([]handoff.Event, 0, len(evs))
	unknown := 0
	for i := range evs {
		ev, known, err := evs[i].normalize(raws[i], receivedAt)
		if err != nil {
			return nil, 0, fmt.Errorf("event %d: %w", i, err)
		}
		if !known {
			unknown++
		}
		out = append(out, ev)
	}
	return out, unknown, nil
}

// id returns n as a decimal id, or an error naming the field.
func hsID(n json.Number, field string, required bool) (string, error) {
	s := string(n)
	if s == "" {
		if required {
			return "", fmt.Errorf("%s is missing", field)
		}
		return "", nil
	}
	if len(s) > 40 {
		return "", fmt.Errorf("%s is longer than 40 digits", field)
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && !(i == 0 && s[i] == '-') {
			return "", fmt.Errorf("%s %q is not an integer id", field, s)
		}
	}
	return s, nil
}

func (e *hsEvent) normalize(raw json.RawMessage, receivedAt time.Time) (handoff.Event, bool, error) {
	var ev handoff.Event
	typ := e.SubscriptionType
	if typ == "" {
		typ = e.EventType
	}
	if typ == "" {
		return ev, false, errors.New("subscriptionType is missing")
	}
	portal, err := hsID(e.PortalID, "portalId", true)
	if err != nil {
		return ev, false, err
	}
	eventID, err := hsID(e.EventID, "eventId", false)
	if err != nil {
		return ev, false, err
	}
	objType, action, _ := strings.Cut(typ, ".")
	kind, known := hubspotKind(objType, action, e.PropertyName)
	if !slices.Contains(hubspotKnownObjects, objType) {
		kind, known = handoff.KindOther, false
	}
	// A type we do not know may lack what known types carry: accept it
	// (and count it) rather than fail the whole batch. Association events
	// name their records in fromObjectId/toObjectId; whether they also
	// carry objectId is not settled by the doc (docs/crm/hubspot.md §1.1 "add"), so without it
	// the record is fromObjectId.
	assocEvent := kind == handoff.KindAssociationChange
	objectID, err := hsID(e.ObjectID, "objectId", known && !assocEvent)
	if err != nil {
		return ev, false, err
	}
	if objectID == "" && assocEvent {
		if objectID, err = hsID(e.FromObjectID, "fromObjectId", false); err != nil {
			return ev, false, err
		}
	}
	occ, err := hsID(e.OccurredAt, "occurredAt", known)
	if err != nil {
		return ev, false, err
	}
	occurred := receivedAt
	if occ != "" {
		ms, err := strconv.ParseInt(occ, 10, 64)
		if err != nil || ms < 0 {
			return ev, false, fmt.Errorf("occurredAt %q is not epoch milliseconds", occ)
		}
		occurred = time.UnixMilli(ms).UTC()
	}
	appID, err := hsID(e.AppID, "appId", false)
	if err != nil {
		return ev, false, err
	}
	value := ""
	if e.PropertyValue != nil {
		value = string(*e.PropertyValue)
	}

	if objType == "object" {
		if e.ObjectTypeID == "" {
			return ev, false, fmt.Errorf("%s event has no objectTypeId", typ)
		}
		if t, ok := hubspotObjectTypes[e.ObjectTypeID]; ok {
			objType = t
		} else {
			objType = e.ObjectTypeID // a custom object, "2-…"
		}
		kind, _ = hubspotKind(objType, action, e.PropertyName)
	}

	// docs/crm/hubspot.md §1.1/§7: messageType COMMENT is a rep's internal note on the thread,
	// not a buyer's message: it is kept (with its thread and message ids)
	// but not as a chat message.
	internalNote := kind == handoff.KindChatMessage && strings.EqualFold(e.MessageType, "COMMENT")
	if internalNote {
		kind = handoff.KindOther
	}
	ev = handoff.Event{
		Source:     handoff.SourceHubSpot,
		Tenant:     portal,
		NativeID:   eventID,
		Kind:       kind,
		Channel:    "crm",
		OccurredAt: occurred,
		ReceivedAt: receivedAt,
		Contact:    handoff.ContactRef{CRM: handoff.SourceHubSpot, Tenant: portal},
		Raw:        raw,
	}
	if objectID != "" {
		ev.Object = &handoff.ObjectRef{Type: objType, ID: objectID}
	}
	attrs := make(map[string]string, 6)
	attrs["subscription_type"] = typ
	set := func(k, v string) {
		if v != "" {
			attrs[k] = v
		}
	}
	set("object_type_id", e.ObjectTypeID)
	set("change_source", e.ChangeSource)
	set("change_flag", e.ChangeFlag)
	set("source_id", e.SourceID)
	set("app_id", appID)
	if objType == "contact" {
		ev.Contact.ID, ev.Contact.Type = objectID, "contact"
	}
	if e.PropertyName != "" {
		ev.Property = &handoff.PropertyChange{Name: e.PropertyName, Value: value}
	}
	var mergedIDs []string
	switch {
	case kind == handoff.KindChatMessage || internalNote:
		ev.Channel = "chat"
		ev.ConversationID = objectID
		ev.Message = &handoff.Message{ID: e.MessageID, ThreadID: objectID}
		set("message_type", e.MessageType)
	case kind == handoff.KindAssociationChange:
		from, _ := hsID(e.FromObjectID, "fromObjectId", false)
		to, _ := hsID(e.ToObjectID, "toObjectId", false)
		set("association_type", e.AssociationType)
		set("from_object_id", from)
		set("to_object_id", to)
		if e.AssociationRemoved != nil {
			attrs["association_removed"] = strconv.FormatBool(*e.AssociationRemoved)
		}
		if e.IsPrimaryAssociation != nil {
			attrs["is_primary_association"] = strconv.FormatBool(*e.IsPrimaryAssociation)
		}
		at := strings.ToUpper(e.AssociationType)
		switch {
		case strings.HasPrefix(at, "CONTACT_TO_") && from != "":
			ev.Contact.ID, ev.Contact.Type = from, "contact"
		case strings.HasSuffix(at, "_TO_CONTACT") && to != "":
			ev.Contact.ID, ev.Contact.Type = to, "contact"
		}
	case kind == handoff.KindObjectMerged:
		for _, m := range e.MergedObjectIDs {
			id, err := hsID(m, "mergedObjectIds", true)
			if err != nil {
				return ev, false, err
			}
			mergedIDs = append(mergedIDs, id)
		}
		p, _ := hsID(e.PrimaryObjectID, "primaryObjectId", false)
		n, _ := hsID(e.NewObjectID, "newObjectId", false)
		set("primary_object_id", p)
		set("new_object_id", n)
		set("merged_object_ids", strings.Join(mergedIDs, ","))
	}
	if objType == "conversation" {
		ev.ConversationID = objectID
	}
	ev.Attributes = attrs

	// Identity: everything that tells two events apart, never attemptNumber.
	assoc := ""
	if e.AssociationRemoved != nil {
		assoc = strconv.FormatBool(*e.AssociationRemoved)
	}
	ev.DedupeKey = dedupeKey(handoff.SourceHubSpot, portal, typ, e.ObjectTypeID, objectID, eventID, occ,
		e.PropertyName, value, e.MessageID, e.AssociationType, string(e.FromObjectID), string(e.ToObjectID), assoc,
		string(e.PrimaryObjectID), strings.Join(mergedIDs, ","))
	return ev, known, nil
}

// hubspotKind maps (object type, action) to a Kind; known is false for
// actions it does not recognise.
func hubspotKind(objType, action, property string) (handoff.Kind, bool) {
	switch action {
	case "creation":
		return handoff.KindObjectCreated, true
	case "deletion", "privacyDeletion":
		return handoff.KindObjectDeleted, true
	case "merge":
		return handoff.KindObjectMerged, true
	case "restore":
		return handoff.KindOther, true
	case "associationChange":
		return handoff.KindAssociationChange, true
	case "propertyChange":
		if objType == "deal" && property == "dealstage" {
			return handoff.KindDealStageChange, true
		}
		return handoff.KindPropertyChange, true
	case "newMessage":
		if objType == "conversation" {
			return handoff.KindChatMessage, true
		}
	}
	return handoff.KindOther, false
}

// ParseHubSpotWorkflow parses a workflow request. Three shapes (docs/crm/hubspot.md §3):
//   - "Send a webhook" POST: one JSON object, the enrolled record (classic
//     contact shape with "vid" and "portal-id", a CRM v3 object with
//     "id"/"objectId" and "properties", or a body of chosen properties
//     with the keys at the top level);
//   - "Send a webhook" GET: no body (body empty); the record comes from the
//     URL's query parameters (objectId, vid, hs_object_id or id; email;
//     portalId), which the workflow's URL or query settings must carry;
//   - a custom workflow action: {"callbackId","origin":{"portalId"},
//     "object":{"objectId","objectType","properties"},...}.
//
// The URL's query may also carry kind, channel, object (record type) and
// portalId. There is no event id: the identity is the portal, the record,
// the kind and a hash of the body (of the query for a GET; the callbackId
// of a custom action), so HubSpot's retries dedupe and a new enrollment
// (whose body differs) does not.
func ParseHubSpotWorkflow(body []byte, q url.Values, receivedAt time.Time) (handoff.Event, error) {
	var ev handoff.Event
	doc := map[string]json.RawMessage{}
	origin := "workflow"
	identity := body
	var props map[string]string
	if len(bytes.TrimSpace(body)) == 0 {
		for k, v := range q {
			if len(v) > 0 {
				b, _ := json.Marshal(v[0])
				doc[k] = b
			}
		}
		identity = []byte(q.Encode())
		props = map[string]string{}
		for k, v := range q {
			if len(v) > 0 {
				props[k] = v[0]
			}
		}
	} else if err := json.Unmarshal(body, &doc); err != nil {
		return ev, fmt.Errorf("body is not a JSON object: %s", jsonErr(err))
	}
	str := func(keys ...string) string {
		for _, k := range keys {
			if v, ok := doc[k]; ok {
				var f flexString
				if json.Unmarshal(v, &f) == nil && f != "" {
					return string(f)
				}
			}
		}
		return ""
	}
	portal := str("portalId", "portal-id", "portal_id")
	objectID := str("objectId", "vid", "hs_object_id", "id")
	bodyType := str("objectType")
	if _, isAction := doc["callbackId"]; isAction && len(doc["object"]) > 0 {
		var act struct {
			CallbackID flexString `json:"callbackId"`
			Origin     struct {
				PortalID flexString `json:"portalId"`
			} `json:"origin"`
			Object struct {
				ObjectID   flexString      `json:"objectId"`
				ObjectType string          `json:"objectType"`
				Properties json.RawMessage `json:"properties"`
			} `json:"object"`
		}
		if err := json.Unmarshal(body, &act); err != nil {
			return ev, fmt.Errorf("custom workflow action body: %s", jsonErr(err))
		}
		origin = "workflow_action"
		identity = []byte(act.CallbackID)
		portal, objectID, bodyType = string(act.Origin.PortalID), string(act.Object.ObjectID), act.Object.ObjectType
		props = workflowProperties(act.Object.Properties)
	}
	if props == nil {
		if raw, ok := doc["properties"]; ok {
			props = workflowProperties(raw)
		} else {
			props = workflowProperties(body) // a body of chosen properties
		}
	}
	if portal == "" {
		portal = q.Get("portalId")
	}
	if portal != "" {
		if _, err := hsID(json.Number(portal), "portalId", true); err != nil {
			return ev, err
		}
	}
	if objectID == "" {
		objectID = props["hs_object_id"]
	}
	email := props["email"]
	if objectID == "" && email == "" {
		return ev, errors.New("workflow webhook has no record id (objectId, vid, id or properties.hs_object_id) and no email")
	}
	kind := handoff.KindOther
	if k := q.Get("kind"); k != "" {
		if !slices.Contains(handoff.Kinds, handoff.Kind(k)) {
			return ev, fmt.Errorf("query parameter kind=%q is not a known kind", k)
		}
		kind = handoff.Kind(k)
	}
	objType := strings.ToLower(q.Get("object"))
	if objType == "" {
		objType = strings.ToLower(bodyType)
	}
	if objType == "" {
		objType = "contact"
	}
	channel := q.Get("channel")
	if channel == "" {
		channel = "crm"
	}
	sum := sha256.Sum256(identity)
	ev = handoff.Event{
		Source:     handoff.SourceHubSpot,
		Tenant:     portal,
		Kind:       kind,
		Channel:    channel,
		OccurredAt: receivedAt,
		ReceivedAt: receivedAt,
		Contact:    handoff.ContactRef{CRM: handoff.SourceHubSpot, Tenant: portal},
		Attributes: map[string]string{"origin": origin},
		Raw:        rawJSON(body),
	}
	if objectID != "" {
		ev.Object = &handoff.ObjectRef{Type: objType, ID: objectID}
	}
	if origin == "workflow_action" {
		ev.Attributes["callback_id"] = string(identity)
	}
	if objType == "contact" {
		ev.Contact.ID, ev.Contact.Type = objectID, "contact"
		ev.Contact.Email = email
	}
	for _, k := range []string{"hs_analytics_source", "lifecyclestage", "dealstage", "firstname", "lastname", "company"} {
		if v := props[k]; v != "" {
			ev.Attributes[k] = v
		}
	}
	ev.DedupeKey = dedupeKey(handoff.SourceHubSpot, origin, portal, objType, objectID, string(kind), hex.EncodeToString(sum[:]))
	return ev, nil
}

// workflowProperties flattens {"email":"a"} and {"email":{"value":"a",...}}.
func workflowProperties(raw json.RawMessage) map[string]string {
	out := map[string]string{}
	if len(raw) == 0 {
		return out
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return out
	}
	for k, v := range m {
		var f flexString
		if json.Unmarshal(v, &f) == nil {
			out[k] = string(f)
			continue
		}
		var obj struct {
			Value flexString `json:"value"`
		}
		if json.Unmarshal(v, &obj) == nil {
			out[k] = string(obj.Value)
		}
	}
	return out
}

// jsonErr shortens a JSON error for the sender, without echoing input.
func jsonErr(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se)
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("field %s: want %s, got JSON %s", te.Field, te.Type, te.Value)
		}
		return fmt.Sprintf("want %s, got JSON %s", te.Type, te.Value)
	default:
		return err.Error()
	}
}
