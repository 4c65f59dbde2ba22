package hubspottest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/handoff-dev/handoff/connectors/hubspot/hubspottest"
)

func fixture(t *testing.T, name string) any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "fixtures", "hubspot", "api", name))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	}
	return "?"
}

// covers lists fields of want that got lacks or types differently.
func covers(want, got any, path string) []string {
	var errs []string
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{path + ": want object, got " + kind(got)}
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				errs = append(errs, path+"."+k+": missing")
				continue
			}
			errs = append(errs, covers(wv, gv, path+"."+k)...)
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []string{path + ": want array, got " + kind(got)}
		}
		if len(w) > 0 && len(g) == 0 {
			return []string{path + ": empty array"}
		}
		if len(w) > 0 {
			for i, gv := range g {
				if kind(w[0]) == "object" && kind(gv) == "object" && w[0].(map[string]any)["type"] != nil && gv.(map[string]any)["type"] != w[0].(map[string]any)["type"] {
					continue // mixed kinds (thread messages): compare like with like
				}
				errs = append(errs, covers(w[0], gv, path+"["+strconv.Itoa(i)+"]")...)
			}
		}
	default:
		if kind(want) != kind(got) && kind(want) != "null" && kind(got) != "null" {
			errs = append(errs, path+": want "+kind(want)+", got "+kind(got))
		}
	}
	return errs
}

type client struct {
	t     *testing.T
	base  string
	token string
}

func (c client) do(method, path string, body any) (int, http.Header, any) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &v); err != nil {
			c.t.Fatalf("%s %s: body is not JSON: %s", method, path, b)
		}
	}
	return resp.StatusCode, resp.Header, v
}

func check(t *testing.T, name string, want, got any) {
	t.Helper()
	if errs := covers(want, got, "$"); len(errs) > 0 {
		sort.Strings(errs)
		t.Errorf("%s: fake response lacks documented fields:\n  %s", name, strings.Join(errs, "\n  "))
	}
}

// Every documented response shape in fixtures/hubspot/api is produced by the fake.
func TestResponsesMatchFixtures(t *testing.T) {
	s := hubspottest.New(hubspottest.DefaultSeed())
	defer s.Close()
	tk := s.MintToken(time.Hour)
	c := client{t: t, base: s.URL, token: tk.AccessToken}

	for _, tc := range []struct {
		fixture, method, path string
		body                  any
		status                int
	}{
		{"contact-with-associations.json", "GET", "/crm/v3/objects/contacts/1001?properties=email,firstname,lastname,jobtitle,lifecyclestage,hubspot_owner_id,company&associations=companies,deals", nil, 200},
		{"company.json", "GET", "/crm/v3/objects/companies/2001?properties=name,domain,industry,numberofemployees,annualrevenue,hs_is_target_account,hubspot_owner_id,hs_ideal_customer_profile", nil, 200},
		{"deals-batch-read-response.json", "POST", "/crm/v3/objects/deals/batch/read", fixture(t, "deals-batch-read-request.json"), 200},
		{"pipelines-deals.json", "GET", "/crm/v3/pipelines/deals", nil, 200},
		{"owners.json", "GET", "/crm/v3/owners?email=dd1@acme.example", nil, 200},
		{"task-create-response.json", "POST", "/crm/v3/objects/tasks", fixture(t, "task-create-request.json"), 201},
		{"thread-messages.json", "GET", "/conversations/v3/conversations/threads/7001/messages?limit=2", nil, 200},
		{"error-not-found.json", "GET", "/crm/v3/objects/contacts/999", nil, 404},
		{"error-validation.json", "PATCH", "/crm/v3/objects/deals/3001", map[string]any{"properties": map[string]string{"hubspot_owner_id": "99"}}, 400},
	} {
		status, _, got := c.do(tc.method, tc.path, tc.body)
		if status != tc.status {
			t.Errorf("%s %s: status %d, want %d (%v)", tc.method, tc.path, status, tc.status, got)
			continue
		}
		check(t, tc.fixture, fixture(t, tc.fixture), got)
	}

	// Search finds the task just created, in the documented response shape.
	req := fixture(t, "tasks-search-request.json").(map[string]any)
	req["filterGroups"] = []any{map[string]any{"filters": []any{map[string]any{"propertyName": "hs_task_subject", "operator": "CONTAINS_TOKEN", "value": "globex"}}}}
	status, h, got := c.do("POST", "/crm/v3/objects/tasks/search", req)
	if status != 200 || got.(map[string]any)["total"].(float64) != 1 {
		t.Fatalf("search: %d %v", status, got)
	}
	check(t, "tasks-search-response.json", fixture(t, "tasks-search-response.json"), got)
	if h.Get("X-HubSpot-RateLimit-Max") != "" {
		t.Error("search responses carry no rate-limit headers (docs/crm/hubspot.md)")
	}

	// 429: documented body and headers, Retry-After in seconds.
	s.FailNext(1, http.StatusTooManyRequests, 3*time.Second)
	status, h, got = c.do("GET", "/crm/v3/owners", nil)
	if status != 429 || h.Get("Retry-After") != "3" || h.Get("X-HubSpot-RateLimit-Remaining") != "0" || h.Get("X-HubSpot-RateLimit-Interval-Milliseconds") != "10000" {
		t.Fatalf("429: %d %v", status, h)
	}
	check(t, "error-429.json", fixture(t, "error-429.json"), got)

	s.FailNext(1, http.StatusUnauthorized, 0)
	status, _, got = c.do("GET", "/crm/v3/owners", nil)
	if status != 401 {
		t.Fatalf("401: %d", status)
	}
	check(t, "error-401.json", fixture(t, "error-401.json"), got)

	// Ordinary responses carry the 10-second headers; no daily ones for OAuth.
	_, h, _ = c.do("GET", "/crm/v3/owners", nil)
	if h.Get("X-HubSpot-RateLimit-Max") != "110" || h.Get("X-HubSpot-RateLimit-Remaining") == "" || h.Get("X-HubSpot-RateLimit-Daily") != "" {
		t.Fatalf("rate headers %v", h)
	}
	// Token metadata.
	status, _, got = client{t: t, base: s.URL}.do("GET", "/oauth/v1/access-tokens/"+tk.AccessToken, nil)
	if status != 200 {
		t.Fatalf("token info %d", status)
	}
	check(t, "oauth-access-token-info.json", fixture(t, "oauth-access-token-info.json"), got)
}

