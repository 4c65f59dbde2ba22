// Package salesforcetest is an in-process fake of the Salesforce APIs that
// Handoff uses: the OAuth 2.0 endpoints (authorize, token with the
// authorization_code + PKCE, refresh_token and JWT bearer grants, revoke),
// the identity URL, and REST /services/data/vXX.X (query with a SOQL
// subset, sObject Task create / read / update / upsert by External ID,
// record reads, limits). It follows the documented shapes: JSON error
// arrays, 401 INVALID_SESSION_ID, 403 REQUEST_LIMIT_EXCEEDED,
// Sforce-Limit-Info on every API response. It records every request and
// can inject failures and latency.
//
// Use:
//
//	fake := salesforcetest.New(salesforcetest.DefaultSeed(), salesforcetest.WithJWTKey(&key.PublicKey))
//	defer fake.Close()
//	// fake.URL is the login URL and the instance URL. Either run the
//	// web-server flow (fake.AuthorizeURL auto-approves and redirects with
//	// a code), or configure the client without a browser: fake.Env()
//	// returns SALESFORCE_LOGIN_URL, _CLIENT_ID, _CLIENT_SECRET,
//	// _REFRESH_TOKEN and _ORG_ID for the seeded org (OrgID).
//	fake.FailNext(1, 403, 0)  // 403 REQUEST_LIMIT_EXCEEDED
//	fake.ExpireSessions()     // next call: 401 INVALID_SESSION_ID
//	fake.RevokeAll()          // refresh: 400 invalid_grant
package salesforcetest

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
)

// Defaults for the fake's connected app.
const (
	DefaultClientID     = "3MVG9fake.handoff.consumer.key"
	DefaultClientSecret = "fake-consumer-secret"
)

// Request is one recorded request (the Authorization value and token
// request secrets are redacted).
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
	Status int
}

// Option configures the fake.
type Option func(*Server)

// WithClient sets the connected app's consumer key and secret.
func WithClient(id, secret string) Option {
	return func(s *Server) { s.clientID, s.clientSecret = id, secret }
}

// WithJWTKey enables the JWT bearer grant, verifying assertions with pub.
func WithJWTKey(pub *rsa.PublicKey) Option { return func(s *Server) { s.jwtKey = pub } }

// WithJWTAudiences sets the accepted `aud` values (default: the fake's own
// URL, https://login.salesforce.com and https://test.salesforce.com).
func WithJWTAudiences(aud ...string) Option { return func(s *Server) { s.audiences = aud } }

// WithFields names the custom tier (Account) and handoff id (Task) fields.
func WithFields(tierField, handoffIDField string) Option {
	return func(s *Server) { s.tierField, s.handoffField = tierField, handoffIDField }
}

// WithTaskPicklists replaces the Task Status and Priority picklists (values
// vary by org). The first status is the default on create; the default
// priority is Normal when listed, else the first.
func WithTaskPicklists(statuses, priorities []string) Option {
	return func(s *Server) { s.statuses, s.priorities = statuses, priorities }
}

// WithoutExternalID makes the handoff id field a plain text field, not an
// External ID: upserts by it answer 404 NOT_FOUND, as Salesforce does for
// a field that is not an External ID.
func WithoutExternalID() Option { return func(s *Server) { s.noExternalID = true } }

// WithLimitInfoExtra adds parts after api-usage in Sforce-Limit-Info,
// written as given, e.g. "; api-bursts=1/750" (the current documented
// form) or "; per-app-api-usage=17/250(appName=sample-app)" (older
// versions). Without it the header is "api-usage=<used>/<max>" alone.
func WithLimitInfoExtra(extra string) Option { return func(s *Server) { s.limitExtra = extra } }

// limitInfoLocked is the Sforce-Limit-Info value of a response.
func (s *Server) limitInfoLocked() string {
	return fmt.Sprintf("api-usage=%d/%d", s.apiUsed, s.apiMax) + s.limitExtra
}

// WithDailyLimit sets the api-usage maximum reported in Sforce-Limit-Info.
func WithDailyLimit(n int) Option { return func(s *Server) { s.apiMax = n } }

// WithSessionTTL makes access tokens time out after d (the org's session
// timeout; the token response still carries no expires_in).
func WithSessionTTL(d time.Duration) Option { return func(s *Server) { s.sessionTTL = d } }

type accessToken struct {
	user    string
	expires time.Time
	revoked bool
	refresh string // the refresh token it came from, if any
}

type authCode struct {
	redirect, challenge, method, user, scope string
	expires                                  time.Time
}

type failure struct {
	status     int
	retryAfter time.Duration
}

// Server is the fake. URL is both the login URL and the instance URL.
type Server struct {
	*httptest.Server
	LoginURL     string
	TokenURL     string
	AuthorizeURL string
	OrgID        string

	mu           sync.Mutex
	clientID     string
	clientSecret string
	jwtKey       *rsa.PublicKey
	audiences    []string
	tierField    string
	handoffField string
	noExternalID bool
	statuses     []string
	priorities   []string
	sessionTTL   time.Duration
	authUser     string
	db           *db
	access       map[string]*accessToken
	refresh      map[string]string // refresh token → user (deleted when revoked)
	codes        map[string]*authCode
	fails        []failure
	tokenFails   []failure
	latency      time.Duration
	reqs         []Request
	apiCalls     int
	grants       map[string]int
	apiUsed      int
	apiMax       int
	limitExtra   string // after api-usage in Sforce-Limit-Info (WithLimitInfoExtra)
	seq          int
	now          func() time.Time
	beforeAPI    func(method, path string) // OnAPIRequest
}

