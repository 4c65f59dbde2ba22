package main

// Hostile input against the real server (startDemo: real timeouts, body
// limits, signature checks, parsers, Redis). Every case states the answer
// it expects; after every case the server still serves /healthz, the
// answer holds no stack trace and no configured secret, and nothing was
// enqueued. docs/HOSTILE.md lists the cases.

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/handoff-dev/handoff/connectors/salesforce/salesforcetest"
	"github.com/handoff-dev/handoff/webhooks"
)

var jsonRoutes = []string{webhooks.PathHubSpot, webhooks.PathSalesforceEvents, webhooks.PathMarketo, webhooks.PathAgent}

// wantRefusal checks a refusal: status, and the route's error format
// (JSON {"error":{"code":...}} or a SOAP Client fault for Salesforce).
func wantRefusal(t *testing.T, what, route string, status int, body string, wantStatus int, code string) {
	t.Helper()
	if status != wantStatus {
		t.Errorf("%s: status %d, want %d: %s", what, status, wantStatus, truncate(body, 300))
		return
	}
	if route == webhooks.PathSalesforce {
		if !strings.Contains(body, "<faultcode>soapenv:Client</faultcode>") || !strings.Contains(body, "<faultstring>"+code) {
			t.Errorf("%s: want a SOAP Client fault %q, got %s", what, code, truncate(body, 300))
		}
		return
	}
	if !strings.Contains(body, `"code":"`+code+`"`) {
		t.Errorf("%s: want error code %q, got %s", what, code, truncate(body, 300))
	}
}

