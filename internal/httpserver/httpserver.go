// Package httpserver owns Handoff's HTTP front: the Echo instance with its
// timeouts, body limit, request ids, JSON access logs, panic recovery and the
// one error handler; the liveness, readiness and metrics endpoints; the
// admin area (asynqmon and /api) behind ADMIN_TOKEN; and graceful shutdown.
package httpserver

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Config is the HTTP server's configuration.
type Config struct {
	Addr string `env:"HTTP_ADDR, default=:8080"`
	// PublicBaseURL is PUBLIC_BASE_URL as set ("" when unset; BaseURL
	// gives the default). It is read here only: the connectors and the
	// webhook checks are handed it by the caller, so they cannot disagree.
	PublicBaseURL string `env:"PUBLIC_BASE_URL"`
	AdminToken    string `env:"ADMIN_TOKEN"`
	// AgentToken may read GET /api/conversations/{id} and nothing else (an
	// agent checks who owns its buyer without holding the admin token).
	AgentToken        string        `env:"AGENT_API_TOKEN"`
	ReadTimeout       time.Duration `env:"HTTP_READ_TIMEOUT, default=15s"`
	ReadHeaderTimeout time.Duration `env:"HTTP_READ_HEADER_TIMEOUT, default=5s"`
	WriteTimeout      time.Duration `env:"HTTP_WRITE_TIMEOUT, default=30s"`
	IdleTimeout       time.Duration `env:"HTTP_IDLE_TIMEOUT, default=120s"`
	MaxBody           ByteSize      `env:"HTTP_MAX_BODY, default=2MB"`
	ShutdownTimeout   time.Duration `env:"SHUTDOWN_TIMEOUT, default=20s"`
}

// DefaultPublicBaseURL is the base URL when PUBLIC_BASE_URL is unset (a
// local run; HubSpot signatures need the real one).
const DefaultPublicBaseURL = "http://localhost:8080"

// BaseURL is the externally visible base URL: PUBLIC_BASE_URL, or
// DefaultPublicBaseURL when it is unset.
func (c Config) BaseURL() string {
	if c.PublicBaseURL == "" {
		return DefaultPublicBaseURL
	}
	return c.PublicBaseURL
}

// Validate checks values that the types alone do not.
func (c Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("HTTP_ADDR: %q is not host:port or :port", c.Addr)
	}
	if u := c.PublicBaseURL; u != "" {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return fmt.Errorf("PUBLIC_BASE_URL: %q must start with http:// or https://", u)
		}
		if strings.HasSuffix(u, "/") {
			return fmt.Errorf("PUBLIC_BASE_URL: %q must not end with a slash", u)
		}
	}
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		return errors.New("ADMIN_TOKEN: too short; use at least 16 random characters (e.g. openssl rand -hex 24)")
	}
	if c.AgentToken != "" && len(c.AgentToken) < 16 {
		return errors.New("AGENT_API_TOKEN: too short; use at least 16 random characters (e.g. openssl rand -hex 24)")
	}
	if c.AgentToken != "" && subtle.ConstantTimeCompare([]byte(c.AgentToken), []byte(c.AdminToken)) == 1 {
		return errors.New("AGENT_API_TOKEN: must differ from ADMIN_TOKEN (the agent token is the narrower one)")
	}
	for name, d := range map[string]time.Duration{"HTTP_READ_TIMEOUT": c.ReadTimeout, "HTTP_READ_HEADER_TIMEOUT": c.ReadHeaderTimeout,
		"HTTP_WRITE_TIMEOUT": c.WriteTimeout, "HTTP_IDLE_TIMEOUT": c.IdleTimeout, "SHUTDOWN_TIMEOUT": c.ShutdownTimeout} {
		if d <= 0 {
			return fmt.Errorf("%s: must be positive, got %s", name, d)
		}
	}
	if c.MaxBody <= 0 {
		return errors.New("HTTP_MAX_BODY: must be positive")
	}
	return nil
}

// ByteSize is a size such as 512KB, 2MB or 1048576.
type ByteSize int64

// EnvDecode implements envconfig.Decoder.
func (b *ByteSize) EnvDecode(v string) error {
	s := strings.ToUpper(strings.TrimSpace(v))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("%q is not a size (examples: 512KB, 2MB, 1048576)", v)
	}
	*b = ByteSize(n * mult)
	return nil
}

