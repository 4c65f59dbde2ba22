package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/sethvargo/go-envconfig"

	"github.com/handoff-dev/handoff/connectors/hubspot/hubspottest"
	"github.com/handoff-dev/handoff/internal/testredis"
	"github.com/handoff-dev/handoff/jobs"
)

// e2eOptions tune newE2E.
type e2eOptions struct {
	RealRedis bool              // a real redis-server database (testredis) instead of the embedded one
	Extra     map[string]string // more environment
	Log       io.Writer         // the service's JSON log (nil discards)
	Clock     func() time.Time  // the pipeline's time (nil: the wall clock)
}

// newE2E starts the whole product against the fakes for one test and stops
// it when the test ends (HANDOFF_E2E_LOG_DIR=dir keeps each test's service
// log in dir/<test>.log). With RealRedis the tokens are encrypted with a
// fixed key (as production requires), so a second app can read them.
func newE2E(t *testing.T, o e2eOptions) (*demoEnv, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	extra := map[string]string{}
	opts := demoOptions{Extra: extra, Log: o.Log, Clock: o.Clock}
	if dir := os.Getenv("HANDOFF_E2E_LOG_DIR"); dir != "" && opts.Log == nil {
		// The service's JSON log per test, for debugging a failure.
		f, err := os.Create(filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+".log"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		opts.Log = f
	}
	if o.RealRedis {
		opts.RedisURL = testredis.New(t).URL()
		k := make([]byte, 32)
		_, _ = rand.Read(k)
		extra["TOKEN_ENCRYPTION_KEY"] = base64.StdEncoding.EncodeToString(k)
	}
	for k, v := range o.Extra {
		extra[k] = v
	}
	d, err := startDemo(ctx, opts)
	if err != nil {
		t.Fatalf("start handoff: %v", err)
	}
	t.Cleanup(d.Close)
	return d, ctx
}

// runTag makes ids unique per test run.
func runTag() string { return strconv.FormatInt(time.Now().UnixNano(), 36) }

// agentTurn is an agent.turn payload for a contact of the HubSpot fake portal.
func agentTurn(id, conv, email, channel string, n int, text, reply string, conf float64, toolFailures int) map[string]any {
	return map[string]any{
		"type": "agent.turn", "id": id, "occurred_at": time.Now().UTC().Format(time.RFC3339),
		"conversation_id": conv, "channel": channel,
		"contact": map[string]any{"email": email, "crm": "hubspot", "tenant": strconv.Itoa(hubspottest.PortalID)},
		"turn":    n, "buyer_message": text, "agent_reply": reply, "confidence": conf,
		"sources": []string{"https://acme.example/docs/pricing"}, "tool_failures": toolFailures,
		"transcript_url": "https://agent.acme.example/conversations/" + conv,
	}
}

// mustPost posts a delivery and fails the test unless it was acknowledged.
func mustPost(t *testing.T, ctx context.Context, d *demoEnv, dl Delivery) Response {
	t.Helper()
	r, err := d.post(ctx, dl)
	if err != nil {
		t.Fatalf("post %s: %v", dl.Label, err)
	}
	if r.Status != http.StatusOK && r.Status != http.StatusNoContent {
		t.Fatalf("post %s: %d %s", dl.Label, r.Status, r.Body)
	}
	return r
}

// mustDrain waits for the event and handoff queues to empty.
func mustDrain(t *testing.T, ctx context.Context, d *demoEnv, within time.Duration) {
	t.Helper()
	if err := d.waitDrained(ctx, within); err != nil {
		t.Fatal(err)
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// decisions reads the audit stream's decision records, oldest first.
func decisions(t *testing.T, ctx context.Context, d *demoEnv) []jobs.DecisionRecord {
	t.Helper()
	msgs, err := d.app.redis.Client.XRange(ctx, "handoff:audit", "-", "+").Result()
	if err != nil {
		t.Fatalf("read the audit stream: %v", err)
	}
	var out []jobs.DecisionRecord
	for _, m := range msgs {
		if m.Values["type"] != "decision" {
			continue
		}
		var r jobs.DecisionRecord
		if err := json.Unmarshal([]byte(m.Values["data"].(string)), &r); err != nil {
			t.Fatalf("decode audit entry %s: %v", m.ID, err)
		}
		r.ID = m.ID
		out = append(out, r)
	}
	return out
}

// handoffRecord reads the handoff:h:<id> hash.
func handoffRecord(t *testing.T, ctx context.Context, d *demoEnv, id string) map[string]string {
	t.Helper()
	m, err := d.app.redis.Client.HGetAll(ctx, "handoff:h:"+id).Result()
	if err != nil {
		t.Fatalf("read handoff %s: %v", id, err)
	}
	return m
}

// hubspotTask is a task as the HubSpot fake holds it.
type hubspotTask struct {
	ID    string
	Props map[string]string
	Assoc map[string][]string
}

func hubspotTasks(d *demoEnv) []hubspotTask {
	var out []hubspotTask
	for _, id := range d.HubSpot.TaskIDs() {
		p, a, ok := d.HubSpot.Task(id)
		if ok {
			out = append(out, hubspotTask{ID: id, Props: p, Assoc: a})
		}
	}
	return out
}

func (h hubspotTask) due(t *testing.T) time.Time {
	t.Helper()
	s := h.Props["hs_timestamp"]
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms)
	}
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("task %s: hs_timestamp %q: %v", h.ID, s, err)
	}
	return at
}

