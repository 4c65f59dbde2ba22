package marketotest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/handoff-dev/handoff/connectors/marketo/marketotest"
)

type tokenResp struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
}

func getToken(t *testing.T, s *marketotest.Server) tokenResp {
	t.Helper()
	// The documented GET form with query parameters.
	q := url.Values{"grant_type": {"client_credentials"}, "client_id": {marketotest.ClientID}, "client_secret": {marketotest.ClientSecret}}
	resp, err := http.Get(s.IdentityURL + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr tokenResp
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || resp.StatusCode != 200 {
		t.Fatalf("token: %d %v", resp.StatusCode, err)
	}
	return tr
}

func get(t *testing.T, s *marketotest.Server, tok, path string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("GET", s.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: HTTP %d", path, resp.StatusCode)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["requestId"].(string); !ok {
		t.Errorf("%s: no requestId: %s", path, b)
	}
	return m
}

func errCode(m map[string]any) string {
	errs, _ := m["errors"].([]any)
	if m["success"] != false || len(errs) == 0 {
		return ""
	}
	c, _ := errs[0].(map[string]any)["code"].(string)
	return c
}

func TestIdentityReturnsCurrentTokenUntilExpiry(t *testing.T) {
	s := marketotest.New(marketotest.DefaultSeed())
	defer s.Close()
	a := getToken(t, s)
	b := getToken(t, s)
	if a.AccessToken != b.AccessToken || b.ExpiresIn > a.ExpiresIn || a.ExpiresIn > 3600 {
		t.Errorf("tokens %+v then %+v: want the same token with its remaining life", a, b)
	}
	s.ExpireToken()
	if get(t, s, a.AccessToken, "/rest/v1/lead/1001.json")["errors"] == nil {
		t.Error("expired token accepted")
	}
	c := getToken(t, s)
	if c.AccessToken == a.AccessToken {
		t.Error("no new token after expiry")
	}
	if code := errCode(get(t, s, a.AccessToken, "/rest/v1/lead/1001.json")); code != "602" {
		t.Errorf("old token: %q, want 602", code)
	}
	if code := errCode(get(t, s, "garbage", "/rest/v1/lead/1001.json")); code != "601" {
		t.Errorf("unknown token: %q, want 601", code)
	}
}

func TestPublishedLimits(t *testing.T) {
	s := marketotest.New(marketotest.DefaultSeed())
	defer s.Close()
	tok := getToken(t, s).AccessToken
	s.SetRateLimit(3, time.Minute)
	for i := range 3 {
		if code := errCode(get(t, s, tok, "/rest/v1/lead/1001.json")); code != "" {
			t.Fatalf("call %d: %s", i, code)
		}
	}
	if code := errCode(get(t, s, tok, "/rest/v1/lead/1001.json")); code != "606" {
		t.Errorf("4th call in the window: %q, want 606", code)
	}
	s.SetRateLimit(0, 0)
	s.SetConcurrencyLimit(2)
	s.SetLatency(50 * time.Millisecond)
	var mu sync.Mutex
	codes := map[string]int{}
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			c := errCode(get(t, s, tok, "/rest/v1/lead/1001.json"))
			mu.Lock()
			codes[c]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if codes["615"] == 0 || codes[""] == 0 {
		t.Errorf("codes = %v, want some 615 and some successes", codes)
	}
}

func TestActivitiesPaging(t *testing.T) {
	s := marketotest.New(marketotest.DefaultSeed())
	defer s.Close()
	tok := getToken(t, s).AccessToken
	since := time.Now().Add(-time.Minute)
	var acts []marketotest.Activity
	for i := range 650 {
		acts = append(acts, marketotest.Activity{LeadID: 1002, ActivityDate: since.Add(time.Duration(i) * time.Millisecond), ActivityTypeID: 1, PrimaryAttributeValue: "/p"})
	}
	s.AddActivities(acts...)
	pt := get(t, s, tok, "/rest/v1/activities/pagingtoken.json?sinceDatetime="+url.QueryEscape(since.UTC().Format(time.RFC3339)))
	next, _ := pt["nextPageToken"].(string)
	total, pages := 0, 0
	for {
		m := get(t, s, tok, "/rest/v1/activities.json?activityTypeIds=1&leadIds=1002&nextPageToken="+url.QueryEscape(next))
		res, _ := m["result"].([]any)
		total += len(res)
		pages++
		if m["moreResult"] != true {
			break
		}
		next = m["nextPageToken"].(string)
	}
	if total != 650 || pages != 3 {
		t.Errorf("read %d activities in %d pages, want 650 in 3", total, pages)
	}
	if code := errCode(get(t, s, tok, "/rest/v1/activities.json?activityTypeIds=1")); code != "701" {
		t.Errorf("no paging token: %q, want 701", code)
	}
	reqs := s.Requests()
	if reqs[0].Query.Get("client_secret") != "REDACTED" || strings.Contains(reqs[1].Header.Get("Authorization"), tok) {
		t.Error("recorded requests carry secrets")
	}
}