// A valid Outbound Message envelope around inner (the notifications' content).
func soapEnvelope(inner string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>
<notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>` + salesforcetest.OrgID + `</OrganizationId>` + inner + `</notifications></soapenv:Body></soapenv:Envelope>`
}

// Oversized bodies on every webhook route: with Content-Length, with a
// Content-Length that lies, and chunked (no length at all).
func TestHostileOversizedBodies(t *testing.T) {
	t.Parallel()
	h := startHostile(t, nil)
	big := bytes.Repeat([]byte("x"), hostileMaxBody+1)
	deliveries := h.signedJSON(big)
	deliveries[webhooks.PathSalesforce] = soapRaw(big)
	for route, dl := range deliveries {
		h.hostile(t, route+" content-length over the limit", func(t *testing.T) string {
			st, body := h.send(t, dl)
			wantRefusal(t, route+" over the limit", route, st, body, http.StatusRequestEntityTooLarge, "body_too_large")
			return body
		})
		h.hostile(t, route+" chunked over the limit", func(t *testing.T) string {
			req, _ := http.NewRequest(http.MethodPost, h.Base+route, io.MultiReader(bytes.NewReader(dl.Body)))
			req.Header = dl.Header.Clone()
			req.ContentLength = -1 // chunked
			st, body := h.do(t, req)
			wantRefusal(t, route+" chunked", route, st, body, http.StatusRequestEntityTooLarge, "body_too_large")
			return body
		})
		// A Content-Length far above every limit with a tiny body: refused
		// at once from the header, nothing read, no wait for the rest.
		h.hostile(t, route+" lying content-length (huge)", func(t *testing.T) string {
			r := h.raw(t, []byte(h.head(dl, "Content-Length: 1000000000000")+"\r\n{}"), nil, 0, 5*time.Second)
			if r.elapsed > time.Second {
				t.Errorf("%s: huge Content-Length answered after %s", route, r.elapsed)
			}
			wantRefusal(t, route+" huge content-length", route, r.status, r.body, http.StatusRequestEntityTooLarge, "body_too_large")
			return r.body
		})
		// A Content-Length below the body's real size: the server reads
		// only the declared bytes, so the signed body is cut and refused
		// (401 for signed routes; malformed XML for Salesforce); the
		// remainder is not a valid request and gets 400 or a close.
		h.hostile(t, route+" lying content-length (short)", func(t *testing.T) string {
			small := dl
			if route == webhooks.PathSalesforce {
				small = soapRaw([]byte(soapEnvelope("<Notification><Id>04l1</Id></Notification>")))
			} else {
				small = h.signedJSON(hostileTurn("t-short-" + randomHex(4)))[route]
			}
			r := h.raw(t, []byte(h.head(small, "Content-Length: 20")+"\r\n"+string(small.Body)), nil, 0, 5*time.Second)
			want, code := http.StatusUnauthorized, "bad_signature"
			switch route {
			case webhooks.PathSalesforce:
				want, code = http.StatusBadRequest, "malformed"
			case webhooks.PathMarketo: // a shared secret signs nothing: the cut JSON is malformed
				want, code = http.StatusBadRequest, "malformed"
			}
			wantRefusal(t, route+" short content-length", route, r.status, r.body, want, code)
			return r.body
		})
	}
}

// Slow clients: a body trickled one byte per second is cut off by
// HTTP_READ_TIMEOUT; headers trickled are cut off by
// HTTP_READ_HEADER_TIMEOUT. Nothing is enqueued.
func TestHostileSlowClients(t *testing.T) {
	t.Parallel()
	h := startHostile(t, nil)
	slack := 1500 * time.Millisecond
	for _, route := range []string{webhooks.PathAgent, webhooks.PathSalesforce, webhooks.PathMarketo} {
		t.Run("body"+strings.ReplaceAll(route, "/", "_"), func(t *testing.T) {
			t.Parallel()
			var dl Delivery
			switch route {
			case webhooks.PathSalesforce:
				dl = soapRaw([]byte(soapEnvelope("")))
			case webhooks.PathMarketo:
				dl = h.marketoRaw(mustJSON(map[string]any{"lead_id": 1, "kind": "form_submission", "email": "a@b.example"}))
			default:
				dl = h.agentRaw("t-slow", hostileTurn("t-slow"), time.Now())
			}
			h.hostile(t, "slow body", func(t *testing.T) string {
				head := h.head(dl, "Content-Length: "+strconv.Itoa(len(dl.Body))) + "\r\n"
				r := h.raw(t, []byte(head), dl.Body, time.Second, hostileReadTimeout+5*time.Second)
				t.Logf("slow body: status %d after %s, closed %v", r.status, r.elapsed.Round(time.Millisecond), r.closed)
				if r.elapsed > hostileReadTimeout+slack {
					t.Errorf("slow body held the connection %s (read timeout %s)", r.elapsed, hostileReadTimeout)
				}
				// The read deadline ends the body read: the handler answers
				// that the body could not be read, or the server closes.
				if r.status != 0 && r.status != http.StatusRequestTimeout && r.status != http.StatusBadRequest {
					t.Errorf("slow body answered %d: %s", r.status, r.body)
				}
				if !r.closed {
					t.Errorf("slow body: connection left open (status %d)", r.status)
				}
				return r.body
			})
		})
	}
	t.Run("headers", func(t *testing.T) {
		t.Parallel()
		h.hostile(t, "slow headers", func(t *testing.T) string {
			dl := h.agentRaw("t-slowh", hostileTurn("t-slowh"), time.Now())
			head := h.head(dl, "Content-Length: "+strconv.Itoa(len(dl.Body))) + "\r\n"
			r := h.raw(t, []byte("POST /webhooks/agent HTTP/1.1\r\n"), []byte(head[len("POST /webhooks/agent HTTP/1.1\r\n"):]), time.Second/2, hostileHeaderTimeout+5*time.Second)
			t.Logf("slow headers: status %d after %s, closed %v", r.status, r.elapsed.Round(time.Millisecond), r.closed)
			if r.elapsed > hostileHeaderTimeout+slack {
				t.Errorf("slow headers held the connection %s (header timeout %s)", r.elapsed, hostileHeaderTimeout)
			}
			// net/http answers a header read timeout with a bare "400 Bad
			// Request" and Connection: close (or just closes).
			if r.status != 0 && r.status != http.StatusRequestTimeout && r.status != http.StatusBadRequest {
				t.Errorf("slow headers answered %d: %s", r.status, r.body)
			}
			if !r.closed {
				t.Error("slow headers: connection left open")
			}
			return r.body
		})
	})
}

// timed runs fn and fails if it took more than a second or if the
// process (server and test together) allocated more than 16 MiB meanwhile (a case costs well under 1 MiB):
// a parser that expanded entities or copied per nesting level would.
func timed(t *testing.T, what string, fn func()) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	fn()
	d := time.Since(start)
	runtime.ReadMemStats(&after)
	if d > time.Second {
		t.Errorf("%s took %s", what, d)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("%s allocated %d MiB", what, alloc>>20)
	}
}

// Malformed and hostile content that passes the signature check reaches
// the parsers: deep JSON and XML, entities, invalid UTF-8. Each is
// refused with 400 (a SOAP Client fault), quickly.
func TestHostileParserInput(t *testing.T) {
	t.Parallel()
	// The default 1 MiB limit, so that 10k levels fit in a body.
	h := startHostile(t, map[string]string{"WEBHOOK_MAX_BODY": "1048576"})
	deep := strings.Repeat("[", 9990) + strings.Repeat("]", 9990) // within encoding/json's 10000
	for name, extra := range map[string]string{
		"valid body + field nested 9990 deep": deep,
		"valid body + invalid UTF-8 string":   "\"a\xff\xfeb\"",
		"valid body + lone surrogate bytes":   "\"\xed\xa0\x80\"",
	} {
		for route, dl := range h.validJSON(extra) {
			h.hostile(t, route+" "+name, func(t *testing.T) string {
				var st int
				var resp string
				timed(t, route+" "+name, func() { st, resp = h.send(t, dl) })
				wantRefusal(t, route+" "+name, route, st, resp, http.StatusBadRequest, "malformed")
				return resp
			})
		}
	}
	deepJSON := map[string][]byte{
		"10k nested arrays":  []byte(strings.Repeat("[", 10000) + strings.Repeat("]", 10000)),
		"30k nested objects": []byte(strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)),
		"unclosed 60k":       bytes.Repeat([]byte("["), 60000),
		"deep in an event":   []byte(`[{"subscriptionType":"contact.creation","portalId":1,"objectId":1,"occurredAt":1,"x":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}]`),
		"invalid UTF-8":      []byte("{\"id\":\"t\xff\xfe\",\"type\":\"agent.turn\",\"conversation_id\":\"c\xc3\x28\",\"occurred_at\":\"\xed\xa0\x80\"}"),
		"not JSON":           []byte("\xff\xfe\x00\x00garbage"),
	}
	for name, body := range deepJSON {
		for route, dl := range h.signedJSON(body) {
			h.hostile(t, route+" "+name, func(t *testing.T) string {
				var st int
				var resp string
				timed(t, route+" "+name, func() { st, resp = h.send(t, dl) })
				wantRefusal(t, route+" "+name, route, st, resp, http.StatusBadRequest, "malformed")
				return resp
			})
		}
	}

	notification := `<Notification><Id>04l000000000001</Id><sObject xmlns:sf="urn:sobject.enterprise.soap.sforce.com" xsi:type="sf:Lead" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><sf:Id>00Q000000000001</sf:Id>%s</sObject></Notification>`
	laughs := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
		`<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">` +
		`<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;"><!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">]>`
	xmlCases := map[string]string{
		"10k nested elements": soapEnvelope(fmt.Sprintf(notification, strings.Repeat("<sf:A>", 10000)+strings.Repeat("</sf:A>", 10000))),
		"deep unclosed":       soapEnvelope(strings.Repeat("<a>", 20000)),
		"billion laughs":      laughs + strings.TrimPrefix(soapEnvelope(fmt.Sprintf(notification, "<sf:Email>&lol9;</sf:Email>")), `<?xml version="1.0" encoding="UTF-8"?>`),
		"external entity":     `<?xml version="1.0"?><!DOCTYPE e [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` + strings.TrimPrefix(soapEnvelope(fmt.Sprintf(notification, "<sf:Email>&xxe;</sf:Email>")), `<?xml version="1.0" encoding="UTF-8"?>`),
		"external DTD":        `<?xml version="1.0"?><!DOCTYPE e SYSTEM "http://127.0.0.1:1/evil.dtd">` + strings.TrimPrefix(soapEnvelope(""), `<?xml version="1.0" encoding="UTF-8"?>`),
		"undeclared entity":   soapEnvelope(fmt.Sprintf(notification, "<sf:Email>&xxe;</sf:Email>")),
		"invalid UTF-8":       soapEnvelope(fmt.Sprintf(notification, "<sf:Email>a\xff\xfe@b</sf:Email>")),
		"UTF-16 declared":     strings.Replace(soapEnvelope(fmt.Sprintf(notification, "")), "UTF-8", "UTF-16", 1),
		"not XML":             "\x00\x01garbage<",
	}
	for name, body := range xmlCases {
		h.hostile(t, "salesforce "+name, func(t *testing.T) string {
			var st int
			var resp string
			timed(t, "salesforce "+name, func() { st, resp = h.send(t, soapRaw([]byte(body))) })
			wantRefusal(t, "salesforce "+name, webhooks.PathSalesforce, st, resp, http.StatusBadRequest, "malformed")
			if strings.Contains(resp, "root:") || strings.Contains(resp, "lollol") {
				t.Errorf("salesforce %s: the answer echoes expanded entities: %s", name, truncate(resp, 300))
			}
			return resp
		})
	}
}