// WebhookPathPrefix is where the webhook routes live; they enforce their
// own body limit, so HTTP_MAX_BODY does not apply to them.
const WebhookPathPrefix = "/webhooks/"

// Check is one readiness condition; it returns nil when satisfied.
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
}

// Deps are what the server needs from the rest of the program.
type Deps struct {
	Log      *slog.Logger
	Registry *prometheus.Registry
	Ready    []Check
	// OpsOnly serves only /healthz, /readyz and /metrics (worker processes).
	OpsOnly bool
}

// Server is the HTTP server.
type Server struct {
	Echo *echo.Echo
	cfg  Config
	log  *slog.Logger
	srv  *http.Server

	admin *echo.Group
	api   *echo.Group
}

// New builds the Echo instance with every cross-cutting concern and the ops
// endpoints. Routes are added by the caller (webhooks, OAuth, admin).
func New(cfg Config, deps Deps) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(discard{})
	s := &Server{Echo: e, cfg: cfg, log: deps.Log}
	e.HTTPErrorHandler = s.handleError

	reqDur := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "handoff_http_request_duration_seconds",
		Help:    "HTTP request latency by route and status.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route", "method", "status"})
	if deps.Registry != nil {
		deps.Registry.MustRegister(reqDur)
	}

	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{
		RequestIDHandler: func(c echo.Context, id string) { c.Set("request_id", id) },
	}))
	e.Use(s.accessLog(reqDur))
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		StackSize: 8 << 10,
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.log.Error("panic while serving a request", "route", routeOf(c), "request_id", requestID(c),
				"err", err.Error(), "stack", string(stack))
			return &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error"}
		},
	}))
	// The webhook routes enforce their own limit (WEBHOOK_MAX_BODY, from
	// Content-Length and with a bounded read) and answer in their sender's
	// format: a SOAP fault for Salesforce, body_too_large for the others.
	// This generic limit would answer them first, in the wrong format.
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
		Limit:   strconv.FormatInt(int64(cfg.MaxBody), 10) + "B",
		Skipper: func(c echo.Context) bool { return strings.HasPrefix(c.Request().URL.Path, WebhookPathPrefix) },
	}))

	e.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	e.GET("/readyz", readyHandler(deps.Ready))
	if deps.Registry != nil {
		e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(deps.Registry, promhttp.HandlerOpts{Registry: deps.Registry})))
	}

	switch {
	case deps.OpsOnly:
	case cfg.AdminToken == "" && cfg.AgentToken == "":
		s.log.Warn("ADMIN_TOKEN is not set: the dashboard (/admin/queues/) and the API (/api/) are disabled and answer 404")
	default:
		if cfg.AdminToken == "" {
			s.log.Warn("ADMIN_TOKEN is not set: the dashboard (/admin/queues/) is disabled; the API answers only AGENT_API_TOKEN's route")
		} else {
			s.admin = e.Group("/admin", tokenAuth(cfg.AdminToken, "", nil))
			s.admin.Any("/debug/pprof/*", echo.WrapHandler(http.StripPrefix("/admin", pprofMux())))
		}
		s.api = e.Group("/api", tokenAuth(cfg.AdminToken, cfg.AgentToken, AgentRoutes))
		// Anything under /api that no route claims is a JSON 404 (after auth).
		s.api.Any("/*", func(c echo.Context) error {
			return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such API route: " + c.Request().URL.Path}
		})
	}

	s.srv = &http.Server{
		Addr:              cfg.Addr,
		Handler:           e,
		ReadTimeout:       cfg.ReadTimeout,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(deps.Log.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// pprofMux serves Go's runtime profiles (net/http/pprof) under
// /debug/pprof/, on its own mux rather than http.DefaultServeMux. It is
// mounted at /admin/debug/pprof/, behind ADMIN_TOKEN; a CPU profile's
// seconds must stay under HTTP_WRITE_TIMEOUT.
func pprofMux() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("/debug/pprof/", pprof.Index)
	m.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	m.HandleFunc("/debug/pprof/profile", pprof.Profile)
	m.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	m.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return m
}

// API returns the /api group (behind ADMIN_TOKEN), or nil when admin is off.
func (s *Server) API() *echo.Group { return s.api }

// MountDashboard mounts h (asynqmon, whose RootPath must be /admin/queues)
// at /admin/queues and everything under it. It is a no-op when admin is off.
// asynqmon must see the full, unstripped path.
func (s *Server) MountDashboard(h http.Handler) bool {
	if s.admin == nil {
		return false
	}
	wrapped := echo.WrapHandler(h)
	s.admin.Any("/queues", func(c echo.Context) error {
		return c.Redirect(http.StatusMovedPermanently, "/admin/queues/")
	})
	s.admin.Any("/queues/*", wrapped)
	return true
}

// Serve accepts connections on l until ctx is done, then shuts down
// gracefully: it stops accepting, lets in-flight requests finish (up to
// SHUTDOWN_TIMEOUT) and returns.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(l) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down the HTTP server: no new connections, finishing in-flight requests", "timeout", s.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		_ = s.srv.Close()
		return fmt.Errorf("http shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	return nil
}

// Listen opens the configured address.
func (s *Server) Listen() (net.Listener, error) {
	l, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("HTTP_ADDR: listen on %s: %w", s.cfg.Addr, err)
	}
	return l, nil
}

