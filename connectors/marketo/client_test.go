package marketo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sethvargo/go-envconfig"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/marketo"
	"github.com/handoff-dev/handoff/connectors/marketo/marketotest"
	"github.com/handoff-dev/handoff/connectors/ratelimit"
	"github.com/handoff-dev/handoff/connectors/tokenstore"
	"github.com/handoff-dev/handoff/internal/testredis"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

type env struct {
	fake  *marketotest.Server
	rdb   *redis.Client
	store *tokenstore.Store
	cfg   marketo.Config
}

func newEnv(t *testing.T) *env {
	t.Helper()
	fake := marketotest.New(marketotest.DefaultSeed())
	t.Cleanup(fake.Close)
	rdb := testredis.New(t).Client(t)
	store, err := tokenstore.New(rdb, testKey)
	if err != nil {
		t.Fatal(err)
	}
	return &env{fake: fake, rdb: rdb, store: store, cfg: marketo.Config{
		BaseURL: fake.URL, MunchkinID: marketotest.Munchkin,
		ClientID: marketotest.ClientID, ClientSecret: marketotest.ClientSecret,
		TaskTarget:      fmt.Sprintf("campaign:%d", marketotest.CampaignID),
		ActivityTypeID:  marketotest.ActivityTypeID,
		TierField:       "namedaccount:" + marketotest.TierField,
		OwnerEmailField: marketotest.OwnerEmailField,
		CRMSynced:       true,
		RateLimit:       "100/20s",
		Concurrency:     10,
		HTTPTimeout:     5 * time.Second,
	}}
}

