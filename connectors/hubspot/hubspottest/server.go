// Package hubspottest is an in-process fake of the HubSpot API subset
// Handoff uses: OAuth (consent redirect, the v1/v3/2026-03 token endpoints
// with authorization_code and refresh_token grants, v1 access-token
// metadata), CRM v3 objects (read with associations and idProperty=email,
// batch read with 207 on missing ids, search with filters/sorts/paging and
// HubSpot's limits, create/update/archive with property validation and
// task association type ids 204/192/216), deal pipelines, owners, and
// conversation threads. It follows the shapes, status codes, error bodies
// and X-HubSpot-RateLimit-* headers of docs/crm/hubspot.md (checked
// against fixtures/hubspot/api by this package's tests).
//
// Usage:
//
//	fake := hubspottest.New(hubspottest.DefaultSeed())
//	defer fake.Close()
//	client, _ := hubspot.New(fake.PrivateAppConfig(), hubspot.Deps{})   // or fake.Config(publicBaseURL) + a token store
//	tk := fake.MintToken(time.Hour)                                     // a token pair for tokenstore.Put
//
// Switches: FailNext (429 with the documented body and headers and
// Retry-After, 401, 403, 404, 423, 5xx), FailTokenNext, SetLatency,
// RevokeToken / RevokeRefreshToken, ExpireAccessTokens, SetRateLimit (the
// fake enforces 110 per 10 s and 5 searches per second per portal),
// SetSearchLag (eventual consistency), OmitHubID, RotateRefreshTokens, CamelCaseTokens,
// OmitCalculatedDealProperties, SetNow. Inspection: Requests (credentials
// redacted), Count, APICalls, RefreshGrants, CodeGrants, Task, TaskIDs.
package hubspottest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/handoff-dev/handoff/connectors/hubspot"
)

// Request is one recorded request. The Authorization header's credential
// and secret form values of the token endpoint are replaced by "REDACTED".
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
	Status int
	Portal string // the portal the bearer token belongs to, if any
}

// Tokens is a minted token pair.
type Tokens struct {
	AccessToken  string
	RefreshToken string
	Expiry       time.Time
}

type accessToken struct {
	portal  string
	expiry  time.Time
	revoked bool
	scopes  []string
}

type refreshToken struct {
	portal  string
	revoked bool
}

type authCode struct {
	redirectURI string
}

type failure struct {
	status     int
	retryAfter time.Duration
}

type window struct {
	start time.Time
	n     int
}

type object struct {
	id        string
	typ       string
	props     map[string]string
	assoc     map[string][]string // plural type → ids
	createdAt time.Time
	updatedAt time.Time
}

// Server is the fake. Its exported fields are set at start and never change.
type Server struct {
	URL string // API base (HUBSPOT_API_BASE_URL)

	srv  *httptest.Server
	seed Seed

	mu            sync.Mutex
	now           func() time.Time
	latency       time.Duration
	objects       map[string]map[string]*object // type → id → object
	order         map[string][]string           // type → ids in creation order
	access        map[string]*accessToken
	refresh       map[string]*refreshToken
	codes         map[string]authCode
	requests      []Request
	fails         []failure
	tokenFails    []int
	refreshGrants int
	codeGrants    int
	nextID        int64
	rate          map[string]*window
	searchRate    map[string]*window
	rateMax       int
	rateInterval  time.Duration
	searchMax     int
	searchLag     time.Duration
	tokenLifetime time.Duration
	omitHubID     bool
	omitCalc      bool
	rotate        bool
	camelTokens   bool
	beforeAPI     func(method, path string) // OnAPIRequest
}

