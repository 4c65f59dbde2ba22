package salesforcetest

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

type apiResp struct {
	status int
	header http.Header
	body   []byte
}

func call(t *testing.T, method, u, token, body string) apiResp {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, u, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return apiResp{resp.StatusCode, resp.Header, b}
}

func errCode(t *testing.T, r apiResp) string {
	t.Helper()
	var arr []struct {
		ErrorCode string `json:"errorCode"`
		Message   string `json:"message"`
	}
	if err := json.Unmarshal(r.body, &arr); err != nil || len(arr) != 1 {
		t.Fatalf("error body is not the documented array: %s", r.body)
	}
	return arr[0].ErrorCode
}

func postToken(t *testing.T, s *Server, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(s.TokenURL, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func session(t *testing.T, s *Server) string {
	rt := s.IssueRefreshToken(UserAdmin)
	st, m := postToken(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret}})
	if st != 200 {
		t.Fatalf("refresh: %d %v", st, m)
	}
	if _, has := m["expires_in"]; has {
		t.Fatal("Salesforce token responses carry no expires_in")
	}
	for _, k := range []string{"access_token", "instance_url", "id", "issued_at", "signature", "token_type"} {
		if m[k] == nil {
			t.Fatalf("token response lacks %s", k)
		}
	}
	if _, has := m["refresh_token"]; has {
		t.Fatal("a refresh response should not carry a new refresh token")
	}
	return m["access_token"].(string)
}

func q(s *Server, soql string) string {
	return s.URL + "/services/data/v62.0/query?q=" + url.QueryEscape(soql)
}

func TestSeedIDsAreDistinctOn15Characters(t *testing.T) {
	s := New(DefaultSeed())
	defer s.Close()
	seen := map[string]string{}
	for obj, recs := range s.db.recs {
		for id := range recs {
			if len(id) != 18 {
				t.Errorf("%s id %s is not 18 characters", obj, id)
			}
			if other, dup := seen[id[:15]]; dup {
				t.Errorf("%s and %s share their 15-character form", id, other)
			}
			seen[id[:15]] = id
		}
	}
}

func TestQueryAndErrors(t *testing.T) {
	s := New(DefaultSeed())
	defer s.Close()
	tok := session(t, s)

	r := call(t, "GET", q(s, "SELECT Id, Name FROM Contact WHERE Email = 'jane.doe@globex.example'"), "", "")
	if r.status != 401 || errCode(t, r) != "INVALID_SESSION_ID" {
		t.Fatalf("no token: %d %s", r.status, r.body)
	}
	r = call(t, "GET", q(s, "SELECT Id, Name, Account.Owner.Email FROM Contact WHERE Email = 'JANE.doe@globex.example'"), tok, "")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Sforce-Limit-Info"), "api-usage=") {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var res struct {
		TotalSize int              `json:"totalSize"`
		Done      bool             `json:"done"`
		Records   []map[string]any `json:"records"`
	}
	_ = json.Unmarshal(r.body, &res)
	if res.TotalSize != 1 || !res.Done || res.Records[0]["Name"] != "Jane Doe" {
		t.Fatalf("%s", r.body)
	}
	acc := res.Records[0]["Account"].(map[string]any)
	if acc["Owner"].(map[string]any)["Email"] != "ae1@acme.example" || acc["attributes"] == nil {
		t.Fatalf("relationship: %v", acc)
	}

	for _, c := range []struct{ soql, code string }{
		{"SELECT Id FROM Contact WHERE", "MALFORMED_QUERY"},
		{"SELECT Id FROM Contact WHERE Email = 'x' OR Email = 'y' garbage", "MALFORMED_QUERY"},
		{"SELECT Id FROM Contact WHERE Email = 'unterminated", "MALFORMED_QUERY"},
		{`SELECT Id FROM Contact WHERE Email = 'bad \q escape'`, "MALFORMED_QUERY"},
		{"SELECT Id FROM Contact WHERE Email = 'x' OR Email != '", "MALFORMED_QUERY"},
		{"SELECT Nope__c FROM Contact", "INVALID_FIELD"},
		{"SELECT Id, Foo.Name FROM Contact", "INVALID_FIELD"},
		{"SELECT Id FROM Widget__c", "INVALID_TYPE"},
		{"SELECT Id, (SELECT Id FROM Nothings) FROM Contact", "INVALID_TYPE"},
	} {
		r := call(t, "GET", q(s, c.soql), tok, "")
		if r.status != 400 || errCode(t, r) != c.code {
			t.Errorf("%s: %d %s, want 400 %s", c.soql, r.status, r.body, c.code)
		}
	}

	// Escaped quotes stay inside the literal.
	r = call(t, "GET", q(s, `SELECT Id FROM Contact WHERE Email = 'x\' OR Email != \''`), tok, "")
	_ = json.Unmarshal(r.body, &res)
	if r.status != 200 || res.TotalSize != 0 {
		t.Fatalf("escaped literal: %d %s", r.status, r.body)
	}
	// OR, IN, LIKE, booleans, sub-queries, ORDER BY, LIMIT.
	r = call(t, "GET", q(s, "SELECT Id, Name, (SELECT Role, Opportunity.StageName FROM OpportunityContactRoles WHERE IsPrimary = true) FROM Contact WHERE (Email LIKE '%globex%' OR Id IN ('"+ContactBanker+"')) AND Title != null ORDER BY Name DESC LIMIT 2"), tok, "")
	_ = json.Unmarshal(r.body, &res)
	if r.status != 200 || res.TotalSize != 2 || res.Records[0]["Name"] != "Maria Lopez" || res.Records[1]["Name"] != "Jane Doe" {
		t.Fatalf("%d %s", r.status, r.body)
	}
	roles := res.Records[1]["OpportunityContactRoles"].(map[string]any)
	if roles["totalSize"].(float64) != 1 {
		t.Fatalf("primary roles %v", roles)
	}
}