// client builds a client on the env's Redis, as another process would.
func (e *env) client(t *testing.T, mod ...func(*marketo.Config)) *marketo.Client {
	t.Helper()
	cfg := e.cfg
	for _, m := range mod {
		m(&cfg)
	}
	c, err := marketo.New(cfg, marketo.Deps{Tokens: e.store, Redis: e.rdb, Limiter: ratelimit.New(e.rdb)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ref(id int) handoff.ContactRef { return handoff.ContactRef{ID: fmt.Sprint(id)} }

func TestProfileTier1Lead(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	p, err := c.Profile(t.Context(), marketotest.Munchkin, ref(marketotest.LeadTier1))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Marketo Profile (lead + named account, CRM-synced): %d API calls cold", p.Calls)
	if p.Calls != 2 || e.fake.Calls() != 2 {
		t.Errorf("calls = %d (fake saw %d), want 2", p.Calls, e.fake.Calls())
	}
	f, a := p.Facts, p.Account
	if f.Name != "Dana Whitfield" || f.Email != "dana.whitfield@globex.example" || f.Title != "VP Operations" || f.Seniority != "vp" || !f.Known {
		t.Errorf("contact facts = %+v", f)
	}
	if f.OwnerID != "005A0000001AE001" || f.OwnerEmail != "ae1@acme.example" {
		t.Errorf("owner = %q %q", f.OwnerID, f.OwnerEmail)
	}
	if a.Name != "Globex Corporation" || a.Tier != "tier_1" || !a.IsTarget || a.Industry != "Manufacturing" || a.Employees != 4200 || a.Revenue != 880e6 || a.Domain != "globex.example" {
		t.Errorf("account = %+v", a)
	}
	if p.Contact.ID != "1001" || p.Contact.Type != "lead" || p.Contact.CRM != handoff.SourceMarketo {
		t.Errorf("ref = %+v", p.Contact)
	}
	if p.Deal.Known || len(p.Deals) != 0 {
		t.Errorf("CRM-synced instance must not read opportunities: %+v", p.Deals)
	}
	// The lead call asked for the documented fields, including the owner field.
	q := e.fake.Requests()[1].Query // [0] is the identity call
	for _, f := range []string{"email", "firstName", "lastName", "title", "company", "industry", "numberOfEmployees", "annualRevenue", "sfdcLeadOwnerId", marketotest.OwnerEmailField} {
		if !strings.Contains(","+q.Get("fields")+",", ","+f+",") {
			t.Errorf("fields %q lack %s", q.Get("fields"), f)
		}
	}
}

func TestProfileByEmailStudentAndExecAndBank(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	p, err := c.Profile(t.Context(), marketotest.Munchkin, handoff.ContactRef{Email: "sam.student@university.example"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Calls != 1 || p.Facts.Seniority != "student" || p.Account.Known || p.Contact.ID != "1002" {
		t.Errorf("student profile = %+v calls %d", p, p.Calls)
	}
	reqs := e.fake.Requests()
	last := reqs[len(reqs)-1]
	if last.Path != "/rest/v1/leads.json" || last.Query.Get("filterType") != "email" || last.Query.Get("filterValues") != "sam.student@university.example" {
		t.Errorf("lookup by email = %s %v", last.Path, last.Query)
	}

	p, err = c.Profile(t.Context(), marketotest.Munchkin, ref(marketotest.LeadExec))
	if err != nil {
		t.Fatal(err)
	}
	if p.Facts.Seniority != "c_suite" || p.Account.Tier != "tier_1" {
		t.Errorf("exec: seniority %q tier %q", p.Facts.Seniority, p.Account.Tier)
	}
	p, err = c.Profile(t.Context(), marketotest.Munchkin, ref(marketotest.LeadBanking))
	if err != nil {
		t.Fatal(err)
	}
	if p.Account.Industry != "Banking" || p.Account.Tier != "tier_2" || p.Facts.OwnerEmail != "sdr1@acme.example" {
		t.Errorf("bank: %+v", p.Account)
	}
}

func TestProfileOpportunitiesOnlyWithoutCRMSync(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, func(c *marketo.Config) { c.CRMSynced = false })
	p, err := c.Profile(t.Context(), marketotest.Munchkin, ref(marketotest.LeadTier1))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Marketo Profile without CRM sync: %d API calls cold", p.Calls)
	if p.Calls != 4 {
		t.Errorf("calls = %d, want 4 (lead, named account, roles, opportunities)", p.Calls)
	}
	if len(p.Deals) != 2 || p.Deal.ID != "OPP-2026-0042" || !p.Deal.IsOpen || p.Deal.Probability != 0.8 || p.Deal.Stage != "Negotiation/Review" || p.Deal.Amount != 240000 {
		t.Errorf("deal = %+v (of %d)", p.Deal, len(p.Deals))
	}
}

func TestProfileNotFoundAndOtherTenant(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	_, err := c.Profile(t.Context(), marketotest.Munchkin, ref(99999))
	if !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("unknown lead: %v, want ErrNotFound", err)
	}
	_, err = c.Profile(t.Context(), marketotest.Munchkin, handoff.ContactRef{Email: "nobody@nowhere.example"})
	if !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("unknown email: %v, want ErrNotFound", err)
	}
	calls := e.fake.Calls()
	_, err = c.Profile(t.Context(), "999-XYZ-000", ref(marketotest.LeadTier1))
	if !errors.Is(err, handoff.ErrNotInstalled) {
		t.Errorf("other tenant: %v, want ErrNotInstalled", err)
	}
	if e.fake.Calls() != calls {
		t.Error("other tenant reached Marketo")
	}
	// The tenant is case-insensitive (munchkin ids print upper-case).
	if _, err := c.Profile(t.Context(), strings.ToLower(marketotest.Munchkin), ref(marketotest.LeadTier1)); err != nil {
		t.Errorf("lower-case munchkin: %v", err)
	}
}

func TestOwnerByEmail(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	o, err := c.OwnerByEmail(t.Context(), marketotest.Munchkin, "DD1@acme.example")
	if err != nil || o.ID != "dd1@acme.example" || o.Email != "dd1@acme.example" {
		t.Errorf("owner = %+v, %v", o, err)
	}
	for _, bad := range []string{"", "not-an-email", "Dana <dd1@acme.example>"} {
		if _, err := c.OwnerByEmail(t.Context(), marketotest.Munchkin, bad); !errors.Is(err, handoff.ErrNotFound) {
			t.Errorf("%q: %v, want ErrNotFound", bad, err)
		}
	}
	if e.fake.Calls() != 0 {
		t.Error("OwnerByEmail called Marketo")
	}
}

func storedToken(t *testing.T, e *env) string {
	t.Helper()
	tok, err := e.store.Get(t.Context(), handoff.SourceMarketo, marketotest.Munchkin)
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

func TestTokenRejectedRefreshesOnce(t *testing.T) {
	for _, tc := range []struct {
		name   string
		reject func(*marketotest.Server)
	}{
		{"601 invalid", (*marketotest.Server).InvalidateToken},
		{"602 expired", (*marketotest.Server).ExpireToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			c := e.client(t)
			if _, err := c.Profile(t.Context(), marketotest.Munchkin, ref(marketotest.LeadStudent)); err != nil {
				t.Fatal(err)
			}
			old := storedToken(t, e)
			tc.reject(e.fake)
			p, err := c.Profile(t.Context(), marketotest.Munchkin, ref(marketotest.LeadStudent))
			if err != nil {
				t.Fatalf("after %s: %v", tc.name, err)
			}
			if p.Calls != 2 {
				t.Errorf("calls = %d, want 2 (rejected + retried)", p.Calls)
			}
			if n := e.fake.TokenRequests(); n != 2 {
				t.Errorf("token requests = %d, want 2", n)
			}
			if nt := storedToken(t, e); nt == old || nt == "" {
				t.Error("the new token was not stored for the other processes")
			}
		})
	}
}

func TestSecond601IsAuthErrorWithoutLoop(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	e.fake.FailNext(5, "601")
	_, err := c.Profile(t.Context(), marketotest.Munchkin, ref(marketotest.LeadStudent))
	var ae *handoff.AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want AuthError", err)
	}
	if e.fake.Calls() != 2 {
		t.Errorf("REST calls = %d, want 2 (no loop)", e.fake.Calls())
	}
	if n := e.fake.TokenRequests(); n != 2 {
		t.Errorf("token requests = %d, want 2 (initial + one refresh)", n)
	}
	if tok := storedToken(t, e); strings.Contains(err.Error(), tok) {
		t.Error("the error carries the access token")
	}
}

func TestBadClientCredentialsIsTerminal(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, func(c *marketo.Config) { c.ClientSecret = "wrong-secret" })
	_, err := c.Profile(t.Context(), marketotest.Munchkin, ref(marketotest.LeadStudent))
	var ae *handoff.AuthError
	if !errors.As(err, &ae) || ae.Refreshable || !handoff.IsPermanent(err) {
		t.Fatalf("err = %v, want AuthError{Refreshable:false}", err)
	}
	if strings.Contains(err.Error(), "wrong-secret") {
		t.Error("the error carries the client secret")
	}
	if e.fake.Calls() != 0 {
		t.Error("REST API called without a token")
	}
}

