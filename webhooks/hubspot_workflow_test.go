package webhooks_test

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/internal/testredis"
	"github.com/handoff-dev/handoff/webhooks"
)

// v2Header signs like HubSpot's v2 (docs/crm/hubspot.md §2.3): hex(SHA-256(secret +
// method + full URL + body)).
func v2Header(method, fullURL string, body []byte) http.Header {
	sum := sha256.Sum256([]byte(hsSecret + method + fullURL + string(body)))
	return http.Header{"X-Hubspot-Signature": {fmt.Sprintf("%x", sum)}, "X-Hubspot-Signature-Version": {"v2"}}
}

func get(t *testing.T, u string, h http.Header) resp {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, string(b)}
}

// docs/crm/hubspot.md §3.1: a workflow "Send a webhook" action may use GET (no body); with
// "include request signature" it is v2-signed over GET + URL (official
// vector 3 is such a GET). The route used to answer 405 (and HubSpot does
// not retry a 4xx), so those enrollments were lost.
func TestWorkflowWebhookGET(t *testing.T) {
	rdb := testredis.New(t).Client(t)
	r := newRig(t, rdb, nil)
	u := r.base + "/webhooks/hubspot?kind=form_submission&portalId=62515&objectId=501&email=ann%40acme.example"
	for i := range 2 {
		res := get(t, u, v2Header("GET", u, nil))
		if res.status != 200 {
			t.Fatalf("GET delivery %d: %d %s", i, res.status, res.body)
		}
		if a, d := ackCounts(t, res.body); a != 1-i || d != i {
			t.Fatalf("GET delivery %d: accepted %d duplicates %d", i, a, d)
		}
	}
	// Signed as a POST: refused.
	if res := get(t, u, v2Header("POST", u, nil)); res.status != 401 {
		t.Fatalf("GET signed as POST: %d %s", res.status, res.body)
	}
	// No record in the query: refused, visibly, in the workflow's history.
	bare := r.base + "/webhooks/hubspot?kind=form_submission"
	if res := get(t, bare, v2Header("GET", bare, nil)); res.status != 400 {
		t.Fatalf("GET without a record: %d %s", res.status, res.body)
	}
}

func TestParseWorkflowGETQuery(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	q := url.Values{"kind": {"form_submission"}, "portalId": {"62515"}, "objectId": {"501"}, "email": {"ann@acme.example"}, "lifecyclestage": {"lead"}}
	ev, err := webhooks.ParseHubSpotWorkflow(nil, q, now)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Tenant != "62515" || ev.Object == nil || ev.Object.ID != "501" || ev.Contact.ID != "501" || ev.Contact.Email != "ann@acme.example" ||
		ev.Kind != handoff.KindFormSubmission || ev.Attributes["lifecyclestage"] != "lead" {
		t.Fatalf("event = %+v", ev)
	}
	other, _ := webhooks.ParseHubSpotWorkflow(nil, url.Values{"kind": {"form_submission"}, "portalId": {"62515"}, "objectId": {"502"}}, now)
	if other.DedupeKey == ev.DedupeKey {
		t.Fatal("two records share a dedupe key")
	}
}

// docs/crm/hubspot.md §2.2: whether HubSpot adds X-HubSpot-Request-Timestamp to v2-signed
// workflow requests is UNCONFIRMED. A v2-signed request that also carries
// the timestamp (but no v3 signature) used to be refused as "v3 signature
// missing".
func TestWorkflowV2WithTimestampHeader(t *testing.T) {
	rdb := testredis.New(t).Client(t)
	r := newRig(t, rdb, nil)
	u := r.base + "/webhooks/hubspot?kind=form_submission"
	body := fixture(t, "hubspot/webhooks/workflow_contact.json")
	h := v2Header("POST", u, body)
	h.Set("X-HubSpot-Request-Timestamp", nowMS())
	if res := post(t, u, body, h); res.status != 200 {
		t.Fatalf("v2 + timestamp: %d %s", res.status, res.body)
	}
	// A wrong v2 signature is still refused.
	h.Set("X-HubSpot-Signature", fmt.Sprintf("%x", sha256.Sum256([]byte("nope"))))
	if res := post(t, u, body, h); res.status != 401 {
		t.Fatalf("bad v2 + timestamp: %d %s", res.status, res.body)
	}
	// A timestamp alone is no signature.
	only := http.Header{"X-Hubspot-Request-Timestamp": {nowMS()}}
	if res := post(t, u, body, only); res.status != 401 {
		t.Fatalf("timestamp only: %d %s", res.status, res.body)
	}
}