// New starts a fake seeded with seed. Close it when done.
func New(seed Seed) *Server {
	s := &Server{
		seed: seed, now: time.Now,
		objects: map[string]map[string]*object{}, order: map[string][]string{},
		access: map[string]*accessToken{}, refresh: map[string]*refreshToken{}, codes: map[string]authCode{},
		nextID: 90000000001, rate: map[string]*window{}, searchRate: map[string]*window{},
		rateMax: 110, rateInterval: 10 * time.Second, searchMax: 5, tokenLifetime: 30 * time.Minute,
	}
	for _, t := range []string{"contacts", "companies", "deals", "tasks", "notes"} {
		s.objects[t] = map[string]*object{}
	}
	load := func(typ string, rs []Record) {
		for _, r := range rs {
			ct := r.CreatedAt
			if ct.IsZero() {
				ct = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			}
			o := &object{id: r.ID, typ: typ, props: map[string]string{}, assoc: map[string][]string{}, createdAt: ct, updatedAt: ct}
			for k, v := range r.Properties {
				o.props[k] = v
			}
			s.objects[typ][r.ID] = o
			s.order[typ] = append(s.order[typ], r.ID)
		}
	}
	load("contacts", seed.Contacts)
	load("companies", seed.Companies)
	load("deals", seed.Deals)
	load("tasks", seed.Tasks)
	link := func(typ string, rs []Record) {
		for _, r := range rs {
			for other, ids := range r.Associations {
				for _, id := range ids {
					s.associate(typ, r.ID, other, id)
				}
			}
		}
	}
	link("contacts", seed.Contacts)
	link("companies", seed.Companies)
	link("deals", seed.Deals)
	link("tasks", seed.Tasks)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth/authorize", s.authorize)
	mux.HandleFunc("GET /oauth/{portal}/authorize", s.authorize)
	mux.HandleFunc("POST /oauth/v1/token", s.token)
	mux.HandleFunc("POST /oauth/v3/token", s.token)
	mux.HandleFunc("POST /oauth/2026-03/token", s.token)
	mux.HandleFunc("GET /oauth/v1/access-tokens/{token}", s.tokenInfo)
	mux.HandleFunc("GET /crm/v3/objects/{type}/{id}", s.api(s.getObject))
	mux.HandleFunc("PATCH /crm/v3/objects/{type}/{id}", s.api(s.patchObject))
	mux.HandleFunc("DELETE /crm/v3/objects/{type}/{id}", s.api(s.deleteObject))
	mux.HandleFunc("POST /crm/v3/objects/{type}", s.api(s.createObject))
	mux.HandleFunc("POST /crm/v3/objects/{type}/batch/read", s.api(s.batchRead))
	mux.HandleFunc("POST /crm/v3/objects/{type}/search", s.api(s.search))
	mux.HandleFunc("GET /crm/v3/pipelines/deals", s.api(s.pipelines))
	mux.HandleFunc("GET /crm/v3/pipelines/deals/{id}", s.api(s.pipeline))
	mux.HandleFunc("GET /crm/v3/owners", s.api(s.owners))
	mux.HandleFunc("GET /crm/v3/owners/{id}", s.api(s.owner))
	mux.HandleFunc("GET /conversations/v3/conversations/threads/{id}", s.api(s.thread))
	mux.HandleFunc("GET /conversations/v3/conversations/threads/{id}/messages", s.api(s.threadMessages))
	mux.HandleFunc("GET /conversations/v3/conversations/threads/{id}/messages/{msg}/original-content", s.api(s.originalContent))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.record(r, nil, http.StatusNotFound, "")
		writeJSON(w, http.StatusNotFound, errBody("", "Unable to route "+r.Method+" "+r.URL.Path, nil))
	})
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Seed returns the seed the fake was started with.
func (s *Server) Seed() Seed { return s.seed }

// TokenURL is the v1 token endpoint (HUBSPOT_TOKEN_URL). TokenURLV3 and
// TokenURL202603 are the newer ones.
func (s *Server) TokenURL() string { return s.URL + "/oauth/v1/token" }

// TokenURLV3 is POST /oauth/v3/token.
func (s *Server) TokenURLV3() string { return s.URL + "/oauth/v3/token" }

// TokenURL202603 is POST /oauth/2026-03/token.
func (s *Server) TokenURL202603() string { return s.URL + "/oauth/2026-03/token" }

// AuthURL is the fake consent page (HUBSPOT_AUTH_URL): it approves at once
// and redirects to redirect_uri with code and state.
func (s *Server) AuthURL() string { return s.URL + "/oauth/authorize" }

// PortalID is the seed's portal id as a string.
func (s *Server) PortalID() string { return strconv.FormatInt(s.seed.PortalID, 10) }

// Switches.

// SetNow replaces the fake's clock (token expiry, created dates, windows).
func (s *Server) SetNow(now func() time.Time) { s.mu.Lock(); s.now = now; s.mu.Unlock() }

