package httpserver

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// The agent token reads one conversation and nothing else; the admin token
// keeps everything; a wrong or missing token is 401.
func TestAgentTokenIsScopedToConversations(t *testing.T) {
	const admin, agent = "admin-0123456789abcdef", "agent-0123456789abcdef"
	s, _ := newTestServer(t, map[string]string{"ADMIN_TOKEN": admin, "AGENT_API_TOKEN": agent})
	ok := func(c echo.Context) error { return c.String(200, c.Request().Method+" "+c.Path()) }
	api := s.API()
	api.GET("/conversations/:id", ok)
	api.POST("/conversations/:id/release", ok)
	api.GET("/decisions", ok)
	api.GET("/outcomes", ok)
	api.GET("/callbacks", ok)
	s.MountDashboard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("dash")) }))

	call := func(method, path, token string) int {
		req := httptest.NewRequest(method, path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		s.Echo.ServeHTTP(rec, req)
		return rec.Code
	}
	for _, c := range []struct {
		method, path, token string
		want                int
	}{
		{"GET", "/api/conversations/conv-1", agent, 200},
		{"GET", "/api/conversations/hubspot%3A1%3Aana%40acme.example", agent, 200},
		{"POST", "/api/conversations/conv-1/release", agent, 403},
		{"GET", "/api/decisions", agent, 403},
		{"GET", "/api/outcomes", agent, 403},
		{"GET", "/api/callbacks", agent, 403},
		{"GET", "/api/nothing-here", agent, 403},
		{"GET", "/admin/queues/", agent, 401},
		{"GET", "/admin/debug/pprof/", agent, 401},
		{"GET", "/api/conversations/conv-1", agent + "x", 401},
		{"GET", "/api/conversations/conv-1", "", 401},
		{"GET", "/api/decisions", admin, 200},
		{"GET", "/api/outcomes", admin, 200},
		{"POST", "/api/conversations/conv-1/release", admin, 200},
		{"GET", "/admin/queues/", admin, 200},
	} {
		if got := call(c.method, c.path, c.token); got != c.want {
			t.Errorf("%s %s with %.5s token: %d, want %d", c.method, c.path, c.token, got, c.want)
		}
	}
	// Basic auth with the agent token as password is the same token.
	req := httptest.NewRequest("GET", "/api/decisions", nil)
	req.SetBasicAuth("agent", agent)
	rec := httptest.NewRecorder()
	s.Echo.ServeHTTP(rec, req)
	if rec.Code != 403 || !strings.Contains(rec.Body.String(), "AGENT_API_TOKEN") {
		t.Fatalf("basic agent on decisions: %d %s", rec.Code, rec.Body)
	}
}

func TestAgentTokenValidation(t *testing.T) {
	base := Config{Addr: ":8080", PublicBaseURL: "http://localhost:8080", ReadTimeout: 1, ReadHeaderTimeout: 1, WriteTimeout: 1, IdleTimeout: 1, ShutdownTimeout: 1, MaxBody: 1}
	c := base
	c.AgentToken = "short"
	if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), "AGENT_API_TOKEN:") {
		t.Fatalf("short agent token: %v", err)
	}
	c.AgentToken, c.AdminToken = "same-0123456789abcdef", "same-0123456789abcdef"
	if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), "AGENT_API_TOKEN:") {
		t.Fatalf("agent token equal to admin: %v", err)
	}
	c.AdminToken = "admin-0123456789abcdef"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

// With only the agent token, the API serves its one route and the dashboard is off.
func TestAgentTokenWithoutAdmin(t *testing.T) {
	const agent = "agent-0123456789abcdef"
	s, _ := newTestServer(t, map[string]string{"AGENT_API_TOKEN": agent})
	s.API().GET("/conversations/:id", func(c echo.Context) error { return c.String(200, "ok") })
	s.API().GET("/decisions", func(c echo.Context) error { return c.String(200, "ok") })
	if s.MountDashboard(http.NotFoundHandler()) {
		t.Fatal("dashboard mounted without ADMIN_TOKEN")
	}
	for path, want := range map[string]int{"/api/conversations/c1": 200, "/api/decisions": 403} {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+agent)
		rec := httptest.NewRecorder()
		s.Echo.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("%s: %d, want %d", path, rec.Code, want)
		}
	}
}