// docs/crm/hubspot.md §3.2: a custom workflow action POSTs {"callbackId","origin","context",
// "object","inputFields"} with a v2 signature. It used to be refused
// ("no record id"): portal and record live under origin and object.
func TestParseCustomWorkflowAction(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	body := []byte(`{"callbackId":"ap-102670506-56777914962-11-0","origin":{"portalId":102670506,"actionDefinitionId":10860211,"actionDefinitionVersion":1},` +
		`"context":{"source":"WORKFLOWS","workflowId":192814114},"object":{"objectId":614,"objectType":"CONTACT","properties":{"email":"bo@acme.example","lifecyclestage":"lead"}},"inputFields":{"note":"x"}}`)
	ev, err := webhooks.ParseHubSpotWorkflow(body, url.Values{"kind": {"form_submission"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Tenant != "102670506" || ev.Object == nil || ev.Object.ID != "614" || ev.Object.Type != "contact" || ev.Contact.ID != "614" ||
		ev.Contact.Email != "bo@acme.example" || ev.Attributes["callback_id"] != "ap-102670506-56777914962-11-0" || ev.Attributes["origin"] != "workflow_action" {
		t.Fatalf("event = %+v", ev)
	}
	// A retry of the same execution (same callbackId) dedupes; another execution does not.
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	m["inputFields"] = map[string]any{"note": "y"}
	same, _ := json.Marshal(m)
	ev2, err := webhooks.ParseHubSpotWorkflow(same, url.Values{"kind": {"form_submission"}}, now)
	if err != nil || ev2.DedupeKey != ev.DedupeKey {
		t.Fatalf("same callbackId: %v, keys %s / %s", err, ev2.DedupeKey, ev.DedupeKey)
	}
	m["callbackId"] = "ap-102670506-56777914962-12-0"
	next, _ := json.Marshal(m)
	ev3, _ := webhooks.ParseHubSpotWorkflow(next, url.Values{"kind": {"form_submission"}}, now)
	if ev3.DedupeKey == ev.DedupeKey {
		t.Fatal("another execution shares the dedupe key")
	}
}

// docs/crm/hubspot.md §3.1: the modern editor can send chosen properties instead of the whole
// record (exact JSON UNCONFIRMED); with the keys at the top level the email
// used to be dropped.
func TestParseWorkflowChosenProperties(t *testing.T) {
	ev, err := webhooks.ParseHubSpotWorkflow([]byte(`{"hs_object_id":"501","email":"ann@acme.example","firstname":"Ann"}`), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if ev.Contact.ID != "501" || ev.Contact.Email != "ann@acme.example" || ev.Attributes["firstname"] != "Ann" {
		t.Fatalf("event = %+v", ev)
	}
}

// docs/crm/hubspot.md §3.2: HubSpot reads {"outputFields":{...}} from a custom workflow
// action's response; the ack says SUCCESS so the workflow goes on. A plain
// workflow webhook's ack carries no outputFields.
func TestCustomWorkflowActionAnswersOutputFields(t *testing.T) {
	rdb := testredis.New(t).Client(t)
	r := newRig(t, rdb, nil)
	u := r.base + "/webhooks/hubspot?kind=form_submission"
	action := []byte(`{"callbackId":"ap-62515-1-2-0","origin":{"portalId":62515,"actionDefinitionId":1,"actionDefinitionVersion":1},` +
		`"context":{"source":"WORKFLOWS","workflowId":9},"object":{"objectId":614,"objectType":"CONTACT"},"inputFields":{}}`)
	res := post(t, u, action, v2Header("POST", u, action))
	var ack struct {
		Accepted     int               `json:"accepted"`
		OutputFields map[string]string `json:"outputFields"`
	}
	if err := json.Unmarshal([]byte(res.body), &ack); err != nil || res.status != 200 {
		t.Fatalf("custom action: %d %s (%v)", res.status, res.body, err)
	}
	if ack.Accepted != 1 || ack.OutputFields["hs_execution_state"] != "SUCCESS" {
		t.Fatalf("custom action ack %s", res.body)
	}
	plain := []byte(`{"vid":701,"portal-id":62515,"properties":{"email":{"value":"cy@acme.example"}}}`)
	res = post(t, u, plain, v2Header("POST", u, plain))
	if res.status != 200 || strings.Contains(res.body, "outputFields") {
		t.Fatalf("plain workflow webhook: %d %s", res.status, res.body)
	}
}