func TestRateLimit606SharedCooldown(t *testing.T) {
	e := newEnv(t)
	c1, c2 := e.client(t), e.client(t)
	e.fake.FailNext(1, "606")
	_, err := c1.Profile(t.Context(), marketotest.Munchkin, ref(marketotest.LeadStudent))
	var rl *handoff.RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("err = %v, want RateLimitError", err)
	}
	if rl.RetryAfter <= 0 || rl.RetryAfter > 20*time.Second {
		t.Errorf("RetryAfter = %s, want within the 20 s window", rl.RetryAfter)
	}
	// Another process holds off for the rest of the window without calling.
	calls := e.fake.Calls()
	_, err = c2.Profile(t.Context(), marketotest.Munchkin, ref(marketotest.LeadStudent))
	var rl2 *handoff.RateLimitError
	if !errors.As(err, &rl2) || rl2.RetryAfter <= 0 || rl2.RetryAfter > rl.RetryAfter {
		t.Errorf("second client: %v, want RateLimitError with <= %s", err, rl.RetryAfter)
	}
	if e.fake.Calls() != calls {
		t.Error("the second client called Marketo during the cooldown")
	}
}

func TestErrorMapping(t *testing.T) {
	for _, tc := range []struct {
		code   string
		status int
		check  func(error) bool
		want   string
	}{
		{code: "615", check: func(err error) bool {
			var rl *handoff.RateLimitError
			return errors.As(err, &rl) && rl.RetryAfter > 0 && rl.RetryAfter <= 5*time.Second
		}, want: "RateLimitError (short)"},
		{code: "607", check: func(err error) bool {
			var rl *handoff.RateLimitError
			return errors.As(err, &rl) && rl.RetryAfter > 0 && rl.RetryAfter <= 24*time.Hour
		}, want: "RateLimitError (until quota reset)"},
		{code: "604", check: isTransient, want: "TransientError"},
		{code: "608", check: isTransient, want: "TransientError"},
		{status: 502, check: isTransient, want: "TransientError"},
		{status: 503, check: isTransient, want: "TransientError"},
		{status: 414, check: isPermanent, want: "PermanentError"},
		{code: "1003", check: isPermanent, want: "PermanentError"},
		{code: "609", check: isPermanent, want: "PermanentError"},
		{code: "1004", check: func(err error) bool { return errors.Is(err, handoff.ErrNotFound) }, want: "ErrNotFound"},
		{code: "603", check: func(err error) bool {
			var ae *handoff.AuthError
			return errors.As(err, &ae) && !ae.Refreshable
		}, want: "AuthError (not refreshable)"},
	} {
		name := tc.code
		if tc.status != 0 {
			name = fmt.Sprintf("HTTP %d", tc.status)
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			c := e.client(t)
			if tc.status != 0 {
				e.fake.FailNextHTTP(1, tc.status)
			} else {
				e.fake.FailNext(1, tc.code)
			}
			_, err := c.Profile(t.Context(), marketotest.Munchkin, ref(marketotest.LeadStudent))
			if !tc.check(err) {
				t.Errorf("err = %v (%T), want %s", err, errors.Unwrap(err), tc.want)
			}
		})
	}
}

