package webhooks

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/handoff-dev/handoff"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

var testNow = time.Date(2026, 11, 22, 10, 0, 30, 0, time.UTC)

const fixtures = "../fixtures"

// golden compares v, as indented JSON, with testdata/golden/name.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; got:\n%s", name, got)
	}
}

func fixtureFiles(t *testing.T, dir, ext string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(fixtures, dir, "*"+ext))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in %s: %v", dir, err)
	}
	return files
}

// goldenEvents strips Raw (it is the input, compared separately) so the
// golden files show the normalization.
func goldenEvents(t *testing.T, events []handoff.Event) []handoff.Event {
	t.Helper()
	out := make([]handoff.Event, len(events))
	for i, ev := range events {
		if len(ev.Raw) > 0 && !json.Valid(ev.Raw) {
			t.Errorf("event %d: Raw is not valid JSON", i)
		}
		if ev.DedupeKey == "" || !strings.HasPrefix(ev.DedupeKey, string(ev.Source)+"-") || strings.ContainsAny(ev.DedupeKey, "{}:") {
			t.Errorf("event %d: bad dedupe key %q", i, ev.DedupeKey)
		}
		ev.Raw = nil
		out[i] = ev
	}
	return out
}

func TestGoldenHubSpot(t *testing.T) {
	for _, f := range fixtureFiles(t, "hubspot/webhooks", ".json") {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			body := mustRead(t, f)
			var events []handoff.Event
			result := map[string]any{}
			if strings.HasPrefix(name, "workflow") {
				ev, err := ParseHubSpotWorkflow(body, url.Values{"kind": {"form_submission"}, "channel": {"web"}}, testNow)
				if err != nil {
					t.Fatal(err)
				}
				events = []handoff.Event{ev}
			} else {
				evs, unknown, err := ParseHubSpotBatch(body, testNow)
				if err != nil {
					t.Fatal(err)
				}
				events = evs
				result["unrecognized"] = unknown
			}
			result["events"] = goldenEvents(t, events)
			golden(t, "hubspot_"+name+".json", result)
		})
	}
}

func TestGoldenSalesforceOutbound(t *testing.T) {
	for _, f := range fixtureFiles(t, "salesforce/outbound", ".xml") {
		name := strings.TrimSuffix(filepath.Base(f), ".xml")
		t.Run(name, func(t *testing.T) {
			msg, err := ParseOutboundMessage(mustRead(t, f))
			if err != nil {
				t.Fatal(err)
			}
			org := matchOrg([]string{"00Dxx0000000001EAA"}, msg.OrganizationID)
			if org == "" {
				t.Fatalf("org %s not matched", msg.OrganizationID)
			}
			golden(t, "salesforce_outbound_"+name+".json", goldenEvents(t, OutboundEvents(msg, org, testNow)))
		})
	}
}

func TestGoldenSalesforceEvents(t *testing.T) {
	for _, f := range fixtureFiles(t, "salesforce/events", ".json") {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			events, err := ParseSalesforceEvents(mustRead(t, f), "msg_sf_1", testNow)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "salesforce_events_"+name+".json", goldenEvents(t, events))
		})
	}
}

func TestGoldenMarketo(t *testing.T) {
	for _, f := range fixtureFiles(t, "marketo", ".json") {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		if name == "webhook-template" {
			continue // Marketo tokens, not JSON until Marketo fills them
		}
		t.Run(name, func(t *testing.T) {
			ev, err := ParseMarketo(mustRead(t, f), "123-ABC-456", testNow)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "marketo_"+name+".json", goldenEvents(t, []handoff.Event{ev}))
		})
	}
}

func TestGoldenAgent(t *testing.T) {
	for _, f := range fixtureFiles(t, "agent", ".json") {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			ev, err := ParseAgentTurn(mustRead(t, f), "msg_"+name, testNow)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "agent_"+name+".json", goldenEvents(t, []handoff.Event{ev}))
		})
	}
}

