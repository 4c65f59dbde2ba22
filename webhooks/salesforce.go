package webhooks

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoff-dev/handoff"
)

// SOAP and Outbound Message namespaces.
const (
	nsSOAPEnv   = "http://schemas.xmlsoap.org/soap/envelope/"
	nsOutbound  = "http://soap.sforce.com/2005/09/outbound"
	nsXSI       = "http://www.w3.org/2001/XMLSchema-instance"
	maxXMLDepth = 16
	maxSFFields = 500
)

// OutboundMessage is a decoded Salesforce Outbound Message.
type OutboundMessage struct {
	OrganizationID string
	ActionID       string
	EnterpriseURL  string
	PartnerURL     string
	Notifications  []Notification
}

// Notification is one record of an Outbound Message.
type Notification struct {
	ID          string            // notification id (04l…)
	SObjectType string            // from xsi:type, e.g. "Contact"
	Fields      map[string]string // sObject fields by local name; nil fields are ""
}

// ParseOutboundMessage decodes a SOAP 1.1 Outbound Message. It streams
// tokens with encoding/xml, refuses any DTD (so no entity can be declared,
// and encoding/xml expands none but the five predefined ones), bounds the
// nesting depth, the notifications (MaxBatch) and the fields per sObject,
// and decodes the sObject's fields generically by local name.
func ParseOutboundMessage(body []byte) (*OutboundMessage, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		if strings.EqualFold(label, "utf-8") || strings.EqualFold(label, "us-ascii") {
			return r, nil
		}
		return nil, fmt.Errorf("unsupported XML encoding %q (want UTF-8)", label)
	}
	msg := &OutboundMessage{}
	var (
		stack   []xml.Name
		text    strings.Builder
		cur     *Notification
		sawNote bool
		sawRoot bool
	)
	// path reports whether the stack is exactly the given local names.
	at := func(names ...string) bool {
		if len(stack) != len(names) {
			return false
		}
		for i, n := range names {
			if stack[i].Local != n {
				return false
			}
		}
		return true
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("body is not a valid SOAP envelope: %v", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, errors.New("DTDs and other directives are not accepted")
		case xml.StartElement:
			if len(stack) >= maxXMLDepth {
				return nil, fmt.Errorf("XML nested deeper than %d elements", maxXMLDepth)
			}
			stack = append(stack, t.Name)
			text.Reset()
			switch {
			case len(stack) == 1:
				sawRoot = true
				if t.Name.Space != nsSOAPEnv || t.Name.Local != "Envelope" {
					return nil, fmt.Errorf("root element is {%s}%s, want a SOAP 1.1 Envelope", t.Name.Space, t.Name.Local)
				}
			case at("Envelope", "Body", "notifications"):
				if t.Name.Space != nsOutbound {
					return nil, fmt.Errorf("notifications element is in namespace %q, want %q", t.Name.Space, nsOutbound)
				}
				sawNote = true
			case at("Envelope", "Body", "notifications", "Notification"):
				if len(msg.Notifications) >= MaxBatch {
					return nil, fmt.Errorf("more than %d notifications in one message", MaxBatch)
				}
				msg.Notifications = append(msg.Notifications, Notification{})
				cur = &msg.Notifications[len(msg.Notifications)-1]
			case at("Envelope", "Body", "notifications", "Notification", "sObject"):
				for _, a := range t.Attr {
					if a.Name.Local == "type" && (a.Name.Space == nsXSI || a.Name.Space == "xsi") {
						typ := a.Value
						if i := strings.LastIndexByte(typ, ':'); i >= 0 {
							typ = typ[i+1:]
						}
						cur.SObjectType = typ
					}
				}
				cur.Fields = map[string]string{}
			}
		case xml.CharData:
			if len(stack) >= 4 {
				if text.Len()+len(t) > 1<<20 {
					return nil, errors.New("element text too long")
				}
				text.Write(t)
			}
		case xml.EndElement:
			v := strings.TrimSpace(text.String())
			switch {
			case at("Envelope", "Body", "notifications", "OrganizationId"):
				msg.OrganizationID = v
			case at("Envelope", "Body", "notifications", "ActionId"):
				msg.ActionID = v
			case at("Envelope", "Body", "notifications", "EnterpriseUrl"):
				msg.EnterpriseURL = v
			case at("Envelope", "Body", "notifications", "PartnerUrl"):
				msg.PartnerURL = v
			case at("Envelope", "Body", "notifications", "Notification", "Id"):
				cur.ID = v
			case len(stack) == 6 && at("Envelope", "Body", "notifications", "Notification", "sObject", stack[5].Local):
				if len(cur.Fields) >= maxSFFields {
					return nil, fmt.Errorf("more than %d fields in one sObject", maxSFFields)
				}
				cur.Fields[stack[5].Local] = v
			}
			stack = stack[:len(stack)-1]
			text.Reset()
		}
	}
	switch {
	case !sawRoot:
		return nil, errors.New("body is not a valid SOAP envelope: no XML element")
	case !sawNote:
		return nil, errors.New("SOAP body has no Outbound Message notifications element")
	case msg.OrganizationID == "":
		return nil, errors.New("OrganizationId is missing")
	case len(msg.Notifications) == 0:
		return nil, errors.New("the message has no Notification")
	}
	for i, n := range msg.Notifications {
		if n.ID == "" {
			return nil, fmt.Errorf("notification %d has no Id", i)
		}
		if n.Fields == nil {
			// A record deleted before delivery comes without data; keep
			// the notification (its id is its identity).
			msg.Notifications[i].Fields = map[string]string{}
		}
	}
	return msg, nil
}

