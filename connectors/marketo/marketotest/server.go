// Package marketotest is an in-process fake of the Marketo REST API: the
// identity endpoint (client credentials), leads by id and by filter, named
// accounts, opportunities and roles, Request Campaign, custom activities and
// Get Lead Activities with paging tokens. It answers like Marketo: every
// error, response-level (6xx/7xx) or record-level (1xxx), comes in the
// HTTP-200 envelope {requestId, success:false, errors:[{code,message}]},
// with codes as quoted strings; only the identity endpoint uses HTTP 401.
// It enforces the published limits (100 calls / 20 s → 606, 10 in flight →
// 615), and accepts the token only as "Authorization: Bearer".
package marketotest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Request is one recorded request.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header // Authorization reduced to its scheme; client_secret removed
	Body   []byte
	Time   time.Time
}

// CampaignRun is one Request Campaign call.
type CampaignRun struct {
	CampaignID int
	LeadIDs    []int64
	Tokens     map[string]string // "{{my.x}}" -> value
	At         time.Time
}

// CRMTask is what the campaign's "Create Task" flow step would create in
// the synced CRM, from the handoff tokens.
type CRMTask struct {
	LeadID     int64
	Subject    string
	Body       string
	OwnerEmail string
	Due        string
	Priority   string
	HandoffID  string
}

// Server is the fake Marketo instance.
type Server struct {
	srv *httptest.Server
	// URL is the REST base (MARKETO_BASE_URL); IdentityURL the token endpoint.
	URL         string
	IdentityURL string
	Munchkin    string

	mu            sync.Mutex
	seed          Seed
	leads         map[int64]Record
	activities    []Activity
	nextActID     int64
	types         map[int]ActivityType
	campaigns     map[int]Campaign
	runs          []CampaignRun
	tasks         []CRMTask
	requests      []Request
	tokenRequests int
	calls         int

	token       string
	tokenExpiry time.Time
	tokenLife   time.Duration
	revoked     map[string]string // token -> "601" | "602"

	failCode   []string            // envelope error codes for the next calls
	failStatus []int               // HTTP statuses for the next calls
	failOn     map[string][]string // path → envelope error codes for its next calls
	latency    time.Duration

	rateCalls   int
	ratePeriod  time.Duration
	window      []time.Time
	maxInFlight int
	inFlight    int
	peak        int
}

// New starts a fake seeded with seed (use DefaultSeed()). Close it when done.
func New(seed Seed) *Server {
	s := &Server{
		seed: seed, Munchkin: seed.Munchkin, leads: map[int64]Record{}, types: map[int]ActivityType{},
		campaigns: map[int]Campaign{}, nextActID: 500, tokenLife: time.Hour, revoked: map[string]string{},
		rateCalls: 100, ratePeriod: 20 * time.Second, maxInFlight: 10,
	}
	for _, l := range seed.Leads {
		s.leads[toInt(l["id"])] = cloneRecord(l)
	}
	for _, t := range seed.ActivityTypes {
		s.types[t.ID] = t
	}
	for _, c := range seed.Campaigns {
		s.campaigns[c.ID] = c
	}
	for _, a := range seed.Activities {
		s.addActivity(a)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/identity/oauth/token", s.identity)
	mux.HandleFunc("/rest/", s.rest)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	s.IdentityURL = s.srv.URL + "/identity/oauth/token"
	return s
}

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// ---- switches ----

// FailNext makes the next n REST calls fail with the envelope error code
// (e.g. "606", "615", "601", "602", "604", "1004"), HTTP 200.
func (s *Server) FailNext(n int, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failCode = append(s.failCode, code)
	}
}