func postForm(t *testing.T, u string, form url.Values) (int, any) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v any
	_ = json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v
}

func TestTokenEndpoint(t *testing.T) {
	s := hubspottest.New(hubspottest.DefaultSeed())
	defer s.Close()
	seed := s.Seed()
	code := s.IssueCode("https://x.example/cb")
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://x.example/cb"}, "client_id": {seed.ClientID}, "client_secret": {seed.ClientSecret}}
	status, got := postForm(t, s.TokenURL(), form)
	if status != 200 {
		t.Fatalf("code grant %d %v", status, got)
	}
	check(t, "oauth-token.json", fixture(t, "oauth-token.json"), got)
	if status, _ := postForm(t, s.TokenURL(), form); status != 400 {
		t.Fatalf("code reused: %d", status)
	}
	rt := got.(map[string]any)["refresh_token"].(string)
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {seed.ClientID}, "client_secret": {seed.ClientSecret}}
	if status, _ := postForm(t, s.TokenURL(), refresh); status != 200 {
		t.Fatalf("refresh %d", status)
	}
	s.RevokeRefreshToken(rt)
	status, got = postForm(t, s.TokenURL(), refresh)
	if status != 400 {
		t.Fatalf("revoked refresh %d", status)
	}
	check(t, "oauth-token-bad-refresh-token.json", fixture(t, "oauth-token-bad-refresh-token.json"), got)
	status, got = postForm(t, s.TokenURLV3(), refresh)
	if status != 400 || got.(map[string]any)["error"] != "invalid_grant" {
		t.Fatalf("v3 revoked refresh %d %v", status, got)
	}
	check(t, "oauth-token-invalid-grant.json", fixture(t, "oauth-token-invalid-grant.json"), got)
	if s.RefreshGrants() != 3 || s.CodeGrants() != 2 {
		t.Fatalf("grants: refresh %d code %d", s.RefreshGrants(), s.CodeGrants())
	}
	bad := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {seed.ClientID}, "client_secret": {"wrong"}}
	if status, _ := postForm(t, s.TokenURL(), bad); status != 400 {
		t.Fatalf("bad secret %d", status)
	}
	// Secrets never appear in the request log.
	for _, r := range s.Requests() {
		if strings.Contains(string(r.Body), seed.ClientSecret) || strings.Contains(string(r.Body), rt) || strings.Contains(string(r.Body), code) {
			t.Fatalf("secret recorded: %s", r.Body)
		}
	}
}

func TestExpiredAndRevokedAccessTokens(t *testing.T) {
	s := hubspottest.New(hubspottest.DefaultSeed())
	defer s.Close()
	tk := s.MintToken(time.Hour)
	c := client{t: t, base: s.URL, token: tk.AccessToken}
	if st, _, _ := c.do("GET", "/crm/v3/owners", nil); st != 200 {
		t.Fatal(st)
	}
	s.ExpireAccessTokens()
	st, _, got := c.do("GET", "/crm/v3/owners", nil)
	if st != 401 || got.(map[string]any)["category"] != "EXPIRED_AUTHENTICATION" {
		t.Fatalf("expired: %d %v", st, got)
	}
	if st, _, _ := (client{t: t, base: s.URL}).do("GET", "/crm/v3/owners", nil); st != 401 {
		t.Fatalf("no token: %d", st)
	}
	private := client{t: t, base: s.URL, token: s.Seed().PrivateAppToken}
	st, h, _ := private.do("GET", "/crm/v3/owners", nil)
	if st != 200 || h.Get("X-HubSpot-RateLimit-Daily") == "" {
		t.Fatalf("private app: %d %v", st, h)
	}
}