// New starts a fake org seeded with seed (see DefaultSeed).
func New(seed Seed, opts ...Option) *Server {
	s := &Server{
		clientID: DefaultClientID, clientSecret: DefaultClientSecret,
		tierField: "Tier__c", handoffField: "Handoff_Id__c",
		access: map[string]*accessToken{}, refresh: map[string]string{}, codes: map[string]*authCode{},
		grants: map[string]int{}, apiMax: 15000, now: time.Now, OrgID: seed.OrgID,
		statuses: taskStatuses, priorities: taskPriorities,
	}
	if s.OrgID == "" {
		s.OrgID = OrgID
	}
	for _, o := range opts {
		o(s)
	}
	s.db = &db{schemas: schemas(s.tierField, s.handoffField), recs: map[string]map[string]record{}}
	for obj, rs := range seed.records(s.tierField) {
		s.db.recs[obj] = map[string]record{}
		for _, r := range rs {
			s.db.recs[obj][r["Id"].(string)] = r
		}
	}
	if len(seed.Users) > 0 {
		s.authUser = seed.Users[0].ID
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /services/oauth2/authorize", s.handleAuthorize)
	mux.HandleFunc("POST /services/oauth2/token", s.handleToken)
	mux.HandleFunc("POST /services/oauth2/revoke", s.handleRevoke)
	mux.HandleFunc("GET /id/{org}/{user}", s.handleIdentity)
	mux.HandleFunc("/services/data/", s.handleAPI)
	s.Server = httptest.NewServer(s.record(mux))
	s.LoginURL = s.URL
	s.TokenURL = s.URL + "/services/oauth2/token"
	s.AuthorizeURL = s.URL + "/services/oauth2/authorize"
	if s.audiences == nil {
		s.audiences = []string{s.URL, "https://login.salesforce.com", "https://test.salesforce.com"}
	}
	return s
}

// ---- switches and inspection ----

// FailNext makes the next n REST API requests fail with status: 401 →
// INVALID_SESSION_ID, 403/429 → REQUEST_LIMIT_EXCEEDED, 503 →
// SERVER_UNAVAILABLE, other 5xx → UNKNOWN_EXCEPTION. A retryAfter > 0
// adds a Retry-After header (Salesforce itself sends none).
func (s *Server) FailNext(n, status int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.fails = append(s.fails, failure{status, retryAfter})
	}
}

// FailTokenNext makes the next n token requests fail with status (5xx:
// a server error; 400: invalid_grant).
func (s *Server) FailTokenNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.tokenFails = append(s.tokenFails, failure{status: status})
	}
}

// SetLatency delays every response by d.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// ExpireSessions invalidates every access token issued so far (as a
// session timeout does); refresh tokens stay valid.
func (s *Server) ExpireSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.access {
		t.revoked = true
	}
}

// RevokeToken revokes a token: an access token, or a refresh token with
// every access token issued from it.
func (s *Server) RevokeToken(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revokeLocked(tok)
}

// RevokeAll revokes every refresh and access token (the app was
// uninstalled or the user blocked it).
func (s *Server) RevokeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.refresh)
	for _, t := range s.access {
		t.revoked = true
	}
}

func (s *Server) revokeLocked(tok string) {
	if _, ok := s.refresh[tok]; ok {
		delete(s.refresh, tok)
		for _, a := range s.access {
			if a.refresh == tok {
				a.revoked = true
			}
		}
	}
	if a, ok := s.access[tok]; ok {
		a.revoked = true
	}
}

// IssueRefreshToken creates a refresh token for a user, as if that user
// had installed the app earlier (for SALESFORCE_REFRESH_TOKEN setups).
func (s *Server) IssueRefreshToken(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt := "5Aep861" + s.randLocked(40)
	s.refresh[rt] = userID
	return rt
}

// SetAuthorizeUser chooses who approves the next authorize requests.
func (s *Server) SetAuthorizeUser(userID string) {
	s.mu.Lock()
	s.authUser = userID
	s.mu.Unlock()
}

// SetAPIUsage sets the daily allocation counters reported in
// Sforce-Limit-Info; when used reaches max, calls get 403 REQUEST_LIMIT_EXCEEDED.
func (s *Server) SetAPIUsage(used, max int) {
	s.mu.Lock()
	s.apiUsed, s.apiMax = used, max
	s.mu.Unlock()
}

// Requests returns every request recorded so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

// ResetRequests forgets the recorded requests and counters.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = nil
	s.apiCalls = 0
	clear(s.grants)
}

// APICalls counts REST API requests (/services/data/...).
func (s *Server) APICalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apiCalls
}

// TokenRequests counts token requests by grant_type
// ("authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:jwt-bearer").
func (s *Server) TokenRequests(grant string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.grants[grant]
}

// Record returns a copy of a stored record (nil when absent).
func (s *Server) Record(object, id string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, r := s.db.byID(id, object)
	if r == nil {
		return nil
	}
	out := map[string]any{}
	for k, v := range r {
		out[k] = v
	}
	return out
}

