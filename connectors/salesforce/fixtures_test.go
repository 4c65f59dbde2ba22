package salesforce_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/salesforce"
	"github.com/handoff-dev/handoff/connectors/salesforce/salesforcetest"
	"github.com/handoff-dev/handoff/connectors/tokenstore"
)

const fixtureDir = "../../fixtures/salesforce/api"

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// docServer answers with the documented example bodies in fixtures/, so
// the client is checked against the documented shapes, not the fake.
func docServer(t *testing.T, errorFixture string, errorStatus int) (*httptest.Server, *[]*http.Request, *[][]byte) {
	var reqs []*http.Request
	var bodies [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		reqs = append(reqs, r)
		bodies = append(bodies, b)
		w.Header().Set("Sforce-Limit-Info", "api-usage=42/15000")
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		if r.Header.Get("Authorization") != "Bearer doc-access-token" {
			w.WriteHeader(401)
			_, _ = w.Write(fixture(t, "error_invalid_session.json"))
			return
		}
		if errorFixture != "" {
			w.WriteHeader(errorStatus)
			_, _ = w.Write(fixture(t, errorFixture))
			return
		}
		q := r.URL.Query().Get("q")
		switch {
		case r.Method == "GET" && strings.HasSuffix(r.URL.Path, "/query") && strings.Contains(q, "FROM Contact"):
			_, _ = w.Write(fixture(t, "query_contact_response.json"))
		case r.Method == "GET" && strings.HasSuffix(r.URL.Path, "/query") && strings.Contains(q, "FROM User"):
			_, _ = w.Write(fixture(t, "query_user_response.json"))
		case r.Method == "GET" && strings.HasSuffix(r.URL.Path, "/query") && strings.Contains(q, "FROM Task"):
			_, _ = w.Write(fixture(t, "query_task_response.json"))
		case r.Method == "PATCH" && strings.Contains(r.URL.Path, "/sobjects/Task/Handoff_Id__c/"):
			w.WriteHeader(201)
			_, _ = w.Write(fixture(t, "task_upsert_created_response.json"))
		case r.Method == "GET" && strings.Contains(r.URL.Path, "/sobjects/Task/"):
			_, _ = w.Write(fixture(t, "task_get_response.json"))
		case r.Method == "PATCH" && strings.Contains(r.URL.Path, "/sobjects/Task/"):
			w.WriteHeader(204)
		default:
			w.WriteHeader(404)
			_, _ = w.Write(fixture(t, "error_not_found.json"))
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &reqs, &bodies
}

func docClient(t *testing.T, srv *httptest.Server) *salesforce.Client {
	e := newEnv(t, nil)
	if err := e.store.Put(context.Background(), sf, salesforcetest.OrgID, &tokenstore.Token{
		AccessToken: "doc-access-token", TokenType: "Bearer", InstanceURL: srv.URL,
	}); err != nil {
		t.Fatal(err)
	}
	return e.client
}

func keys(b []byte) []string {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestClientAgainstDocumentedFixtures(t *testing.T) {
	srv, reqs, bodies := docServer(t, "", 0)
	c := docClient(t, srv)
	ctx := context.Background()
	tenant := salesforcetest.OrgID

	p, err := c.Profile(ctx, tenant, handoff.ContactRef{Email: "jane.doe@globex.example"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Calls != 1 || p.Account.Tier != "tier_1" || p.Deal.ID != salesforcetest.OppGlobexEnterprise || p.Deal.Probability != 0.9 || p.Facts.OwnerEmail != "ae1@acme.example" {
		t.Fatalf("profile from the documented response: %+v", p)
	}
	r := (*reqs)[0]
	if r.Method != "GET" || r.URL.Path != "/services/data/v62.0/query" || r.Header.Get("Accept") != "application/json" {
		t.Fatalf("query request %s %s", r.Method, r.URL.Path)
	}

	o, err := c.OwnerByEmail(ctx, tenant, "dd1@acme.example")
	if err != nil || o.ID != salesforcetest.UserDD1 || o.TimeZone != "America/New_York" {
		t.Fatalf("owner %+v %v (want the user's TimeZoneSidKey as the time zone)", o, err)
	}

	spec := sampleSpec()
	task, err := c.CreateTask(ctx, spec)
	if err != nil || task.ID != "00T5e0000000001AAC" {
		t.Fatalf("create %+v %v", task, err)
	}
	up := (*reqs)[len(*reqs)-1]
	body := (*bodies)[len(*bodies)-1]
	if up.Method != "PATCH" || up.URL.Path != "/services/data/v62.0/sobjects/Task/Handoff_Id__c/hf_01JD3N4Q2X7S" ||
		up.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("upsert request %s %s %s", up.Method, up.URL.Path, up.Header.Get("Content-Type"))
	}
	if got, want := keys(body), keys(fixture(t, "task_upsert_request.json")); !slices.Equal(got, want) {
		t.Fatalf("upsert body fields %v, documented %v", got, want)
	}

	ft, err := c.FindTask(ctx, tenant, "hf_01JD3N4Q2X7S")
	if err != nil || ft.State != handoff.TaskInProgress || ft.HandoffID != "hf_01JD3N4Q2X7S" || ft.Priority != handoff.PriorityHigh {
		t.Fatalf("find %+v %v", ft, err)
	}
	gt, err := c.GetTask(ctx, tenant, "00T5e0000000001AAC")
	if err != nil || gt.State != handoff.TaskCompleted || gt.CompletedAt.IsZero() || gt.Disposition != "Left voicemail" {
		t.Fatalf("get %+v %v", gt, err)
	}
	if want := time.Date(2026, 11, 24, 17, 30, 0, 0, time.UTC); !gt.Due.Equal(want) {
		t.Errorf("get: due %s, want the ReminderDateTime %s", gt.Due, want)
	}
	get := (*reqs)[len(*reqs)-1]
	if get.URL.Path != "/services/data/v62.0/sobjects/Task/00T5e0000000001AAC" || !strings.Contains(get.URL.Query().Get("fields"), "Handoff_Id__c") {
		t.Fatalf("get request %s", get.URL)
	}
	if err := c.ReassignTask(ctx, tenant, "00T5e0000000001AAC", handoff.Owner{ID: salesforcetest.UserDD1}, handoff.PriorityMedium); err != nil {
		t.Fatal(err)
	}
	var patch map[string]string
	_ = json.Unmarshal((*bodies)[len(*bodies)-1], &patch)
	if patch["OwnerId"] != salesforcetest.UserDD1 || patch["Priority"] != "Normal" || len(patch) != 2 {
		t.Fatalf("reassign body %v", patch)
	}
	if li, ok := c.LimitInfo(tenant); !ok || li.Used != 42 || li.Max != 15000 {
		t.Fatalf("limit info %+v", li)
	}
}

func TestDocumentedErrorBodies(t *testing.T) {
	cases := []struct {
		fixture string
		status  int
		check   func(error) bool
	}{
		{"error_request_limit_exceeded.json", 403, func(err error) bool { var e *handoff.RateLimitError; return errors.As(err, &e) }},
		{"error_malformed_query.json", 400, func(err error) bool {
			var e *handoff.PermanentError
			return errors.As(err, &e) && e.Code == "MALFORMED_QUERY"
		}},
		{"error_required_field_missing.json", 400, func(err error) bool {
			var e *handoff.PermanentError
			return errors.As(err, &e) && e.Code == "REQUIRED_FIELD_MISSING" && strings.Contains(e.Detail, "Subject")
		}},
		{"error_not_found.json", 404, func(err error) bool { return errors.Is(err, handoff.ErrNotFound) }},
		{"error_server_unavailable.json", 503, func(err error) bool {
			var e *handoff.TransientError
			return errors.As(err, &e) && e.Status == 503
		}},
	}
	for _, tc := range cases {
		t.Run(tc.fixture, func(t *testing.T) {
			srv, _, _ := docServer(t, tc.fixture, tc.status)
			c := docClient(t, srv)
			_, err := c.OwnerByEmail(context.Background(), salesforcetest.OrgID, "dd1@acme.example")
			if !tc.check(err) {
				t.Fatalf("%d %s → %v (%T)", tc.status, tc.fixture, err, errors.Unwrap(err))
			}
		})
	}
}

// structure reduces a JSON value to its shape: object keys (recursively)
// and value kinds, with arrays reduced to their first element.
func structure(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = structure(e)
		}
		return out
	case []any:
		if len(x) == 0 {
			return []any{}
		}
		return []any{structure(x[0])}
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	}
	return "?"
}

func TestFakeMatchesDocumentedShapes(t *testing.T) {
	e := newEnv(t, nil)
	tenant := e.install()
	ctx := context.Background()
	if _, err := e.client.Profile(ctx, tenant, handoff.ContactRef{ID: salesforcetest.ContactJane}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.CreateTask(ctx, janeSpec(tenant, "hf_01JD3N4Q2X7S")); err != nil {
		t.Fatal(err)
	}
	// Replay the client's requests against the fake directly to get the raw bodies.
	tok, _ := e.store.Get(ctx, sf, tenant)
	get := func(path string) []byte {
		req, _ := http.NewRequest("GET", e.fake.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.Header.Get("Sforce-Limit-Info") == "" {
			t.Fatal("no Sforce-Limit-Info header")
		}
		b, _ := io.ReadAll(resp.Body)
		return b
	}
	for _, r := range e.apiRequests() {
		if r.Method != "GET" || !strings.HasSuffix(r.Path, "/query") || !strings.Contains(r.Query.Get("q"), "FROM Contact") {
			continue
		}
		raw := get(r.Path + "?" + r.Query.Encode())
		var got, want any
		_ = json.Unmarshal(raw, &got)
		_ = json.Unmarshal(fixture(t, "query_contact_response.json"), &want)
		gs, _ := json.Marshal(structure(got))
		ws, _ := json.Marshal(structure(want))
		if string(gs) != string(ws) {
			t.Fatalf("fake contact query shape\n%s\ndocumented\n%s", gs, ws)
		}
	}
	var found bool
	for _, r := range e.apiRequests() {
		if r.Method == "PATCH" && r.Status == 201 {
			found = true
		}
	}
	if !found {
		t.Fatal("the upsert should have answered 201 Created")
	}
}