// Invalid UTF-8 and control bytes in the headers that carry secrets and
// signatures: refused as unauthenticated, never accepted.
func TestHostileHeaders(t *testing.T) {
	t.Parallel()
	h := startHostile(t, nil)
	valid := h.signedJSON(hostileTurn("t-hdr-" + randomHex(4)))
	cases := []struct {
		route, header, value string
	}{
		{webhooks.PathMarketo, "X-Handoff-Secret", h.marketoSecret + "\xff"},
		{webhooks.PathMarketo, "X-Handoff-Secret", "\xff\xfe" + h.marketoSecret[2:]},
		{webhooks.PathMarketo, "X-Handoff-Secret", ""},
		{webhooks.PathAgent, "Webhook-Signature", "v1,\xff\xfe\xfd"},
		{webhooks.PathAgent, "Webhook-Timestamp", "17\xff"},
		{webhooks.PathAgent, "Webhook-Id", "t\xff-other"}, // signature was for another id
		{webhooks.PathSalesforceEvents, "Webhook-Signature", "v1," + strings.Repeat("A", 60000)},
		{webhooks.PathHubSpot, "X-HubSpot-Signature-v3", "\xc3\x28"},
		{webhooks.PathHubSpot, "X-HubSpot-Request-Timestamp", "\xff"},
	}
	for _, c := range cases {
		what := fmt.Sprintf("%s %s=%q", c.route, c.header, truncate(c.value, 20))
		h.hostile(t, what, func(t *testing.T) string {
			dl := valid[c.route]
			hd := dl.Header.Clone()
			hd.Del(c.header)
			framing := "Content-Length: " + strconv.Itoa(len(dl.Body)) + "\r\n" + c.header + ": " + c.value
			r := h.raw(t, []byte(h.head(Delivery{Route: c.route, Header: hd}, framing)+"\r\n"+string(dl.Body)), nil, 0, 5*time.Second)
			if r.status != http.StatusUnauthorized && r.status != http.StatusBadRequest {
				t.Errorf("%s: status %d, want 401 (or 400 from the HTTP layer): %s", what, r.status, r.body)
			}
			return r.body
		})
	}
}