// SetUserActive deactivates a user (User.IsActive false, as an admin
// would in Setup) or reactivates it; it reports whether the user exists.
// A task create or reassign naming an inactive owner is answered with
// INACTIVE_OWNER_OR_USER.
func (s *Server) SetUserActive(id string, active bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, u := s.db.byID(id, "User")
	if u == nil {
		return false
	}
	u["IsActive"] = active
	return true
}

// Tasks returns copies of every Task.
func (s *Server) Tasks() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, r := range s.db.recs["Task"] {
		c := map[string]any{}
		for k, v := range r {
			c[k] = v
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b map[string]any) int { return strings.Compare(a["Id"].(string), b["Id"].(string)) })
	return out
}

// OnAPIRequest sets f to run before each REST API request is served
// (outside the fake's lock, so f may call EditTask), e.g. to have a rep
// edit a task between a client's read and its write. nil removes it.
func (s *Server) OnAPIRequest(f func(method, path string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.beforeAPI = f
}

// EditTask changes a task's fields as a rep would in the UI (no
// validation), stamping LastModifiedDate. It reports whether the task
// exists.
func (s *Server) EditTask(id string, fields map[string]any) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, r := s.db.byID(id, "Task")
	if r == nil {
		return false
	}
	for k, v := range fields {
		r[k] = v
	}
	now := s.stamp()
	r["LastModifiedDate"], r["SystemModstamp"] = now, now
	return true
}

// stamp is the current time as Salesforce writes a datetime field: whole
// seconds, e.g. 2026-11-20T14:03:07.000+0000.
func (s *Server) stamp() string {
	return s.now().UTC().Truncate(time.Second).Format("2006-01-02T15:04:05.000+0000")
}

// SetTaskStatus changes a task's Status as a rep would in the UI.
func (s *Server) SetTaskStatus(id, status string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, r := s.db.byID(id, "Task")
	if r == nil {
		return false
	}
	s.setStatusLocked(r, status)
	return true
}

func (s *Server) defaultPriority() string {
	if slices.Contains(s.priorities, "Normal") {
		return "Normal"
	}
	return s.priorities[0]
}

func (s *Server) setStatusLocked(r record, status string) {
	r["Status"] = status
	closed := status == "Completed"
	if closed && r["IsClosed"] != true {
		r["CompletedDateTime"] = s.now().UTC().Format("2006-01-02T15:04:05.000+0000")
	}
	if !closed {
		r["CompletedDateTime"] = nil
	}
	r["IsClosed"] = closed
}

// ---- plumbing ----

func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		s.mu.Lock()
		lat := s.latency
		s.mu.Unlock()
		if lat > 0 {
			t := time.NewTimer(lat)
			select {
			case <-r.Context().Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		h := r.Header.Clone()
		if h.Get("Authorization") != "" {
			h.Set("Authorization", "Bearer [redacted]")
		}
		rec := &statusWriter{ResponseWriter: w, status: 200}
		next.ServeHTTP(rec, r)
		if r.URL.Path == "/services/oauth2/token" {
			body = redactForm(body)
		}
		s.mu.Lock()
		s.reqs = append(s.reqs, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: h, Body: body, Status: rec.status})
		s.mu.Unlock()
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// redactForm hides secrets in a recorded token request, keeping its shape.
func redactForm(b []byte) []byte {
	v, err := url.ParseQuery(string(b))
	if err != nil {
		return nil
	}
	for _, k := range []string{"client_secret", "refresh_token", "code", "code_verifier", "assertion"} {
		if v.Has(k) {
			v.Set(k, "[redacted]")
		}
	}
	return []byte(v.Encode())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// apiError writes the documented REST error body: a JSON array.
func apiError(w http.ResponseWriter, status int, code, msg string, fields ...string) {
	e := map[string]any{"message": msg, "errorCode": code}
	if fields != nil {
		e["fields"] = fields
	}
	writeJSON(w, status, []any{e})
}

// oauthError writes the token endpoint's error body.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func (s *Server) randLocked(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func (s *Server) newIDLocked(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s5e%010dAAC", prefix, s.seq)
}

// ---- OAuth ----

func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != s.clientID {
		http.Error(w, "error=invalid_client_id&error_description=client%20identifier%20invalid", http.StatusBadRequest)
		return
	}
	redirect := q.Get("redirect_uri")
	ru, err := url.Parse(redirect)
	if err != nil || redirect == "" {
		http.Error(w, "error=redirect_uri_mismatch", http.StatusBadRequest)
		return
	}
	back := ru.Query()
	if q.Get("state") != "" {
		back.Set("state", q.Get("state"))
	}
	if q.Get("response_type") != "code" {
		back.Set("error", "unsupported_response_type")
		back.Set("error_description", "response type not supported")
		ru.RawQuery = back.Encode()
		http.Redirect(w, r, ru.String(), http.StatusFound)
		return
	}
	method := q.Get("code_challenge_method")
	if q.Get("code_challenge") != "" && method == "" {
		method = "S256" // Salesforce supports S256 only
	}
	s.mu.Lock()
	code := "aPrx" + s.randLocked(40)
	s.codes[code] = &authCode{redirect: redirect, challenge: q.Get("code_challenge"), method: method,
		user: s.authUser, scope: q.Get("scope"), expires: s.now().Add(15 * time.Minute)}
	s.mu.Unlock()
	back.Set("code", code)
	ru.RawQuery = back.Encode()
	http.Redirect(w, r, ru.String(), http.StatusFound)
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "invalid request body")
		return
	}
	grant := r.PostForm.Get("grant_type")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.grants[grant]++
	if len(s.tokenFails) > 0 {
		f := s.tokenFails[0]
		s.tokenFails = s.tokenFails[1:]
		if f.status >= 500 {
			writeJSON(w, f.status, map[string]string{"error": "server_error", "error_description": "temporarily unavailable"})
		} else {
			oauthError(w, f.status, "invalid_grant", "authentication failure")
		}
		return
	}
	f := r.PostForm
	switch grant {
	case "authorization_code":
		if !s.clientOKLocked(w, f, true) {
			return
		}
		c, ok := s.codes[f.Get("code")]
		delete(s.codes, f.Get("code")) // one use only
		if !ok || s.now().After(c.expires) {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "expired authorization code")
			return
		}
		if f.Get("redirect_uri") != c.redirect {
			oauthError(w, http.StatusBadRequest, "redirect_uri_mismatch", "redirect_uri must match configuration")
			return
		}
		if c.challenge != "" {
			v := f.Get("code_verifier")
			sum := sha256.Sum256([]byte(v))
			if v == "" || base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
				oauthError(w, http.StatusBadRequest, "invalid_grant", "invalid code verifier")
				return
			}
		}
		withRefresh := slices.ContainsFunc(strings.Fields(c.scope), func(sc string) bool {
			return sc == "refresh_token" || sc == "offline_access" || sc == "full"
		})
		s.issueLocked(w, c.user, withRefresh, "", orDefault(c.scope, "api"))
	case "refresh_token":
		if !s.clientOKLocked(w, f, false) {
			return
		}
		rt := f.Get("refresh_token")
		user, ok := s.refresh[rt]
		if !ok {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "expired access/refresh token")
			return
		}
		s.issueLocked(w, user, false, rt, "api refresh_token")
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
		user, desc := s.checkAssertionLocked(f.Get("assertion"))
		if user == "" {
			oauthError(w, http.StatusBadRequest, "invalid_grant", desc)
			return
		}
		s.issueLocked(w, user, false, "", "api")
	case "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "grant type not supported")
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant type not supported")
	}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// clientOKLocked checks the consumer key (and the secret when required or
