package callbacks

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/handoff-dev/handoff/internal/testredis"
	"github.com/handoff-dev/handoff/jobs"
)

func testSecret() string {
	return "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
}

func validConfig(u string) Config {
	return Config{URL: u, Secret: testSecret(), Timeout: 2 * time.Second, MaxRetry: 24, RetryBase: 10 * time.Second,
		RetryMaxDelay: 2 * time.Hour, Retention: time.Hour}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		url, secret, want string
	}{
		{"https://agent.example/hooks?token=s3cret", testSecret(), ""},
		{"http://127.0.0.1:9000/hooks", testSecret(), ""},
		{"http://localhost:9000/hooks", testSecret(), ""},
		{"http://[::1]:9000/hooks", testSecret(), ""},
		{"http://agent.example/hooks?token=s3cret", testSecret(), "AGENT_CALLBACK_URL: \"http://agent.example/hooks\" must be https://"},
		{"ftp://agent.example/", testSecret(), "AGENT_CALLBACK_URL:"},
		{"/hooks", testSecret(), "AGENT_CALLBACK_URL:"},
		{"https://agent.example/", "", "AGENT_CALLBACK_SECRET: required"},
		{"https://agent.example/", "0123456789abcdef0123456789", "AGENT_CALLBACK_SECRET: must start with whsec_"},
		{"https://agent.example/", "whsec_!!!", "AGENT_CALLBACK_SECRET: the part after whsec_ is not base64"},
		{"https://agent.example/", "whsec_" + base64.StdEncoding.EncodeToString([]byte("short")), "AGENT_CALLBACK_SECRET: 5 bytes is too short"},
		{"", testSecret(), "AGENT_CALLBACK_URL: required"},
	} {
		cfg := validConfig(c.url)
		cfg.Secret = c.secret
		err := cfg.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.url, err)
		case c.want != "" && (err == nil || !strings.HasPrefix(err.Error(), c.want)):
			t.Errorf("%s / %.8s: got %v, want %q", c.url, c.secret, err, c.want)
		case err != nil && (strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), testSecret())):
			t.Errorf("error leaks a secret: %v", err)
		}
	}
}

// With the defaults a failing receiver is retried for at least 24 hours
// before the delivery is archived.
func TestDefaultRetriesLastADay(t *testing.T) {
	s := &Sender{cfg: validConfig("https://x.example/")}
	f := s.RetryDelayFunc(func(int, error, *asynq.Task) time.Duration { return 0 })
	task := asynq.NewTask(TypeDeliver, nil)
	var total time.Duration
	for n := 0; n < s.cfg.MaxRetry; n++ {
		total += f(n, &StatusError{Status: 500}, task)
	}
	if total < 24*time.Hour {
		t.Fatalf("%d retries span %s, want at least 24h", s.cfg.MaxRetry, total)
	}
	if d := f(3, &StatusError{Status: 429, RetryAfter: 90 * time.Second}, task); d != 91*time.Second {
		t.Fatalf("Retry-After 90s: delay %s", d)
	}
	if d := f(3, &WaitError{}, task); d != time.Second {
		t.Fatalf("waiting for a predecessor: delay %s", d)
	}
	if d := f(3, errors.New("x"), asynq.NewTask("other", nil)); d != 0 {
		t.Fatalf("other task types use the fallback: %s", d)
	}
	if IsFailure(nil)(&WaitError{}) || !IsFailure(nil)(&StatusError{Status: 500}) {
		t.Fatal("IsFailure: a wait is not a failure, a 500 is")
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"": 0, "120": 2 * time.Minute, "0": 0, "soon": 0,
		now.Add(30 * time.Second).Format(http.TimeFormat): 30 * time.Second,
		now.Add(-time.Minute).Format(http.TimeFormat):     0,
	} {
		if got := retryAfter(in, now); got != want {
			t.Errorf("Retry-After %q: %s, want %s", in, got, want)
		}
	}
}

// receiver records what it was sent and answers with status(i) for the
// i-th request (0-based).
type receiver struct {
	mu     sync.Mutex
	got    []*http.Request
	bodies [][]byte
	status func(i int, r *http.Request, body []byte) int
	srv    *httptest.Server
}

func newReceiver(t *testing.T, status func(int, *http.Request, []byte) int) *receiver {
	rc := &receiver{status: status}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		i := len(rc.got)
		rc.got, rc.bodies = append(rc.got, r), append(rc.bodies, b)
		rc.mu.Unlock()
		st := rc.status(i, r, b)
		if st == http.StatusFound {
			http.Redirect(w, r, "/elsewhere", st)
			return
		}
		w.WriteHeader(st)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got)
}

type harness struct {
	s    *Sender
	insp *asynq.Inspector
	rdb  redis.UniversalClient
}

func startSender(t *testing.T, rc *receiver) harness {
	t.Helper()
	return startSenderURL(t, rc.srv.URL+"/hooks")
}

func startSenderURL(t *testing.T, u string) harness {
	t.Helper()
	return startSenderWith(t, validConfig(u), nil)
}

// startSenderWith runs a sender of cfg (retries shortened) and its worker;
// secrets are the webhook notify targets' signing secrets.
func startSenderWith(t *testing.T, cfg Config, secrets map[string]string) harness {
	t.Helper()
	rdb := testredis.New(t).Client(t)
	client := asynq.NewClientFromRedisClient(rdb)
	cfg.RetryBase, cfg.RetryMaxDelay, cfg.MaxRetry = 100*time.Millisecond, 200*time.Millisecond, 3
	s, err := New(cfg, Deps{Redis: rdb, Enqueuer: client, WebhookSecrets: secrets})
	if err != nil {
		t.Fatal(err)
	}
	mux := asynq.NewServeMux()
	s.Register(mux)
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Queues: map[string]int{Queue: 1}, Concurrency: 4, TaskCheckInterval: 20 * time.Millisecond,
		DelayedTaskCheckInterval: 100 * time.Millisecond, ShutdownTimeout: time.Second,
		RetryDelayFunc: s.RetryDelayFunc(asynq.DefaultRetryDelayFunc), IsFailure: IsFailure(nil),
		Logger: quiet{},
	})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	return harness{s: s, insp: asynq.NewInspectorFromRedisClient(rdb), rdb: rdb}
}