// FailOn makes the next n calls to path fail with the envelope error code,
// HTTP 200, whatever other calls come in between: a REST path
// ("/rest/v1/campaigns/1001/trigger.json", "/rest/v1/activities/external.json",
// "/rest/v1/leads.json", ...) or the identity endpoint
// ("/identity/oauth/token"). The identity endpoint answering with the REST
// envelope is not documented; it stands for "the token call was refused".
func (s *Server) FailOn(path string, n int, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failOn == nil {
		s.failOn = map[string][]string{}
	}
	for range n {
		s.failOn[path] = append(s.failOn[path], code)
	}
}

// takeFailOn pops the next injected code for path ("" when none). s.mu is held.
func (s *Server) takeFailOn(path string) string {
	q := s.failOn[path]
	if len(q) == 0 {
		return ""
	}
	s.failOn[path] = q[1:]
	return q[0]
}

// FailNextHTTP makes the next n REST calls fail with an HTTP status (502...).
func (s *Server) FailNextHTTP(n int, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failStatus = append(s.failStatus, status)
	}
}

// SetLatency delays every REST call.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// SetRateLimit changes the 100 calls / 20 s limit (calls <= 0 disables it).
func (s *Server) SetRateLimit(calls int, period time.Duration) {
	s.mu.Lock()
	s.rateCalls, s.ratePeriod, s.window = calls, period, nil
	s.mu.Unlock()
}

// SetConcurrencyLimit changes the 10-in-flight limit (<= 0 disables it).
func (s *Server) SetConcurrencyLimit(n int) {
	s.mu.Lock()
	s.maxInFlight = n
	s.mu.Unlock()
}

// SetTokenLifetime sets the life of newly issued tokens (default 3600 s).
func (s *Server) SetTokenLifetime(d time.Duration) {
	s.mu.Lock()
	s.tokenLife = d
	s.mu.Unlock()
}

// ExpireToken makes the current token expired: calls with it get 602 and
// the identity endpoint issues a new one.
func (s *Server) ExpireToken() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" {
		s.revoked[s.token] = "602"
		s.token = ""
	}
}

// InvalidateToken makes the current token unknown (601).
func (s *Server) InvalidateToken() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" {
		s.revoked[s.token] = "601"
		s.token = ""
	}
}

// RevokeToken is InvalidateToken (the name the other CRM fakes use).
func (s *Server) RevokeToken() { s.InvalidateToken() }

// AddActivities appends activities (for paging tests).
func (s *Server) AddActivities(as ...Activity) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range as {
		s.addActivity(a)
	}
}

// ---- observations ----

// Requests returns every REST and identity request so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Calls counts REST calls (identity calls excluded).
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// TokenRequests counts identity endpoint calls.
func (s *Server) TokenRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenRequests
}

// PeakInFlight is the most REST calls ever in flight at once.
func (s *Server) PeakInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// CampaignRuns returns the Request Campaign calls.
func (s *Server) CampaignRuns() []CampaignRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.runs)
}

// Tasks returns the CRM tasks the handoff campaign's flow created.
func (s *Server) Tasks() []CRMTask {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.tasks)
}

// Activities returns the activities of a custom type (0 = all).
func (s *Server) Activities(typeID int) []Activity {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Activity
	for _, a := range s.activities {
		if typeID == 0 || a.ActivityTypeID == typeID {
			out = append(out, a)
		}
	}
	return out
}

// ---- identity ----

func (s *Server) identity(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	params := r.URL.Query()
	if r.Method == http.MethodPost {
		if form, err := url.ParseQuery(string(body)); err == nil {
			for k, v := range form {
				params[k] = v
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenRequests++
	s.record(r, redactForm(body))
	if c := s.takeFailOn(r.URL.Path); c != "" {
		fail(w, c)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "invalid_request", "error_description": "GET or POST"})
		return
	}
	if params.Get("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type", "error_description": "Unsupported grant type"})
		return
	}
	if params.Get("client_id") != s.seed.ClientID || params.Get("client_secret") != s.seed.ClientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "Bad client credentials"})
		return
	}
	now := time.Now()
	// Marketo returns the current token, with its remaining life, until it
	// expires; then a new one that lives tokenLife.
	if s.token == "" || !now.Before(s.tokenExpiry) {
		if s.token != "" {
			s.revoked[s.token] = "602"
		}
		s.token = newUUID() + ":int"
		s.tokenExpiry = now.Add(s.tokenLife)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": s.token, "token_type": "bearer",
		"expires_in": int(s.tokenExpiry.Sub(now).Seconds()), "scope": "apis@handoff.example",
	})
}