// sent; Basic auth or body params).
func (s *Server) clientOKLocked(w http.ResponseWriter, f url.Values, secretRequired bool) bool {
	id, secret := f.Get("client_id"), f.Get("client_secret")
	_, hasSecret := f["client_secret"]
	if id == "" {
		oauthError(w, http.StatusBadRequest, "invalid_client_id", "client identifier invalid")
		return false
	}
	if id != s.clientID {
		oauthError(w, http.StatusBadRequest, "invalid_client_id", "client identifier invalid")
		return false
	}
	if (secretRequired || hasSecret) && !hmac.Equal([]byte(secret), []byte(s.clientSecret)) {
		oauthError(w, http.StatusBadRequest, "invalid_client", "invalid client credentials")
		return false
	}
	return true
}

var jwtAlgRe = regexp.MustCompile(`"alg"\s*:\s*"RS256"`)

// checkAssertionLocked verifies a JWT bearer assertion: RS256 signature,
// iss = consumer key, sub = a known active username, aud accepted, exp in
// the future and at most about 3 minutes ahead.
func (s *Server) checkAssertionLocked(a string) (user, desc string) {
	if s.jwtKey == nil {
		return "", "invalid assertion"
	}
	parts := strings.Split(a, ".")
	if len(parts) != 3 {
		return "", "invalid assertion"
	}
	hdr, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	payload, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || !jwtAlgRe.Match(hdr) {
		return "", "invalid assertion"
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(s.jwtKey, crypto.SHA256, sum[:], sig) != nil {
		return "", "invalid assertion"
	}
	var c struct {
		Iss string          `json:"iss"`
		Sub string          `json:"sub"`
		Aud json.RawMessage `json:"aud"`
		Exp int64           `json:"exp"`
	}
	if json.Unmarshal(payload, &c) != nil {
		return "", "invalid assertion"
	}
	if c.Iss != s.clientID {
		return "", "invalid client identifier" // Salesforce: client identifier invalid
	}
	var auds []string
	var one string
	if json.Unmarshal(c.Aud, &one) == nil {
		auds = []string{one}
	} else {
		_ = json.Unmarshal(c.Aud, &auds)
	}
	if !slices.ContainsFunc(auds, func(a string) bool { return slices.Contains(s.audiences, strings.TrimRight(a, "/")) }) {
		return "", "audience is invalid"
	}
	now := s.now().Unix()
	if c.Exp <= now || c.Exp > now+int64((3*time.Minute+30*time.Second)/time.Second) {
		return "", "expired authorization code"
	}
	for _, r := range s.db.recs["User"] {
		if strings.EqualFold(fmt.Sprint(r["Username"]), c.Sub) {
			if r["IsActive"] != true {
				return "", "user hasn't approved this consumer"
			}
			return r["Id"].(string), ""
		}
	}
	return "", "user hasn't approved this consumer"
}

// issueLocked writes a token response (documented fields; no expires_in).
func (s *Server) issueLocked(w http.ResponseWriter, user string, withRefresh bool, fromRefresh, scope string) {
	at := s.OrgID[:15] + "!AQ" + s.randLocked(60)
	t := &accessToken{user: user, refresh: fromRefresh}
	if s.sessionTTL > 0 {
		t.expires = s.now().Add(s.sessionTTL)
	}
	resp := map[string]any{
		"access_token": at,
		"instance_url": s.URL,
		"id":           s.LoginURL + "/id/" + s.OrgID + "/" + user,
		"token_type":   "Bearer",
		"issued_at":    strconv.FormatInt(s.now().UnixMilli(), 10),
		"scope":        scope,
	}
	if withRefresh {
		rt := "5Aep861" + s.randLocked(40)
		s.refresh[rt] = user
		t.refresh = rt
		resp["refresh_token"] = rt
	}
	s.access[at] = t
	m := hmac.New(sha256.New, []byte(s.clientSecret))
	m.Write([]byte(resp["id"].(string) + resp["issued_at"].(string)))
	resp["signature"] = base64.StdEncoding.EncodeToString(m.Sum(nil))
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	s.mu.Lock()
	s.revokeLocked(r.Form.Get("token"))
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// sessionLocked returns the user of a valid bearer token, or "".
func (s *Server) sessionLocked(r *http.Request) string {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		tok, ok = strings.CutPrefix(h, "OAuth ")
	}
	if !ok {
		return ""
	}
	t, found := s.access[tok]
	if !found || t.revoked || (!t.expires.IsZero() && s.now().After(t.expires)) {
		return ""
	}
	if t.refresh != "" {
		if _, live := s.refresh[t.refresh]; !live {
			return ""
		}
	}
	return t.user
}

func (s *Server) handleIdentity(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	user := s.sessionLocked(r)
	if user == "" || r.PathValue("org") != s.OrgID || r.PathValue("user") != user {
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, "Bad_OAuth_Token")
		return
	}
	_, u := s.db.byID(user, "User")
	writeJSON(w, http.StatusOK, map[string]any{
		"id": s.LoginURL + "/id/" + s.OrgID + "/" + user, "organization_id": s.OrgID, "user_id": user,
		"username": u["Username"], "email": u["Email"], "display_name": u["Name"], "active": u["IsActive"],
		"urls": map[string]string{
			"rest":     s.URL + "/services/data/v{version}/",
			"sobjects": s.URL + "/services/data/v{version}/sobjects/",
			"query":    s.URL + "/services/data/v{version}/query/",
		},
	})
}

