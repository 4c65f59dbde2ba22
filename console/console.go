// Package console serves the RevOps console at /console/: server-rendered
// pages over the pipeline's records (open handoffs, decisions and their
// traces, conversations, outcomes over time, distribution, shadow
// agreement and a playground for the ladder). It reads through small
// interfaces that *jobs.Pipeline and *jobs.Outcomes implement; cmd/handoff
// wires it.
package console

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/jobs"
	"github.com/handoff-dev/handoff/ladder"
)

// Config is the console's own configuration.
type Config struct {
	// Token is CONSOLE_TOKEN: it opens the console read-only (no release,
	// no change of anything). ADMIN_TOKEN opens it with release.
	Token string `env:"CONSOLE_TOKEN"`
}

// Validate checks the token's length and that it differs from admin's.
func (c Config) Validate(adminToken string) error {
	if c.Token != "" && len(c.Token) < 16 {
		return errors.New("CONSOLE_TOKEN: too short; use at least 16 random characters (e.g. openssl rand -hex 24)")
	}
	if c.Token != "" && subtle.ConstantTimeCompare([]byte(c.Token), []byte(adminToken)) == 1 {
		return errors.New("CONSOLE_TOKEN: must differ from ADMIN_TOKEN (the console token is the read-only one)")
	}
	return nil
}

// Board is what the console needs from the pipeline (*jobs.Pipeline).
type Board interface {
	OpenBoard(ctx context.Context, f jobs.BoardFilter) ([]jobs.OpenHandoff, error)
	Conversation(ctx context.Context, conv string) (jobs.Conversation, error)
	Release(ctx context.Context, conv, reason string) (jobs.Lease, error)
}

// Records is what the console reads the history from (*jobs.Outcomes).
type Records interface {
	FindDecisions(ctx context.Context, q jobs.DecisionQuery) ([]jobs.DecisionRecord, error)
	DecisionByID(ctx context.Context, id string) (jobs.DecisionRecord, bool, error)
	Series(ctx context.Context, w jobs.Window) ([]jobs.Point, jobs.Report, map[string]int64, error)
	Counters(ctx context.Context, w jobs.Window) (map[string]int64, error)
}

// TaskRenderer renders a handoff's bundle as one CRM's connector writes
// it into the task the owner reads: the connector's own function
// (hubspot.RenderBody, salesforce.RenderDescription, marketo.RenderBody),
// so the page cannot drift from what was written.
type TaskRenderer struct {
	Render func(b handoff.Bundle, handoffID string) string
	HTML   bool // Render writes HTML (HubSpot's task body); else plain text
}

// Deps are the console's collaborators.
type Deps struct {
	AdminToken string
	Board      Board
	Records    Records
	// Tasks are the CRMs' task renderers, by CRM; a decision of a CRM
	// without one shows the bundle's fields only.
	Tasks  map[handoff.Source]TaskRenderer
	Live   *ladder.Ladder // the active ladder
	Shadow *ladder.Ladder // nil without SHADOW_LADDER_FILE
	Log    *slog.Logger
	Now    func() time.Time // nil: time.Now
}

// Console is the mounted console.
type Console struct {
	cfg   Config
	d     Deps
	pages map[string]*template.Template
	// The tokens' SHA-256 (for a bearer) and session values (for the
	// cookie); a token that is not set matches nothing.
	admin, read               [32]byte
	adminSession, readSession [32]byte
	// origins refuses state-changing requests a browser sends from another
	// origin (Sec-Fetch-Site, else Origin against Host).
	origins *http.CrossOriginProtection
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// New builds the console. With neither token set it is not mounted
// (Enabled reports false).
func New(cfg Config, d Deps) (*Console, error) {
	if err := cfg.Validate(d.AdminToken); err != nil {
		return nil, err
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	c := &Console{cfg: cfg, d: d, pages: map[string]*template.Template{}, origins: http.NewCrossOriginProtection()}
	c.admin, c.read = sha256.Sum256([]byte(d.AdminToken)), sha256.Sum256([]byte(cfg.Token))
	c.adminSession, c.readSession = session(d.AdminToken), session(cfg.Token)
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	names, _ := fs.Glob(templateFS, "templates/*.html")
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, err
		}
		c.pages[name] = t
	}
	return c, nil
}