// ---- REST ----

type apiErr struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (s *Server) rest(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 2<<20))
	s.mu.Lock()
	s.calls++
	s.record(r, body)
	lat := s.latency
	s.inFlight++
	s.peak = max(s.peak, s.inFlight)
	over := s.maxInFlight > 0 && s.inFlight > s.maxInFlight
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()
	if lat > 0 {
		select {
		case <-time.After(lat):
		case <-r.Context().Done():
			return
		}
	}
	if len(body) > 1<<20 {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return
	}
	if len(r.URL.RawQuery) > 8<<10 {
		w.WriteHeader(http.StatusRequestURITooLong)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if code := s.authCheck(r); code != "" {
		fail(w, code)
		return
	}
	if len(s.failStatus) > 0 {
		st := s.failStatus[0]
		s.failStatus = s.failStatus[1:]
		w.WriteHeader(st)
		_, _ = w.Write([]byte(http.StatusText(st)))
		return
	}
	if c := s.takeFailOn(r.URL.Path); c != "" {
		fail(w, c)
		return
	}
	if len(s.failCode) > 0 {
		c := s.failCode[0]
		s.failCode = s.failCode[1:]
		fail(w, c)
		return
	}
	if over {
		fail(w, "615")
		return
	}
	if s.rateCalls > 0 {
		now := time.Now()
		cut := now.Add(-s.ratePeriod)
		i := 0
		for i < len(s.window) && !s.window[i].After(cut) {
			i++
		}
		s.window = s.window[i:]
		if len(s.window) >= s.rateCalls {
			fail(w, "606")
			return
		}
		s.window = append(s.window, now)
	}
	// POST with ?_method=GET carries the query in a form body (414 workaround).
	q := r.URL.Query()
	method := r.Method
	if method == http.MethodPost && q.Get("_method") == "GET" {
		form, _ := url.ParseQuery(string(body))
		for k, v := range form {
			q[k] = v
		}
		method = http.MethodGet
	}
	s.route(w, r, method, q, body)
}

// authCheck returns the error code for a missing, invalid or expired token.
func (s *Server) authCheck(r *http.Request) string {
	if r.URL.Query().Has("access_token") {
		return "600" // the query parameter is no longer accepted
	}
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "600"
	}
	if c, bad := s.revoked[tok]; bad {
		return c
	}
	if tok != s.token {
		return "601"
	}
	if !time.Now().Before(s.tokenExpiry) {
		return "602"
	}
	return ""
}

func (s *Server) route(w http.ResponseWriter, r *http.Request, method string, q url.Values, body []byte) {
	p := r.URL.Path
	get := method == http.MethodGet
	post := method == http.MethodPost
	switch {
	case strings.HasPrefix(p, "/rest/v1/lead/") && strings.HasSuffix(p, ".json") && get:
		s.leadByID(w, strings.TrimSuffix(strings.TrimPrefix(p, "/rest/v1/lead/"), ".json"), q)
	case p == "/rest/v1/leads.json" && get:
		s.leadsByFilter(w, q)
	case p == "/rest/v1/namedaccounts.json" && get:
		s.filterRecords(w, q, s.seed.NamedAccounts, []string{"name", "domainName", "marketoGUID"}, []string{"marketoGUID", "name"})
	case p == "/rest/v1/opportunities.json" && get:
		s.filterRecords(w, q, s.seed.Opportunities, []string{"externalOpportunityId", "marketoGUID"}, []string{"marketoGUID", "externalOpportunityId"})
	case p == "/rest/v1/opportunities/roles.json" && get:
		s.filterRecords(w, q, s.seed.OpportunityRoles, []string{"leadId", "externalOpportunityId", "marketoGUID"}, []string{"marketoGUID", "externalOpportunityId", "leadId", "role"})
	case strings.HasPrefix(p, "/rest/v1/campaigns/") && strings.HasSuffix(p, "/trigger.json") && post:
		s.trigger(w, r, strings.TrimSuffix(strings.TrimPrefix(p, "/rest/v1/campaigns/"), "/trigger.json"), body)
	case p == "/rest/v1/activities/external.json" && post:
		s.addExternal(w, r, body)
	case p == "/rest/v1/activities/pagingtoken.json" && get:
		s.pagingToken(w, q)
	case p == "/rest/v1/activities.json" && get:
		s.getActivities(w, q)
	case p == "/rest/v1/activities/types.json" && get:
		s.activityTypes(w)
	case knownPath(p):
		fail(w, "605")
	default:
		fail(w, "610")
	}
}