// ---- REST API ----

var versionRe = regexp.MustCompile(`^v(\d{2,3})\.0$`)

func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/services/data/")
	version, rest, _ := strings.Cut(rest, "/")
	s.mu.Lock()
	hook := s.beforeAPI
	s.mu.Unlock()
	if hook != nil {
		hook(r.Method, r.URL.Path)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apiCalls++
	if version == "" {
		writeJSON(w, http.StatusOK, []map[string]string{{"label": "Winter '25", "url": "/services/data/v62.0", "version": "62.0"}})
		return
	}
	m := versionRe.FindStringSubmatch(version)
	if m == nil {
		apiError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	if n, _ := strconv.Atoi(m[1]); n < 31 {
		apiError(w, http.StatusGone, "API_DISABLED_FOR_ORG", "This version of the API has been retired")
		return
	}
	user := s.sessionLocked(r)
	if user == "" {
		apiError(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
		return
	}
	if len(s.fails) > 0 {
		f := s.fails[0]
		s.fails = s.fails[1:]
		s.injectLocked(w, f)
		return
	}
	if s.apiMax > 0 && s.apiUsed >= s.apiMax {
		w.Header().Set("Sforce-Limit-Info", s.limitInfoLocked())
		apiError(w, http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
		return
	}
	s.apiUsed++
	w.Header().Set("Sforce-Limit-Info", s.limitInfoLocked())
	s.db.version = version
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	switch {
	case parts[0] == "query" && len(parts) == 1 && r.Method == http.MethodGet:
		s.queryLocked(w, r)
	case parts[0] == "limits" && len(parts) == 1 && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"DailyApiRequests": map[string]int{"Max": s.apiMax, "Remaining": s.apiMax - s.apiUsed}})
	case parts[0] == "sobjects" && len(parts) >= 2:
		s.sobjectsLocked(w, r, user, parts[1:])
	default:
		apiError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
	}
}

func (s *Server) injectLocked(w http.ResponseWriter, f failure) {
	w.Header().Set("Sforce-Limit-Info", s.limitInfoLocked())
	if f.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((f.retryAfter+time.Second-1)/time.Second)))
	}
	switch {
	case f.status == http.StatusUnauthorized:
		apiError(w, f.status, "INVALID_SESSION_ID", "Session expired or invalid")
	case f.status == http.StatusForbidden || f.status == http.StatusTooManyRequests:
		apiError(w, f.status, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
	case f.status == http.StatusServiceUnavailable:
		apiError(w, f.status, "SERVER_UNAVAILABLE", "Server is temporarily unavailable. Please try again later.")
	case f.status >= 500:
		apiError(w, f.status, "UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-123456789)")
	case f.status == http.StatusNotFound:
		apiError(w, f.status, "NOT_FOUND", "The requested resource does not exist")
	default:
		apiError(w, f.status, "INVALID_FIELD", "injected failure")
	}
}