// Enabled reports whether a token opens the console.
func (c *Console) Enabled() bool { return c.d.AdminToken != "" || c.cfg.Token != "" }

// role is what a request's token allows.
type role int

const (
	roleNone role = iota
	roleRead
	roleAdmin
)

const cookieName = "handoff_console"

// session is the cookie value that stands for a token: an HMAC of the
// token, so the cookie opens the console only (the token itself also
// opens the API) and a leaked cookie does not give the token away.
func session(token string) [32]byte {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("handoff console session v1"))
	var out [32]byte
	copy(out[:], m.Sum(nil))
	return out
}

// roleOf checks a bearer token: hashed (so lengths do not leak) and
// compared with both tokens in constant time (so timing does not tell
// which one nearly matched).
func (c *Console) roleOf(token string) role {
	h := sha256.Sum256([]byte(token))
	return c.tokenRole(h, c.admin, c.read, token != "")
}

// sessionRole checks a cookie's session value the same way.
func (c *Console) sessionRole(value string) role {
	var v [32]byte
	b, err := hex.DecodeString(value)
	ok := err == nil && len(b) == len(v)
	copy(v[:], b)
	return c.tokenRole(v, c.adminSession, c.readSession, ok)
}

// tokenRole is the role whose expected value got is (ok: got is well
// formed), comparing with both in constant time.
func (c *Console) tokenRole(got, wantAdmin, wantRead [32]byte, ok bool) role {
	isAdmin := subtle.ConstantTimeCompare(got[:], wantAdmin[:]) == 1
	isRead := subtle.ConstantTimeCompare(got[:], wantRead[:]) == 1
	switch {
	case !ok:
		return roleNone
	case isAdmin && c.d.AdminToken != "":
		return roleAdmin
	case isRead && c.cfg.Token != "":
		return roleRead
	}
	return roleNone
}

// requestRole is what the request's bearer token, else its session
// cookie, allows. The token itself in the cookie opens nothing.
func (c *Console) requestRole(r *http.Request) role {
	if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return c.roleOf(strings.TrimSpace(t))
	}
	if ck, err := r.Cookie(cookieName); err == nil {
		return c.sessionRole(ck.Value)
	}
	return roleNone
}

// Register mounts the console at /console/ on e (nothing when disabled).
func (c *Console) Register(e *echo.Echo) {
	if !c.Enabled() {
		return
	}
	static, _ := fs.Sub(staticFS, "static")
	e.GET("/console/static/*", echo.WrapHandler(http.StripPrefix("/console/static/", http.FileServer(http.FS(static)))), c.headers)
	e.GET("/console/login", c.loginForm, c.headers)
	e.POST("/console/login", c.login, c.headers, c.sameOrigin)
	e.POST("/console/logout", c.logout, c.headers, c.sameOrigin)
	g := e.Group("/console", c.headers, c.sameOrigin, c.auth)
	g.GET("", func(ec echo.Context) error { return ec.Redirect(http.StatusFound, "/console/open") })
	g.GET("/", func(ec echo.Context) error { return ec.Redirect(http.StatusFound, "/console/open") })
	g.GET("/open", c.open)
	g.GET("/decisions", c.decisions)
	g.GET("/decisions/:id", c.decision)
	g.GET("/conversations/:id", c.conversation)
	g.POST("/conversations/:id/release", c.release)
	g.GET("/outcomes", c.outcomes)
	g.GET("/distribution", c.distribution)
	g.GET("/shadow", c.shadow)
	g.GET("/playground", c.playground)
	g.POST("/playground", c.playground)
	g.POST("/playground/diff", c.diff)
}