// SetLatency delays every response by d.
func (s *Server) SetLatency(d time.Duration) { s.mu.Lock(); s.latency = d; s.mu.Unlock() }

// SetRateLimit changes the per-portal 10-second budget (default 110 per 10 s).
func (s *Server) SetRateLimit(max int, interval time.Duration) {
	s.mu.Lock()
	s.rateMax, s.rateInterval = max, interval
	s.mu.Unlock()
}

// SetSearchLag hides records created less than d ago from search
// (search is eventually consistent, docs/crm/hubspot.md).
func (s *Server) SetSearchLag(d time.Duration) { s.mu.Lock(); s.searchLag = d; s.mu.Unlock() }

// SetTokenLifetime sets expires_in of new access tokens (default 30 min).
func (s *Server) SetTokenLifetime(d time.Duration) { s.mu.Lock(); s.tokenLifetime = d; s.mu.Unlock() }

// OmitHubID drops hub_id from token responses (older behaviour), so clients
// must use the access-token metadata endpoint.
func (s *Server) OmitHubID(v bool) { s.mu.Lock(); s.omitHubID = v; s.mu.Unlock() }

// RotateRefreshTokens makes each refresh grant return a new refresh token
// and revoke the one used (rotation is UNCONFIRMED for HubSpot, docs/crm/hubspot.md; a
// client must persist whatever refresh_token comes back).
func (s *Server) RotateRefreshTokens(v bool) { s.mu.Lock(); s.rotate = v; s.mu.Unlock() }

// CamelCaseTokens makes the 2026-03 token endpoint answer in camelCase
// (accessToken, refreshToken, expiresIn, tokenType, hubId), as its
// reference page shows; the real casing is UNCONFIRMED (docs/crm/hubspot.md).
func (s *Server) CamelCaseTokens(v bool) { s.mu.Lock(); s.camelTokens = v; s.mu.Unlock() }

// OmitCalculatedDealProperties stops returning hs_deal_stage_probability,
// hs_is_closed and hs_is_closed_won on deals.
func (s *Server) OmitCalculatedDealProperties(v bool) { s.mu.Lock(); s.omitCalc = v; s.mu.Unlock() }

// FailNext makes the next n API requests (not the OAuth endpoints) fail
// with status: 429 with the documented TEN_SECONDLY_ROLLING body and
// rate-limit headers (plus Retry-After in seconds when retryAfter > 0),
// 401 with an EXPIRED_AUTHENTICATION body, or a 5xx error body.
func (s *Server) FailNext(n int, status int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.fails = append(s.fails, failure{status: status, retryAfter: retryAfter})
	}
}

// FailTokenNext makes the next n token-endpoint requests answer status.
func (s *Server) FailTokenNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.tokenFails = append(s.tokenFails, status)
	}
}

// MintToken issues a token pair for the seed portal, as an install would.
// lifetime may be negative for an already expired access token.
func (s *Server) MintToken(lifetime time.Duration) Tokens {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, rt := s.issue(s.PortalID(), lifetime)
	return Tokens{AccessToken: at, RefreshToken: rt, Expiry: s.access[at].expiry}
}

// IssueCode creates an authorization code, as the consent page would.
func (s *Server) IssueCode(redirectURI string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	code := "code-" + randHex(12)
	s.codes[code] = authCode{redirectURI: redirectURI}
	return code
}

// RevokeRefreshToken revokes one refresh token (the app was uninstalled).
func (s *Server) RevokeRefreshToken(rt string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.refresh[rt]; ok {
		t.revoked = true
	}
}

// RevokeToken revokes every refresh and access token of the portal.
func (s *Server) RevokeToken() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.refresh {
		t.revoked = true
	}
	for _, t := range s.access {
		t.revoked = true
	}
}

// ExpireAccessTokens makes every issued access token expired now.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.access {
		t.expiry = s.now().Add(-time.Second)
	}
}

// Inspection.

// Requests returns a copy of every recorded request.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// ResetRequests forgets recorded requests (counters of grants stay).
func (s *Server) ResetRequests() { s.mu.Lock(); s.requests = nil; s.mu.Unlock() }