// A correctly signed delivery whose webhook-id (the event's identity) is
// not UTF-8 is refused as malformed; a header block over net/http's
// MaxHeaderBytes (64 KiB) gets 431.
func TestHostileHeaderValues(t *testing.T) {
	t.Parallel()
	h := startHostile(t, nil)
	id := "t\xff\xfe"
	for _, dl := range []Delivery{h.agentRaw(id, hostileTurn("t-utf8"), time.Now()), h.sfEventsRaw(id, hostileTurn("t-utf8"), time.Now())} {
		h.hostile(t, dl.Route+" webhook-id not UTF-8", func(t *testing.T) string {
			hd := dl.Header.Clone()
			hd.Del("Webhook-Id")
			framing := "Content-Length: " + strconv.Itoa(len(dl.Body)) + "\r\nWebhook-Id: " + id
			r := h.raw(t, []byte(h.head(Delivery{Route: dl.Route, Header: hd}, framing)+"\r\n"+string(dl.Body)), nil, 0, 5*time.Second)
			wantRefusal(t, dl.Route+" webhook-id not UTF-8", dl.Route, r.status, r.body, http.StatusBadRequest, "malformed")
			return r.body
		})
	}
	h.hostile(t, "100 KiB of headers", func(t *testing.T) string {
		dl := h.agentRaw("t-big-header", hostileTurn("t-big-header"), time.Now())
		framing := "Content-Length: " + strconv.Itoa(len(dl.Body)) + "\r\nX-Filler: " + strings.Repeat("a", 100<<10)
		r := h.raw(t, []byte(h.head(dl, framing)+"\r\n"+string(dl.Body)), nil, 0, 5*time.Second)
		if r.status != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("100 KiB of headers: %d %s, want 431", r.status, r.body)
		}
		return r.body
	})
}

// Replays: a timestamped signature outside the 5 minute window (either
// direction) is refused 401; a valid delivery replayed inside the window
// is a 200 duplicate and stores nothing new.
func TestHostileReplays(t *testing.T) {
	t.Parallel()
	h := startHostile(t, nil)
	old, future := time.Now().Add(-6*time.Minute), time.Now().Add(6*time.Minute)
	hsBody := mustJSON([]map[string]any{{"subscriptionType": "contact.propertyChange", "portalId": 62515, "objectId": 101,
		"eventId": 9001, "occurredAt": time.Now().UnixMilli(), "propertyName": "lifecyclestage", "propertyValue": "lead"}})
	stale := map[string]Delivery{
		"hubspot v3 6 min old":          h.hubspotRaw(hsBody, old),
		"hubspot v3 6 min ahead":        h.hubspotRaw(hsBody, future),
		"agent 6 min old":               h.agentRaw("t-old", hostileTurn("t-old"), old),
		"agent 6 min ahead":             h.agentRaw("t-new", hostileTurn("t-new"), future),
		"salesforce events 6 min old":   h.sfEventsRaw("sf-old", hostileTurn("sf-old"), old),
		"salesforce events 6 min ahead": h.sfEventsRaw("sf-new", hostileTurn("sf-new"), future),
	}
	for name, dl := range stale {
		h.hostile(t, name, func(t *testing.T) string {
			st, body := h.send(t, dl)
			wantRefusal(t, name, dl.Route, st, body, http.StatusUnauthorized, "stale_timestamp")
			return body
		})
	}

	// A HubSpot workflow webhook (signature v2: no timestamp, so replays
	// are absorbed by the dedupe marker alone).
	wfRoute := webhooks.PathHubSpot + "?kind=form_submission&channel=web&object=contact"
	wfBody := []byte(`{"vid":5101,"portal-id":62515,"properties":{"email":{"value":"ana@acme.example"}}}`)
	wf := Delivery{Route: wfRoute, Body: wfBody, Header: http.Header{}}
	wf.Header.Set("Content-Type", "application/json")
	wf.Header.Set(webhooks.HeaderHubSpotSigVersion, "v2")
	wf.Header.Set(webhooks.HeaderHubSpotSignature, webhooks.HubSpotSignV2(h.hubspotSecret, http.MethodPost, h.Base+wfRoute, wfBody))
	for name, dl := range map[string]Delivery{
		"agent":            h.agentRaw("t-replay-"+randomHex(4), hostileTurn("t-replay"), time.Now()),
		"hubspot":          h.hubspotRaw(hsBody, time.Now()),
		"hubspot workflow": wf,
	} {
		before := h.stored(t)
		st, body := h.send(t, dl)
		if st != http.StatusOK || !strings.Contains(body, `"accepted":1`) {
			t.Fatalf("%s first delivery: %d %s", name, st, body)
		}
		if after := h.stored(t); after.eventTasks != before.eventTasks+1 {
			t.Fatalf("%s first delivery stored %d event tasks, want 1", name, after.eventTasks-before.eventTasks)
		}
		h.hostile(t, name+" replayed within the window", func(t *testing.T) string {
			st, body := h.send(t, dl)
			if st != http.StatusOK || !strings.Contains(body, `"duplicates":1`) || !strings.Contains(body, `"accepted":0`) {
				t.Errorf("%s replay: %d %s, want 200 with one duplicate", name, st, body)
			}
			return body
		})
	}
}