func readyHandler(checks []Check) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), time.Second)
		defer cancel()
		errs := make([]error, len(checks))
		var wg sync.WaitGroup
		for i, ch := range checks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = ch.Fn(ctx)
			}()
		}
		wg.Wait()
		results := make(map[string]string, len(checks))
		var failed []string
		for i, ch := range checks {
			if errs[i] != nil {
				results[ch.Name] = errs[i].Error()
				failed = append(failed, ch.Name+": "+errs[i].Error())
				continue
			}
			results[ch.Name] = "ok"
		}
		if len(failed) > 0 {
			return c.JSON(http.StatusServiceUnavailable, map[string]any{
				"status": "not ready", "checks": results,
				"error": map[string]string{"code": "not_ready", "message": strings.Join(failed, "; ")},
			})
		}
		return c.JSON(http.StatusOK, map[string]any{"status": "ready", "checks": results})
	}
}

// AgentRoutes are the routes AGENT_API_TOKEN may use ("METHOD /path" with
// Echo's route pattern): reading a conversation's owner, nothing else.
var AgentRoutes = map[string]bool{
	http.MethodGet + " /api/conversations/:id": true,
}

// tokenAuth accepts "Authorization: Bearer <token>" or HTTP Basic with the
// token as password (any user name), comparing in constant time (both
// tokens are always compared, so timing does not tell which one nearly
// matched). The admin token passes everywhere; the agent token (if set)
// only on agentRoutes, and gets 403 elsewhere. An empty token never
// matches. Group middleware runs after routing, so c.Path() is the route.
func tokenAuth(admin, agent string, agentRoutes map[string]bool) echo.MiddlewareFunc {
	hash := func(s string) [32]byte { return sha256.Sum256([]byte(s)) }
	wantAdmin, wantAgent := hash(admin), hash(agent)
	match := func(got string) (isAdmin, isAgent bool) {
		h := hash(got)
		a := subtle.ConstantTimeCompare(h[:], wantAdmin[:]) == 1
		g := subtle.ConstantTimeCompare(h[:], wantAgent[:]) == 1
		return a && admin != "", g && agent != ""
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			got, has := "", false
			authz := c.Request().Header.Get(echo.HeaderAuthorization)
			if len(authz) > 7 && strings.EqualFold(authz[:7], "bearer ") {
				got, has = strings.TrimSpace(authz[7:]), true
			} else if _, pass, ok := c.Request().BasicAuth(); ok {
				got, has = pass, true
			}
			if has {
				isAdmin, isAgent := match(got)
				if isAdmin {
					return next(c)
				}
				if isAgent {
					if agentRoutes[c.Request().Method+" "+c.Path()] {
						return next(c)
					}
					return &Error{Status: http.StatusForbidden, Code: "forbidden",
						Message: "AGENT_API_TOKEN may only read GET /api/conversations/{id}; this route needs ADMIN_TOKEN"}
				}
			}
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Basic realm="Handoff admin", charset="UTF-8"`)
			return &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "this route needs ADMIN_TOKEN (Authorization: Bearer <token>, or Basic with the token as password)"}
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