// The template we ship must become valid JSON once Marketo substitutes its
// tokens (string tokens arrive quoted, numbers bare).
func TestMarketoTemplateFillsToValidPayload(t *testing.T) {
	tpl := string(mustRead(t, filepath.Join(fixtures, "marketo", "webhook-template.json")))
	repl := strings.NewReplacer(
		"{{lead.Id}}", "318581",
		"{{lead.Email Address}}", `"ana@acme.example"`,
		"{{system.dateTime}}", `"2026-11-22 10:00:00"`,
		"{{campaign.name}}", `"Demo request"`,
		"{{program.name}}", `"2026-11 Demo"`,
		"{{trigger.Name}}", `"Fills Out Form"`,
		"{{lead.Comments}}", `"pricing?"`,
		"{{lead.Company Name}}", `"Acme"`,
		"{{lead.Job Title}}", `"CTO"`,
		"{{lead.Country}}", `"DE"`,
	)
	filled := repl.Replace(tpl)
	if strings.Contains(filled, "{{") {
		t.Fatalf("template has tokens this test does not fill: %s", filled)
	}
	ev, err := ParseMarketo([]byte(filled), "X", testNow)
	if err != nil {
		t.Fatalf("filled template: %v", err)
	}
	if ev.Contact.ID != "318581" || ev.Kind != handoff.KindFormSubmission || ev.Attributes["form.company"] != "Acme" || ev.Text() != "pricing?" {
		t.Errorf("filled template parsed as %+v", ev)
	}
}