// matchOrg returns the configured org id matching id (compared on the
// first 15 characters, case-sensitively, in constant time) in its
// 18-character form, the one the identity URL and so the stored token
// use; or "".
func matchOrg(configured []string, id string) string {
	if len(id) != 15 && len(id) != 18 {
		return ""
	}
	found := ""
	for _, c := range configured {
		if subtle.ConstantTimeCompare([]byte(c[:15]), []byte(id[:15])) == 1 {
			found = c
		}
	}
	return handoff.SalesforceID18(found)
}

// Salesforce serves POST /webhooks/salesforce (Outbound Messages). The
// answer is the SOAP notificationsResponse with Ack true, only once every
// notification is stored; otherwise a SOAP fault (HTTP 500 when Salesforce
// should retry, 400/401/403/413 when the request itself is wrong).
func (h *Handlers) Salesforce(c echo.Context) error {
	const src = handoff.SourceSalesforce
	start := time.Now()
	defer func() { h.m.ackSeconds.WithLabelValues(string(src)).Observe(time.Since(start).Seconds()) }()
	h.m.requests.WithLabelValues(string(src)).Inc()
	fail := func(e *reqError) error {
		h.reject(src, e)
		status := e.status
		if status == http.StatusServiceUnavailable {
			status = http.StatusInternalServerError // Salesforce retries on a fault
		}
		return writeSOAPFault(c, status, e)
	}
	if len(h.s.sfOrgs) == 0 {
		return fail(errNotConfigured("SALESFORCE_ORG_IDS"))
	}
	r := c.Request()
	body, rerr := readBody(r, h.s.maxBody)
	if rerr != nil {
		return fail(rerr)
	}
	msg, err := ParseOutboundMessage(body)
	if err != nil {
		return fail(badRequest("%v", err))
	}
	org := matchOrg(h.s.sfOrgs, msg.OrganizationID)
	if org == "" {
		return fail(&reqError{http.StatusForbidden, "unknown_org", "OrganizationId is not one of SALESFORCE_ORG_IDS"})
	}
	events := OutboundEvents(msg, org, h.now().UTC())
	h.m.events.WithLabelValues(string(src)).Add(float64(len(events)))
	if _, rerr := h.ingest(r.Context(), src, events); rerr != nil {
		return fail(rerr)
	}
	return c.Blob(http.StatusOK, "text/xml; charset=utf-8", soapAck)
}

var soapAck = []byte(`<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
 <soapenv:Body>
  <notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">
   <Ack>true</Ack>
  </notificationsResponse>
 </soapenv:Body>
</soapenv:Envelope>
`)