func (s *Server) queryLocked(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	if strings.TrimSpace(q) == "" {
		apiError(w, http.StatusBadRequest, "MALFORMED_QUERY", "A query string has to be specified")
		return
	}
	parsed, err := parseSOQL(q)
	if err != nil {
		soqlFail(w, err)
		return
	}
	recs, err := s.db.run(parsed, "", "")
	if err != nil {
		soqlFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"totalSize": len(recs), "done": true, "records": recs})
}

func soqlFail(w http.ResponseWriter, err error) {
	if se, ok := err.(*soqlError); ok {
		apiError(w, http.StatusBadRequest, se.code, se.msg)
		return
	}
	apiError(w, http.StatusInternalServerError, "UNKNOWN_EXCEPTION", err.Error())
}

func (s *Server) sobjectsLocked(w http.ResponseWriter, r *http.Request, user string, parts []string) {
	sc, err := s.db.schema(parts[0])
	if err != nil {
		apiError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	switch {
	case len(parts) == 1 && r.Method == http.MethodPost:
		if sc.name != "Task" {
			apiError(w, http.StatusBadRequest, "INVALID_TYPE", "the fake only creates Tasks")
			return
		}
		fields, ok := decodeBody(w, r)
		if !ok {
			return
		}
		rec := record{}
		if !s.applyTaskLocked(w, rec, fields, user, true) {
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"id": rec["Id"], "success": true, "errors": []any{}})
	case len(parts) == 2:
		_, rec := s.db.byID(parts[1], sc.name)
		if rec == nil {
			apiError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
			return
		}
		switch r.Method {
		case http.MethodGet:
			s.writeRecordLocked(w, r, sc, rec)
		case http.MethodPatch:
			if sc.name == "Contact" || sc.name == "Lead" {
				fields, ok := decodeBody(w, r)
				if ok && s.applyFieldsLocked(w, sc, rec, fields) {
					w.WriteHeader(http.StatusNoContent)
				}
				return
			}
			if sc.name != "Task" {
				apiError(w, http.StatusBadRequest, "INVALID_TYPE", "the fake only updates Tasks, Contacts and Leads")
				return
			}
			fields, ok := decodeBody(w, r)
			if !ok {
				return
			}
			if !unmodifiedSince(w, r, rec) {
				return
			}
			if s.applyTaskLocked(w, rec, fields, user, false) {
				w.WriteHeader(http.StatusNoContent)
			}
		case http.MethodDelete:
			delete(s.db.recs[sc.name], rec["Id"].(string))
			w.WriteHeader(http.StatusNoContent)
		default:
			apiError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "HTTP Method '"+r.Method+"' not allowed. Allowed are GET,PATCH,DELETE,HEAD")
		}
	case len(parts) == 3:
		s.externalIDLocked(w, r, sc, user, parts[1], parts[2])
	default:
		apiError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
	}
}

// applyFieldsLocked is a PATCH of a Contact or Lead: known, writable
// fields only, string or null values (as the REST API answers otherwise:
// INVALID_FIELD, INVALID_FIELD_FOR_INSERT_UPDATE).
func (s *Server) applyFieldsLocked(w http.ResponseWriter, sc *objSchema, rec record, fields map[string]any) bool {
	upd := record{}
	for k, v := range fields {
		canon, ok := sc.fields[strings.ToLower(k)]
		if !ok {
			apiError(w, http.StatusBadRequest, "INVALID_FIELD", fmt.Sprintf("No such column '%s' on sobject of type %s", k, sc.name))
			return false
		}
		if sc.readOnly[canon] || canon == "Id" || canon == "Name" {
			apiError(w, http.StatusBadRequest, "INVALID_FIELD_FOR_INSERT_UPDATE", fmt.Sprintf("Unable to create/update fields: %s. Please check the security settings of this field and verify that it is read/write for your profile or permission set.", canon), canon)
			return false
		}
		switch v.(type) {
		case nil, string:
			upd[canon] = v
		default:
			apiError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", fmt.Sprintf("Cannot deserialize instance of string from %T value for %s", v, canon))
			return false
		}
	}
	for k, v := range upd {
		rec[k] = v
	}
	return true
}

// externalIDLocked serves /sobjects/Task/{ExtIdField}/{value}: GET reads,
// PATCH upserts (201 created / 200 updated / 300 several matches).
func (s *Server) externalIDLocked(w http.ResponseWriter, r *http.Request, sc *objSchema, user, field, value string) {
	canon, ok := sc.fields[strings.ToLower(field)]
	if !ok || canon != s.handoffField || sc.name != "Task" || s.noExternalID {
		apiError(w, http.StatusNotFound, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: "+field)
		return
	}
	var matches []record
	for _, rec := range s.db.recs["Task"] {
		if v, _ := rec[canon].(string); v != "" && v == value {
			matches = append(matches, rec)
		}
	}
	if len(matches) > 1 {
		var urls []string
		for _, m := range matches {
			urls = append(urls, s.db.attributes("Task", m)["url"].(string))
		}
		writeJSON(w, http.StatusMultipleChoices, urls)
		return
	}
	switch r.Method {
	case http.MethodGet:
		if len(matches) == 0 {
			apiError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
			return
		}
		s.writeRecordLocked(w, r, sc, matches[0])
	case http.MethodPatch:
		fields, ok := decodeBody(w, r)
		if !ok {
			return
		}
		for k, v := range fields {
			if strings.EqualFold(k, canon) && v != value {
				apiError(w, http.StatusBadRequest, "INVALID_FIELD", "The value of the external ID field in the body does not match the URL", canon)
				return
			}
		}
		if len(matches) == 1 {
			if s.applyTaskLocked(w, matches[0], fields, user, false) {
				writeJSON(w, http.StatusOK, map[string]any{"id": matches[0]["Id"], "success": true, "errors": []any{}, "created": false})
			}
			return
		}
		if r.URL.Query().Get("updateOnly") == "true" {
			apiError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
			return
		}
		rec := record{canon: value}
		if s.applyTaskLocked(w, rec, fields, user, true) {
			writeJSON(w, http.StatusCreated, map[string]any{"id": rec["Id"], "success": true, "errors": []any{}, "created": true})
		}
	default:
		apiError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "HTTP Method '"+r.Method+"' not allowed. Allowed are GET,PATCH,DELETE,HEAD")
	}
}