// The admin area (/admin/queues/, /api/*) refuses every wrong credential
// with 401 and an answer that holds no data; so does the console
// (/console/), whose state-changing route also refuses the read-only
// CONSOLE_TOKEN (403) and a browser's request from another site (403).
func TestHostileAdminAuth(t *testing.T) {
	t.Parallel()
	consoleTok, agentTok := "console-"+randomHex(16), "agent-"+randomHex(16)
	h := startHostile(t, map[string]string{"CONSOLE_TOKEN": consoleTok, "AGENT_API_TOKEN": agentTok})
	tok := h.AdminToken
	// The agent token reads a conversation's owner and nothing else.
	for _, p := range []string{"/admin/queues/", "/api/decisions", "/api/outcomes"} {
		h.hostile(t, "agent token "+p, func(t *testing.T) string {
			req, _ := http.NewRequest(http.MethodGet, h.Base+p, nil)
			req.Header.Set("Authorization", "Bearer "+agentTok)
			st, body := h.do(t, req)
			if want := map[bool]int{true: http.StatusUnauthorized, false: http.StatusForbidden}[strings.HasPrefix(p, "/admin/")]; st != want {
				t.Errorf("agent token %s: %d, want %d: %s", p, st, want, truncate(body, 200))
			}
			return body
		})
	}
	t.Run("console", func(t *testing.T) { hostileConsoleAuth(t, h, consoleTok, agentTok) })
	creds := map[string]func(*http.Request){
		"none":                func(*http.Request) {},
		"wrong bearer":        func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+randomHex(16)) },
		"prefix of token":     func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok[:len(tok)-1]) },
		"token plus a byte":   func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok+"0") },
		"empty bearer":        func(r *http.Request) { r.Header.Set("Authorization", "Bearer ") },
		"token without type":  func(r *http.Request) { r.Header.Set("Authorization", tok) },
		"basic wrong":         func(r *http.Request) { r.SetBasicAuth("admin", randomHex(16)) },
		"basic token as user": func(r *http.Request) { r.SetBasicAuth(tok, "") },
		"basic prefix":        func(r *http.Request) { r.SetBasicAuth("admin", tok[:8]) },
		"token in query":      func(r *http.Request) { r.URL.RawQuery = "token=" + tok + "&access_token=" + tok },
		"invalid UTF-8":       func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok[:8]+"\xff\xfe") },
	}
	paths := []string{"/admin/queues/", "/admin/queues/api/queues", "/api/decisions", "/api/outcomes", "/api/conversations/conv-1", "/api/nope"}
	for name, set := range creds {
		for _, p := range paths {
			h.hostile(t, name+" "+p, func(t *testing.T) string {
				req, _ := http.NewRequest(http.MethodGet, h.Base+p, nil)
				set(req)
				st, body := h.do(t, req)
				if st != http.StatusUnauthorized || !strings.Contains(body, `"code":"unauthorized"`) {
					t.Errorf("%s %s: %d %s, want 401 unauthorized", name, p, st, truncate(body, 200))
				}
				for _, leak := range []string{"events", "decisions", "queue", "conv-1"} {
					if strings.Contains(strings.ToLower(strings.ReplaceAll(body, "/api/", "")), `"`+leak) {
						t.Errorf("%s %s: the refusal holds data (%q): %s", name, p, leak, body)
					}
				}
				return body
			})
		}
	}
	// A wrong token on the release route changes nothing.
	h.hostile(t, "release without a token", func(t *testing.T) string {
		req, _ := http.NewRequest(http.MethodPost, h.Base+"/api/conversations/conv-1/release", strings.NewReader(`{}`))
		st, body := h.do(t, req)
		if st != http.StatusUnauthorized {
			t.Errorf("release: %d, want 401", st)
		}
		return body
	})
	// The right token works (the refusals above are about the credential).
	req, _ := http.NewRequest(http.MethodGet, h.Base+"/api/decisions", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if st, body := h.do(t, req); st != http.StatusOK {
		t.Fatalf("right token: %d %s", st, body)
	}
}