func isTransient(err error) bool {
	var te *handoff.TransientError
	return errors.As(err, &te)
}

func isPermanent(err error) bool {
	var pe *handoff.PermanentError
	return errors.As(err, &pe)
}

func TestClientSideRateLimit(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, func(c *marketo.Config) { c.RateLimit = "3/20s" })
	var rl *handoff.RateLimitError
	for i := range 10 {
		_, err := c.Profile(t.Context(), marketotest.Munchkin, ref(marketotest.LeadStudent))
		if errors.As(err, &rl) {
			if i == 0 {
				t.Fatal("first call refused")
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if rl == nil || rl.RetryAfter <= 0 {
		t.Fatalf("no client-side refusal: %v", rl)
	}
	if e.fake.Calls() > 3 {
		t.Errorf("fake saw %d calls, budget is 3 per 20 s", e.fake.Calls())
	}
}

func TestTokenSharedAcrossProcesses(t *testing.T) {
	e := newEnv(t)
	e.cfg.RateLimit = "1000/20s" // this test is about the token, not the budget
	clients := []*marketo.Client{e.client(t), e.client(t)}
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for i := range 12 {
		wg.Go(func() {
			_, err := clients[i%2].Profile(context.Background(), marketotest.Munchkin, ref(marketotest.LeadStudent))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := e.fake.TokenRequests(); n != 1 {
		t.Errorf("token requests = %d, want 1 for two clients sharing the store", n)
	}
}

func TestConcurrencyCapAcrossProcesses(t *testing.T) {
	e := newEnv(t)
	e.fake.SetLatency(60 * time.Millisecond)
	e.fake.SetConcurrencyLimit(0) // observe our cap, not Marketo's 615
	cap2 := func(c *marketo.Config) {
		c.Concurrency = 2
		c.ConcurrencyWait = 10 * time.Second
		c.RateLimit = "1000/20s"
	}
	clients := []*marketo.Client{e.client(t, cap2), e.client(t, cap2)}
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := range 10 {
		wg.Go(func() {
			_, err := clients[i%2].Profile(context.Background(), marketotest.Munchkin, ref(marketotest.LeadStudent))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if p := e.fake.PeakInFlight(); p > 2 || p < 1 {
		t.Errorf("peak in flight = %d, want <= 2 across both clients", p)
	}
	t.Logf("peak in flight with MARKETO_CONCURRENCY=2 over two clients: %d", e.fake.PeakInFlight())
}

func TestConcurrencyCapGivesUpWithRateLimitError(t *testing.T) {
	e := newEnv(t)
	e.fake.SetLatency(300 * time.Millisecond)
	e.fake.SetConcurrencyLimit(0)
	c := e.client(t, func(c *marketo.Config) { c.Concurrency = 1; c.ConcurrencyWait = 20 * time.Millisecond })
	if _, err := c.Profile(t.Context(), marketotest.Munchkin, ref(marketotest.LeadStudent)); err != nil {
		t.Fatal(err) // warm the token
	}
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		close(started)
		_, err := c.Profile(context.Background(), marketotest.Munchkin, ref(marketotest.LeadStudent))
		done <- err
	}()
	<-started
	// Wait until the first call holds the slot (observable in the fake).
	deadline := time.Now().Add(2 * time.Second)
	for e.fake.Calls() < 2 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	_, err := c.Profile(t.Context(), marketotest.Munchkin, ref(marketotest.LeadStudent))
	var rl *handoff.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter <= 0 {
		t.Errorf("err = %v, want RateLimitError while the only slot is held", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestConfigErrors(t *testing.T) {
	e := newEnv(t)
	for _, mod := range []func(*marketo.Config){
		func(c *marketo.Config) { c.BaseURL = "" },
		func(c *marketo.Config) { c.ClientSecret = "" },
		func(c *marketo.Config) { c.TaskTarget = "task:1" },
		func(c *marketo.Config) { c.ActivityTypeID = 0 },
		func(c *marketo.Config) { c.RateLimit = "fast" },
		func(c *marketo.Config) { c.TierField = "account:tier" },
	} {
		cfg := e.cfg
		mod(&cfg)
		if _, err := marketo.New(cfg, marketo.Deps{Tokens: e.store, Redis: e.rdb}); err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
}

func TestMunchkinFromURL(t *testing.T) {
	m, err := marketo.MunchkinFromURL("https://123-abc-456.mktorest.com/")
	if err != nil || m != "123-ABC-456" {
		t.Errorf("munchkin = %q, %v", m, err)
	}
	if _, err := marketo.MunchkinFromURL("not a url"); err == nil {
		t.Error("bad URL accepted")
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]marketo.Rate{
		"100/20s": {100, 20 * time.Second}, "5/s": {5, time.Second}, " 50000/24h ": {50000, 24 * time.Hour},
	} {
		got, err := marketo.ParseRate(in)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %+v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "100", "0/20s", "x/20s", "100/zz", "100/-1s"} {
		if _, err := marketo.ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q) accepted", bad)
		}
	}
}

func TestParseTaskTarget(t *testing.T) {
	if tt, err := marketo.ParseTaskTarget("campaign:1069"); err != nil || tt.CampaignID != 1069 {
		t.Errorf("campaign:1069 = %+v, %v", tt, err)
	}
	if tt, err := marketo.ParseTaskTarget("activity"); err != nil || tt.CampaignID != 0 {
		t.Errorf("activity = %+v, %v", tt, err)
	}
	for _, bad := range []string{"", "campaign:", "campaign:abc", "campaign:-3", "sfdc"} {
		if _, err := marketo.ParseTaskTarget(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// The query string never carries the token, even on the paging calls.
func TestNoTokenInQuery(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	if _, err := c.Profile(t.Context(), marketotest.Munchkin, ref(marketotest.LeadTier1)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.FindTask(t.Context(), marketotest.Munchkin, "hnd_missing"); !errors.Is(err, handoff.ErrNotFound) {
		t.Fatalf("FindTask unknown = %v, want ErrNotFound", err)
	}
	for _, r := range e.fake.Requests() {
		if strings.HasPrefix(r.Path, "/identity") {
			continue
		}
		if r.Query.Has("access_token") {
			t.Errorf("%s %s carries access_token in the query", r.Method, r.Path)
		}
		if r.Header.Get("Authorization") != "Bearer" {
			t.Errorf("%s %s Authorization scheme = %q, want Bearer", r.Method, r.Path, r.Header.Get("Authorization"))
		}
	}
}

func TestExpiredTokenRefreshedOnceAcrossProcesses(t *testing.T) {
	e := newEnv(t)
	e.cfg.RateLimit = "1000/20s"
	clients := []*marketo.Client{e.client(t), e.client(t)}
	if _, err := clients[0].Profile(t.Context(), marketotest.Munchkin, ref(marketotest.LeadStudent)); err != nil {
		t.Fatal(err)
	}
	e.fake.ExpireToken()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			_, err := clients[i%2].Profile(context.Background(), marketotest.Munchkin, ref(marketotest.LeadStudent))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := e.fake.TokenRequests(); n != 2 {
		t.Errorf("token requests = %d, want 2 (initial + one refresh for all 8 rejected calls)", n)
	}
}

// Marketo hands back the current token with its remaining life; a token
// fetched moments ago is used even inside the refresh margin.
func TestShortLivedTokenNotRefetchedPerCall(t *testing.T) {
	e := newEnv(t)
	e.fake.SetTokenLifetime(30 * time.Second) // inside the 60 s margin from the start
	c := e.client(t)
	for range 3 {
		if _, err := c.Profile(t.Context(), marketotest.Munchkin, ref(marketotest.LeadStudent)); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.fake.TokenRequests(); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
}

func TestConfigFromEnv(t *testing.T) {
	var cfg marketo.Config
	err := envconfig.ProcessWith(t.Context(), &envconfig.Config{Target: &cfg, Lookuper: envconfig.MapLookuper(map[string]string{
		"MARKETO_BASE_URL": "https://123-abc-456.mktorest.com", "MARKETO_CLIENT_ID": "id", "MARKETO_CLIENT_SECRET": "secret",
		"MARKETO_TASK_TARGET": "campaign:1069", "MARKETO_ACTIVITY_TYPE_ID": "100001",
	})})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RateLimit != "100/20s" || cfg.Concurrency != 10 || !cfg.CRMSynced || cfg.TierField != "namedaccount:tier" || cfg.HTTPTimeout != 30*time.Second {
		t.Errorf("defaults = %+v", cfg)
	}
	e := newEnv(t)
	c, err := marketo.New(cfg, marketo.Deps{Tokens: e.store, Redis: e.rdb})
	if err != nil {
		t.Fatal(err)
	}
	if c.Munchkin() != "123-ABC-456" {
		t.Errorf("munchkin = %q", c.Munchkin())
	}
}

// Instances differ: a missing custom field or named-account tier field
// degrades the profile instead of failing it.
func TestProfileDegradesOnUnknownFields(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, func(c *marketo.Config) { c.OwnerEmailField = "noSuchField"; c.TierField = "namedaccount:noSuchTier" })
	p, err := c.Profile(t.Context(), marketotest.Munchkin, ref(marketotest.LeadTier1))
	if err != nil {
		t.Fatal(err)
	}
	if p.Facts.Name != "Dana Whitfield" || p.Account.Name != "Globex Corporation" || p.Account.Tier != "" || p.Facts.OwnerEmail != "" {
		t.Errorf("profile = %+v %+v", p.Facts, p.Account)
	}
	if p.Calls != 3 {
		t.Errorf("calls = %d, want 3 (lead 1006, lead core fields, named account 1006)", p.Calls)
	}
	// Rate limits still propagate: they are not a schema problem.
	e.fake.FailNext(1, "615")
	if _, err := c.Profile(t.Context(), marketotest.Munchkin, ref(marketotest.LeadTier1)); err == nil {
		t.Error("615 swallowed")
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestNoSecretsInLogsOrErrors(t *testing.T) {
	e := newEnv(t)
	var logs syncBuf
	c, err := marketo.New(e.cfg, marketo.Deps{Tokens: e.store, Redis: e.rdb,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Profile(t.Context(), marketotest.Munchkin, ref(marketotest.LeadStudent)); err != nil {
		t.Fatal(err)
	}
	first := storedToken(t, e)
	e.fake.InvalidateToken()
	if _, err := c.Profile(t.Context(), marketotest.Munchkin, ref(marketotest.LeadStudent)); err != nil {
		t.Fatal(err)
	}
	e.fake.FailNext(2, "602")
	_, perr := c.Profile(t.Context(), marketotest.Munchkin, ref(marketotest.LeadStudent))
	if perr == nil {
		t.Fatal("want an error after two 602s")
	}
	second := storedToken(t, e)
	out := logs.String() + perr.Error()
	if !strings.Contains(out, "refreshing") {
		t.Errorf("the refresh was not logged: %s", out)
	}
	for _, secret := range []string{first, second, marketotest.ClientSecret} {
		if strings.Contains(out, secret) {
			t.Errorf("logs or errors carry a secret")
		}
	}
	// The token is stored encrypted: the raw Redis value does not contain it.
	keys, _ := e.rdb.Keys(t.Context(), "handoff:oauth:token:marketo:*").Result()
	if len(keys) != 1 {
		t.Fatalf("token keys = %v", keys)
	}
	raw, _ := e.rdb.Get(t.Context(), keys[0]).Result()
	if strings.Contains(raw, second) {
		t.Error("token stored in clear")
	}
}

// 606 waits for the rest of Marketo's 20 s window: until the oldest of our
// calls in it (shared log in Redis) ages out.
func TestRateLimit606RestOfWindow(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	now, err := e.rdb.Time(t.Context()).Result()
	if err != nil {
		t.Fatal(err)
	}
	// Calls made 15 s and 10 s ago by other processes.
	key := "handoff:marketo:" + marketotest.Munchkin + ":calls"
	e.rdb.ZAdd(t.Context(), key, redis.Z{Score: float64(now.Add(-15 * time.Second).UnixMilli()), Member: "a"},
		redis.Z{Score: float64(now.Add(-10 * time.Second).UnixMilli()), Member: "b"})
	e.fake.FailNext(1, "606")
	_, err = c.Profile(t.Context(), marketotest.Munchkin, ref(marketotest.LeadStudent))
	var rl *handoff.RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("err = %v", err)
	}
	if rl.RetryAfter < 4*time.Second || rl.RetryAfter > 5*time.Second {
		t.Errorf("RetryAfter = %s, want ~5 s (the 15 s old call leaves the window)", rl.RetryAfter)
	}
}

// MARKETO_BASE_URL and MARKETO_IDENTITY_URL as Admin → Web Services prints
// them: the REST "Endpoint" ends in /rest and the "Identity" URL in
// /identity, with the token at <Identity URL>/oauth/token (docs/crm/marketo.md).
func TestURLsAsPrintedInAdmin(t *testing.T) {
	e := newEnv(t)
	for name, mod := range map[string]func(*marketo.Config){
		"identity URL":         func(c *marketo.Config) { c.IdentityURL = e.fake.URL + "/identity" },
		"identity URL, slash":  func(c *marketo.Config) { c.IdentityURL = e.fake.URL + "/identity/" },
		"token endpoint":       func(c *marketo.Config) { c.IdentityURL = e.fake.URL + "/identity/oauth/token" },
		"REST endpoint /rest":  func(c *marketo.Config) { c.BaseURL = e.fake.URL + "/rest" },
		"REST endpoint /rest/": func(c *marketo.Config) { c.BaseURL = e.fake.URL + "/rest/" },
		"both as printed":      func(c *marketo.Config) { c.BaseURL, c.IdentityURL = e.fake.URL+"/rest", e.fake.URL+"/identity" },
	} {
		t.Run(name, func(t *testing.T) {
			before := e.fake.TokenRequests()
			e.rdb.FlushDB(t.Context())
			c := e.client(t, mod)
			if _, err := c.Profile(t.Context(), marketotest.Munchkin, ref(marketotest.LeadTier1)); err != nil {
				t.Fatal(err)
			}
			if e.fake.TokenRequests() != before+1 {
				t.Errorf("token requests %d, want %d", e.fake.TokenRequests(), before+1)
			}
			for _, r := range e.fake.Requests() {
				if strings.HasPrefix(r.Path, "/rest/rest/") {
					t.Fatalf("request to %s", r.Path)
				}
			}
		})
	}
}

// A query string that would make the URL longer than 8 KB (HTTP 414) goes
// as the documented POST ?_method=GET with the query in a form body: here
// opportunities by 300 long external ids.
func TestLongQueryIsPostedWithMethodGET(t *testing.T) {
	seed := marketotest.DefaultSeed()
	for i := range 300 {
		id := fmt.Sprintf("OPP-%03d-%s", i, strings.Repeat("x", 40))
		seed.OpportunityRoles = append(seed.OpportunityRoles, marketotest.Record{
			"marketoGUID": fmt.Sprintf("guid-%d", i), "externalOpportunityId": id, "leadId": marketotest.LeadExec, "role": "Evaluator", "isPrimary": false})
		seed.Opportunities = append(seed.Opportunities, marketotest.Record{
			"marketoGUID": fmt.Sprintf("opp-%d", i), "externalOpportunityId": id, "name": "Deal " + id, "stage": "Prospecting",
			"amount": 1000 + i, "probability": 10, "isClosed": false, "isWon": false, "closeDate": "2027-01-01"})
	}
	fake := marketotest.New(seed)
	t.Cleanup(fake.Close)
	e := newEnv(t)
	e.fake = fake
	c := e.client(t, func(c *marketo.Config) {
		c.BaseURL, c.CRMSynced = fake.URL, false
	})
	p, err := c.Profile(t.Context(), marketotest.Munchkin, ref(marketotest.LeadExec))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Deals) != 300 {
		t.Fatalf("%d deals, want 300", len(p.Deals))
	}
	var posted bool
	for _, r := range fake.Requests() {
		if r.Path == "/rest/v1/opportunities.json" {
			if len(r.Query.Encode()) > 8<<10 {
				t.Errorf("a %d-byte query string was sent in the URL", len(r.Query.Encode()))
			}
			posted = r.Method == "POST" && r.Query.Get("_method") == "GET" &&
				r.Header.Get("Content-Type") == "application/x-www-form-urlencoded" && strings.Contains(string(r.Body), "filterType=externalOpportunityId")
		}
	}
	if !posted {
		t.Error("the opportunities read was not a POST with _method=GET and a form body")
	}
}

// The identity request is the documented GET with the credentials in the
// query string; an identity endpoint that serves only GET (reading only the
// query) works, and one that refuses the GET (405, or 401 from reading
// only a POST body) gets the POST form.
func TestIdentityRequestForms(t *testing.T) {
	e := newEnv(t)
	target, _ := url.Parse(e.fake.URL)
	proxy := func(allow string) *httptest.Server {
		rp := httputil.NewSingleHostReverseProxy(target)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != allow {
				w.WriteHeader(http.StatusMethodNotAllowed)
				return
			}
			if allow == http.MethodGet {
				// Read the credentials from the query only, like a
				// server written from the GET example would.
				q := r.URL.Query()
				if q.Get("grant_type") != "client_credentials" || q.Get("client_id") == "" || q.Get("client_secret") == "" {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
			}
			rp.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	postBodyOnly := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reads the credentials from a POST body only, whatever the method.
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if form, _ := url.ParseQuery(string(body)); r.Method != http.MethodPost || form.Get("client_id") == "" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"unauthorized","error_description":"No client with requested id"}`))
			return
		}
		httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, r)
	}))
	t.Cleanup(postBodyOnly.Close)
	for _, method := range []string{http.MethodGet, http.MethodPost, "post body only"} {
		t.Run(method, func(t *testing.T) {
			e.rdb.FlushDB(t.Context())
			id := postBodyOnly
			if method != "post body only" {
				id = proxy(method)
			}
			c := e.client(t, func(c *marketo.Config) { c.IdentityURL = id.URL + "/identity" })
			p, err := c.Profile(t.Context(), marketotest.Munchkin, ref(marketotest.LeadTier1))
			if err != nil {
				t.Fatal(err)
			}
			if p.Facts.Email == "" {
				t.Errorf("profile %+v", p.Facts)
			}
		})
	}
	// Bad credentials are still terminal through the GET.
	e.rdb.FlushDB(t.Context())
	c := e.client(t, func(c *marketo.Config) { c.ClientSecret = "wrong" })
	_, err := c.Profile(t.Context(), marketotest.Munchkin, ref(marketotest.LeadTier1))
	var ae *handoff.AuthError
	if !errors.As(err, &ae) || ae.Refreshable || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("bad credentials: %v", err)
	}
}
