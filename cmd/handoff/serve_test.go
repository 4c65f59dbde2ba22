package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/sethvargo/go-envconfig"

	"github.com/handoff-dev/handoff/internal/testredis"
)

const testAdminToken = "test-admin-token-0123456789"

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs `handoff serve` in-process with env and returns its base
// URL, its log, and a stop function that cancels it like SIGTERM and
// returns run's error.
func startServe(t *testing.T, env map[string]string, args ...string) (string, *syncBuffer, func() error) {
	t.Helper()
	port, err := testredis.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	full := map[string]string{"HTTP_ADDR": addr, "LOG_LEVEL": "debug"}
	for k, v := range env {
		full[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve"}, args...), envconfig.MapLookuper(full), io.Discard, logs)
	}()
	base := "http://" + addr
	waitFor(t, 10*time.Second, func() bool {
		select {
		case err := <-done:
			t.Fatalf("serve exited early: %v\n%s", err, logs)
		default:
		}
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(30 * time.Second):
				runErr = errors.New("serve did not stop within 30s")
			}
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return base, logs, stop
}

func waitFor(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", d)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func get(t *testing.T, url string, hdr ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeEmbeddedRedis(t *testing.T) {
	base, logs, stop := startServe(t, map[string]string{"ADMIN_TOKEN": testAdminToken})

	if code, _ := get(t, base+"/healthz"); code != 200 {
		t.Fatalf("/healthz = %d", code)
	}
	waitFor(t, 10*time.Second, func() bool { code, _ := get(t, base+"/readyz"); return code == 200 })
	_, body := get(t, base+"/readyz")
	if !strings.Contains(body, `"worker":"ok"`) || !strings.Contains(body, `"redis":"ok"`) {
		t.Fatalf("/readyz body = %s", body)
	}
	if n := strings.Count(logs.String(), "NOT durable"); n != 1 {
		t.Fatalf("want exactly one embedded-Redis warning, got %d:\n%s", n, logs)
	}

	// Admin: 401 without or with a wrong token, the dashboard with it.
	for _, hdr := range [][]string{nil, {"Authorization", "Bearer wrong-token-wrong-token"}} {
		code, body := get(t, base+"/admin/queues/", hdr...)
		if code != 401 || !strings.Contains(body, `"code":"unauthorized"`) {
			t.Fatalf("/admin/queues/ with %v = %d %s", hdr, code, body)
		}
	}
	code, page := get(t, base+"/admin/queues/", "Authorization", "Bearer "+testAdminToken)
	if code != 200 || !strings.Contains(page, "/admin/queues/static/") {
		t.Fatalf("dashboard page = %d, asset paths under the sub-path missing:\n%.300s", code, page)
	}
	// Its static assets and its API load under the sub-path.
	asset := page[strings.Index(page, "/admin/queues/static/"):]
	asset = asset[:strings.IndexAny(asset, `"'`)]
	if code, _ := get(t, base+asset, "Authorization", "Bearer "+testAdminToken); code != 200 {
		t.Fatalf("asset %s = %d", asset, code)
	}
	req, _ := http.NewRequest("GET", base+"/admin/queues/api/servers", nil)
	req.SetBasicAuth("ops", testAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var servers struct {
		Servers []json.RawMessage `json:"servers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&servers); err != nil || resp.StatusCode != 200 {
		t.Fatalf("dashboard API: %d %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	if len(servers.Servers) != 1 {
		t.Fatalf("dashboard API sees %d worker servers, want 1", len(servers.Servers))
	}
	// /api is reserved and authenticated; unknown routes are JSON 404s.
	if code, _ := get(t, base+"/api/nothing"); code != 401 {
		t.Fatalf("/api without token = %d", code)
	}
	if code, body := get(t, base+"/api/nothing", "Authorization", "Bearer "+testAdminToken); code != 404 || !strings.Contains(body, `"not_found"`) {
		t.Fatalf("/api/nothing = %d %s", code, body)
	}
	// Metrics: runtime and HTTP latency by route.
	_, metrics := get(t, base+"/metrics")
	for _, want := range []string{"go_goroutines", `handoff_http_request_duration_seconds_bucket{method="GET",route="/healthz",status="200"`} {
		if !strings.Contains(metrics, want) {
			t.Fatalf("/metrics lacks %s", want)
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("serve returned %v", err)
	}
	if strings.Contains(logs.String(), testAdminToken) {
		t.Fatal("the admin token appears in the logs")
	}
}

func TestAdminOffWithoutToken(t *testing.T) {
	base, logs, _ := startServe(t, map[string]string{"REDIS_URL": testredis.New(t).URL()})
	for _, p := range []string{"/admin/queues/", "/api/decisions"} {
		if code, _ := get(t, base+p, "Authorization", "Bearer anything"); code != 404 {
			t.Fatalf("%s with admin off = %d, want 404", p, code)
		}
	}
	if !strings.Contains(logs.String(), "ADMIN_TOKEN is not set") {
		t.Fatal("no log line says admin is off")
	}
}

func TestServeRealRedisReadinessFlips(t *testing.T) {
	srv := testredis.StartServer(t)
	base, logs, stop := startServe(t, map[string]string{"REDIS_URL": srv.URL()})
	ready := func() (int, string) { return get(t, base+"/readyz") }
	waitFor(t, 10*time.Second, func() bool { c, _ := ready(); return c == 200 })

	srv.Stop()
	waitFor(t, 10*time.Second, func() bool { c, _ := ready(); return c == 503 })
	_, body := ready()
	if !strings.Contains(body, `"redis":"redis (url `) || !strings.Contains(body, "does not answer") {
		t.Fatalf("503 body does not name Redis: %s", body)
	}
	// Let several asynq loops fail, then check the outage is logged once, not per attempt.
	time.Sleep(3 * time.Second)
	if n := strings.Count(logs.String(), "redis is unreachable"); n != 1 {
		t.Fatalf("outage logged %d times in 3s, want once per interval", n)
	}
	srv.Restart(t)
	waitFor(t, 20*time.Second, func() bool { c, _ := ready(); return c == 200 })
	if !strings.Contains(logs.String(), "redis is reachable again") {
		t.Fatal("recovery not logged")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestServeStartsWithRedisDownAndRecovers(t *testing.T) {
	srv := testredis.StartServer(t)
	srv.Stop()
	base, _, _ := startServe(t, map[string]string{"REDIS_URL": srv.URL()})
	code, body := get(t, base+"/readyz")
	if code != 503 || !strings.Contains(body, "redis") {
		t.Fatalf("/readyz with Redis down = %d %s", code, body)
	}
	srv.Restart(t)
	waitFor(t, 20*time.Second, func() bool { c, _ := get(t, base+"/readyz"); return c == 200 })
}

func TestRoles(t *testing.T) {
	db := testredis.New(t)
	// A worker-only process serves ops endpoints and is ready once its worker beats.
	base, _, _ := startServe(t, map[string]string{"REDIS_URL": db.URL(), "ADMIN_TOKEN": testAdminToken}, "--role", "worker")
	waitFor(t, 10*time.Second, func() bool { c, _ := get(t, base+"/readyz"); return c == 200 })
	if code, _ := get(t, base+"/admin/queues/", "Authorization", "Bearer "+testAdminToken); code != 404 {
		t.Fatalf("worker role serves the dashboard: %d", code)
	}
	// An HTTP-only process needs Redis, not a local worker.
	base2, _, _ := startServe(t, map[string]string{"REDIS_URL": db.URL(), "ADMIN_TOKEN": testAdminToken}, "--role", "http")
	code, body := get(t, base2+"/readyz")
	if code != 200 || strings.Contains(body, "worker") {
		t.Fatalf("http role readiness = %d %s", code, body)
	}
	if code, _ := get(t, base2+"/admin/queues/", "Authorization", "Bearer "+testAdminToken); code != 200 {
		t.Fatalf("http role dashboard = %d", code)
	}
}

// A slow request in flight when SIGTERM arrives still completes, and the
// server stops afterwards.
func TestGracefulShutdownFinishesInFlightRequest(t *testing.T) {
	db := testredis.New(t)
	cfg, err := loadConfig(context.Background(), envconfig.MapLookuper(map[string]string{"REDIS_URL": db.URL(), "HTTP_ADDR": "127.0.0.1:0"}))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := newApp(context.Background(), cfg, roleAll, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	started := make(chan struct{})
	a.http.Echo.GET("/slow", func(c echo.Context) error {
		close(started)
		time.Sleep(1500 * time.Millisecond)
		return c.String(200, "finished")
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- a.serve(ctx, l) }()

	type result struct {
		code int
		body string
		err  error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Get(fmt.Sprintf("http://%s/slow", l.Addr()))
		if err != nil {
			res <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		res <- result{code: resp.StatusCode, body: string(b)}
	}()
	<-started
	cancel() // what SIGTERM does through signal.NotifyContext
	// New connections are refused while the slow one finishes.
	waitFor(t, 5*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", l.Addr().String(), 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	r := <-res
	if r.err != nil || r.code != 200 || r.body != "finished" {
		t.Fatalf("in-flight request: %+v", r)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not return after shutdown")
	}
}