// hostileConsoleAuth: every console page refuses a request without a
// working credential (a browser without one is sent to the sign-in form,
// a wrong bearer gets 401) and serves no page; the release refuses no
// token, a wrong one, the agent token and the token itself as the cookie
// (401), the read-only CONSOLE_TOKEN (403) and a request from another
// site even with the admin's session (403). The admin's token (control)
// gets through to the release, which answers 409: conv-1 is not held.
func hostileConsoleAuth(t *testing.T, h *hostileEnv, consoleTok, agentTok string) {
	tok := h.AdminToken
	adminSession, consoleSession := h.consoleSession(t, tok), h.consoleSession(t, consoleTok)
	bearer := func(v string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+v) }
	}
	cookie := func(v string) func(*http.Request) {
		return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "handoff_console", Value: v}) }
	}
	flipped := []byte(adminSession)
	flipped[0] ^= 1 // still hex: '0'..'9' and 'a'..'f' stay in range
	if flipped[0] < '0' || (flipped[0] > '9' && flipped[0] < 'a') || flipped[0] > 'f' {
		flipped[0] = '0'
	}
	// Credentials a page answers with the sign-in redirect (302) and a
	// bearer one with 401.
	refused := map[string]func(*http.Request){
		"none":                         func(*http.Request) {},
		"wrong bearer":                 bearer(randomHex(16)),
		"empty bearer":                 bearer(""),
		"admin token minus a byte":     bearer(tok[:len(tok)-1]),
		"admin token plus a byte":      bearer(tok + "0"),
		"agent token":                  bearer(agentTok),
		"admin token, basic":           func(r *http.Request) { r.SetBasicAuth("admin", tok) },
		"admin token in the query":     func(r *http.Request) { r.URL.RawQuery = "token=" + tok + "&access_token=" + tok },
		"admin token as the cookie":    cookie(tok),
		"agent token as the cookie":    cookie(agentTok),
		"console token as the cookie":  cookie(consoleTok),
		"admin session, one bit wrong": cookie(string(flipped)),
		"admin session, cut short":     cookie(adminSession[:len(adminSession)-2]),
		"a random session":             cookie(randomHex(32)),
	}
	pages := []string{"/console", "/console/", "/console/open", "/console/decisions", "/console/decisions/1700000000000-0",
		"/console/conversations/conv-1", "/console/outcomes", "/console/distribution", "/console/shadow", "/console/playground"}
	for name, set := range refused {
		for _, p := range pages {
			h.hostile(t, name+" GET "+p, func(t *testing.T) string {
				a := h.console(t, http.MethodGet, p, "", set)
				probe, _ := http.NewRequest(http.MethodGet, h.Base, nil)
				set(probe)
				script := probe.Header.Get("Authorization") != "" // a script's credential: 401, not the sign-in form
				switch {
				case script && a.status != http.StatusUnauthorized:
					t.Errorf("%s GET %s: %d, want 401", name, p, a.status)
				case !script && (a.status != http.StatusFound || !strings.HasPrefix(a.header.Get("Location"), "/console/login?next=")):
					t.Errorf("%s GET %s: %d to %q, want 302 to the sign-in form", name, p, a.status, a.header.Get("Location"))
				}
				if strings.Contains(a.body, "data-page=") || strings.Contains(a.body, "conv-1") || a.header.Get("Set-Cookie") != "" {
					t.Errorf("%s GET %s: the refusal serves a page or a cookie: %s", name, p, truncate(a.body, 200))
				}
				return a.body
			})
		}
	}
	// The state-changing route: the release.
	const release = "/console/conversations/conv-1/release"
	const form = "confirm=conv-1&reason=hostile"
	crossSite := func(set func(*http.Request), hdr ...string) func(*http.Request) {
		return func(r *http.Request) {
			set(r)
			for i := 0; i+1 < len(hdr); i += 2 {
				r.Header.Set(hdr[i], hdr[i+1])
			}
		}
	}
	posts := []struct {
		name string
		set  func(*http.Request)
		want int
	}{
		{"console token", bearer(consoleTok), http.StatusForbidden},
		{"console session", cookie(consoleSession), http.StatusForbidden},
		{"admin session from another site", crossSite(cookie(adminSession), "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"), http.StatusForbidden},
		{"admin session from a sibling host", crossSite(cookie(adminSession), "Sec-Fetch-Site", "same-site", "Origin", "https://evil."+strings.TrimPrefix(h.Base, "http://")), http.StatusForbidden},
		{"admin session, another origin (no Sec-Fetch-Site)", crossSite(cookie(adminSession), "Origin", "https://evil.example"), http.StatusForbidden},
		{"admin token from another site", crossSite(bearer(tok), "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"), http.StatusForbidden},
	}
	for name, set := range refused {
		posts = append(posts, struct {
			name string
			set  func(*http.Request)
			want int
		}{name, set, http.StatusUnauthorized})
	}
	for _, c := range posts {
		h.hostile(t, c.name+" POST release", func(t *testing.T) string {
			a := h.console(t, http.MethodPost, release, form, c.set)
			if a.status != c.want {
				t.Errorf("%s POST %s: %d, want %d: %s", c.name, release, a.status, c.want, truncate(a.body, 200))
			}
			return a.body
		})
	}
	// Signing in or out from another site is refused too; the other
	// POSTs (the playground changes nothing) need a token like the pages.
	for _, p := range []string{"/console/login", "/console/logout"} {
		h.hostile(t, "cross-site POST "+p, func(t *testing.T) string {
			a := h.console(t, http.MethodPost, p, "token="+url.QueryEscape(tok), crossSite(func(*http.Request) {}, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"))
			if a.status != http.StatusForbidden || a.header.Get("Set-Cookie") != "" {
				t.Errorf("cross-site POST %s: %d (cookie %q), want 403 and no cookie", p, a.status, a.header.Get("Set-Cookie"))
			}
			return a.body
		})
	}
	h.hostile(t, "agent token signs in", func(t *testing.T) string {
		a := h.console(t, http.MethodPost, "/console/login", "token="+url.QueryEscape(agentTok), func(*http.Request) {})
		if a.status != http.StatusUnauthorized || a.header.Get("Set-Cookie") != "" {
			t.Errorf("sign-in with the agent token: %d (cookie %q), want 401 and no cookie", a.status, a.header.Get("Set-Cookie"))
		}
		return a.body
	})
	for _, p := range []string{"/console/playground", "/console/playground/diff"} {
		for _, name := range []string{"none", "agent token", "admin token as the cookie"} {
			h.hostile(t, name+" POST "+p, func(t *testing.T) string {
				a := h.console(t, http.MethodPost, p, "message=hi&ladder=live&old=live&new=live", refused[name])
				if a.status != http.StatusUnauthorized {
					t.Errorf("%s POST %s: %d, want 401", name, p, a.status)
				}
				return a.body
			})
		}
	}
	// Controls: the admin's token and session, from the console's own
	// page, reach the release (409: conv-1 is not held by a human).
	for name, set := range map[string]func(*http.Request){
		"admin token":                 bearer(tok),
		"admin session, same origin":  crossSite(cookie(adminSession), "Sec-Fetch-Site", "same-origin", "Origin", h.Base),
		"console token reads a page":  bearer(consoleTok),
		"console session reads pages": cookie(consoleSession),
	} {
		method, path, want := http.MethodPost, release, http.StatusConflict
		if strings.HasPrefix(name, "console") {
			method, path, want = http.MethodGet, "/console/open", http.StatusOK
		}
		if a := h.console(t, method, path, form, set); a.status != want {
			t.Errorf("control, %s: %s %s answered %d, want %d: %s", name, method, path, a.status, want, truncate(a.body, 200))
		}
	}
}

// OAuth callbacks: a forged state, a replayed (already used) state, and a
// valid state without a code get the documented error pages, and no token
// is stored or changed.
func TestHostileOAuthCallback(t *testing.T) {
	t.Parallel()
	h := startHostile(t, nil)
	noRedirect := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// callbackURL runs an install up to the CRM's redirect back to us and
	// returns that callback URL without visiting it.
	callbackURL := func(t *testing.T) string {
		t.Helper()
		next := h.Base + "/oauth/hubspot/install"
		for i := 0; i < 5; i++ {
			resp, err := noRedirect.Get(next)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			loc, err := resp.Location()
			if err != nil {
				t.Fatalf("install step %d: %d without a redirect", i, resp.StatusCode)
			}
			if strings.HasPrefix(loc.String(), h.Base+"/oauth/hubspot/callback") {
				return loc.String()
			}
			next = loc.String()
		}
		t.Fatal("the install never redirected to the callback")
		return ""
	}
	tokens := func(t *testing.T) map[string]string {
		t.Helper()
		keys, err := h.rdb.Keys(t.Context(), "handoff:oauth:token:*").Result()
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, k := range keys {
			m[k], _ = h.rdb.Get(t.Context(), k).Result()
		}
		return m
	}
	get := func(t *testing.T, u string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		return h.do(t, req)
	}
	oauthCase := func(name string, u func(t *testing.T) string, want int, title string) {
		h.hostile(t, name, func(t *testing.T) string {
			url := u(t)
			before := tokens(t)
			st, body := get(t, url)
			if st != want || !strings.Contains(body, title) {
				t.Errorf("%s: %d, want %d %q: %s", name, st, want, title, truncate(body, 300))
			}
			if strings.Contains(body, "<script>") || strings.Contains(body, "attacker-code") {
				t.Errorf("%s: the page echoes the request's parameters: %s", name, truncate(body, 300))
			}
			if after := tokens(t); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("%s: the token store changed", name)
			}
			return body
		})
	}

	// A real install, then the same callback URL again.
	used := callbackURL(t)
	if st, body := get(t, used); st != http.StatusOK || !strings.Contains(body, "is connected") {
		t.Fatalf("real install: %d %s", st, body)
	}
	oauthCase("reused state", func(*testing.T) string { return used }, http.StatusBadRequest, "This install link is not valid")
	oauthCase("forged state", func(t *testing.T) string {
		u := callbackURL(t) // a pending install exists; the attacker does not know its state
		return strings.Split(u, "?")[0] + "?code=attacker-code&state=" + randomHex(16)
	}, http.StatusBadRequest, "This install link is not valid")
	oauthCase("no state", func(*testing.T) string { return h.Base + "/oauth/hubspot/callback?code=x" }, http.StatusBadRequest, "This install link is not valid")
	oauthCase("missing code", func(t *testing.T) string {
		u := callbackURL(t)
		base, q, _ := strings.Cut(u, "?")
		var state string
		for _, kv := range strings.Split(q, "&") {
			if v, ok := strings.CutPrefix(kv, "state="); ok {
				state = v
			}
		}
		return base + "?state=" + state
	}, http.StatusBadGateway, "HubSpot install failed")
	oauthCase("injection in error", func(t *testing.T) string {
		u := callbackURL(t)
		return u + "&error=%3Cscript%3Ealert(1)%3C%2Fscript%3E"
	}, http.StatusForbidden, "did not authorize")
}

