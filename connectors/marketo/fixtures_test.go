package marketo_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/handoff-dev/handoff/connectors/marketo/marketotest"
)

const fixtureDir = "../../fixtures/marketo/api"

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// shape reduces JSON to its structure: object keys, array element shape,
// scalar types.
func shape(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for k, e := range x {
			m[k] = shape(e)
		}
		return m
	case []any:
		if len(x) == 0 {
			return []any{}
		}
		return []any{shape(x[0])}
	case float64, json.Number:
		return "number"
	case string:
		return "string"
	case bool:
		return "bool"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

func decodeAny(t *testing.T, what string, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v: %s", what, err, b)
	}
	return v
}

// assertSameShape: the client sends exactly the documented structure.
func assertSameShape(t *testing.T, fixture string, body []byte) {
	t.Helper()
	want := shape(decodeAny(t, fixture, readFixture(t, fixture)))
	got := shape(decodeAny(t, "request body", body))
	if !reflect.DeepEqual(want, got) {
		w, _ := json.Marshal(want)
		g, _ := json.Marshal(got)
		t.Errorf("%s: shape differs\nwant %s\ngot  %s", fixture, w, g)
	}
}

// missing lists the fixture's key paths absent from (or typed differently
// in) got: the fake may add fields, never drop or retype documented ones.
func missing(path string, want, got any) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{path + " (object)"}
		}
		var out []string
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				out = append(out, path+"."+k)
				continue
			}
			out = append(out, missing(path+"."+k, wv, gv)...)
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []string{path + " (array)"}
		}
		if len(w) == 0 || len(g) == 0 {
			return nil
		}
		return missing(path+"[]", w[0], g[0])
	default:
		if shape(want) != shape(got) {
			return []string{fmt.Sprintf("%s (%v, got %v)", path, shape(want), shape(got))}
		}
	}
	return nil
}

func assertContainsShape(t *testing.T, fixture string, body []byte) {
	t.Helper()
	m := missing("$", decodeAny(t, fixture, readFixture(t, fixture)), decodeAny(t, fixture+" response", body))
	sort.Strings(m)
	if len(m) > 0 {
		t.Errorf("fake response lacks documented %s fields: %s\n%s", fixture, strings.Join(m, ", "), body)
	}
}

