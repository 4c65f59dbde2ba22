package hubspot_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/hubspot"
)

// These tests run the client against small hand-written servers that
// answer as hubspot.md documents but differently from hubspottest, where
// the doc allows it.

func privateClient(t *testing.T, h http.HandlerFunc) (*hubspot.Client, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := hubspot.New(hubspot.Config{APIBaseURL: srv.URL, PrivateAppToken: "pat-na1-test", PortalID: portal}, hubspot.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return c, &n
}

const ownerBody = `{"id":"101","email":"dd1@acme.example","type":"PERSON","firstName":"Dana","lastName":"D","userId":9001,"archived":false}`

// docs/crm/hubspot.md lists the rate-limit headers; a response carrying only some of them
// (here no X-HubSpot-RateLimit-Remaining) says nothing about what is left.
// It used to read as "0 remaining", so every later call was refused
// locally for a whole window.
func TestPartialRateLimitHeadersDoNotBlock(t *testing.T) {
	c, n := privateClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-HubSpot-RateLimit-Max", "110")
		w.Header().Set("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(ownerBody))
	})
	for i := range 3 {
		if _, err := c.OwnerByID(ctx, portal, "101"); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if n.Load() != 3 {
		t.Fatalf("%d calls reached HubSpot, want 3", n.Load())
	}
	if ri, ok := c.LastRateLimit(portal); !ok || ri.RemainingKnown || ri.Max != 110 {
		t.Fatalf("rate info %+v %v", ri, ok)
	}
}

// docs/crm/hubspot.md: some 429s carry category RATE_LIMITS and only a message, without
// policyName. "You have reached your daily limit." must wait like DAILY,
// not like the 10-second window.
func TestDailyLimitMessageWithoutPolicyName(t *testing.T) {
	c, _ := privateClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"status":"error","message":"You have reached your daily limit.","category":"RATE_LIMITS","correlationId":"c033cdaa-0000"}`))
	})
	_, err := c.OwnerByID(ctx, portal, "101")
	var re *handoff.RateLimitError
	if !errors.As(err, &re) || re.RetryAfter != time.Hour {
		t.Fatalf("err = %v (%+v)", err, re)
	}
}

// docs/crm/hubspot.md: property values are strings or null; a null is an empty value.
func TestNullPropertiesAndUnknownFields(t *testing.T) {
	c, _ := privateClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"501","properties":{"email":"ann@acme.example","firstname":"Ann","lastname":null,"jobtitle":null,"hs_object_id":"501"},` +
			`"propertiesWithHistory":{},"createdAt":"2026-01-01T00:00:00Z","updatedAt":"2026-01-02T00:00:00.123Z","archived":false,"url":"https://app.hubspot.com/x"}`))
	})
	p, err := c.Profile(ctx, portal, handoff.ContactRef{ID: "501"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Contact.Email != "ann@acme.example" || p.Facts.Name != "Ann" || p.Account.Known || len(p.Deals) != 0 {
		t.Fatalf("profile %+v", p)
	}
}

// docs/crm/hubspot.md: GET /crm/v3/owners documents limit/after/archived; the email filter
// is community-documented only. Against a server that ignores it, the
// owner on page 2 used to be reported as not found.
func TestOwnerByEmailFollowsPagingWhenEmailIsIgnored(t *testing.T) {
	c, n := privateClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/crm/v3/owners" || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		after := r.URL.Query().Get("after")
		res := []map[string]any{}
		next := ""
		switch after {
		case "":
			for i := range 100 {
				res = append(res, map[string]any{"id": fmt.Sprint(1000 + i), "email": fmt.Sprintf("rep%d@acme.example", i), "type": "PERSON", "userId": 9000 + i, "archived": false})
			}
			next = "100"
		case "100":
			res = append(res, map[string]any{"id": "2001", "email": "Closer@Acme.example", "firstName": "Cleo", "lastName": "Ser", "type": "PERSON", "userId": 9999, "archived": false})
		}
		body := map[string]any{"results": res}
		if next != "" {
			body["paging"] = map[string]any{"next": map[string]any{"after": next, "link": "https://api.hubapi.com/crm/v3/owners?after=" + next}}
		}
		_ = json.NewEncoder(w).Encode(body)
	})
	o, err := c.OwnerByEmail(ctx, portal, "closer@acme.example")
	if err != nil || o.ID != "2001" || o.Name != "Cleo Ser" {
		t.Fatalf("owner %+v, %v", o, err)
	}
	if n.Load() != 2 {
		t.Fatalf("%d calls, want 2", n.Load())
	}
	if _, err := c.OwnerByEmail(ctx, portal, "nobody@acme.example"); !errors.Is(err, handoff.ErrNotFound) {
		t.Fatalf("unknown owner: %v", err)
	}
}

// docs/crm/hubspot.md: a revoked refresh token is BAD_REFRESH_TOKEN (v1 "status") or
// invalid_grant; an endpoint answering in HubSpot's generic error JSON
// carries it in "category" with status "error". That form used to be
// taken for a configuration error: the portal was not marked for
// re-authorization, so every job refreshed again.
func TestRefreshRejectedInGenericErrorForm(t *testing.T) {
	e := newEnv(t, nil)
	var grants atomic.Int32
	tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		grants.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"status":"error","message":"missing or invalid refresh token","correlationId":"5d3c6f9e-0000","category":"BAD_REFRESH_TOKEN"}`))
	}))
	defer tokenSrv.Close()
	e.cfg.TokenURL = tokenSrv.URL + "/oauth/2026-03/token"
	e.client = e.newClient(e.cfg)
	e.install(-time.Minute)
	_, err := e.client.OwnerByEmail(ctx, portal, "dd1@acme.example")
	var ae *handoff.AuthError
	if !errors.As(err, &ae) || ae.Refreshable {
		t.Fatalf("err = %v", err)
	}
	stored, _ := e.store.Get(ctx, handoff.SourceHubSpot, portal)
	if !stored.NeedsReauth {
		t.Fatal("portal not marked for re-authorization")
	}
	if _, err := e.client.OwnerByEmail(ctx, portal, "dd1@acme.example"); !errors.As(err, &ae) || grants.Load() != 1 {
		t.Fatalf("second call: %v (grants %d)", err, grants.Load())
	}
}