// Count returns how many recorded requests had method and a path starting with prefix.
func (s *Server) Count(method, prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if (method == "" || r.Method == method) && strings.HasPrefix(r.Path, prefix) {
			n++
		}
	}
	return n
}

// APICalls counts recorded requests outside /oauth/.
func (s *Server) APICalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if !strings.HasPrefix(r.Path, "/oauth/") {
			n++
		}
	}
	return n
}

// RefreshGrants counts refresh_token grant requests (successful or not).
func (s *Server) RefreshGrants() int { s.mu.Lock(); defer s.mu.Unlock(); return s.refreshGrants }

// CodeGrants counts authorization_code grant requests.
func (s *Server) CodeGrants() int { s.mu.Lock(); defer s.mu.Unlock(); return s.codeGrants }

// Contact returns a copy of a contact's properties (e.g. the owner state
// Handoff mirrors with PATCH /crm/v3/objects/contacts/{id}).
func (s *Server) Contact(id string) (map[string]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects["contacts"][id]
	if !ok {
		return nil, false
	}
	props := map[string]string{}
	for k, v := range o.props {
		props[k] = v
	}
	return props, true
}

// Task returns a task's properties and associations (type → ids).
func (s *Server) Task(id string) (props map[string]string, assoc map[string][]string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects["tasks"][id]
	if !ok {
		return nil, nil, false
	}
	props = map[string]string{}
	for k, v := range o.props {
		props[k] = v
	}
	assoc = map[string][]string{}
	for k, v := range o.assoc {
		assoc[k] = slices.Clone(v)
	}
	return props, assoc, true
}

// OnAPIRequest sets f to run before each CRM API request is served
// (outside the fake's lock, so f may call SetTaskProperty), e.g. to have a
// rep edit a task while a client is between two calls. nil removes it.
func (s *Server) OnAPIRequest(f func(method, path string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.beforeAPI = f
}

// Note is a note (engagement) in the fake portal.
type Note struct {
	ID           string
	Properties   map[string]string
	Associations map[string][]string // type → ids
}

// NotesOn lists, in creation order, the notes associated with the record
// typ/id (typ is "contacts", "companies" or "deals").
func (s *Server) NotesOn(typ, id string) []Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Note
	for _, nid := range s.order["notes"] {
		o := s.objects["notes"][nid]
		if o == nil || !slices.Contains(o.assoc[typ], id) {
			continue
		}
		n := Note{ID: nid, Properties: maps.Clone(o.props), Associations: map[string][]string{}}
		for k, v := range o.assoc {
			n.Associations[k] = slices.Clone(v)
		}
		out = append(out, n)
	}
	return out
}

// TaskIDs lists task ids in creation order.
func (s *Server) TaskIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, id := range s.order["tasks"] {
		if _, ok := s.objects["tasks"][id]; ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// SetTaskProperty changes a task as a rep would in the UI (e.g. status).
func (s *Server) SetTaskProperty(id, name, value string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects["tasks"][id]
	if ok {
		o.props[name] = value
		o.updatedAt = s.now()
	}
	return ok
}

// SetOwnerArchived archives an owner (its user deactivated or removed in
// the portal) or restores it; it reports whether the owner exists.
func (s *Server) SetOwnerArchived(id string, archived bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seed.Owners = slices.Clone(s.seed.Owners) // the caller's seed stays as it was
	for i := range s.seed.Owners {
		if s.seed.Owners[i].ID == id {
			s.seed.Owners[i].Archived = archived
			return true
		}
	}
	return false
}

// Helpers.

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func correlationID() string {
	b := randHex(16)
	return b[:8] + "-" + b[8:12] + "-" + b[12:16] + "-" + b[16:20] + "-" + b[20:]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// errBody is HubSpot's generic error JSON (docs/crm/hubspot.md).
func errBody(category, message string, ctx map[string][]string) map[string]any {
	b := map[string]any{"status": "error", "message": message, "correlationId": correlationID()}
	if category != "" {
		b["category"] = category
	}
	if ctx != nil {
		b["context"] = ctx
	}
	return b
}

func (s *Server) issue(portal string, lifetime time.Duration) (string, string) {
	at := "CJ" + randHex(24) // HubSpot tokens are opaque strings
	rt := "na1-" + randHex(4) + "-" + randHex(4) + "-" + randHex(8)
	s.access[at] = &accessToken{portal: portal, expiry: s.now().Add(lifetime)}
	s.refresh[rt] = &refreshToken{portal: portal}
	return at, rt
}

func (s *Server) record(r *http.Request, body []byte, status int, portal string) {
	h := r.Header.Clone()
	if a := h.Get("Authorization"); a != "" {
		scheme, _, _ := strings.Cut(a, " ")
		h.Set("Authorization", scheme+" REDACTED")
	}
	q := r.URL.Query()
	path := r.URL.Path
	if strings.HasPrefix(path, "/oauth/v1/access-tokens/") {
		path = "/oauth/v1/access-tokens/REDACTED"
	}
	if strings.HasPrefix(path, "/oauth/") && len(body) > 0 {
		if form, err := url.ParseQuery(string(body)); err == nil {
			for _, k := range []string{"client_secret", "refresh_token", "code", "code_verifier"} {
				if form.Has(k) {
					form.Set(k, "REDACTED")
				}
			}
			body = []byte(form.Encode())
		}
	}
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: path, Query: q, Header: h, Body: body, Status: status, Portal: portal})
	s.mu.Unlock()
}