func writeSOAPFault(c echo.Context, status int, e *reqError) error {
	code := "soapenv:Client"
	if status >= 500 {
		code = "soapenv:Server"
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>`)
	b.WriteString(code)
	b.WriteString(`</faultcode><faultstring>`)
	_ = xml.EscapeText(&b, []byte(e.code+": "+e.message))
	b.WriteString(`</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>` + "\n")
	return c.Blob(status, "text/xml; charset=utf-8", b.Bytes())
}

// OutboundEvents normalizes an Outbound Message of org into events, one
// per notification. The kind follows the sObject: an incoming EmailMessage
// is an email reply, an Opportunity a deal stage change (StageName), a
// Lead or Contact a property change of the record; anything else is
// KindOther with every field in Attributes.
func OutboundEvents(msg *OutboundMessage, org string, receivedAt time.Time) []handoff.Event {
	out := make([]handoff.Event, 0, len(msg.Notifications))
	for _, n := range msg.Notifications {
		f := n.Fields
		id := f["Id"]
		ev := handoff.Event{
			Source:     handoff.SourceSalesforce,
			Tenant:     org,
			NativeID:   n.ID,
			Kind:       handoff.KindOther,
			Channel:    "crm",
			OccurredAt: sfTime(f["LastModifiedDate"], f["CreatedDate"], receivedAt),
			ReceivedAt: receivedAt,
			Contact:    handoff.ContactRef{CRM: handoff.SourceSalesforce, Tenant: org},
			Attributes: map[string]string{"sobject_type": n.SObjectType, "action_id": msg.ActionID},
		}
		if id != "" {
			ev.Object = &handoff.ObjectRef{Type: n.SObjectType, ID: id}
		}
		for k, v := range f {
			if v != "" {
				ev.Attributes["field."+k] = v
			}
		}
		sfContact(&ev.Contact, n.SObjectType, f)
		switch n.SObjectType {
		case "Contact", "Lead":
			ev.Kind = handoff.KindPropertyChange
		case "Opportunity":
			if s := f["StageName"]; s != "" {
				ev.Kind = handoff.KindDealStageChange
				ev.Property = &handoff.PropertyChange{Name: "StageName", Value: s}
			} else {
				ev.Kind = handoff.KindPropertyChange
			}
		case "EmailMessage":
			ev.Channel = "email"
			dir := handoff.Outbound
			if strings.EqualFold(f["Incoming"], "true") {
				dir = handoff.Inbound
				ev.Kind = handoff.KindEmailReply
			}
			ev.Message = &handoff.Message{ID: id, Text: f["TextBody"], Direction: dir, ThreadID: f["ThreadIdentifier"]}
			if ev.Contact.Email == "" && dir == handoff.Inbound {
				ev.Contact.Email = f["FromAddress"]
			}
		}
		raw, _ := json.Marshal(struct {
			OrganizationID string            `json:"organization_id"`
			ActionID       string            `json:"action_id,omitempty"`
			NotificationID string            `json:"notification_id"`
			SObjectType    string            `json:"sobject_type"`
			Fields         map[string]string `json:"fields"`
		}{msg.OrganizationID, msg.ActionID, n.ID, n.SObjectType, f})
		ev.Raw = raw
		// Salesforce's advice is to dedupe on Notification/Id alone: a retry
		// carries only the record's latest data, and none at all once the
		// record is deleted, so nothing else in the notification is stable.
		ev.DedupeKey = dedupeKey(handoff.SourceSalesforce, org[:15], n.ID)
		out = append(out, ev)
	}
	return out
}

// sfContact fills the buyer reference from the record's fields.
func sfContact(c *handoff.ContactRef, typ string, f map[string]string) {
	switch typ {
	case "Contact":
		c.ID, c.Type, c.Email = f["Id"], "contact", f["Email"]
		return
	case "Lead":
		c.ID, c.Type, c.Email = f["Id"], "lead", f["Email"]
		return
	}
	for _, k := range []string{"ContactId", "WhoId", "LeadId"} {
		if id := f[k]; id != "" {
			c.ID = id
			c.Type = sfRecordType(id)
			break
		}
	}
	if c.Email == "" {
		c.Email = f["Email"]
	}
}

// sfRecordType names the record type by key prefix (003 Contact, 00Q Lead).
func sfRecordType(id string) string {
	switch {
	case strings.HasPrefix(id, "003"):
		return "contact"
	case strings.HasPrefix(id, "00Q"):
		return "lead"
	}
	return ""
}

// sfTime parses the first Salesforce dateTime among vals, or returns def.
func sfTime(a, b string, def time.Time) time.Time {
	for _, v := range []string{a, b} {
		if v == "" {
			continue
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z0700"} {
			if t, err := time.Parse(layout, v); err == nil {
				return t.UTC()
			}
		}
	}
	return def
}