func knownPath(p string) bool {
	for _, k := range []string{"/rest/v1/lead/", "/rest/v1/leads.json", "/rest/v1/namedaccounts.json", "/rest/v1/opportunities",
		"/rest/v1/campaigns/", "/rest/v1/activities"} {
		if strings.HasPrefix(p, k) {
			return true
		}
	}
	return false
}

// ---- leads ----

var defaultLeadFields = []string{"id", "email", "updatedAt", "createdAt", "firstName", "lastName"}

var standardLeadFields = []string{"id", "email", "firstName", "lastName", "title", "company", "industry", "numberOfEmployees",
	"annualRevenue", "sfdcLeadOwnerId", "sfdcLeadId", "sfdcContactId", "sfdcAccountId", "externalCompanyId", "externalPersonId",
	"phone", "leadSource", "leadStatus", "updatedAt", "createdAt"}

func (s *Server) leadSchema() map[string]bool {
	f := map[string]bool{}
	for _, n := range standardLeadFields {
		f[n] = true
	}
	for _, l := range s.leads {
		for k := range l {
			f[k] = true
		}
	}
	return f
}

func (s *Server) fields(q url.Values, def []string, schema map[string]bool) ([]string, *apiErr) {
	fs := def
	if v := q.Get("fields"); v != "" {
		fs = splitList(v)
	}
	for _, f := range fs {
		if schema != nil && !schema[f] {
			return nil, &apiErr{"1006", fmt.Sprintf("Field '%s' not found", f)}
		}
	}
	return fs, nil
}

func project(rec Record, fields []string) Record {
	out := Record{}
	for _, f := range fields {
		if v, ok := rec[f]; ok && v != nil {
			out[f] = v
		}
	}
	return out
}

func (s *Server) leadByID(w http.ResponseWriter, id string, q url.Values) {
	fs, e := s.fields(q, defaultLeadFields, s.leadSchema())
	if e != nil {
		failErr(w, *e)
		return
	}
	var n int64
	if _, err := fmt.Sscan(id, &n); err != nil {
		fail(w, "1003")
		return
	}
	res := []Record{}
	if l, ok := s.leads[n]; ok {
		res = append(res, project(l, fs))
	}
	ok(w, map[string]any{"result": res})
}