func (s *Server) wait(r *http.Request) {
	s.mu.Lock()
	d := s.latency
	s.mu.Unlock()
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

// statusWriter remembers the status for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// apiHandler gets the authenticated portal and the request body.
type apiHandler func(w http.ResponseWriter, r *http.Request, portal string, body []byte)

func (s *Server) api(h apiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.wait(r)
		s.mu.Lock()
		hook := s.beforeAPI
		s.mu.Unlock()
		if hook != nil {
			hook(r.Method, r.URL.Path)
		}
		body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		sw := &statusWriter{ResponseWriter: w}
		portal := s.serveAPI(sw, r, h, body)
		s.record(r, body, sw.status, portal)
	}
}

func (s *Server) serveAPI(w *statusWriter, r *http.Request, h apiHandler, body []byte) string {
	search := strings.HasSuffix(r.URL.Path, "/search")
	s.mu.Lock()
	var inj *failure
	if len(s.fails) > 0 {
		f := s.fails[0]
		s.fails = s.fails[1:]
		inj = &f
	}
	s.mu.Unlock()

	portal, private, authErr := s.authenticate(r)
	if len(body) > 0 && authErr == nil && inj == nil {
		// HubSpot's JSON endpoints refuse other media types (415).
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
			writeJSON(w, http.StatusUnsupportedMediaType, errBody("", "Content-Type must be application/json", nil))
			return portal
		}
	}
	if inj != nil {
		s.inject(w, search, *inj)
		return portal
	}
	if authErr != nil {
		writeJSON(w, http.StatusUnauthorized, authErr)
		return ""
	}
	if !search {
		if ok := s.rateHeaders(w, portal, private); !ok {
			writeJSON(w, http.StatusTooManyRequests, rateLimitBody("TEN_SECONDLY_ROLLING", "You have reached your ten_secondly_rolling limit."))
			return portal
		}
	} else if !s.searchAllowed(portal) {
		writeJSON(w, http.StatusTooManyRequests, rateLimitBody("", "You have reached your secondly limit."))
		return portal
	}
	h(w, r, portal, body)
	return portal
}

func rateLimitBody(policy, message string) map[string]any {
	b := map[string]any{"status": "error", "message": message, "errorType": "RATE_LIMIT", "correlationId": correlationID(), "requestId": randHex(16)}
	if policy != "" {
		b["policyName"] = policy
	}
	return b
}