// headers are every console answer's: not cached, not framed, only the
// console's own script and stylesheet, and no referrer to the links a
// task carries (the buyer's sources).
func (c *Console) headers(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		h := ec.Response().Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		return next(ec)
	}
}

// sameOrigin refuses a state-changing request (POST) that a browser sent
// from another origin: the session cookie is SameSite=Strict, but a site
// on a sibling host (or another port of the same host) is same-site and
// would get it sent. Requests without the browser's headers (scripts
// with a bearer token) pass.
func (c *Console) sameOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		if err := c.origins.Check(ec.Request()); err != nil {
			c.d.Log.WarnContext(ec.Request().Context(), "console: refused a cross-origin request", "method", ec.Request().Method, "path", ec.Path())
			return c.render(ec, http.StatusForbidden, "error", map[string]any{"Title": "Refused",
				"Message": "the console accepts changes from its own pages only (this request came from another site)"})
		}
		return next(ec)
	}
}

func (c *Console) auth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		r := c.requestRole(ec.Request())
		if r == roleNone {
			// A script (any Authorization) or a POST gets 401; a browser's
			// page request goes to the sign-in form.
			if ec.Request().Header.Get("Authorization") != "" || ec.Request().Method != http.MethodGet {
				return ec.String(http.StatusUnauthorized, "a console token is required (ADMIN_TOKEN or CONSOLE_TOKEN)")
			}
			return ec.Redirect(http.StatusFound, "/console/login?next="+urlQueryEscape(ec.Request().URL.RequestURI()))
		}
		ec.Set("role", r)
		return next(ec)
	}
}

func (c *Console) loginForm(ec echo.Context) error {
	return c.render(ec, http.StatusOK, "login", map[string]any{"Next": safeNext(ec.QueryParam("next"))})
}

func (c *Console) login(ec echo.Context) error {
	tok := strings.TrimSpace(ec.FormValue("token"))
	next := safeNext(ec.FormValue("next"))
	var sess [32]byte
	switch c.roleOf(tok) {
	case roleAdmin:
		sess = c.adminSession
	case roleRead:
		sess = c.readSession
	default:
		return c.render(ec, http.StatusUnauthorized, "login", map[string]any{"Next": next, "Error": "That token opens nothing here."})
	}
	ec.SetCookie(&http.Cookie{Name: cookieName, Value: hex.EncodeToString(sess[:]), Path: "/console", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: ec.Request().TLS != nil || ec.Request().Header.Get("X-Forwarded-Proto") == "https", MaxAge: 12 * 3600})
	return ec.Redirect(http.StatusSeeOther, next)
}

func (c *Console) logout(ec echo.Context) error {
	ec.SetCookie(&http.Cookie{Name: cookieName, Value: "", Path: "/console", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	return ec.Redirect(http.StatusSeeOther, "/console/login")
}

// safeNext keeps a post-login redirect inside the console.
func safeNext(s string) string {
	if !strings.HasPrefix(s, "/console/") || strings.HasPrefix(s, "//") || strings.Contains(s, "\\") {
		return "/console/open"
	}
	return s
}

func (c *Console) render(ec echo.Context, status int, page string, data map[string]any) error {
	t, ok := c.pages[page]
	if !ok {
		return echo.NewHTTPError(http.StatusInternalServerError, "no page "+page)
	}
	if data == nil {
		data = map[string]any{}
	}
	data["Page"] = page
	r, _ := ec.Get("role").(role)
	data["Admin"] = r == roleAdmin
	data["SignedIn"] = r != roleNone
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout.html", data); err != nil {
		c.d.Log.ErrorContext(ec.Request().Context(), "console: render "+page, "error", err)
		return echo.NewHTTPError(http.StatusInternalServerError, "rendering the page failed")
	}
	return ec.HTML(status, b.String())
}
