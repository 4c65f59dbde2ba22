package webhooks

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/handoff-dev/handoff"
)

// seed adds every fixture matching glob to f's corpus.
func seed(f *testing.F, glob string) {
	files, err := filepath.Glob(filepath.Join(fixtures, glob))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed fixtures for %s", glob)
	}
	for _, p := range files {
		f.Add(mustRead(f, p))
	}
}

func FuzzParseHubSpotBatch(f *testing.F) {
	seed(f, "hubspot/webhooks/*.json")
	f.Add([]byte(`[{"subscriptionType":"object.merge","objectTypeId":"0-1","portalId":"1","objectId":"1","occurredAt":"1","mergedObjectIds":["1",2]}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, unknown, err := ParseHubSpotBatch(body, testNow)
		if err != nil {
			return
		}
		if len(evs) == 0 || len(evs) > MaxBatch || unknown > len(evs) {
			t.Fatalf("%d events, %d unknown", len(evs), unknown)
		}
		for _, ev := range evs {
			if ev.DedupeKey == "" || ev.Tenant == "" || (ev.Kind != handoff.KindOther && ev.Object == nil) {
				t.Fatalf("incomplete event %+v", ev)
			}
		}
	})
}

func FuzzParseHubSpotWorkflow(f *testing.F) {
	seed(f, "hubspot/webhooks/workflow_*.json")
	f.Add([]byte(`{"objectId":1,"properties":{"email":"a@b"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParseHubSpotWorkflow(body, url.Values{"kind": {"form_submission"}}, testNow)
		if err == nil && (ev.DedupeKey == "" || ev.Object == nil || ev.Object.ID == "") {
			t.Fatalf("incomplete event %+v", ev)
		}
	})
}

func FuzzParseOutboundMessage(f *testing.F) {
	seed(f, "salesforce/outbound/*.xml")
	f.Add([]byte(`<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><l>&b;</l>`))
	f.Add([]byte(`<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/">` + strings.Repeat("<a>", 100)))
	f.Fuzz(func(t *testing.T, body []byte) {
		msg, err := ParseOutboundMessage(body)
		if err != nil {
			return
		}
		if msg.OrganizationID == "" || len(msg.Notifications) == 0 || len(msg.Notifications) > MaxBatch {
			t.Fatalf("accepted an invalid message: %+v", msg)
		}
		for _, n := range msg.Notifications {
			if len(n.Fields) > maxSFFields {
				t.Fatalf("%d fields", len(n.Fields))
			}
		}
		if org := matchOrg([]string{"00Dxx0000000001EAA"}, msg.OrganizationID); org != "" {
			if evs := OutboundEvents(msg, org, testNow); len(evs) != len(msg.Notifications) {
				t.Fatalf("%d events for %d notifications", len(evs), len(msg.Notifications))
			}
		}
	})
}

func FuzzParseSalesforceEvents(f *testing.F) {
	seed(f, "salesforce/events/*.json")
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, err := ParseSalesforceEvents(body, "msg_1", testNow)
		if err != nil {
			return
		}
		if len(evs) == 0 || len(evs) > MaxBatch {
			t.Fatalf("%d events", len(evs))
		}
		for _, ev := range evs {
			if ev.DedupeKey == "" || ev.NativeID == "" {
				t.Fatalf("incomplete event %+v", ev)
			}
		}
	})
}

func FuzzParseMarketo(f *testing.F) {
	seed(f, "marketo/*.json")
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParseMarketo(body, "T", testNow)
		if err == nil && (ev.DedupeKey == "" || ev.Contact.ID == "" || ev.Kind == "") {
			t.Fatalf("incomplete event %+v", ev)
		}
	})
}

func FuzzParseAgentTurn(f *testing.F) {
	seed(f, "agent/*.json")
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParseAgentTurn(body, "msg_1", testNow)
		if err == nil && (ev.DedupeKey == "" || ev.ConversationID == "" || ev.Contact.IsZero()) {
			t.Fatalf("incomplete event %+v", ev)
		}
	})
}