func (s *Server) leadsByFilter(w http.ResponseWriter, q url.Values) {
	ft := q.Get("filterType")
	vals := splitList(q.Get("filterValues"))
	schema := s.leadSchema()
	if ft == "" || len(vals) == 0 {
		failErr(w, apiErr{"1003", "filterType and filterValues are required"})
		return
	}
	if !schema[ft] {
		failErr(w, apiErr{"1003", fmt.Sprintf("Invalid filterType '%s'", ft)})
		return
	}
	if len(vals) > 300 {
		failErr(w, apiErr{"1003", "Too many filter values (max 300)"})
		return
	}
	fs, e := s.fields(q, defaultLeadFields, schema)
	if e != nil {
		failErr(w, *e)
		return
	}
	ids := make([]int64, 0, len(s.leads))
	for id := range s.leads {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	res := []Record{}
	for _, id := range ids {
		l := s.leads[id]
		for _, v := range vals {
			if strings.EqualFold(fmt.Sprint(l[ft]), v) {
				res = append(res, project(l, fs))
				break
			}
		}
	}
	ok(w, map[string]any{"result": res})
}

// filterRecords serves the filterType/filterValues endpoints of named
// accounts, opportunities and roles.
func (s *Server) filterRecords(w http.ResponseWriter, q url.Values, recs []Record, filters, def []string) {
	ft := q.Get("filterType")
	vals := splitList(q.Get("filterValues"))
	if !slices.Contains(filters, ft) || len(vals) == 0 {
		failErr(w, apiErr{"1003", fmt.Sprintf("Invalid filterType '%s'", ft)})
		return
	}
	if len(vals) > 300 {
		failErr(w, apiErr{"1003", "Too many filter values (max 300)"})
		return
	}
	schema := map[string]bool{"seq": true}
	for _, r := range recs {
		for k := range r {
			schema[k] = true
		}
	}
	fs, e := s.fields(q, def, nil)
	if e != nil {
		failErr(w, *e)
		return
	}
	for _, f := range fs {
		if !schema[f] {
			failErr(w, apiErr{"1006", fmt.Sprintf("Field '%s' not found", f)})
			return
		}
	}
	res := []Record{}
	for _, r := range recs {
		for _, v := range vals {
			if strings.EqualFold(fmt.Sprint(r[ft]), v) {
				p := project(r, fs)
				p["seq"] = len(res)
				res = append(res, p)
				break
			}
		}
	}
	ok(w, map[string]any{"result": res})
}

// ---- campaigns ----

func (s *Server) trigger(w http.ResponseWriter, r *http.Request, id string, body []byte) {
	if !isJSON(r) {
		fail(w, "612")
		return
	}
	var cid int
	if _, err := fmt.Sscan(id, &cid); err != nil {
		fail(w, "1003")
		return
	}
	var req struct {
		Input *struct {
			Leads []struct {
				ID *int64 `json:"id"`
			} `json:"leads"`
			Tokens []struct {
				Name  string `json:"name"`
				Value string `json:"value"`
			} `json:"tokens"`
		} `json:"input"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		fail(w, "609")
		return
	}
	if req.Input == nil || len(req.Input.Leads) == 0 {
		failErr(w, apiErr{"1003", "input.leads is required"})
		return
	}
	if len(req.Input.Leads) > 100 {
		failErr(w, apiErr{"1003", "Too many leads (max 100)"})
		return
	}
	c, found := s.campaigns[cid]
	if !found {
		failErr(w, apiErr{"1013", fmt.Sprintf("Campaign [%d] not found", cid)})
		return
	}
	if !c.Active || !c.Triggerable {
		failErr(w, apiErr{"1003", fmt.Sprintf("Campaign [%d] is not active or has no 'Campaign is Requested' Web Service API trigger", cid)})
		return
	}
	run := CampaignRun{CampaignID: cid, Tokens: map[string]string{}, At: time.Now()}
	for _, l := range req.Input.Leads {
		if l.ID == nil {
			failErr(w, apiErr{"1003", "lead id is required"})
			return
		}
		if _, ok := s.leads[*l.ID]; !ok {
			failErr(w, apiErr{"1004", fmt.Sprintf("Lead [%d] not found", *l.ID)})
			return
		}
		run.LeadIDs = append(run.LeadIDs, *l.ID)
	}
	for _, t := range req.Input.Tokens {
		if !strings.HasPrefix(t.Name, "{{my.") || !strings.HasSuffix(t.Name, "}}") {
			failErr(w, apiErr{"1003", fmt.Sprintf("Invalid token name '%s'", t.Name)})
			return
		}
		run.Tokens[t.Name] = t.Value
	}
	s.runs = append(s.runs, run)
	for _, lid := range run.LeadIDs {
		s.tasks = append(s.tasks, CRMTask{LeadID: lid, Subject: run.Tokens["{{my.handoff_subject}}"], Body: run.Tokens["{{my.handoff_body}}"],
			OwnerEmail: run.Tokens["{{my.handoff_owner_email}}"], Due: run.Tokens["{{my.handoff_due}}"],
			Priority: run.Tokens["{{my.handoff_priority}}"], HandoffID: run.Tokens["{{my.handoff_id}}"]})
	}
	ok(w, map[string]any{"result": []map[string]any{{"id": cid}}})
}

// ---- activities ----

func (s *Server) addActivity(a Activity) Activity {
	s.nextActID++
	if a.ID == 0 {
		a.ID = s.nextActID
	}
	if a.MarketoGUID == "" {
		a.MarketoGUID = newUUID()
	}
	a.ActivityDate = a.ActivityDate.UTC()
	s.activities = append(s.activities, a)
	sort.SliceStable(s.activities, func(i, j int) bool {
		if !s.activities[i].ActivityDate.Equal(s.activities[j].ActivityDate) {
			return s.activities[i].ActivityDate.Before(s.activities[j].ActivityDate)
		}
		return s.activities[i].ID < s.activities[j].ID
	})
	return a
}

func (s *Server) addExternal(w http.ResponseWriter, r *http.Request, body []byte) {
	if !isJSON(r) {
		fail(w, "612")
		return
	}
	var req struct {
		Input []struct {
			LeadID                *int64 `json:"leadId"`
			ActivityDate          string `json:"activityDate"`
			ActivityTypeID        int    `json:"activityTypeId"`
			PrimaryAttributeValue string `json:"primaryAttributeValue"`
			Attributes            []struct {
				APIName string `json:"apiName"`
				Name    string `json:"name"`
				Value   any    `json:"value"`
			} `json:"attributes"`
		} `json:"input"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		fail(w, "609")
		return
	}
	if len(req.Input) == 0 || len(req.Input) > 300 {
		failErr(w, apiErr{"1003", "input must hold 1 to 300 activities"})
		return
	}
	res := []map[string]any{}
	for _, in := range req.Input {
		skip := func(code, msg string) {
			res = append(res, map[string]any{"status": "skipped", "reasons": []apiErr{{code, msg}}})
		}
		t, okType := s.types[in.ActivityTypeID]
		switch {
		case in.LeadID == nil:
			skip("1002", "Missing value for required field 'leadId'")
			continue
		case !okType || !t.Custom:
			skip("1013", fmt.Sprintf("Activity type [%d] not found", in.ActivityTypeID))
			continue
		case in.PrimaryAttributeValue == "":
			skip("1002", "Missing value for required field 'primaryAttributeValue'")
			continue
		case len(in.Attributes) > 20:
			skip("1028", "Too many secondary attributes (max 20)")
			continue
		}
		if _, ok := s.leads[*in.LeadID]; !ok {
			skip("1004", "Lead not found")
			continue
		}
		at, err := time.Parse(time.RFC3339, in.ActivityDate)
		if err != nil {
			skip("1001", fmt.Sprintf("Invalid value '%s'. Required of type 'datetime'", in.ActivityDate))
			continue
		}
		attrs := map[string]string{}
		bad := ""
		size := 0
		for _, a := range in.Attributes {
			name := a.APIName
			if name == "" {
				name = a.Name
			}
			if !slices.ContainsFunc(t.Attributes, func(x Attr) bool { return x.APIName == name }) {
				bad = name
				break
			}
			v := fmt.Sprint(a.Value)
			size += len(v)
			attrs[name] = v
		}
		if bad != "" {
			skip("1006", fmt.Sprintf("Field '%s' not found", bad))
			continue
		}
		if size > 64<<10 {
			skip("1049", "Attribute values exceed 64 KB")
			continue
		}
		a := s.addActivity(Activity{LeadID: *in.LeadID, ActivityDate: at, ActivityTypeID: in.ActivityTypeID,
			PrimaryAttributeValue: in.PrimaryAttributeValue, Attributes: attrs})
		res = append(res, map[string]any{"id": a.ID, "marketoGUID": a.MarketoGUID, "status": "added"})
	}
	ok(w, map[string]any{"result": res})
}

// Paging tokens: "d:<unix nanos>" (date-based, from pagingtoken.json) or
// "p:<index>" (position), opaque to clients like Marketo's.
func encodeToken(s string) string { return strings.ToUpper(hex.EncodeToString([]byte(s))) + "====" }

func decodeToken(t string) (string, bool) {
	b, err := hex.DecodeString(strings.ToLower(strings.TrimSuffix(t, "====")))
	return string(b), err == nil
}

func (s *Server) pagingToken(w http.ResponseWriter, q url.Values) {
	v := q.Get("sinceDatetime")
	var t time.Time
	var err error
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04-07:00", "2006-01-02"} {
		if t, err = time.Parse(layout, v); err == nil {
			break
		}
	}
	if v == "" || err != nil {
		failErr(w, apiErr{"1003", "Invalid sinceDatetime"})
		return
	}
	ok(w, map[string]any{"nextPageToken": encodeToken(fmt.Sprintf("d:%d", t.UnixNano()))})
}