type quiet struct{}

func (quiet) Debug(...any) {}
func (quiet) Info(...any)  {}
func (quiet) Warn(...any)  {}
func (quiet) Error(...any) {}
func (quiet) Fatal(...any) {}

func waitUntil(t *testing.T, what string, d time.Duration, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func notice(id string) jobs.Notice {
	return jobs.Notice{ID: id, Type: jobs.NoticeDecided, At: time.Now(), Data: map[string]any{"action": "hold"}}
}

// A 500 is retried until the receiver recovers; the request verifies with
// the Standard Webhooks library, and every attempt carries the same
// webhook-id and body. Queueing the same notice twice delivers it once.
func TestDeliverRetriesUntilAccepted(t *testing.T) {
	rc := newReceiver(t, func(i int, _ *http.Request, _ []byte) int {
		if i < 2 {
			return 500
		}
		return 204
	})
	h := startSender(t, rc)
	ctx := context.Background()
	for range 2 {
		if err := h.s.Notify(ctx, notice("msg_test_1")); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "three attempts", 10*time.Second, func() bool { return rc.count() >= 3 })
	waitUntil(t, "the delivery completed", 5*time.Second, func() bool {
		ti, err := h.insp.GetTaskInfo(Queue, "msg_test_1")
		return err == nil && ti.State == asynq.TaskStateCompleted
	})
	time.Sleep(300 * time.Millisecond)
	if n := rc.count(); n != 3 {
		t.Fatalf("%d requests, want 3 (two 500s, one 204)", n)
	}
	wh, _ := standardwebhooks.NewWebhook(testSecret())
	for i, r := range rc.got {
		if r.Header.Get("webhook-id") != "msg_test_1" || string(rc.bodies[i]) != string(rc.bodies[0]) {
			t.Fatalf("attempt %d: id %q body %s", i, r.Header.Get("webhook-id"), rc.bodies[i])
		}
		if err := wh.Verify(rc.bodies[i], r.Header); err != nil {
			t.Fatalf("attempt %d does not verify: %v", i, err)
		}
	}
	var env struct {
		Type      string         `json:"type"`
		Timestamp time.Time      `json:"timestamp"`
		Data      map[string]any `json:"data"`
	}
	if err := json.Unmarshal(rc.bodies[0], &env); err != nil || env.Type != jobs.NoticeDecided || env.Data["action"] != "hold" || env.Timestamp.IsZero() {
		t.Fatalf("body: %s (%v)", rc.bodies[0], err)
	}
	// Tampered body: the library refuses it.
	if err := wh.Verify(append([]byte(nil), append(rc.bodies[0][:len(rc.bodies[0])-1], ' ', '}')...), rc.got[0].Header); err == nil {
		t.Fatal("a changed body verified")
	}
}

// 410, 400 and a redirect are not retried: one attempt, archived, with the
// reason; the redirect is not followed. 429 is retried after Retry-After.
func TestDeliverPermanentAnswersAreArchived(t *testing.T) {
	rc := newReceiver(t, func(i int, r *http.Request, _ []byte) int {
		switch r.Header.Get("webhook-id") {
		case "msg_gone":
			return 410
		case "msg_bad":
			return 400
		case "msg_moved":
			return http.StatusFound
		}
		return 200
	})
	h := startSender(t, rc)
	for _, id := range []string{"msg_gone", "msg_bad", "msg_moved"} {
		if err := h.s.Notify(context.Background(), notice(id)); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "three archived", 10*time.Second, func() bool {
		ts, _ := h.insp.ListArchivedTasks(Queue)
		return len(ts) == 3
	})
	time.Sleep(500 * time.Millisecond)
	if n := rc.count(); n != 3 {
		t.Fatalf("%d requests for three permanent answers (a redirect followed or a retry?)", n)
	}
	ts, _ := h.insp.ListArchivedTasks(Queue)
	for _, ti := range ts {
		if ti.Retried != 0 || !strings.Contains(ti.LastErr, "not retried") && !strings.Contains(ti.LastErr, "redirect") {
			t.Errorf("archived %s: retried %d, last error %q", ti.ID, ti.Retried, ti.LastErr)
		}
	}
}

func TestDeliverHonoursRetryAfter(t *testing.T) {
	var first time.Time
	var mu sync.Mutex
	rc := newReceiver(t, func(i int, _ *http.Request, _ []byte) int {
		mu.Lock()
		defer mu.Unlock()
		if i == 0 {
			first = time.Now()
			return 429
		}
		return 200
	})
	rc.srv.Config.Handler = wrapRetryAfter(rc.srv.Config.Handler, "2")
	h := startSender(t, rc)
	if err := h.s.Notify(context.Background(), notice("msg_slow")); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the retry", 10*time.Second, func() bool { return rc.count() >= 2 })
	mu.Lock()
	gap := time.Since(first)
	mu.Unlock()
	if gap < 2*time.Second {
		t.Fatalf("retried %s after a 429 with Retry-After: 2", gap)
	}
}

func wrapRetryAfter(next http.Handler, v string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", v)
		next.ServeHTTP(w, r)
	})
}