func (s *Server) inject(w *statusWriter, search bool, f failure) {
	s.mu.Lock()
	interval, max := s.rateInterval, s.rateMax
	s.mu.Unlock()
	switch {
	case f.status == http.StatusTooManyRequests:
		if !search {
			w.Header().Set("X-HubSpot-RateLimit-Interval-Milliseconds", strconv.Itoa(int(interval/time.Millisecond)))
			w.Header().Set("X-HubSpot-RateLimit-Max", strconv.Itoa(max))
			w.Header().Set("X-HubSpot-RateLimit-Remaining", "0")
		}
		if f.retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int((f.retryAfter+time.Second-1)/time.Second)))
		}
		writeJSON(w, f.status, rateLimitBody("TEN_SECONDLY_ROLLING", "You have reached your ten_secondly_rolling limit."))
	case f.status == http.StatusUnauthorized:
		writeJSON(w, f.status, errBody("EXPIRED_AUTHENTICATION", "The OAuth token used to make this call expired 1 minute(s) ago.", nil))
	case f.status >= 500:
		if f.retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(f.retryAfter/time.Second)))
		}
		writeJSON(w, f.status, errBody("", "internal error", nil))
	case f.status == http.StatusForbidden:
		b := errBody("MISSING_SCOPES", "This app hasn't been granted all required scopes to make this call.", nil)
		b["context"] = map[string][]string{"requiredScopes": {"crm.objects.contacts.write"}}
		writeJSON(w, f.status, b)
	case f.status == http.StatusNotFound:
		writeJSON(w, f.status, errBody("OBJECT_NOT_FOUND", "resource not found", nil))
	default:
		if f.retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(f.retryAfter/time.Second)))
		}
		writeJSON(w, f.status, errBody("VALIDATION_ERROR", http.StatusText(f.status), nil))
	}
}

func (s *Server) authenticate(r *http.Request) (portal string, private bool, errb map[string]any) {
	a := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(a, " ")
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false, errBody("INVALID_AUTHENTICATION", "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview", nil)
	}
	if s.seed.PrivateAppToken != "" && tok == s.seed.PrivateAppToken {
		return s.PortalID(), true, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.access[tok]
	switch {
	case !ok || t.revoked:
		return "", false, errBody("INVALID_AUTHENTICATION", "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview", nil)
	case !s.now().Before(t.expiry):
		ago := int(s.now().Sub(t.expiry) / time.Minute)
		return t.portal, false, errBody("EXPIRED_AUTHENTICATION", fmt.Sprintf("The OAuth token used to make this call expired %d minute(s) ago.", ago), nil)
	}
	return t.portal, false, nil
}

// rateHeaders counts the call in the portal's window and writes the
// X-HubSpot-RateLimit-* headers (daily ones only for private-app tokens).
func (s *Server) rateHeaders(w http.ResponseWriter, portal string, private bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	win := s.rate[portal]
	if win == nil || now.Sub(win.start) >= s.rateInterval {
		win = &window{start: now}
		s.rate[portal] = win
	}
	h := w.Header()
	h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", strconv.Itoa(int(s.rateInterval/time.Millisecond)))
	h.Set("X-HubSpot-RateLimit-Max", strconv.Itoa(s.rateMax))
	if private {
		h.Set("X-HubSpot-RateLimit-Daily", "250000")
		h.Set("X-HubSpot-RateLimit-Daily-Remaining", strconv.Itoa(250000-len(s.requests)-1))
	}
	if win.n >= s.rateMax {
		h.Set("X-HubSpot-RateLimit-Remaining", "0")
		return false
	}
	win.n++
	h.Set("X-HubSpot-RateLimit-Remaining", strconv.Itoa(s.rateMax-win.n))
	return true
}

func (s *Server) searchAllowed(portal string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	win := s.searchRate[portal]
	if win == nil || now.Sub(win.start) >= time.Second {
		win = &window{start: now}
		s.searchRate[portal] = win
	}
	if win.n >= s.searchMax {
		return false
	}
	win.n++
	return true
}

// Config returns a client configuration for this fake (OAuth app with the
// seed's client id and secret); publicBaseURL is PUBLIC_BASE_URL.
func (s *Server) Config(publicBaseURL string) hubspot.Config {
	return hubspot.Config{
		ClientID: s.seed.ClientID, ClientSecret: s.seed.ClientSecret, AppID: strconv.FormatInt(s.seed.AppID, 10),
		APIBaseURL: s.URL, AuthURL: s.AuthURL(), TokenURL: s.TokenURL(), PublicBaseURL: publicBaseURL,
	}
}

// PrivateAppConfig returns a configuration that serves the seed portal with
// its private-app token (no token store needed; e.g. for handoff demo).
func (s *Server) PrivateAppConfig() hubspot.Config {
	return hubspot.Config{APIBaseURL: s.URL, PrivateAppToken: s.seed.PrivateAppToken, PortalID: s.PortalID()}
}