// unmodifiedSince applies an If-Unmodified-Since precondition (REST API
// "Conditional Request Headers"): an invalid date is 400, a record whose
// LastModifiedDate is after it is 412 and the write is not made. Both are
// whole seconds, so an edit in the same second as the date passes, as
// with weak validation in Salesforce. It writes the error and returns
// false when the request must stop.
func unmodifiedSince(w http.ResponseWriter, r *http.Request, rec record) bool {
	v := r.Header.Get("If-Unmodified-Since")
	if v == "" {
		return true
	}
	since, err := http.ParseTime(v)
	if err != nil {
		apiError(w, http.StatusBadRequest, "INVALID_HEADER_TYPE", "Invalid If-Unmodified-Since header: "+v)
		return false
	}
	lm, err := time.Parse("2006-01-02T15:04:05.000-0700", fmt.Sprint(rec["LastModifiedDate"]))
	if err == nil && lm.Truncate(time.Second).After(since) {
		apiError(w, http.StatusPreconditionFailed, "PRECONDITION_FAILED", "The record has been modified since "+v)
		return false
	}
	return true
}

func decodeBody(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		apiError(w, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "Content-Type header specified in HTTP request is not supported: "+ct)
		return nil, false
	}
	var m map[string]any
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		apiError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "Unexpected character: was expecting a JSON object")
		return nil, false
	}
	return m, true
}

func (s *Server) writeRecordLocked(w http.ResponseWriter, r *http.Request, sc *objSchema, rec record) {
	out := map[string]any{"attributes": s.db.attributes(sc.name, rec)}
	if fl := r.URL.Query().Get("fields"); fl != "" {
		for _, f := range strings.Split(fl, ",") {
			f = strings.TrimSpace(f)
			canon, ok := sc.fields[strings.ToLower(f)]
			if !ok {
				apiError(w, http.StatusBadRequest, "INVALID_FIELD", fmt.Sprintf("No such column '%s' on sobject of type %s", f, sc.name))
				return
			}
			out[canon] = rec[canon]
		}
	} else {
		for _, canon := range sc.fields {
			out[canon] = rec[canon]
		}
	}
	writeJSON(w, http.StatusOK, out)
}

var (
	taskStatuses   = []string{"Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"}
	taskPriorities = []string{"High", "Normal", "Low"}
	dateRe         = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	textLimits     = map[string]int{"Subject": 255, "Description": 32000, "CallDisposition": 255}
	taskBooleans   = map[string]bool{"IsReminderSet": true}
)

