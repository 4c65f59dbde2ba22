package httpserver

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sethvargo/go-envconfig"
)

func newTestServer(t *testing.T, env map[string]string) (*Server, *bytes.Buffer) {
	t.Helper()
	var cfg Config
	if err := envconfig.ProcessWith(t.Context(), &envconfig.Config{Target: &cfg, Lookuper: envconfig.MapLookuper(env)}); err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	s, err := New(cfg, Deps{Log: slog.New(slog.NewJSONHandler(logs, nil)), Registry: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	return s, logs
}

func do(s *Server, method, path string, body io.Reader) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.Echo.ServeHTTP(rec, httptest.NewRequest(method, path, body))
	return rec
}

func decodeErr(t *testing.T, rec *httptest.ResponseRecorder) ErrorBody {
	t.Helper()
	var b ErrorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
		t.Fatalf("error body is not JSON: %q", rec.Body.String())
	}
	return b
}

func TestErrorsAreJSONWithoutStack(t *testing.T) {
	s, logs := newTestServer(t, map[string]string{"HTTP_MAX_BODY": "1KB"})
	s.Echo.POST("/echo", func(c echo.Context) error {
		b, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		return c.String(200, string(b))
	})
	s.Echo.GET("/panic", func(echo.Context) error { panic("boom: secret-value") })
	s.Echo.GET("/typed", func(echo.Context) error {
		return &Error{Status: 400, Code: "bad_payload", Message: "field x is missing"}
	})

	rec := do(s, "GET", "/nope", nil)
	if rec.Code != 404 || decodeErr(t, rec).Error.Code != "not_found" {
		t.Fatalf("404: %d %s", rec.Code, rec.Body)
	}
	rec = do(s, "POST", "/echo", strings.NewReader(strings.Repeat("x", 2048)))
	if rec.Code != 413 || decodeErr(t, rec).Error.Code != "payload_too_large" {
		t.Fatalf("413: %d %s", rec.Code, rec.Body)
	}
	rec = do(s, "POST", "/echo", strings.NewReader("small"))
	if rec.Code != 200 || rec.Body.String() != "small" {
		t.Fatalf("small body: %d %s", rec.Code, rec.Body)
	}
	rec = do(s, "GET", "/panic", nil)
	body := rec.Body.String()
	if rec.Code != 500 || decodeErr(t, rec).Error.Code != "internal" || strings.Contains(body, "goroutine") || strings.Contains(body, "secret-value") {
		t.Fatalf("panic answer: %d %s", rec.Code, body)
	}
	if !strings.Contains(logs.String(), "panic while serving") {
		t.Fatal("panic not logged")
	}
	rec = do(s, "GET", "/typed", nil)
	if b := decodeErr(t, rec); rec.Code != 400 || b.Error.Code != "bad_payload" || b.Error.Message != "field x is missing" {
		t.Fatalf("typed error: %d %s", rec.Code, rec.Body)
	}
	if rec.Header().Get(echo.HeaderXRequestID) == "" {
		t.Fatal("no request id header")
	}
}

func TestAdminAuth(t *testing.T) {
	s, _ := newTestServer(t, map[string]string{"ADMIN_TOKEN": "0123456789abcdef-token"})
	s.MountDashboard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("dash " + r.URL.Path)) }))
	cases := []struct {
		name   string
		set    func(*http.Request)
		status int
	}{
		{"none", func(*http.Request) {}, 401},
		{"wrong bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer 0123456789abcdef-tokem") }, 401},
		{"prefix of token", func(r *http.Request) { r.Header.Set("Authorization", "Bearer 0123456789abcdef") }, 401},
		{"bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer 0123456789abcdef-token") }, 200},
		{"basic", func(r *http.Request) { r.SetBasicAuth("anyone", "0123456789abcdef-token") }, 200},
		{"basic wrong", func(r *http.Request) { r.SetBasicAuth("0123456789abcdef-token", "x") }, 401},
	}
	for _, c := range cases {
		req := httptest.NewRequest("GET", "/admin/queues/api/queues", nil)
		c.set(req)
		rec := httptest.NewRecorder()
		s.Echo.ServeHTTP(rec, req)
		if rec.Code != c.status {
			t.Errorf("%s: %d, want %d", c.name, rec.Code, c.status)
		}
		if c.status == 200 && rec.Body.String() != "dash /admin/queues/api/queues" {
			t.Errorf("%s: dashboard got path %q (must be unstripped)", c.name, rec.Body.String())
		}
		if c.status == 401 && !strings.Contains(rec.Header().Get("WWW-Authenticate"), "Basic") {
			t.Errorf("%s: no WWW-Authenticate challenge", c.name)
		}
	}
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]ByteSize{"512KB": 512 << 10, "2MB": 2 << 20, "1048576": 1048576, "1m": 1 << 20} {
		var b ByteSize
		if err := b.EnvDecode(in); err != nil || b != want {
			t.Errorf("%s: %d %v", in, b, err)
		}
	}
	for _, in := range []string{"", "-1", "lots", "0"} {
		var b ByteSize
		if err := b.EnvDecode(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

// Go's runtime profiles are served under /admin/debug/pprof/, behind the
// admin token, and not at all without one.
func TestPprofBehindAdminToken(t *testing.T) {
	s, _ := newTestServer(t, map[string]string{"ADMIN_TOKEN": "0123456789abcdef-token"})
	get := func(srv *Server, path string, auth bool) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		if auth {
			req.Header.Set("Authorization", "Bearer 0123456789abcdef-token")
		}
		rec := httptest.NewRecorder()
		srv.Echo.ServeHTTP(rec, req)
		return rec
	}
	if rec := get(s, "/admin/debug/pprof/", false); rec.Code != 401 {
		t.Fatalf("pprof without the token: %d", rec.Code)
	}
	if rec := get(s, "/admin/debug/pprof/", true); rec.Code != 200 || !strings.Contains(rec.Body.String(), "goroutine") {
		t.Fatalf("pprof index: %d %.200s", rec.Code, rec.Body)
	}
	if rec := get(s, "/admin/debug/pprof/goroutine?debug=1", true); rec.Code != 200 || !strings.Contains(rec.Body.String(), "goroutine profile:") {
		t.Fatalf("goroutine profile: %d %.200s", rec.Code, rec.Body)
	}
	if rec := get(s, "/admin/debug/pprof/profile?seconds=1", true); rec.Code != 200 || rec.Body.Len() == 0 {
		t.Fatalf("cpu profile: %d %.200s", rec.Code, rec.Body)
	}
	open, _ := newTestServer(t, nil)
	if rec := get(open, "/admin/debug/pprof/", true); rec.Code != 404 {
		t.Fatalf("pprof with admin off: %d", rec.Code)
	}
}
