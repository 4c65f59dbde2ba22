package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/handoff-dev/handoff/connectors/salesforce/salesforcetest"
	"github.com/handoff-dev/handoff/internal/testredis"
	"github.com/handoff-dev/handoff/jobs"
	"github.com/handoff-dev/handoff/webhooks"
)

// Limits the hostile tests run with: short timeouts so that slow-client
// cases finish quickly, and a small webhook body limit.
const (
	hostileReadTimeout   = 2 * time.Second
	hostileHeaderTimeout = 1 * time.Second
	hostileMaxBody       = 64 << 10
)

// hostileEnv is the whole application (startDemo: real server, timeouts,
// limits, worker) on an isolated Redis database the test can inspect.
type hostileEnv struct {
	*demoEnv
	rdb  *redis.Client
	addr string
}

func startHostile(t *testing.T, extra map[string]string) *hostileEnv {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db := testredis.New(t)
	env := map[string]string{
		"HTTP_READ_TIMEOUT":        hostileReadTimeout.String(),
		"HTTP_READ_HEADER_TIMEOUT": hostileHeaderTimeout.String(),
		"WEBHOOK_MAX_BODY":         strconv.Itoa(hostileMaxBody),
	}
	for k, v := range extra {
		env[k] = v
	}
	d, err := startDemo(ctx, demoOptions{RedisURL: db.URL(), Extra: env})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return &hostileEnv{demoEnv: d, rdb: db.Client(t), addr: strings.TrimPrefix(d.Base, "http://")}
}

// stored is what "nothing was enqueued" is measured with: the task records
// of the events queue in every state. Each is an event's dedupe marker, kept
// (completed ones too) for DEDUPE_TTL, so the count never drops in a test.
type stored struct {
	eventTasks int
}

func (h *hostileEnv) stored(t *testing.T) stored {
	t.Helper()
	var s stored
	info, err := h.app.inspector.GetQueueInfo(jobs.QueueEvents)
	switch {
	case err == nil:
		s.eventTasks = info.Size // pending, active, retry, archived and completed
	case strings.Contains(err.Error(), "does not exist") || strings.Contains(err.Error(), "not found"):
	default:
		t.Fatalf("events queue info: %v", err)
	}
	return s
}

// secrets are every configured secret value the server knows.
func (h *hostileEnv) secrets() []string {
	var out []string
	for k, v := range h.Env {
		if regexp.MustCompile(`SECRET|TOKEN|KEY|PASSWORD|PRIVATE`).MatchString(k) && len(v) >= 8 {
			out = append(out, v)
			if b, ok := strings.CutPrefix(v, "whsec_"); ok {
				out = append(out, b)
			}
		}
	}
	sort.Strings(out)
	return out
}

// assertClean fails when an answer leaks a Go stack trace or a secret.
func (h *hostileEnv) assertClean(t *testing.T, what, body string) {
	t.Helper()
	for _, bad := range []string{"goroutine ", ".go:", "panic"} {
		if strings.Contains(body, bad) {
			t.Errorf("%s: answer contains %q: %s", what, bad, truncate(body, 300))
		}
	}
	for _, s := range h.secrets() {
		if strings.Contains(body, s) {
			t.Errorf("%s: answer contains a configured secret", what)
		}
	}
}

// assertHealthy fails unless the server still answers GET /healthz 200.
func (h *hostileEnv) assertHealthy(t *testing.T, what string) {
	t.Helper()
	resp, err := h.http.Get(h.Base + "/healthz")
	if err != nil {
		t.Fatalf("after %s: /healthz: %v", what, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("after %s: /healthz answered %d", what, resp.StatusCode)
	}
}

// hostile runs one hostile case: fn sends it and returns the answer's body
// (or "" when the connection was closed); then the server must still be
// healthy, the answer clean, and nothing stored.
func (h *hostileEnv) hostile(t *testing.T, what string, fn func(t *testing.T) string) {
	t.Helper()
	before := h.stored(t)
	body := fn(t)
	h.assertClean(t, what, body)
	h.assertHealthy(t, what)
	if after := h.stored(t); after != before {
		t.Errorf("%s: something was enqueued: before %+v, after %+v", what, before, after)
	}
}

// do sends req and returns the status and (bounded) body.
func (h *hostileEnv) do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := h.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b)
}