// secretName matches identifiers that hold signatures, secrets, tokens,
// MACs or digests.
var secretName = regexp.MustCompile(`(?i)(sig|secret|token|mac|digest|hash|passw|apikey|want|expected)`)

// Secrets are compared in constant time (hmac.Equal,
// subtle.ConstantTimeCompare): a review in code of the packages that check
// them. It fails when == / != or bytes.Equal, strings.EqualFold,
// strings.Compare, reflect.DeepEqual compare an expression named like a
// signature, secret, token or MAC with anything but a constant, nil or "".
func TestHostileSecretsComparedInConstantTime(t *testing.T) {
	var findings []string
	files := 0
	// The functions that check secrets, each of which must compare with
	// hmac.Equal or subtle.ConstantTimeCompare.
	mustCompare := map[string]bool{"VerifyHubSpotV3": true, "VerifyHubSpotV1V2": true, "VerifyStandardWebhook": true,
		"secretEqual": true, "matchOrg": true, "tokenAuth": true, "tokenRole": true}
	for _, dir := range []string{"../../webhooks", "../../internal/httpserver", "../../connectors/tokenstore", "../../console"} {
		paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			if strings.HasSuffix(p, "_test.go") {
				continue
			}
			files++
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, p, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			findings = append(findings, variableTimeCompares(fset, f)...)
			for fn := range constantTimeFuncs(f) {
				delete(mustCompare, fn)
			}
		}
	}
	if files < 10 {
		t.Fatalf("only %d files reviewed: wrong directories?", files)
	}
	for fn := range mustCompare {
		t.Errorf("%s does not compare with hmac.Equal or subtle.ConstantTimeCompare", fn)
	}
	for _, f := range findings {
		t.Errorf("variable-time comparison of a secret: %s", f)
	}
}