func TestSearchFiltersAndLimits(t *testing.T) {
	s := hubspottest.New(hubspottest.DefaultSeed())
	defer s.Close()
	c := client{t: t, base: s.URL, token: s.MintToken(time.Hour).AccessToken}
	search := func(filters ...map[string]any) []string {
		fs := []any{}
		for _, f := range filters {
			fs = append(fs, f)
		}
		st, _, got := c.do("POST", "/crm/v3/objects/deals/search", map[string]any{"filterGroups": []any{map[string]any{"filters": fs}}, "properties": []string{"dealname"}, "limit": 10})
		if st != 200 {
			t.Fatalf("search %d %v", st, got)
		}
		var ids []string
		for _, r := range got.(map[string]any)["results"].([]any) {
			ids = append(ids, r.(map[string]any)["id"].(string))
		}
		sort.Strings(ids)
		return ids
	}
	if ids := search(map[string]any{"propertyName": "associations.contact", "operator": "EQ", "value": "1001"}); strings.Join(ids, ",") != "3001,3002" {
		t.Fatalf("by contact: %v", ids)
	}
	if ids := search(map[string]any{"propertyName": "amount", "operator": "GT", "value": "50000"}, map[string]any{"propertyName": "dealstage", "operator": "NEQ", "value": "closedwon"}); strings.Join(ids, ",") != "3001,3003" {
		t.Fatalf("amount: %v", ids)
	}
	if ids := search(map[string]any{"propertyName": "dealstage", "operator": "IN", "values": []string{"closedwon", "qualifiedtobuy"}}); strings.Join(ids, ",") != "3002,3003" {
		t.Fatalf("in: %v", ids)
	}
	var many []any
	for range 7 {
		many = append(many, map[string]any{"propertyName": "dealname", "operator": "HAS_PROPERTY"})
	}
	if st, _, _ := c.do("POST", "/crm/v3/objects/deals/search", map[string]any{"filterGroups": []any{map[string]any{"filters": many}}}); st != 400 {
		t.Fatalf("7 filters in a group: %d", st)
	}
}

// The fake refuses what HubSpot refuses, so a client deviation shows up:
// a consent URL without scope (docs/crm/hubspot.md) and a JSON body sent with another
// media type.
func TestFakeRefusesMalformedRequests(t *testing.T) {
	s := hubspottest.New(hubspottest.DefaultSeed())
	defer s.Close()
	seed := s.Seed()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	q := url.Values{"client_id": {seed.ClientID}, "redirect_uri": {"https://x.example/cb"}, "state": {"s"}}
	res, err := noRedirect.Get(s.AuthURL() + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("consent without scope: %d", res.StatusCode)
	}
	q.Set("scope", "oauth crm.objects.contacts.read")
	if res, err = noRedirect.Get(s.AuthURL() + "?" + q.Encode()); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound {
		t.Fatalf("consent with scope: %d", res.StatusCode)
	}

	body := `{"inputs":[{"id":"1001"}],"properties":["email"],"propertiesWithHistory":[]}`
	for ct, want := range map[string]int{"text/plain": http.StatusUnsupportedMediaType, "": http.StatusUnsupportedMediaType, "application/json; charset=utf-8": http.StatusOK} {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/crm/v3/objects/contacts/batch/read", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+seed.PrivateAppToken)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("Content-Type %q: %d, want %d", ct, res.StatusCode, want)
		}
	}
}

// Notes are created like HubSpot's notes API: hs_timestamp required, note
// association type ids (202 to a contact), not the task ones.
func TestNotes(t *testing.T) {
	s := hubspottest.New(hubspottest.DefaultSeed())
	defer s.Close()
	c := client{t: t, base: s.URL, token: s.MintToken(time.Hour).AccessToken}
	to := func(typeID int) []any {
		return []any{map[string]any{"to": map[string]any{"id": hubspottest.ContactAna}, "types": []any{map[string]any{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": typeID}}}}
	}
	if st, _, got := c.do("POST", "/crm/v3/objects/notes", map[string]any{"properties": map[string]any{"hs_note_body": "x"}, "associations": to(202)}); st != 400 {
		t.Errorf("note without hs_timestamp: %d %v", st, got)
	}
	if st, _, got := c.do("POST", "/crm/v3/objects/notes", map[string]any{"properties": map[string]any{"hs_note_body": "x", "hs_timestamp": "2026-11-20T10:00:00Z"}, "associations": to(204)}); st != 400 {
		t.Errorf("note with the task→contact type: %d %v", st, got)
	}
	st, _, got := c.do("POST", "/crm/v3/objects/notes", map[string]any{"properties": map[string]any{"hs_note_body": "<p>called</p>", "hs_timestamp": "2026-11-20T10:00:00Z"}, "associations": to(202)})
	if st != 201 {
		t.Fatalf("create note: %d %v", st, got)
	}
	notes := s.NotesOn("contacts", hubspottest.ContactAna)
	if len(notes) != 1 || notes[0].Properties["hs_note_body"] != "<p>called</p>" || notes[0].ID != got.(map[string]any)["id"] {
		t.Fatalf("notes on the contact: %+v", notes)
	}
}