// TestFakeMatchesFixtures checks the fake's answers (over plain HTTP)
// against the documented responses, errors included.
func TestFakeMatchesFixtures(t *testing.T) {
	fake := marketotest.New(marketotest.DefaultSeed())
	defer fake.Close()
	do := func(method, path string, q url.Values, hdr http.Header, body []byte) (int, []byte) {
		t.Helper()
		u := fake.URL + path
		if q != nil {
			u += "?" + q.Encode()
		}
		req, err := http.NewRequest(method, u, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range hdr {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	form := func(secret string) []byte {
		return []byte(url.Values{"grant_type": {"client_credentials"}, "client_id": {marketotest.ClientID}, "client_secret": {secret}}.Encode())
	}
	formHdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}

	st, b := do("POST", "/identity/oauth/token", nil, formHdr, form("wrong"))
	if st != http.StatusUnauthorized {
		t.Errorf("bad credentials: HTTP %d, want 401", st)
	}
	assertContainsShape(t, "identity_401.json", b)

	st, b = do("POST", "/identity/oauth/token", nil, formHdr, form(marketotest.ClientSecret))
	if st != 200 {
		t.Fatalf("identity: HTTP %d", st)
	}
	assertContainsShape(t, "identity_token.json", b)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(b, &tok)
	auth := http.Header{"Authorization": {"Bearer " + tok.AccessToken}}
	jsonAuth := http.Header{"Authorization": {"Bearer " + tok.AccessToken}, "Content-Type": {"application/json"}}
	leadFields := "id,email,firstName,lastName,title,company,industry,numberOfEmployees,annualRevenue,sfdcLeadOwnerId,updatedAt"

	check := func(fixture, method, path string, q url.Values, hdr http.Header, body []byte) []byte {
		t.Helper()
		st, b := do(method, path, q, hdr, body)
		if st != 200 {
			t.Errorf("%s: HTTP %d, want 200 (Marketo errors use the envelope)", fixture, st)
		}
		assertContainsShape(t, fixture, b)
		return b
	}
	check("lead_by_id.json", "GET", "/rest/v1/lead/1001.json", url.Values{"fields": {leadFields}}, auth, nil)
	check("leads_by_filter.json", "GET", "/rest/v1/leads.json", url.Values{"filterType": {"email"}, "filterValues": {"dana.whitfield@globex.example"}, "fields": {leadFields}}, auth, nil)
	check("leads_empty.json", "GET", "/rest/v1/leads.json", url.Values{"filterType": {"email"}, "filterValues": {"nobody@none.example"}}, auth, nil)
	check("namedaccounts.json", "GET", "/rest/v1/namedaccounts.json", url.Values{"filterType": {"name"}, "filterValues": {"Globex Corporation"},
		"fields": {"marketoGUID,name,domainName,industry,numberOfEmployees,annualRevenue,tier"}}, auth, nil)
	check("opportunity_roles.json", "GET", "/rest/v1/opportunities/roles.json", url.Values{"filterType": {"leadId"}, "filterValues": {"1001"},
		"fields": {"marketoGUID,externalOpportunityId,leadId,role,isPrimary"}}, auth, nil)
	check("opportunities.json", "GET", "/rest/v1/opportunities.json", url.Values{"filterType": {"externalOpportunityId"}, "filterValues": {"OPP-2026-0042"},
		"fields": {"marketoGUID,externalOpportunityId,name,stage,amount,probability,isClosed,isWon,closeDate"}}, auth, nil)
	check("campaign_trigger_response.json", "POST", "/rest/v1/campaigns/1069/trigger.json", nil, jsonAuth, readFixture(t, "campaign_trigger_request.json"))
	check("activities_external_response.json", "POST", "/rest/v1/activities/external.json", nil, jsonAuth, readFixture(t, "activities_external_request.json"))
	pt := check("pagingtoken.json", "GET", "/rest/v1/activities/pagingtoken.json", url.Values{"sinceDatetime": {"2020-01-01T00:00:00Z"}}, auth, nil)
	var p struct {
		NextPageToken string `json:"nextPageToken"`
	}
	_ = json.Unmarshal(pt, &p)
	check("activities.json", "GET", "/rest/v1/activities.json", url.Values{"activityTypeIds": {"100001"}, "nextPageToken": {p.NextPageToken}}, auth, nil)

	// Errors, all HTTP 200 with success=false.
	check("error_1004.json", "POST", "/rest/v1/campaigns/1069/trigger.json", nil, jsonAuth, []byte(`{"input":{"leads":[{"id":99999}]}}`))
	check("record_skipped_1004.json", "POST", "/rest/v1/activities/external.json", nil, jsonAuth,
		[]byte(`{"input":[{"leadId":99999,"activityDate":"2026-11-23T15:00:00Z","activityTypeId":100001,"primaryAttributeValue":"x","attributes":[]}]}`))
	fake.FailNext(1, "606")
	check("error_606.json", "GET", "/rest/v1/lead/1001.json", nil, auth, nil)
	fake.FailNext(1, "615")
	check("error_615.json", "GET", "/rest/v1/lead/1001.json", nil, auth, nil)
	check("error_601.json", "GET", "/rest/v1/lead/1001.json", nil, http.Header{"Authorization": {"Bearer not-a-token"}}, nil)
	fake.ExpireToken()
	b = check("error_602.json", "GET", "/rest/v1/lead/1001.json", nil, auth, nil)
	if !strings.Contains(string(b), `"602"`) {
		t.Errorf("expired token: %s", b)
	}
	// The access_token query parameter is not accepted.
	_, b = do("GET", "/rest/v1/lead/1001.json", url.Values{"access_token": {tok.AccessToken}}, nil, nil)
	if !strings.Contains(string(b), `"600"`) {
		t.Errorf("query token: %s", b)
	}
}

func TestFixturesAreValidJSON(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(fixtureDir, "*.json"))
	if err != nil || len(files) < 15 {
		t.Fatalf("fixtures: %v (%d files)", err, len(files))
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if !json.Valid(b) {
			t.Errorf("%s is not valid JSON", f)
		}
	}
}