func (s *Server) getActivities(w http.ResponseWriter, q url.Values) {
	tok := q.Get("nextPageToken")
	if tok == "" {
		failErr(w, apiErr{"701", "nextPageToken cannot be blank"})
		return
	}
	raw, good := decodeToken(tok)
	start := -1
	if good {
		var n int64
		if _, err := fmt.Sscanf(raw, "d:%d", &n); err == nil {
			since := time.Unix(0, n)
			start = sort.Search(len(s.activities), func(i int) bool { return !s.activities[i].ActivityDate.Before(since) })
		} else if _, err := fmt.Sscanf(raw, "p:%d", &n); err == nil && n >= 0 {
			start = min(int(n), len(s.activities))
		}
	}
	if start < 0 {
		failErr(w, apiErr{"1003", "Invalid nextPageToken"})
		return
	}
	typeIDs := splitList(q.Get("activityTypeIds"))
	if len(typeIDs) == 0 || len(typeIDs) > 10 {
		failErr(w, apiErr{"1003", "activityTypeIds must hold 1 to 10 ids"})
		return
	}
	leadIDs := splitList(q.Get("leadIds"))
	if len(leadIDs) > 30 {
		failErr(w, apiErr{"1003", "Too many leadIds (max 30)"})
		return
	}
	batch := 300
	if v := q.Get("batchSize"); v != "" {
		if _, err := fmt.Sscan(v, &batch); err != nil || batch < 1 || batch > 300 {
			batch = 300
		}
	}
	// Like Marketo: a page walks `batch` activities of all types from the
	// token's position and returns those matching the filters.
	end := min(start+batch, len(s.activities))
	res := []map[string]any{}
	for _, a := range s.activities[start:end] {
		if !slices.Contains(typeIDs, fmt.Sprint(a.ActivityTypeID)) {
			continue
		}
		if len(leadIDs) > 0 && !slices.Contains(leadIDs, fmt.Sprint(a.LeadID)) {
			continue
		}
		res = append(res, s.renderActivity(a))
	}
	out := map[string]any{"nextPageToken": encodeToken(fmt.Sprintf("p:%d", end)), "moreResult": end < len(s.activities)}
	if len(res) > 0 {
		out["result"] = res // Marketo omits result when a page has no match
	}
	ok(w, out)
}