// parseDateTime reads an ISO 8601 dateTime as the REST API accepts it:
// 2026-12-07T17:30:00Z, with milliseconds, or with an offset such as
// +0000 or -05:00.
func parseDateTime(v string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// applyTaskLocked validates a Task write like Salesforce does and applies
// it to rec (creating it when create is set). It writes the error response
// and returns false on failure.
func (s *Server) applyTaskLocked(w http.ResponseWriter, rec record, fields map[string]any, user string, create bool) bool {
	sc := s.db.schemas["task"]
	upd := record{}
	for k, v := range fields {
		canon, ok := sc.fields[strings.ToLower(k)]
		if !ok {
			apiError(w, http.StatusBadRequest, "INVALID_FIELD", fmt.Sprintf("No such column '%s' on sobject of type Task", k))
			return false
		}
		if sc.readOnly[canon] {
			apiError(w, http.StatusBadRequest, "INVALID_FIELD_FOR_INSERT_UPDATE", fmt.Sprintf("Unable to create/update fields: %s. Please check the security settings of this field and verify that it is read/write for your profile or permission set.", canon), canon)
			return false
		}
		switch v := v.(type) {
		case nil:
			upd[canon] = nil
		case string:
			if max, ok := textLimits[canon]; ok && len(utf16.Encode([]rune(v))) > max {
				apiError(w, http.StatusBadRequest, "STRING_TOO_LONG", fmt.Sprintf("%s: data value too large: %.20s... (max length=%d)", canon, v, max), canon)
				return false
			}
			if canon == s.handoffField && len(v) > 255 {
				apiError(w, http.StatusBadRequest, "STRING_TOO_LONG", fmt.Sprintf("%s: data value too large (max length=255)", canon), canon)
				return false
			}
			upd[canon] = v
		case bool:
			if !taskBooleans[canon] {
				apiError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", fmt.Sprintf("Cannot deserialize instance of string from %T value for field %s", v, canon))
				return false
			}
			upd[canon] = v
		default:
			apiError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", fmt.Sprintf("Cannot deserialize instance of string from %T value for field %s", v, canon))
			return false
		}
	}
	for f := range taskBooleans {
		if v, ok := upd[f].(string); ok {
			apiError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", fmt.Sprintf("Cannot deserialize instance of boolean from VALUE_STRING value %s or request may be missing a required field", v))
			return false
		}
	}
	if v, ok := upd["ReminderDateTime"].(string); ok {
		t, ok := parseDateTime(v)
		if !ok {
			apiError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", fmt.Sprintf("Cannot deserialize instance of datetime from VALUE_STRING value %s or request may be missing a required field", v))
			return false
		}
		upd["ReminderDateTime"] = t.UTC().Format("2006-01-02T15:04:05.000+0000") // as the API returns it
	}
	if v, ok := upd["ActivityDate"].(string); ok && !dateRe.MatchString(v) {
		apiError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", fmt.Sprintf("Cannot deserialize instance of date from VALUE_STRING value %s or request may be missing a required field", v))
		return false
	}
	if v, ok := upd["Status"]; ok && !slices.Contains(s.statuses, fmt.Sprint(v)) {
		apiError(w, http.StatusBadRequest, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", fmt.Sprintf("Status: bad value for restricted picklist field: %v", v), "Status")
		return false
	}
	if v, ok := upd["Priority"]; ok && !slices.Contains(s.priorities, fmt.Sprint(v)) {
		apiError(w, http.StatusBadRequest, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", fmt.Sprintf("Priority: bad value for restricted picklist field: %v", v), "Priority")
		return false
	}
	if v, ok := upd["OwnerId"]; ok {
		id, _ := v.(string)
		_, u := s.db.byID(id, "User")
		if u == nil {
			apiError(w, http.StatusBadRequest, "INVALID_CROSS_REFERENCE_KEY", "Assigned To ID: owner cannot be blank", "OwnerId")
			return false
		}
		if u["IsActive"] != true {
			// As documented, with no fields named.
			writeJSON(w, http.StatusBadRequest, []any{map[string]any{"errorCode": "INACTIVE_OWNER_OR_USER",
				"message": "operation performed with inactive user [" + id + "] as owner of task", "fields": []string{}}})
			return false
		}
	}
	who, what := rec["WhoId"], rec["WhatId"]
	if v, ok := upd["WhoId"]; ok {
		who = v
		if id, _ := v.(string); id != "" {
			if t, _ := s.db.byID(id, "Contact", "Lead"); t == "" {
				apiError(w, http.StatusBadRequest, "FIELD_INTEGRITY_EXCEPTION", "Name ID: id value of incorrect type: "+id, "WhoId")
				return false
			}
		}
	}
	if v, ok := upd["WhatId"]; ok {
		what = v
		if id, _ := v.(string); id != "" {
			if t, _ := s.db.byID(id, "Account", "Opportunity"); t == "" {
				apiError(w, http.StatusBadRequest, "FIELD_INTEGRITY_EXCEPTION", "Related To ID: id value of incorrect type: "+id, "WhatId")
				return false
			}
		}
	}
	if whoID, _ := who.(string); strings.HasPrefix(whoID, "00Q") {
		if whatID, _ := what.(string); whatID != "" {
			apiError(w, http.StatusBadRequest, "FIELD_INTEGRITY_EXCEPTION", "Related To ID: You can't associate a task with a lead and a related record at the same time.", "WhatId")
			return false
		}
	}
	now := s.stamp()
	if create {
		rec["Id"] = s.newIDLocked("00T")
		for _, f := range sc.fields {
			if _, ok := rec[f]; !ok {
				rec[f] = nil
			}
		}
		rec["CreatedDate"], rec["IsDeleted"], rec["TaskSubtype"] = now, false, "Task"
		rec["Status"], rec["Priority"], rec["OwnerId"], rec["IsClosed"] = s.statuses[0], s.defaultPriority(), user, false
		if s.db.recs["Task"] == nil {
			s.db.recs["Task"] = map[string]record{}
		}
		s.db.recs["Task"][rec["Id"].(string)] = rec
	}
	for k, v := range upd {
		if k == "Status" {
			continue
		}
		rec[k] = v
	}
	if v, ok := upd["Status"]; ok {
		s.setStatusLocked(rec, fmt.Sprint(v))
	}
	rec["LastModifiedDate"], rec["SystemModstamp"] = now, now
	return true
}

// Env returns the SALESFORCE_* variables that point a Handoff client at
// this fake org without a browser install (a refresh token issued for the
// integration user, the org id, the connected app), for `handoff demo`
// and tests that load configuration with go-envconfig.
func (s *Server) Env() map[string]string {
	s.mu.Lock()
	admin := s.authUser
	s.mu.Unlock()
	return map[string]string{
		"SALESFORCE_LOGIN_URL":     s.LoginURL,
		"SALESFORCE_CLIENT_ID":     s.clientID,
		"SALESFORCE_CLIENT_SECRET": s.clientSecret,
		"SALESFORCE_REFRESH_TOKEN": s.IssueRefreshToken(admin),
		"SALESFORCE_ORG_ID":        s.OrgID,
	}
}