func (h *hostileEnv) send(t *testing.T, dl Delivery) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.Base+dl.Route, bytes.NewReader(dl.Body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = dl.Header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	return h.do(t, req)
}

// consoleAnswer is a console route's answer, redirects not followed.
type consoleAnswer struct {
	status int
	header http.Header
	body   string
}

// console sends method path (a form body for a POST) to the console with
// set's credential, and does not follow a redirect (a page's answer to a
// request without a credential is the redirect to the sign-in form).
func (h *hostileEnv) console(t *testing.T, method, path, form string, set func(*http.Request)) consoleAnswer {
	t.Helper()
	req, err := http.NewRequest(method, h.Base+path, strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	set(req)
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return consoleAnswer{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// consoleSession signs in to the console with token and returns the
// session cookie's value.
func (h *hostileEnv) consoleSession(t *testing.T, token string) string {
	t.Helper()
	a := h.console(t, http.MethodPost, "/console/login", "token="+url.QueryEscape(token), func(*http.Request) {})
	if a.status != http.StatusSeeOther {
		t.Fatalf("console sign-in: %d %s", a.status, truncate(a.body, 200))
	}
	for _, c := range (&http.Response{Header: a.header}).Cookies() {
		if c.Name == "handoff_console" && c.Value != "" {
			return c.Value
		}
	}
	t.Fatal("console sign-in set no session cookie")
	return ""
}

// rawResult is what came back on a raw connection.
type rawResult struct {
	status  int    // 0 when the server closed without an answer
	body    string // the answer's body
	elapsed time.Duration
	closed  bool // the server closed the connection
}

// raw writes now at once, then slow one byte per interval, and reads
// until the server answers or closes the connection, at most within limit.
func (h *hostileEnv) raw(t *testing.T, now, slow []byte, interval, limit time.Duration) rawResult {
	t.Helper()
	conn, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	_ = conn.SetDeadline(start.Add(limit))
	done := make(chan rawResult, 1)
	go func() {
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			done <- rawResult{closed: !isTimeout(err), elapsed: time.Since(start)}
			return
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		r := rawResult{status: resp.StatusCode, body: string(b), elapsed: time.Since(start)}
		// After an answer the server either closes or keeps the connection.
		_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		_, err = br.ReadByte()
		r.closed = err != nil && !isTimeout(err)
		done <- r
	}()
	if _, err := conn.Write(now); err != nil || len(slow) == 0 {
		return <-done
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for _, c := range slow {
		select {
		case r := <-done:
			return r
		case <-tick.C:
			if _, err := conn.Write([]byte{c}); err != nil {
				return <-done
			}
		}
	}
	return <-done
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Deliveries with arbitrary bodies, signed as their senders would.

func (h *hostileEnv) hubspotRaw(body []byte, at time.Time) Delivery {
	ts := strconv.FormatInt(at.UnixMilli(), 10)
	uri := webhooks.HubSpotV3URI(h.Base, webhooks.PathHubSpot)
	hd := http.Header{}
	hd.Set("Content-Type", "application/json")
	hd.Set("X-HubSpot-Request-Timestamp", ts)
	hd.Set("X-HubSpot-Signature-v3", webhooks.HubSpotSignV3(h.hubspotSecret, http.MethodPost, uri, body, ts))
	return Delivery{Route: webhooks.PathHubSpot, Body: body, Header: hd}
}

func stdRaw(route string, key []byte, id string, body []byte, at time.Time) Delivery {
	hd := http.Header{}
	hd.Set("Content-Type", "application/json")
	hd.Set("webhook-id", id)
	hd.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	hd.Set("webhook-signature", webhooks.SignStandardWebhook(key, id, at.Unix(), body))
	return Delivery{Route: route, Body: body, Header: hd}
}

func (h *hostileEnv) agentRaw(id string, body []byte, at time.Time) Delivery {
	return stdRaw(webhooks.PathAgent, h.agentKey, id, body, at)
}

func (h *hostileEnv) sfEventsRaw(id string, body []byte, at time.Time) Delivery {
	return stdRaw(webhooks.PathSalesforceEvents, h.sfKey, id, body, at)
}

func (h *hostileEnv) marketoRaw(body []byte) Delivery {
	hd := http.Header{}
	hd.Set("Content-Type", "application/json")
	hd.Set("X-Handoff-Secret", h.marketoSecret)
	return Delivery{Route: webhooks.PathMarketo, Body: body, Header: hd}
}

func soapRaw(body []byte) Delivery {
	hd := http.Header{}
	hd.Set("Content-Type", "text/xml; charset=utf-8")
	hd.Set("SOAPAction", `""`)
	return Delivery{Route: webhooks.PathSalesforce, Body: body, Header: hd}
}

// signedJSON is body as a valid delivery on each JSON route (signed, with
// the right secret), so that hostile content reaches the parsers.
func (h *hostileEnv) signedJSON(body []byte) map[string]Delivery {
	now := time.Now()
	id := "msg_" + randomHex(8)
	return map[string]Delivery{
		webhooks.PathHubSpot:          h.hubspotRaw(body, now),
		webhooks.PathSalesforceEvents: h.sfEventsRaw(id, body, now),
		webhooks.PathMarketo:          h.marketoRaw(body),
		webhooks.PathAgent:            h.agentRaw(id, body, now),
	}
}

// head renders dl's request line and headers for a raw connection,
// without the terminating blank line, with the given framing header.
func (h *hostileEnv) head(dl Delivery, framing string) string {
	var b strings.Builder
	b.WriteString("POST " + dl.Route + " HTTP/1.1\r\nHost: " + h.addr + "\r\n")
	for _, k := range sortedHeaderKeys(dl.Header) {
		for _, v := range dl.Header[k] {
			b.WriteString(k + ": " + v + "\r\n")
		}
	}
	if framing != "" {
		b.WriteString(framing + "\r\n")
	}
	return b.String()
}

func sortedHeaderKeys(hd http.Header) []string {
	ks := make([]string, 0, len(hd))
	for k := range hd {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// hostileTurn is a valid agent turn body.
func hostileTurn(id string) []byte { return mustJSON(agentTurnMap(id)) }

func agentTurnMap(id string) map[string]any {
	return map[string]any{
		"type": "agent.turn", "id": id, "occurred_at": time.Now().UTC().Format(time.RFC3339),
		"conversation_id": "conv_" + id, "channel": "chat",
		"contact": map[string]any{"email": "ana@acme.example", "crm": "hubspot", "tenant": "62515"},
		"turn":    1, "buyer_message": "hello", "agent_reply": "hi", "confidence": 0.9,
	}
}

// validJSON is, for each JSON route, a body the route accepts, with one
// more field "x" whose raw JSON text is extra, signed.
func (h *hostileEnv) validJSON(extra string) map[string]Delivery {
	with := func(v any) []byte {
		b := string(mustJSON(v))
		if strings.HasPrefix(b, "[") {
			return []byte(strings.TrimSuffix(b, "}]") + `,"x":` + extra + `}]`)
		}
		return []byte(strings.TrimSuffix(b, "}") + `,"x":` + extra + `}`)
	}
	now := time.Now()
	id := "msg_" + randomHex(8)
	return map[string]Delivery{
		webhooks.PathHubSpot: h.hubspotRaw(with([]map[string]any{{"subscriptionType": "contact.propertyChange", "portalId": 62515,
			"objectId": 101, "eventId": 1, "occurredAt": now.UnixMilli(), "propertyName": "lifecyclestage", "propertyValue": "lead"}}), now),
		webhooks.PathSalesforceEvents: h.sfEventsRaw(id, with(map[string]any{"id": id, "organization_id": salesforcetest.OrgID,
			"kind": "deal_stage_change", "occurred_at": now.UTC().Format(time.RFC3339),
			"record": map[string]any{"type": "Opportunity", "id": "006xx000001a2b3AAA"}}), now),
		webhooks.PathMarketo: h.marketoRaw(with(map[string]any{"lead_id": 1, "kind": "form_submission", "email": "a@b.example"})),
		webhooks.PathAgent:   h.agentRaw(id, with(agentTurnMap(id)), now),
	}
}