// restartApp stops this Handoff process (HTTP server and worker, as on
// SIGTERM) and starts a new one with the same environment on the same
// address: same Redis, same fakes, same encrypted tokens.
func (d *demoEnv) restartApp(t *testing.T, ctx context.Context) {
	t.Helper()
	d.cancel()
	select {
	case <-d.served:
	case <-time.After(30 * time.Second):
		t.Fatal("the first app did not stop within 30s")
	}
	d.app.close()
	d.app, d.cancel = nil, nil

	cfg, err := loadConfig(ctx, envconfig.MapLookuper(d.Env))
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(ctx, cfg, roleAll, quietLogger(), d.clock)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", strings.TrimPrefix(d.Base, "http://"))
	if err != nil {
		a.close()
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	d.app, d.cancel, d.served = a, cancel, make(chan error, 1)
	go func() { d.served <- a.serve(sctx, l) }()
	if err := d.waitReady(ctx, 15*time.Second); err != nil {
		t.Fatal(err)
	}
}

// archivedIn lists the archived tasks of one queue.
func archivedIn(d *demoEnv, queue string) []*asynq.TaskInfo {
	ts, _ := d.app.inspector.ListArchivedTasks(queue)
	return ts
}

// lostResponseProxy sits between Handoff and a CRM API. It forwards every
// request; for the first `drop` task creations it lets the CRM write the
// task, then withholds the answer until the client gives up: exactly what a
// worker sees when it dies (or times out) between the CRM write and
// recording it.
type lostResponseProxy struct {
	URL     string
	target  atomic.Pointer[url.URL]
	srv     *httptest.Server
	mu      sync.Mutex
	drop    int
	created chan string // the CRM's answer to each withheld create
}

func newLostResponseProxy(t *testing.T, createPath string, drop int) *lostResponseProxy {
	p := &lostResponseProxy{drop: drop, created: make(chan string, drop)}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tu := p.target.Load()
		if tu == nil {
			http.Error(w, "proxy target not set", http.StatusServiceUnavailable)
			return
		}
		body, _ := io.ReadAll(r.Body)
		out, err := http.NewRequestWithContext(context.WithoutCancel(r.Context()), r.Method, tu.String()+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		out.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		rb, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if r.Method == http.MethodPost && r.URL.Path == createPath && resp.StatusCode < 300 {
			p.mu.Lock()
			withhold := p.drop > 0
			if withhold {
				p.drop--
			}
			p.mu.Unlock()
			if withhold {
				p.created <- string(rb)
				<-r.Context().Done() // the client gave up; it never learns the task id
				panic(http.ErrAbortHandler)
			}
		}
		for k, vs := range resp.Header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(rb)
	}))
	p.URL = p.srv.URL
	t.Cleanup(p.srv.Close)
	return p
}

func (p *lostResponseProxy) setTarget(t *testing.T, raw string) {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	p.target.Store(u)
}

// writeLadder writes a ladder file for one test and returns its path (for
// LADDER_FILE).
func writeLadder(t *testing.T, y string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "ladder.yaml")
	if err := os.WriteFile(file, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// testClock is a clock an end-to-end test moves by hand (e2eOptions.Clock
// takes its Now), with times written as wall times in one zone.
type testClock struct {
	t   *testing.T
	loc *time.Location
	ns  atomic.Int64
}

func newTestClock(t *testing.T, zone, start string) *testClock {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	c := &testClock{t: t, loc: loc}
	c.Set(start)
	return c
}

// Set moves the clock to s, "2006-01-02 15:04" in the clock's zone.
func (c *testClock) Set(s string) {
	c.t.Helper()
	at, err := time.ParseInLocation("2006-01-02 15:04", s, c.loc)
	if err != nil {
		c.t.Fatal(err)
	}
	c.ns.Store(at.UnixNano())
}

// At is s ("2006-01-02 15:04") in the clock's zone.
func (c *testClock) At(s string) time.Time {
	c.t.Helper()
	at, err := time.ParseInLocation("2006-01-02 15:04", s, c.loc)
	if err != nil {
		c.t.Fatal(err)
	}
	return at
}

func (c *testClock) Now() time.Time { return time.Unix(0, c.ns.Load()) }
