package webhooks_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/handoff-dev/handoff/internal/testredis"
	"github.com/handoff-dev/handoff/jobs"
	"github.com/handoff-dev/handoff/webhooks"
)

const (
	hsSecret  = "hs-client-secret-0000"
	sfOrg     = "00Dxx0000000001EAA"
	sfSecret  = "whsec_c2FsZXNmb3JjZS1zZWNyZXQtMTIzNDU2Nzg="
	mktSecret = "marketo-shared-secret"
	agSecret  = "whsec_YWdlbnQtc2VjcmV0LWFiY2RlZmdoaWprbA=="
)

type rig struct {
	srv  *httptest.Server
	base string
	insp *asynq.Inspector
	reg  *prometheus.Registry
}

// newRig starts Echo with the five routes on a real HTTP server, backed by
// the real Ingester on rdb.
func newRig(t *testing.T, rdb redis.UniversalClient, mutate func(*webhooks.Config)) *rig {
	t.Helper()
	e := echo.New()
	srv := httptest.NewUnstartedServer(e)
	srv.Start()
	t.Cleanup(srv.Close)
	cfg := webhooks.Config{
		PublicBaseURL:           srv.URL,
		HubSpotClientSecret:     hsSecret,
		SalesforceOrgIDs:        []string{sfOrg},
		SalesforceWebhookSecret: sfSecret,
		MarketoWebhookSecret:    mktSecret,
		MarketoBaseURL:          "https://123-ABC-456.mktorest.com",
		AgentWebhookSecret:      agSecret,
		MaxBody:                 1 << 20,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	reg := prometheus.NewRegistry()
	ing := jobs.NewIngester(asynq.NewClientFromRedisClient(rdb), rdb, jobs.IngestConfig{})
	h, err := webhooks.New(cfg, ing, reg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	h.Register(e)
	return &rig{srv: srv, base: srv.URL, insp: asynq.NewInspectorFromRedisClient(rdb), reg: reg}
}

func (r *rig) queued(t *testing.T) int {
	t.Helper()
	qs, err := r.insp.Queues()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(qs, jobs.QueueEvents) {
		return 0
	}
	info, err := r.insp.GetQueueInfo(jobs.QueueEvents)
	if err != nil {
		t.Fatal(err)
	}
	return info.Size
}

type resp struct {
	status int
	body   string
}

func post(t *testing.T, url string, body []byte, h http.Header) resp {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
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

// hubspotV3 signs like HubSpot, independently of the package: the full URL
// with the 12 escapes decoded, then method+URL+body+timestamp.
func hubspotV3(secret, method, fullURL string, body []byte, ts string) http.Header {
	u := fullURL
	for _, p := range [][2]string{{"%3A", ":"}, {"%2F", "/"}, {"%3F", "?"}, {"%40", "@"}, {"%21", "!"}, {"%24", "$"}, {"%27", "'"}, {"%28", "("}, {"%29", ")"}, {"%2A", "*"}, {"%2C", ","}, {"%3B", ";"}} {
		u = strings.ReplaceAll(u, p[0], p[1])
	}
	m := hmac.New(sha256.New, []byte(secret))
	io.WriteString(m, method+u)
	m.Write(body)
	io.WriteString(m, ts)
	h := http.Header{}
	h.Set("X-HubSpot-Signature-v3", base64.StdEncoding.EncodeToString(m.Sum(nil)))
	h.Set("X-HubSpot-Request-Timestamp", ts)
	h.Set("Content-Type", "application/json")
	return h
}

func nowMS() string { return strconv.FormatInt(time.Now().UnixMilli(), 10) }

// stdSign signs with the Standard Webhooks scheme (independently).
func stdSign(secret, id string, body []byte, at time.Time) http.Header {
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "%s.%d.%s", id, at.Unix(), body)
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	h.Set("webhook-signature", "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	h.Set("Content-Type", "application/json")
	return h
}

func hubspotBatch(n int, portal int) []byte {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"eventId":%d,"subscriptionId":686627,"portalId":%d,"appId":7906213,"occurredAt":%d,"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":%d,"propertyName":"lifecyclestage","propertyValue":"salesqualifiedlead","changeSource":"CRM_UI"}`,
			3029365000+i, portal, 1764000000000+int64(i), 847297356000+int64(i))
	}
	b.WriteByte(']')
	return []byte(b.String())
}

func salesforceMessage(n int, org string) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound">`)
	fmt.Fprintf(&b, `<OrganizationId>%s</OrganizationId><ActionId>04kxx0000000001AAA</ActionId><SessionId xsi:nil="true"/><EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/62.0/00Dxx0000000001</EnterpriseUrl><PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/62.0/00Dxx0000000001</PartnerUrl>`, org)
	for i := range n {
		fmt.Fprintf(&b, `<Notification><Id>04lxx%013dAAA</Id><sObject xsi:type="sf:Contact" xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>003xx%010dAAS</sf:Id><sf:Email>buyer%d@example.com</sf:Email></sObject></Notification>`, i, i, i)
	}
	b.WriteString(`</notifications></soapenv:Body></soapenv:Envelope>`)
	return []byte(b.String())
}

func marketoHeaders(secret string) http.Header {
	h := http.Header{}
	h.Set("X-Handoff-Secret", secret)
	h.Set("Content-Type", "application/json")
	return h
}

func fixture(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile("../fixtures/" + path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ackCounts(t *testing.T, body string) (accepted, dups int) {
	t.Helper()
	var a struct{ Accepted, Duplicates int }
	if err := json.Unmarshal([]byte(body), &a); err != nil {
		t.Fatalf("ack body %q: %v", body, err)
	}
	return a.Accepted, a.Duplicates
}

func TestEndToEndDeliveriesAndRedeliveries(t *testing.T) {
	rdb := testredis.New(t).Client(t)
	r := newRig(t, rdb, nil)

	// HubSpot: a batch of 100, signed v3.
	batch := hubspotBatch(100, 62515)
	url := r.base + "/webhooks/hubspot"
	res := post(t, url, batch, hubspotV3(hsSecret, "POST", url, batch, nowMS()))
	if res.status != 200 {
		t.Fatalf("hubspot: %d %s", res.status, res.body)
	}
	if a, d := ackCounts(t, res.body); a != 100 || d != 0 {
		t.Fatalf("hubspot ack %d/%d", a, d)
	}
	if n := r.queued(t); n != 100 {
		t.Fatalf("%d queued after HubSpot, want 100", n)
	}
	// Redelivery (HubSpot raises attemptNumber; the identity stays).
	retry := bytes.ReplaceAll(batch, []byte(`"attemptNumber":0`), []byte(`"attemptNumber":1`))
	res = post(t, url, retry, hubspotV3(hsSecret, "POST", url, retry, nowMS()))
	if a, d := ackCounts(t, res.body); res.status != 200 || a != 0 || d != 100 {
		t.Fatalf("hubspot redelivery: %d %s", res.status, res.body)
	}

	// Salesforce: an Outbound Message with 100 notifications.
	msg := salesforceMessage(100, sfOrg)
	sfURL := r.base + "/webhooks/salesforce"
	res = post(t, sfURL, msg, http.Header{"Content-Type": {"text/xml; charset=utf-8"}})
	if res.status != 200 || !strings.Contains(res.body, "<Ack>true</Ack>") {
		t.Fatalf("salesforce: %d %s", res.status, res.body)
	}
	if n := r.queued(t); n != 200 {
		t.Fatalf("%d queued after Salesforce, want 200", n)
	}
	res = post(t, sfURL, msg, nil)
	if res.status != 200 || !strings.Contains(res.body, "<Ack>true</Ack>") {
		t.Fatalf("salesforce redelivery: %d %s", res.status, res.body)
	}

	// Marketo: one call.
	mkt := fixture(t, "marketo/form_submission.json")
	res = post(t, r.base+"/webhooks/marketo", mkt, marketoHeaders(mktSecret))
	if res.status != 200 || !strings.Contains(res.body, `"accepted":1`) {
		t.Fatalf("marketo: %d %s", res.status, res.body)
	}
	res = post(t, r.base+"/webhooks/marketo", mkt, marketoHeaders(mktSecret))
	if a, d := ackCounts(t, res.body); res.status != 200 || a != 0 || d != 1 {
		t.Fatalf("marketo again: %d %s", res.status, res.body)
	}

	// Agent turn and a Salesforce JSON event (Standard Webhooks).
	turn := fixture(t, "agent/turn.json")
	for range 2 {
		res = post(t, r.base+"/webhooks/agent", turn, stdSign(agSecret, "turn_123", turn, time.Now()))
		if res.status != 200 {
			t.Fatalf("agent: %d %s", res.status, res.body)
		}
	}
	sfev := fixture(t, "salesforce/events/email_reply.json")
	for range 2 {
		res = post(t, r.base+"/webhooks/salesforce/events", sfev, stdSign(sfSecret, "msg_sf_1", sfev, time.Now()))
		if res.status != 200 {
			t.Fatalf("salesforce events: %d %s", res.status, res.body)
		}
	}
	if n := r.queued(t); n != 203 {
		t.Fatalf("%d queued in all, want 203", n)
	}

	// The payload of a queued task is the normalized event.
	tasks, err := r.insp.ListPendingTasks(jobs.QueueEvents, asynq.PageSize(300))
	if err != nil {
		t.Fatal(err)
	}
	sources := map[string]int{}
	for _, ti := range tasks {
		p, err := jobs.DecodeEventPayload(ti.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if ti.ID != p.Event.DedupeKey || ti.Type != jobs.TypeEventProcess {
			t.Errorf("task %s type %s for event %s", ti.ID, ti.Type, p.Event.DedupeKey)
		}
		sources[string(p.Event.Source)]++
	}
	if sources["hubspot"] != 100 || sources["salesforce"] != 101 || sources["marketo"] != 1 || sources["agent"] != 1 {
		t.Errorf("tasks per source %v", sources)
	}

	// Metrics.
	if v := counter(t, r.reg, "handoff_webhook_events_accepted_total", "hubspot"); v != 100 {
		t.Errorf("hubspot accepted metric %v", v)
	}
	if v := counter(t, r.reg, "handoff_webhook_events_duplicate_total", "salesforce"); v != 101 {
		t.Errorf("salesforce duplicate metric %v", v)
	}
}

// counter returns the sum of family name's counters with source=src in reg.
func counter(t *testing.T, reg *prometheus.Registry, name, src string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "source" && l.GetValue() == src {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s{source=%q}", name, src)
	return 0
}

func TestEndToEndRefusals(t *testing.T) {
	rdb := testredis.New(t).Client(t)
	r := newRig(t, rdb, func(c *webhooks.Config) { c.MaxBody = 64 << 10 })
	hs := r.base + "/webhooks/hubspot"
	batch := hubspotBatch(3, 62515)
	ts := nowMS()

	changed := append([]byte(nil), batch...)
	changed[10] ^= 0x01
	stale := strconv.FormatInt(time.Now().Add(-6*time.Minute).UnixMilli(), 10)
	big := hubspotBatch(100, 1)
	big = append(big[:len(big)-1], []byte(strings.Repeat(" ", 64<<10)+"]")...)
	badSF := salesforceMessage(1, "00Dxx0000000999EAA")
	badSignals := bytes.Replace(fixture(t, "agent/turn_signals.json"), []byte(`"sentiment":-0.2`), []byte(`"sentiment":1.5`), 1)

	cases := []struct {
		name   string
		url    string
		body   []byte
		h      http.Header
		status int
		code   string
	}{
		{"hubspot unsigned", hs, batch, nil, 401, "signature_missing"},
		{"hubspot one byte changed", hs, changed, hubspotV3(hsSecret, "POST", hs, batch, ts), 401, "bad_signature"},
		{"hubspot stale timestamp", hs, batch, hubspotV3(hsSecret, "POST", hs, batch, stale), 401, "stale_timestamp"},
		{"hubspot another URL", hs, batch, hubspotV3(hsSecret, "POST", "https://evil.example/webhooks/hubspot", batch, ts), 401, "bad_signature"},
		{"hubspot another secret", hs, batch, hubspotV3("nope", "POST", hs, batch, ts), 401, "bad_signature"},
		{"hubspot malformed", hs, []byte(`[{"portalId":1}`), hubspotV3(hsSecret, "POST", hs, []byte(`[{"portalId":1}`), ts), 400, "malformed"},
		{"hubspot too large", hs, big, hubspotV3(hsSecret, "POST", hs, big, ts), 413, "body_too_large"},
		{"marketo wrong secret", r.base + "/webhooks/marketo", fixture(t, "marketo/ad_click.json"), marketoHeaders("guess"), 401, "bad_signature"},
		{"marketo no secret", r.base + "/webhooks/marketo", fixture(t, "marketo/ad_click.json"), nil, 401, "signature_missing"},
		{"marketo malformed", r.base + "/webhooks/marketo", []byte(`{"kind":"ad_click"}`), marketoHeaders(mktSecret), 400, "malformed"},
		{"agent unsigned", r.base + "/webhooks/agent", fixture(t, "agent/turn.json"), nil, 401, "bad_signature"},
		{"agent stale", r.base + "/webhooks/agent", fixture(t, "agent/turn.json"), stdSign(agSecret, "t1", fixture(t, "agent/turn.json"), time.Now().Add(-10*time.Minute)), 401, "stale_timestamp"},
		{"agent signed with the Salesforce secret", r.base + "/webhooks/agent", fixture(t, "agent/turn.json"), stdSign(sfSecret, "t1", fixture(t, "agent/turn.json"), time.Now()), 401, "bad_signature"},
		{"agent malformed", r.base + "/webhooks/agent", []byte(`{"id":"x"}`), stdSign(agSecret, "t1", []byte(`{"id":"x"}`), time.Now()), 400, "malformed"},
		{"agent bad signals", r.base + "/webhooks/agent", badSignals, stdSign(agSecret, "t2", badSignals, time.Now()), 400, "malformed"},
		{"salesforce unknown org", r.base + "/webhooks/salesforce", badSF, nil, 403, "unknown_org"},
		{"salesforce malformed", r.base + "/webhooks/salesforce", []byte(`<x`), nil, 400, "malformed"},
		{"salesforce events unknown org", r.base + "/webhooks/salesforce/events",
			[]byte(`{"id":"1","organization_id":"00Dxx0000000999EAA","kind":"email_reply","occurred_at":"2026-11-22T10:00:00Z","contact":{"email":"a@b.example"}}`),
			stdSign(sfSecret, "m1", []byte(`{"id":"1","organization_id":"00Dxx0000000999EAA","kind":"email_reply","occurred_at":"2026-11-22T10:00:00Z","contact":{"email":"a@b.example"}}`), time.Now()), 403, "unknown_org"},
	}
	for _, c := range cases {
		res := post(t, c.url, c.body, c.h)
		if res.status != c.status || !strings.Contains(res.body, c.code) {
			t.Errorf("%s: %d %s, want %d %s", c.name, res.status, res.body, c.status, c.code)
		}
		if strings.Contains(res.body, "goroutine") || strings.Contains(res.body, hsSecret) || strings.Contains(res.body, mktSecret) {
			t.Errorf("%s: the answer leaks internals: %s", c.name, res.body)
		}
		if strings.Contains(c.url, "/salesforce") && !strings.HasSuffix(c.url, "/events") {
			if !strings.Contains(res.body, "<soapenv:Fault>") {
				t.Errorf("%s: not a SOAP fault: %s", c.name, res.body)
			}
		} else {
			var eb struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal([]byte(res.body), &eb); err != nil || eb.Error.Code != c.code || eb.Error.Message == "" {
				t.Errorf("%s: error body %s", c.name, res.body)
			}
		}
	}
	if n := r.queued(t); n != 0 {
		t.Fatalf("refused requests queued %d tasks", n)
	}
	// A bad agent signal is refused with a message naming the field.
	if res := post(t, r.base+"/webhooks/agent", badSignals, stdSign(agSecret, "t3", badSignals, time.Now())); !strings.Contains(res.body, "signals.sentiment 1.5 is outside -1..1") {
		t.Errorf("bad signals: %d %s", res.status, res.body)
	}

	// An unknown HubSpot portal is accepted (multi-portal); the URL with a
	// query and escapes is signed as HubSpot does.
	q := r.base + "/webhooks/hubspot?src=hs%3Aapp%2Fv3&q=a%20b"
	b := hubspotBatch(2, 123456789)
	res := post(t, q, b, hubspotV3(hsSecret, "POST", q, b, nowMS()))
	if res.status != 200 {
		t.Fatalf("unknown portal: %d %s", res.status, res.body)
	}
	// Unknown subscription types are accepted and counted.
	unk := []byte(`[{"eventId":1,"portalId":62515,"occurredAt":1764000000000,"subscriptionType":"marketing_event.attendance","objectId":9}]`)
	res = post(t, hs, unk, hubspotV3(hsSecret, "POST", hs, unk, nowMS()))
	if res.status != 200 {
		t.Fatalf("unknown subscription: %d %s", res.status, res.body)
	}
	if v := counter(t, r.reg, "handoff_webhook_events_unrecognized_total", "hubspot"); v != 1 {
		t.Errorf("unrecognized metric %v", v)
	}
	if n := r.queued(t); n != 3 {
		t.Fatalf("%d queued, want 3", n)
	}
}

func TestEndToEndWorkflowWebhookV2(t *testing.T) {
	rdb := testredis.New(t).Client(t)
	r := newRig(t, rdb, nil)
	url := r.base + "/webhooks/hubspot?kind=form_submission&channel=web"
	body := fixture(t, "hubspot/webhooks/workflow_contact.json")
	sum := sha256.Sum256([]byte(hsSecret + "POST" + url + string(body)))
	h := http.Header{"X-Hubspot-Signature": {fmt.Sprintf("%x", sum)}, "X-Hubspot-Signature-Version": {"v2"}}
	for i := range 2 {
		res := post(t, url, body, h)
		if res.status != 200 {
			t.Fatalf("workflow: %d %s", res.status, res.body)
		}
		if a, _ := ackCounts(t, res.body); a != 1-i {
			t.Fatalf("delivery %d accepted %d", i, a)
		}
	}
	res := post(t, r.base+"/webhooks/hubspot?kind=ad_click", body, h)
	if res.status != 401 {
		t.Fatalf("v2 signature over another URL: %d", res.status)
	}
}

func TestUnconfiguredSourcesAnswer503(t *testing.T) {
	rdb := testredis.New(t).Client(t)
	r := newRig(t, rdb, func(c *webhooks.Config) { *c = webhooks.Config{} })
	for _, p := range []string{"/webhooks/hubspot", "/webhooks/salesforce", "/webhooks/salesforce/events", "/webhooks/marketo", "/webhooks/agent"} {
		res := post(t, r.base+p, []byte(`{}`), nil)
		if res.status != 503 && !(p == "/webhooks/salesforce" && res.status == 500) {
			t.Errorf("%s: %d %s", p, res.status, res.body)
		}
		if !strings.Contains(res.body, "source_not_configured") {
			t.Errorf("%s: %s", p, res.body)
		}
	}
}

// With Redis down every route refuses (so the sender keeps the events),
// and once Redis is back the sender's retry stores everything exactly once.
func TestEndToEndRedisDown(t *testing.T) {
	srv := testredis.StartServer(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, DialTimeout: 250 * time.Millisecond, DialerRetries: 1, DialerRetryTimeout: time.Millisecond})
	t.Cleanup(func() { _ = rdb.Close() })
	r := newRig(t, rdb, nil)
	hs := r.base + "/webhooks/hubspot"
	batch := hubspotBatch(100, 62515)
	msg := salesforceMessage(100, sfOrg)
	mkt := fixture(t, "marketo/webinar_attended.json")
	turn := fixture(t, "agent/turn_minimal.json")
	sfev := fixture(t, "salesforce/events/batch.json")

	deliver := func() []resp {
		return []resp{
			post(t, r.base+"/webhooks/salesforce/events", sfev, stdSign(sfSecret, "msg_batch", sfev, time.Now())),
			post(t, hs, batch, hubspotV3(hsSecret, "POST", hs, batch, nowMS())),
			post(t, r.base+"/webhooks/salesforce", msg, nil),
			post(t, r.base+"/webhooks/marketo", mkt, marketoHeaders(mktSecret)),
			post(t, r.base+"/webhooks/agent", turn, stdSign(agSecret, "turn_124", turn, time.Now())),
		}
	}
	srv.Stop()
	down := deliver()
	for i, res := range down {
		if i == 2 {
			if res.status != 500 || !strings.Contains(res.body, "soapenv:Server") {
				t.Errorf("salesforce with Redis down: %d %s", res.status, res.body)
			}
			continue
		}
		if res.status != 503 || !strings.Contains(res.body, `"unavailable"`) {
			t.Errorf("route %d with Redis down: %d %s", i, res.status, res.body)
		}
	}
	srv.Restart(t)
	for i, res := range deliver() {
		if res.status != 200 {
			t.Fatalf("route %d after restart: %d %s", i, res.status, res.body)
		}
	}
	if n := r.queued(t); n != 204 {
		t.Fatalf("%d queued after the retry, want 204", n)
	}
	for i, res := range deliver() {
		if res.status != 200 || (i != 2 && !strings.Contains(res.body, `"accepted":0`)) || (i == 2 && strings.Contains(res.body, "<soapenv:Fault>")) {
			t.Fatalf("route %d second retry: %d %s", i, res.status, res.body)
		}
	}
	if n := r.queued(t); n != 204 {
		t.Fatalf("%d queued after a second retry, want 204", n)
	}
}

// BenchmarkIngestPathHubSpot100 is the whole path of one 100-event HubSpot
// batch through Echo (in process, no socket) into real Redis: verify,
// parse, 100 enqueues (each its own dedupe check), answer. Every iteration
// sends new events; Redis is flushed between rounds of the benchmark.
func BenchmarkIngestPathHubSpot100(b *testing.B) {
	for _, conc := range []int{1, 8, 16} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			db := testredis.New(b)
			rdb := db.Client(b)
			e := echo.New()
			ing := jobs.NewIngester(asynq.NewClientFromRedisClient(rdb), rdb, jobs.IngestConfig{Concurrency: conc})
			h, err := webhooks.New(webhooks.Config{PublicBaseURL: "https://h.example", HubSpotClientSecret: hsSecret}, ing, prometheus.NewRegistry(), nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			h.Register(e)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				body := hubspotBatch(100, 1000000+i)
				req := httptest.NewRequest(http.MethodPost, "/webhooks/hubspot", bytes.NewReader(body))
				for k, v := range hubspotV3(hsSecret, "POST", "https://h.example/webhooks/hubspot", body, nowMS()) {
					req.Header[k] = v
				}
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/100, "µs/event")
		})
	}
}

// With HUBSPOT_APP_ID set, events of another app sharing the URL are
// answered 200 but not enqueued, and counted.
func TestHubSpotOtherAppDropped(t *testing.T) {
	rdb := testredis.New(t).Client(t)
	r := newRig(t, rdb, func(c *webhooks.Config) { c.HubSpotAppID = "54321" })
	hs := r.base + "/webhooks/hubspot"
	batch := hubspotBatch(5, 62515) // appId 7906213
	res := post(t, hs, batch, hubspotV3(hsSecret, "POST", hs, batch, nowMS()))
	if res.status != 200 || !strings.Contains(res.body, `"ignored":5`) {
		t.Fatalf("%d %s", res.status, res.body)
	}
	if n := r.queued(t); n != 0 {
		t.Fatalf("%d queued", n)
	}
	if v := counter(t, r.reg, "handoff_webhook_events_unrecognized_total", "hubspot"); v != 5 {
		t.Errorf("other_app metric %v", v)
	}
}

// Start-up names every disabled route; request logs name source, tenant
// and counts, never a payload value or a secret.
func TestLogsNameSourcesNeverPayloadsOrSecrets(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rdb := testredis.New(t).Client(t)
	if _, err := webhooks.New(webhooks.Config{}, jobs.NewIngester(asynq.NewClientFromRedisClient(rdb), rdb, jobs.IngestConfig{}), nil, log, nil); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"HUBSPOT_CLIENT_SECRET", "SALESFORCE_ORG_IDS", "SALESFORCE_WEBHOOK_SECRET", "MARKETO_WEBHOOK_SECRET", "AGENT_WEBHOOK_SECRET"} {
		if !strings.Contains(buf.String(), v) {
			t.Errorf("start-up log does not name %s:\n%s", v, buf.String())
		}
	}

	buf.Reset()
	e := echo.New()
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	h, err := webhooks.New(webhooks.Config{PublicBaseURL: srv.URL, MarketoWebhookSecret: mktSecret, MarketoBaseURL: "https://123-ABC-456.mktorest.com"},
		jobs.NewIngester(asynq.NewClientFromRedisClient(rdb), rdb, jobs.IngestConfig{}), nil, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	h.Register(e)
	body := fixture(t, "marketo/form_submission.json")
	post(t, srv.URL+"/webhooks/marketo", body, marketoHeaders(mktSecret))
	post(t, srv.URL+"/webhooks/marketo", body, marketoHeaders("wrong-secret-value"))
	post(t, srv.URL+"/webhooks/marketo", []byte(`{"lead_id":"ana@acme.example"}`), marketoHeaders(mktSecret))
	out := buf.String()
	if !strings.Contains(out, "source=marketo") || !strings.Contains(out, "tenant=123-ABC-456") || !strings.Contains(out, "count=1") || !strings.Contains(out, "reason=bad_signature") {
		t.Errorf("logs lack source, tenant, count or reason:\n%s", out)
	}
	for _, leak := range []string{mktSecret, "wrong-secret-value", "ana@acme.example", "SOC 2", "318581"} {
		if strings.Contains(out, leak) {
			t.Errorf("logs contain %q:\n%s", leak, out)
		}
	}
}