func variableTimeCompares(fset *token.FileSet, f *ast.File) []string {
	var out []string
	report := func(n ast.Node, what string) {
		out = append(out, fset.Position(n.Pos()).String()+": "+what)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.BinaryExpr:
			if x.Op != token.EQL && x.Op != token.NEQ {
				return true
			}
			if harmless(x.X) || harmless(x.Y) {
				return true
			}
			if secretExpr(x.X) || secretExpr(x.Y) {
				report(x, exprString(x.X)+" "+x.Op.String()+" "+exprString(x.Y))
			}
		case *ast.CallExpr:
			sel, ok := x.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			pkg, ok := sel.X.(*ast.Ident)
			if !ok {
				return true
			}
			switch pkg.Name + "." + sel.Sel.Name {
			case "bytes.Equal", "strings.EqualFold", "strings.Compare", "bytes.Compare", "reflect.DeepEqual", "bytes.EqualFold":
				for _, a := range x.Args {
					if secretExpr(a) && !harmless(a) {
						report(x, pkg.Name+"."+sel.Sel.Name+" on "+exprString(a))
						break
					}
				}
			}
		}
		return true
	})
	return out
}

// harmless operands: literals, nil, constants-by-convention, len(...).
func harmless(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.BasicLit:
		return true
	case *ast.Ident:
		return x.Name == "nil" || x.Name == "true" || x.Name == "false"
	case *ast.CallExpr:
		if id, ok := x.Fun.(*ast.Ident); ok && (id.Name == "len" || id.Name == "cap") {
			return true
		}
	case *ast.ParenExpr:
		return harmless(x.X)
	}
	return false
}

// secretExpr reports whether e names a secret: an identifier or field
// whose name matches secretName, possibly converted, sliced or indexed.
func secretExpr(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.Ident:
		return secretName.MatchString(x.Name)
	case *ast.SelectorExpr:
		return secretName.MatchString(x.Sel.Name)
	case *ast.SliceExpr:
		return secretExpr(x.X)
	case *ast.IndexExpr:
		return secretExpr(x.X)
	case *ast.StarExpr:
		return secretExpr(x.X)
	case *ast.ParenExpr:
		return secretExpr(x.X)
	case *ast.CallExpr: // string(sig), []byte(secret), hex.EncodeToString(mac)...
		if id, ok := x.Fun.(*ast.Ident); ok && secretName.MatchString(id.Name) {
			return true
		}
		if sel, ok := x.Fun.(*ast.SelectorExpr); ok && secretName.MatchString(sel.Sel.Name) {
			return true
		}
		for _, a := range x.Args {
			if secretExpr(a) {
				return true
			}
		}
	}
	return false
}

func exprString(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return exprString(x.X) + "." + x.Sel.Name
	case *ast.CallExpr:
		return exprString(x.Fun) + "(...)"
	case *ast.SliceExpr:
		return exprString(x.X) + "[:]"
	case *ast.IndexExpr:
		return exprString(x.X) + "[...]"
	case *ast.BasicLit:
		return x.Value
	}
	return "expr"
}

// The review itself finds what it is meant to find.
func TestHostileConstantTimeReviewFindsVariableTimeCompares(t *testing.T) {
	src := `package p
func a(sig, got string, mac, expected []byte, s struct{ Secret string }, tok string) {
	_ = sig == got                      // 1
	_ = bytes.Equal(mac, expected)      // 2
	_ = string(mac) != got              // 3
	_ = s.Secret == tok                 // 4
	_ = strings.EqualFold(got, s.Secret) // 5
	_ = sig == ""
	_ = len(mac) == 32
	_ = mac == nil
	_ = hmac.Equal(mac, expected)
	_ = subtle.ConstantTimeCompare(mac, expected) == 1
}`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := variableTimeCompares(fset, f)
	if len(got) != 5 {
		t.Fatalf("found %d variable-time comparisons, want 5:\n%s", len(got), strings.Join(got, "\n"))
	}
}

// constantTimeFuncs lists the top-level functions of f that call
// hmac.Equal or subtle.ConstantTimeCompare.
func constantTimeFuncs(f *ast.File) map[string]bool {
	out := map[string]bool{}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			continue
		}
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			if c, ok := n.(*ast.CallExpr); ok {
				if sel, ok := c.Fun.(*ast.SelectorExpr); ok {
					if pkg, ok := sel.X.(*ast.Ident); ok {
						if n := pkg.Name + "." + sel.Sel.Name; n == "hmac.Equal" || n == "subtle.ConstantTimeCompare" {
							out[fd.Name.Name] = true
						}
					}
				}
			}
			return true
		})
	}
	return out
}