func TestTaskWritesAndUpsert(t *testing.T) {
	s := New(DefaultSeed())
	defer s.Close()
	tok := session(t, s)
	base := s.URL + "/services/data/v62.0/sobjects/Task"

	r := call(t, "POST", base, tok, `{"Subject":"Call","WhoId":"`+ContactJane+`","WhatId":"`+OppGlobexEnterprise+`","ActivityDate":"2026-11-24","ReminderDateTime":"2026-11-24T12:30:00-05:00","IsReminderSet":true}`)
	var cr struct {
		ID      string `json:"id"`
		Success bool   `json:"success"`
		Errors  []any  `json:"errors"`
	}
	_ = json.Unmarshal(r.body, &cr)
	if r.status != 201 || !cr.Success || cr.Errors == nil || !strings.HasPrefix(cr.ID, "00T") {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	rec := s.Record("Task", cr.ID)
	if rec["OwnerId"] != UserAdmin || rec["Status"] != "Not Started" || rec["Priority"] != "Normal" || rec["IsClosed"] != false {
		t.Fatalf("defaults: %v", rec)
	}
	if rec["ReminderDateTime"] != "2026-11-24T17:30:00.000+0000" || rec["IsReminderSet"] != true {
		t.Fatalf("reminder: %v %v, want the instant in UTC as the API returns it, and true", rec["ReminderDateTime"], rec["IsReminderSet"])
	}

	for _, c := range []struct{ body, code string }{
		{`{"Subject":"` + strings.Repeat("s", 256) + `"}`, "STRING_TOO_LONG"},
		{`{"ActivityDate":"2026-11-24T10:00:00Z"}`, "JSON_PARSER_ERROR"},
		{`{"ReminderDateTime":"2026-11-24"}`, "JSON_PARSER_ERROR"},
		{`{"IsReminderSet":"true"}`, "JSON_PARSER_ERROR"},
		{`{"Subject":true}`, "JSON_PARSER_ERROR"},
		{`{"Priority":"Urgent"}`, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"},
		{`{"OwnerId":"` + UserFormer + `"}`, "INACTIVE_OWNER_OR_USER"},
		{`{"OwnerId":"0055e00000NONE1AAA"}`, "INVALID_CROSS_REFERENCE_KEY"},
		{`{"WhoId":"` + LeadNewCo + `","WhatId":"` + AccountGlobex + `"}`, "FIELD_INTEGRITY_EXCEPTION"},
		{`{"Bogus__c":"x"}`, "INVALID_FIELD"},
		{`{"IsClosed":true}`, "INVALID_FIELD_FOR_INSERT_UPDATE"},
		{`not json`, "JSON_PARSER_ERROR"},
	} {
		r := call(t, "POST", base, tok, c.body)
		if r.status != 400 || errCode(t, r) != c.code {
			t.Errorf("%.40s: %d %s, want %s", c.body, r.status, r.body, c.code)
		}
	}

	up := base + "/Handoff_Id__c/hf_1"
	r = call(t, "PATCH", up, tok, `{"Subject":"first"}`)
	var ur struct {
		ID      string `json:"id"`
		Created bool   `json:"created"`
	}
	_ = json.Unmarshal(r.body, &ur)
	if r.status != 201 || !ur.Created {
		t.Fatalf("upsert create: %d %s", r.status, r.body)
	}
	first := ur.ID
	r = call(t, "PATCH", up, tok, `{"Subject":"second"}`)
	_ = json.Unmarshal(r.body, &ur)
	if r.status != 200 || ur.Created || ur.ID != first || s.Record("Task", first)["Subject"] != "second" {
		t.Fatalf("upsert update: %d %s", r.status, r.body)
	}
	if r := call(t, "GET", up, tok, ""); r.status != 200 || !strings.Contains(string(r.body), first) {
		t.Fatalf("get by external id: %d", r.status)
	}
	if r := call(t, "PATCH", base+"/Subject/x", tok, `{}`); r.status != 404 {
		t.Fatalf("non-external-id field: %d", r.status)
	}
	// Two records with the same value: 300 Multiple Choices.
	call(t, "POST", base, tok, `{"Subject":"dup","Handoff_Id__c":"hf_dup"}`)
	call(t, "POST", base, tok, `{"Subject":"dup","Handoff_Id__c":"hf_dup"}`)
	if r := call(t, "PATCH", base+"/Handoff_Id__c/hf_dup", tok, `{"Subject":"x"}`); r.status != 300 {
		t.Fatalf("ambiguous upsert: %d", r.status)
	}

	if r := call(t, "PATCH", base+"/"+first, tok, `{"Status":"Completed"}`); r.status != 204 {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	rec = s.Record("Task", first)
	if rec["IsClosed"] != true || rec["CompletedDateTime"] == nil {
		t.Fatalf("completed: %v", rec)
	}
	r = call(t, "GET", base+"/"+first+"?fields=Id,Status,IsClosed", tok, "")
	var got map[string]any
	_ = json.Unmarshal(r.body, &got)
	if r.status != 200 || got["Status"] != "Completed" || len(got) != 4 { // + attributes
		t.Fatalf("get: %d %s", r.status, r.body)
	}
	if r := call(t, "GET", base+"/00T5e0000009999AAC", tok, ""); r.status != 404 || errCode(t, r) != "NOT_FOUND" {
		t.Fatalf("missing: %d", r.status)
	}
	// Recorded requests never keep the bearer token.
	for _, rq := range s.Requests() {
		if strings.Contains(rq.Header.Get("Authorization"), tok) {
			t.Fatal("token recorded")
		}
	}
}

func TestInjectionAndLimits(t *testing.T) {
	s := New(DefaultSeed(), WithDailyLimit(3))
	defer s.Close()
	tok := session(t, s)
	u := q(s, "SELECT Id FROM User")

	s.FailNext(1, 403, 0)
	if r := call(t, "GET", u, tok, ""); r.status != 403 || errCode(t, r) != "REQUEST_LIMIT_EXCEEDED" {
		t.Fatalf("%d", r.status)
	}
	s.FailNext(1, 503, 2*time.Second)
	if r := call(t, "GET", u, tok, ""); r.status != 503 || errCode(t, r) != "SERVER_UNAVAILABLE" || r.header.Get("Retry-After") != "2" {
		t.Fatalf("%d %v", r.status, r.header)
	}
	for i := 1; i <= 3; i++ {
		r := call(t, "GET", u, tok, "")
		if r.status != 200 || r.header.Get("Sforce-Limit-Info") != fmt.Sprintf("api-usage=%d/3", i) {
			t.Fatalf("call %d: %d %s", i, r.status, r.header.Get("Sforce-Limit-Info"))
		}
	}
	if r := call(t, "GET", u, tok, ""); r.status != 403 || errCode(t, r) != "REQUEST_LIMIT_EXCEEDED" {
		t.Fatalf("over the daily limit: %d", r.status)
	}

	s.SetLatency(200 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("latency not applied: %v", err)
	}
	s.SetLatency(0)

	s.ExpireSessions()
	if r := call(t, "GET", u, tok, ""); r.status != 401 {
		t.Fatalf("expired session: %d", r.status)
	}
}

func sign(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256"}`))
	b, _ := json.Marshal(claims)
	p := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(h + "." + p))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return h + "." + p + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestJWTBearerGrant(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	s := New(DefaultSeed(), WithJWTKey(&key.PublicKey))
	defer s.Close()
	exp := time.Now().Add(3 * time.Minute).Unix()
	good := map[string]any{"iss": DefaultClientID, "sub": AdminUsername, "aud": "https://login.salesforce.com", "exp": exp}
	grant := func(a string) (int, map[string]any) {
		return postToken(t, s, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {a}})
	}
	st, m := grant(sign(t, key, good))
	if st != 200 || m["refresh_token"] != nil || !strings.HasSuffix(m["id"].(string), "/id/"+OrgID+"/"+UserAdmin) {
		t.Fatalf("good assertion: %d %v", st, m)
	}
	with := func(k string, v any) map[string]any {
		c := map[string]any{}
		for kk, vv := range good {
			c[kk] = vv
		}
		c[k] = v
		return c
	}
	for name, a := range map[string]string{
		"other key":     sign(t, other, good),
		"wrong issuer":  sign(t, key, with("iss", "someone-else")),
		"token URL aud": sign(t, key, with("aud", s.TokenURL)),
		"expired":       sign(t, key, with("exp", time.Now().Add(-time.Minute).Unix())),
		"too long":      sign(t, key, with("exp", time.Now().Add(time.Hour).Unix())),
		"unknown user":  sign(t, key, with("sub", "nobody@acme.example")),
		"not a jwt":     "abc",
	} {
		st, m := grant(a)
		if st != 400 || m["error"] != "invalid_grant" {
			t.Errorf("%s: %d %v", name, st, m)
		}
	}
}

func TestAuthorizationCodeWithPKCE(t *testing.T) {
	s := New(DefaultSeed())
	defer s.Close()
	verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-and-some-more-chars"
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	authorize := func() string {
		resp, err := noFollow.Get(s.AuthorizeURL + "?" + url.Values{"response_type": {"code"}, "client_id": {DefaultClientID},
			"redirect_uri": {"https://app.example/cb"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"},
			"state": {"st"}, "scope": {"api refresh_token"}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if loc.Query().Get("state") != "st" {
			t.Fatalf("state not echoed: %s", loc)
		}
		return loc.Query().Get("code")
	}
	form := func(code, v string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {DefaultClientID},
			"client_secret": {DefaultClientSecret}, "redirect_uri": {"https://app.example/cb"}, "code_verifier": {v}}
	}
	if st, m := postToken(t, s, form(authorize(), "wrong")); st != 400 || m["error_description"] != "invalid code verifier" {
		t.Fatalf("wrong verifier: %d %v", st, m)
	}
	code := authorize()
	bad := form(code, verifier)
	bad.Set("client_secret", "nope")
	if st, m := postToken(t, s, bad); st != 400 || m["error"] != "invalid_client" {
		t.Fatalf("bad secret: %d %v", st, m)
	}
	code = authorize()
	st, m := postToken(t, s, form(code, verifier))
	if st != 200 || m["refresh_token"] == nil {
		t.Fatalf("good: %d %v", st, m)
	}
	if st, _ := postToken(t, s, form(code, verifier)); st != 400 {
		t.Fatal("a code must be usable once")
	}
	// Secrets are redacted in the recorded token requests.
	for _, r := range s.Requests() {
		if strings.Contains(string(r.Body), DefaultClientSecret) || strings.Contains(string(r.Body), verifier) {
			t.Fatal("secret recorded")
		}
	}
}

// PATCH honours If-Unmodified-Since: 400 when it is not an HTTP date, 412
// (no write) when LastModifiedDate is later, 204 otherwise.
func TestTaskConditionalUpdate(t *testing.T) {
	s := New(DefaultSeed())
	defer s.Close()
	tok := session(t, s)
	base := s.URL + "/services/data/v62.0/sobjects/Task"
	r := call(t, "POST", base, tok, `{"Subject":"Call","WhoId":"`+ContactJane+`"}`)
	var cr struct{ ID string }
	_ = json.Unmarshal(r.body, &cr)
	patch := func(since, subject string) apiResp {
		req, _ := http.NewRequest("PATCH", base+"/"+cr.ID, strings.NewReader(`{"Subject":"`+subject+`"}`))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("If-Unmodified-Since", since)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return apiResp{resp.StatusCode, resp.Header, b}
	}
	lm, err := time.Parse("2006-01-02T15:04:05.000-0700", s.Record("Task", cr.ID)["LastModifiedDate"].(string))
	if err != nil || lm.Nanosecond() != 0 {
		t.Fatalf("LastModifiedDate %v (%v), want whole seconds", lm, err)
	}
	if r := patch("yesterday", "x"); r.status != 400 {
		t.Errorf("bad date: %d %s", r.status, r.body)
	}
	if r := patch(lm.Add(-time.Second).UTC().Format(http.TimeFormat), "stale"); r.status != 412 || errCode(t, r) != "PRECONDITION_FAILED" {
		t.Errorf("stale: %d %s", r.status, r.body)
	}
	if got := s.Record("Task", cr.ID)["Subject"]; got != "Call" {
		t.Errorf("a refused write changed Subject to %v", got)
	}
	if r := patch(lm.UTC().Format(http.TimeFormat), "fresh"); r.status != 204 {
		t.Errorf("fresh: %d %s", r.status, r.body)
	}
	if got := s.Record("Task", cr.ID)["Subject"]; got != "fresh" {
		t.Errorf("Subject %v after a fresh conditional write", got)
	}
}