// Malformed input gets an error that says what is wrong.
func TestParseErrorsSayWhatIsWrong(t *testing.T) {
	cases := []struct {
		name  string
		parse func() error
		want  string
	}{
		{"hubspot not json", func() error { _, _, err := ParseHubSpotBatch([]byte(`[{`), testNow); return err }, "invalid JSON"},
		{"hubspot empty", func() error { _, _, err := ParseHubSpotBatch([]byte(`[]`), testNow); return err }, "empty batch"},
		{"hubspot no portal", func() error {
			_, _, err := ParseHubSpotBatch([]byte(`[{"subscriptionType":"contact.creation","objectId":1,"occurredAt":1}]`), testNow)
			return err
		}, "event 0: portalId is missing"},
		{"hubspot bad id", func() error {
			_, _, err := ParseHubSpotBatch([]byte(`[{"subscriptionType":"contact.creation","portalId":1,"objectId":1.5,"occurredAt":1}]`), testNow)
			return err
		}, "objectId \"1.5\" is not an integer id"},
		{"hubspot string id", func() error {
			_, _, err := ParseHubSpotBatch([]byte(`[{"subscriptionType":"contact.creation","portalId":"x","objectId":1,"occurredAt":1}]`), testNow)
			return err
		}, "event 0"},
		{"hubspot generic no type id", func() error {
			_, _, err := ParseHubSpotBatch([]byte(`[{"subscriptionType":"object.creation","portalId":1,"objectId":1,"occurredAt":1}]`), testNow)
			return err
		}, "no objectTypeId"},
		{"hubspot too many", func() error {
			_, _, err := ParseHubSpotBatch([]byte("["+strings.Repeat(`{},`, 100)+`{}]`), testNow)
			return err
		}, "more than 100 events"},
		{"hubspot workflow no id", func() error { _, err := ParseHubSpotWorkflow([]byte(`{"properties":{}}`), nil, testNow); return err }, "no record id"},
		{"hubspot workflow bad kind", func() error {
			_, err := ParseHubSpotWorkflow([]byte(`{"vid":1}`), url.Values{"kind": {"nope"}}, testNow)
			return err
		}, `kind="nope"`},
		{"soap not xml", func() error { _, err := ParseOutboundMessage([]byte(`hello`)); return err }, "not a valid SOAP envelope"},
		{"soap dtd", func() error {
			_, err := ParseOutboundMessage([]byte(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>`))
			return err
		}, "DTD"},
		{"soap wrong root", func() error { _, err := ParseOutboundMessage([]byte(`<a/>`)); return err }, "want a SOAP 1.1 Envelope"},
		{"soap no org", func() error {
			_, err := ParseOutboundMessage([]byte(`<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound"><Notification><Id>1</Id><sObject/></Notification></notifications></e:Body></e:Envelope>`))
			return err
		}, "OrganizationId is missing"},
		{"soap no notification", func() error {
			_, err := ParseOutboundMessage([]byte(`<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>00Dxx0000000001EAA</OrganizationId></notifications></e:Body></e:Envelope>`))
			return err
		}, "no Notification"},
		{"soap deep", func() error {
			_, err := ParseOutboundMessage([]byte(`<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/">` + strings.Repeat("<a>", 40) + strings.Repeat("</a>", 40) + `</e:Envelope>`))
			return err
		}, "nested deeper"},
		{"soap entity", func() error {
			_, err := ParseOutboundMessage([]byte(`<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/">&xxe;</e:Envelope>`))
			return err
		}, "entity"},
		{"sf event no org", func() error {
			_, err := ParseSalesforceEvents([]byte(`{"id":"1","kind":"email_reply","occurred_at":"2026-01-01T00:00:00Z"}`), "", testNow)
			return err
		}, "organization_id is missing"},
		{"sf event bad kind", func() error {
			_, err := ParseSalesforceEvents([]byte(`{"id":"1","organization_id":"00Dxx0000000001EAA","kind":"x","occurred_at":"2026-01-01T00:00:00Z"}`), "", testNow)
			return err
		}, `kind "x" is not one of`},
		{"sf event no contact", func() error {
			_, err := ParseSalesforceEvents([]byte(`{"id":"1","organization_id":"00Dxx0000000001EAA","kind":"email_reply","occurred_at":"2026-01-01T00:00:00Z"}`), "", testNow)
			return err
		}, "contact.id, contact.email or record.id"},
		{"sf event array needs ids", func() error {
			_, err := ParseSalesforceEvents([]byte(`[{"organization_id":"00Dxx0000000001EAA"}]`), "msg", testNow)
			return err
		}, "event 0: id is missing"},
		{"marketo no lead", func() error { _, err := ParseMarketo([]byte(`{"kind":"ad_click"}`), "", testNow); return err }, "lead_id is missing"},
		{"marketo no kind", func() error { _, err := ParseMarketo([]byte(`{"lead_id":1}`), "", testNow); return err }, "kind is missing"},
		{"marketo bad kind", func() error { _, err := ParseMarketo([]byte(`{"lead_id":1,"kind":"fax"}`), "", testNow); return err }, `kind "fax" is not one of`},
		{"marketo bad time", func() error {
			_, err := ParseMarketo([]byte(`{"lead_id":1,"kind":"ad_click","occurred_at":"yesterday"}`), "", testNow)
			return err
		}, `occurred_at "yesterday"`},
		{"marketo array", func() error { _, err := ParseMarketo([]byte(`[]`), "", testNow); return err }, "JSON object"},
		{"agent no conversation", func() error {
			_, err := ParseAgentTurn([]byte(`{"id":"t","occurred_at":"2026-01-01T00:00:00Z","contact":{"email":"a@b"}}`), "t", testNow)
			return err
		}, "conversation_id is missing"},
		{"agent no contact", func() error {
			_, err := ParseAgentTurn([]byte(`{"id":"t","conversation_id":"c","occurred_at":"2026-01-01T00:00:00Z"}`), "t", testNow)
			return err
		}, "contact.email or contact.crm_id"},
		{"agent confidence", func() error {
			_, err := ParseAgentTurn([]byte(`{"id":"t","conversation_id":"c","occurred_at":"2026-01-01T00:00:00Z","contact":{"email":"a@b"},"confidence":1.5}`), "t", testNow)
			return err
		}, "outside 0..1"},
		{"agent type", func() error {
			_, err := ParseAgentTurn([]byte(`{"type":"agent.ping","id":"t"}`), "t", testNow)
			return err
		}, `type "agent.ping"`},
		{"agent signals sentiment", func() error {
			_, err := ParseAgentTurn([]byte(`{"id":"t","conversation_id":"c","occurred_at":"2026-01-01T00:00:00Z","contact":{"email":"a@b"},"signals":{"sentiment":-1.2}}`), "t", testNow)
			return err
		}, "signals.sentiment -1.2 is outside -1..1"},
		{"agent signals language", func() error {
			_, err := ParseAgentTurn([]byte(`{"id":"t","conversation_id":"c","occurred_at":"2026-01-01T00:00:00Z","contact":{"email":"a@b"},"signals":{"language":"german"}}`), "t", testNow)
			return err
		}, `signals.language "german"`},
		{"agent signals language digits", func() error {
			_, err := ParseAgentTurn([]byte(`{"id":"t","conversation_id":"c","occurred_at":"2026-01-01T00:00:00Z","contact":{"email":"a@b"},"signals":{"language":"d1"}}`), "t", testNow)
			return err
		}, `signals.language "d1"`},
		{"agent signals intent case", func() error {
			_, err := ParseAgentTurn([]byte(`{"id":"t","conversation_id":"c","occurred_at":"2026-01-01T00:00:00Z","contact":{"email":"a@b"},"signals":{"intents":["pricing","Legal Review"]}}`), "t", testNow)
			return err
		}, `signals.intents[1] "Legal Review"`},
		{"agent signals too many intents", func() error {
			_, err := ParseAgentTurn([]byte(`{"id":"t","conversation_id":"c","occurred_at":"2026-01-01T00:00:00Z","contact":{"email":"a@b"},"signals":{"intents":["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q"]}}`), "t", testNow)
			return err
		}, "signals.intents has 17 entries; at most 16"},
		{"agent signals type", func() error {
			_, err := ParseAgentTurn([]byte(`{"id":"t","conversation_id":"c","occurred_at":"2026-01-01T00:00:00Z","contact":{"email":"a@b"},"signals":{"human_request":"yes"}}`), "t", testNow)
			return err
		}, "signals.human_request"},
		{"agent bad time", func() error {
			_, err := ParseAgentTurn([]byte(`{"id":"t","conversation_id":"c","occurred_at":"now","contact":{"email":"a@b"}}`), "t", testNow)
			return err
		}, "RFC 3339"},
	}
	for _, c := range cases {
		err := c.parse()
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not say %q", c.name, err, c.want)
		}
	}
}

// Dedupe keys: a redelivery (another attemptNumber) has the same key; any
// identity field changed gives another key.
func TestHubSpotDedupeKeys(t *testing.T) {
	base := `{"eventId":7,"portalId":62515,"occurredAt":1764000000000,"subscriptionType":"contact.propertyChange","objectId":5,"propertyName":"email","propertyValue":"a@b","attemptNumber":%d}`
	key := func(body string) string {
		t.Helper()
		evs, _, err := ParseHubSpotBatch([]byte("["+body+"]"), testNow)
		if err != nil {
			t.Fatal(err)
		}
		return evs[0].DedupeKey
	}
	k0 := key(strings.Replace(base, "%d", "0", 1))
	if k1 := key(strings.Replace(base, "%d", "3", 1)); k1 != k0 {
		t.Errorf("retry changed the key: %s vs %s", k0, k1)
	}
	for _, change := range [][2]string{
		{`"eventId":7`, `"eventId":8`},
		{`"portalId":62515`, `"portalId":62516`},
		{`1764000000000`, `1764000000001`},
		{`"objectId":5`, `"objectId":6`},
		{`"propertyValue":"a@b"`, `"propertyValue":"a@c"`},
		{`"propertyName":"email"`, `"propertyName":"phone"`},
		{`contact.propertyChange`, `company.propertyChange`},
	} {
		b := strings.Replace(strings.Replace(base, "%d", "0", 1), change[0], change[1], 1)
		if key(b) == k0 {
			t.Errorf("changing %s to %s kept the key", change[0], change[1])
		}
	}
}

// An event of an unknown type without objectId or occurredAt does not fail
// its batch.
func TestHubSpotUnknownTypeIsLenient(t *testing.T) {
	evs, unknown, err := ParseHubSpotBatch([]byte(`[{"eventId":1,"portalId":62515,"subscriptionType":"app.uninstall"},{"eventId":2,"portalId":62515,"objectId":3,"occurredAt":1764000000000,"subscriptionType":"contact.creation"}]`), testNow)
	if err != nil || unknown != 1 || len(evs) != 2 {
		t.Fatalf("%d events, %d unknown, %v", len(evs), unknown, err)
	}
	if evs[0].Kind != handoff.KindOther || evs[0].Object != nil || !evs[0].OccurredAt.Equal(testNow) {
		t.Errorf("unknown event %+v", evs[0])
	}
	if _, _, err := ParseHubSpotBatch([]byte(`[{"eventId":2,"portalId":62515,"occurredAt":1764000000000,"subscriptionType":"contact.creation"}]`), testNow); err == nil {
		t.Error("a known type without objectId was accepted")
	}
}

func TestOutboundNotificationWithoutSObject(t *testing.T) {
	msg, err := ParseOutboundMessage([]byte(`<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>00Dxx0000000001EAA</OrganizationId><Notification><Id>04l1</Id></Notification></notifications></e:Body></e:Envelope>`))
	if err != nil {
		t.Fatal(err)
	}
	evs := OutboundEvents(msg, "00Dxx0000000001EAA", testNow)
	if len(evs) != 1 || evs[0].Kind != handoff.KindOther || evs[0].NativeID != "04l1" || evs[0].DedupeKey == "" {
		t.Errorf("%+v", evs)
	}
}

func TestHubSpotLargeIDsAreExact(t *testing.T) {
	evs, _, err := ParseHubSpotBatch([]byte(`[{"eventId":"18446744073709551615","portalId":9007199254740993,"occurredAt":1764000000000,"subscriptionType":"contact.creation","objectId":123456789012345678901}]`), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if evs[0].Tenant != "9007199254740993" || evs[0].Object.ID != "123456789012345678901" || evs[0].NativeID != "18446744073709551615" {
		t.Errorf("ids not exact: %+v", evs[0])
	}
}

func TestMarketoDedupe(t *testing.T) {
	key := func(body string, at time.Time) string {
		ev, err := ParseMarketo([]byte(body), "T", at)
		if err != nil {
			t.Fatal(err)
		}
		return ev.DedupeKey
	}
	a := `{"lead_id":1,"kind":"form_submission","occurred_at":"2026-11-22 10:00:00","campaign":"c","fields":{"x":"1","y":"2"}}`
	b := `{"fields":{"y":"2","x":"1"},"campaign":"c","occurred_at":"2026-11-22 10:00:00","kind":"form_submission","lead_id":"1"}`
	if key(a, testNow) != key(b, testNow.Add(time.Hour)) {
		t.Error("the same call (fields reordered, id quoted) got another key")
	}
	if key(a, testNow) == key(strings.Replace(a, `"x":"1"`, `"x":"3"`, 1), testNow) {
		t.Error("another form submission got the same key")
	}
	if key(a, testNow) == key(strings.Replace(a, "10:00:00", "10:00:01", 1), testNow) {
		t.Error("another time got the same key")
	}
}

// parseHubSpotBatchStd is the reference decoder: encoding/json into the
// same struct. The scanner must agree with it.
func parseHubSpotBatchStd(body []byte, receivedAt time.Time) ([]handoff.Event, int, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		return nil, 0, err
	}
	if len(raws) > MaxBatch {
		return nil, 0, errors.New("too many")
	}
	evs := make([]hsEvent, len(raws))
	for i, raw := range raws {
		if err := json.Unmarshal(raw, &evs[i]); err != nil {
			return nil, 0, err
		}
	}
	return normalizeHubSpot(evs, raws, receivedAt)
}

// A notification retried after its record was deleted carries no sObject
// data; it must still be recognised as the same notification (the doc:
// dedupe on Notification/Id).
func TestOutboundRetryWithoutDataDedupes(t *testing.T) {
	const org = "00Dxx0000000001EAA"
	withData := `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>00Dxx0000000001EAA</OrganizationId><Notification><Id>04lxx0000000001AAA</Id><sObject xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="sf:Contact" xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>003xx000004TmiQAAS</sf:Id><sf:Email>jane@example.com</sf:Email></sObject></Notification></notifications></e:Body></e:Envelope>`
	deleted := `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>00Dxx0000000001EAA</OrganizationId><Notification><Id>04lxx0000000001AAA</Id></Notification></notifications></e:Body></e:Envelope>`
	other := strings.Replace(withData, "04lxx0000000001AAA", "04lxx0000000002AAA", 1)
	key := func(body string) string {
		msg, err := ParseOutboundMessage([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return OutboundEvents(msg, org, testNow)[0].DedupeKey
	}
	if a, b := key(withData), key(deleted); a != b {
		t.Errorf("same notification, different keys: %s (with data) vs %s (record deleted)", a, b)
	}
	if key(withData) == key(other) {
		t.Error("two notifications share a dedupe key")
	}
}

// SALESFORCE_ORG_IDS may hold the 15-character org id; events still carry
// the 18-character one, under which the connector stores the org's token
// (it comes from the identity URL).
func TestOrgTenantIs18Characters(t *testing.T) {
	configured := []string{"00D5e000000AbCd"}
	for _, sent := range []string{"00D5e000000AbCdEAK", "00D5e000000AbCd"} {
		if got := matchOrg(configured, sent); got != "00D5e000000AbCdEAK" {
			t.Errorf("matchOrg(%s) = %q, want 00D5e000000AbCdEAK", sent, got)
		}
	}
	if got := matchOrg(configured, "00D5e000000ABCDEAK"); got != "" {
		t.Errorf("an org differing in case matched: %q", got)
	}
}

// The agent's signals are carried on the event as given, normalized where
// the contract allows (a region dropped from the language, repeated
// intents once); an empty object is no signals.
func TestAgentSignals(t *testing.T) {
	parse := func(signals string) *handoff.AgentSignals {
		t.Helper()
		ev, err := ParseAgentTurn([]byte(`{"id":"t","conversation_id":"c","occurred_at":"2026-01-01T00:00:00Z","contact":{"email":"a@b"},"signals":`+signals+`}`), "t", testNow)
		if err != nil {
			t.Fatalf("%s: %v", signals, err)
		}
		return ev.Agent.Signals
	}
	s := parse(`{"intents":["pricing","legal_review","pricing"],"sentiment":-0.4,"language":"pt-BR","human_request":true}`)
	if s == nil || strings.Join(s.Intents, ",") != "pricing,legal_review" || s.Sentiment == nil || *s.Sentiment != -0.4 || s.Language != "pt" || !s.HumanRequest {
		t.Errorf("signals = %+v", s)
	}
	if s := parse(`{"sentiment":0,"language":"DE"}`); s == nil || s.Sentiment == nil || *s.Sentiment != 0 || s.Language != "de" {
		t.Errorf("a zero sentiment is a reported sentiment: %+v", s)
	}
	for _, empty := range []string{`{}`, `null`, `{"intents":[]}`} {
		if s := parse(empty); s != nil {
			t.Errorf("%s: signals = %+v, want none", empty, s)
		}
	}
}