// The signature checks never panic and never accept what they did not
// sign: a fuzzed signature or timestamp passes only if it is the real one.
func FuzzVerifyHubSpotV3(f *testing.F) {
	f.Add("/webhooks/hubspot?a=%3A", []byte(vecBody1), "1700000000000", "/pXDSgWeGksQpwCsgqd43P0eY6gBIse9UX0tfkudUrE=")
	f.Add("", []byte{}, "", "")
	f.Add("/%", []byte("x"), "-1", "====")
	secret := []byte(vecSecret)
	now := time.UnixMilli(1700000000000)
	f.Fuzz(func(t *testing.T, requestURI string, body []byte, ts, sig string) {
		uri := HubSpotV3URI("https://h.example", requestURI)
		err := VerifyHubSpotV3(secret, "POST", uri, body, ts, sig, now, 5*time.Minute)
		if err == nil && sig != HubSpotSignV3(secret, "POST", uri, body, ts) {
			t.Fatalf("accepted a signature that is not ours: %q", sig)
		}
		_ = VerifyHubSpotV1V2(secret, "v2", "POST", uri, body, sig)
	})
}

func FuzzVerifyStandardWebhook(f *testing.F) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Unix(1764000000, 0)
	good := SignStandardWebhook(key, "msg_1", now.Unix(), []byte(`{}`))
	f.Add("msg_1", "1764000000", good, []byte(`{}`))
	f.Add("", "x", "v1,", []byte{})
	f.Add("m", "1764000000", "v1,AAAA v2,BBBB v1", []byte("a"))
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set(HeaderWebhookID, id)
		h.Set(HeaderWebhookTimestamp, ts)
		h.Set(HeaderWebhookSignature, sig)
		if VerifyStandardWebhook(key, h, body, now, 5*time.Minute) == nil {
			n, err := strconv.ParseInt(h.Get(HeaderWebhookTimestamp), 10, 64)
			if err != nil {
				t.Fatalf("accepted timestamp %q", ts)
			}
			want := SignStandardWebhook(key, h.Get(HeaderWebhookID), n, body)
			if !strings.Contains(" "+h.Get(HeaderWebhookSignature)+" ", " "+want+" ") {
				t.Fatalf("accepted %q for id %q ts %q", sig, id, ts)
			}
		}
	})
}

// The hand-written HubSpot scanner and encoding/json accept the same
// inputs and produce the same events.
func FuzzHubSpotScanMatchesEncodingJSON(f *testing.F) {
	seed(f, "hubspot/webhooks/*.json")
	for _, s := range []string{
		`[{"EVENTID":1,"portalid":"2","objectId":3,"occurredAt":4,"subscriptionType":"contact.creation"}]`,
		`[{"eventId":null,"portalId":2,"objectId":3,"occurredAt":4,"subscriptionType":"x\u002ey","propertyValue":true}]`,
		`[{"portalId":2,"objectId":3,"occurredAt":4,"subscriptionType":"contact.merge","mergedObjectIds":[1,"2",null]}]`,
		`[{"portalId":2,"objectId":3,"occurredAt":4,"subscriptionType":"a.b","associationRemoved":1}]`,
		`[{"portalId":2,"objectId":3,"occurredAt":4,"subscriptionType":"a.b","x":[{"y":[1e5,-0.5,"\ud83d"]}]}] `,
		`[null]`, `[1]`, `[{}]`, `null`, `[{"a":}]`, `[{"portalId":01}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		a, au, aerr := ParseHubSpotBatch(body, testNow)
		b, bu, berr := parseHubSpotBatchStd(body, testNow)
		if (aerr == nil) != (berr == nil) {
			t.Fatalf("scanner err %v, encoding/json err %v", aerr, berr)
		}
		if aerr != nil {
			return
		}
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if au != bu || !bytes.Equal(ja, jb) {
			t.Fatalf("scanner and encoding/json differ:\n%s\n%s", ja, jb)
		}
	})
}