func (s *Server) renderActivity(a Activity) map[string]any {
	t := s.types[a.ActivityTypeID]
	attrs := []map[string]any{}
	for _, def := range t.Attributes {
		key := def.APIName
		if key == "" {
			key = def.Name
		}
		if v, ok := a.Attributes[key]; ok {
			attrs = append(attrs, map[string]any{"name": def.Name, "value": v})
		}
	}
	return map[string]any{
		"id": a.ID, "marketoGUID": a.MarketoGUID, "leadId": a.LeadID,
		"activityDate": a.ActivityDate.Format(time.RFC3339), "activityTypeId": a.ActivityTypeID,
		"primaryAttributeValue": a.PrimaryAttributeValue, "attributes": attrs,
	}
}

func (s *Server) activityTypes(w http.ResponseWriter) {
	ids := make([]int, 0, len(s.types))
	for id := range s.types {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	res := []map[string]any{}
	for _, id := range ids {
		t := s.types[id]
		attrs := []map[string]any{}
		for _, a := range t.Attributes {
			attrs = append(attrs, map[string]any{"name": a.Name, "dataType": "string"})
		}
		res = append(res, map[string]any{"id": t.ID, "name": t.Name,
			"primaryAttribute": map[string]any{"name": t.PrimaryAttribute, "dataType": "string"}, "attributes": attrs})
	}
	ok(w, map[string]any{"result": res})
}

// ---- helpers ----

var errMessages = map[string]string{
	"600": "Access token not specified", "601": "Access token invalid", "602": "Access token expired",
	"603": "Access denied", "604": "Request time-out", "605": "HTTP Method not supported",
	"606": "Max rate limit '100' exceeded with in '20' secs", "607": "Daily quota reached",
	"608": "API Temporarily Unavailable", "609": "Invalid JSON", "610": "Requested resource not found",
	"611": "System error", "612": "Invalid Content Type", "615": "Concurrent access limit reached",
	"1003": "Invalid data", "1004": "Lead not found", "1006": "Field not found", "1013": "Object not found",
}

func fail(w http.ResponseWriter, code string) {
	msg := errMessages[code]
	if msg == "" {
		msg = "Error " + code
	}
	failErr(w, apiErr{code, msg})
}

func failErr(w http.ResponseWriter, e apiErr) {
	writeJSON(w, http.StatusOK, map[string]any{"requestId": requestID(), "success": false, "errors": []apiErr{e}})
}

func ok(w http.ResponseWriter, m map[string]any) {
	m["requestId"] = requestID()
	m["success"] = true
	writeJSON(w, http.StatusOK, m)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func requestID() string {
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s#%x", hex.EncodeToString(b), time.Now().UnixMilli())
}

func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func isJSON(r *http.Request) bool {
	return strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "application/json")
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func toInt(v any) int64 {
	switch n := v.(type) {
	case int:
		return int64(n)
	case int64:
		return n
	case float64:
		return int64(n)
	}
	var x int64
	_, _ = fmt.Sscan(fmt.Sprint(v), &x)
	return x
}

func cloneRecord(r Record) Record {
	out := Record{}
	for k, v := range r {
		out[k] = v
	}
	return out
}

// record stores a request; the caller holds s.mu.
func (s *Server) record(r *http.Request, body []byte) {
	h := r.Header.Clone()
	if a := h.Get("Authorization"); a != "" {
		scheme, _, _ := strings.Cut(a, " ")
		h.Set("Authorization", scheme)
	}
	q := r.URL.Query()
	for _, k := range []string{"client_secret", "access_token"} {
		if q.Has(k) {
			q.Set(k, "REDACTED")
		}
	}
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: q, Header: h,
		Body: bytes.Clone(body), Time: time.Now()})
}

// redactForm drops client_secret from a recorded identity body.
func redactForm(body []byte) []byte {
	form, err := url.ParseQuery(string(body))
	if err != nil || !form.Has("client_secret") {
		return body
	}
	form.Set("client_secret", "REDACTED")
	return []byte(form.Encode())
}
