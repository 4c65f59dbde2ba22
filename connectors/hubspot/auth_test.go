package hubspot_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/hubspot"
	"github.com/handoff-dev/handoff/connectors/tokenstore"
	"github.com/sethvargo/go-envconfig"
)

var ctx = context.Background()

// follow performs the browser's part: open the consent URL, return the
// callback query the fake redirects to.
func follow(t *testing.T, authURL string) url.Values {
	t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("consent page answered %d", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != "https://handoff.example.com/oauth/hubspot/callback" {
		t.Fatalf("redirected to %s", got)
	}
	return loc.Query()
}

func TestInstallAndCallback(t *testing.T) {
	for _, tc := range []struct {
		name      string
		omitHubID bool
	}{{"hub_id in token response", false}, {"portal from access-token metadata", true}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.fake.OmitHubID(tc.omitHubID)
			authURL, err := e.client.AuthCodeURL(ctx)
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(authURL)
			q := u.Query()
			if u.Path != "/oauth/authorize" || q.Get("client_id") != e.cfg.ClientID || q.Get("state") == "" ||
				q.Get("redirect_uri") != "https://handoff.example.com/oauth/hubspot/callback" {
				t.Fatalf("auth URL %s", authURL)
			}
			if !strings.Contains(q.Get("scope"), "crm.objects.contacts.read crm.objects.contacts.write") {
				t.Fatalf("scopes must be space-separated, got %q", q.Get("scope"))
			}
			cb := follow(t, authURL)
			tenant, err := e.client.Callback(ctx, cb)
			if err != nil {
				t.Fatal(err)
			}
			if tenant != portal {
				t.Fatalf("tenant %q", tenant)
			}
			tok, err := e.store.Get(ctx, handoff.SourceHubSpot, portal)
			if err != nil || tok.AccessToken == "" || tok.RefreshToken == "" || tok.Expiry.Before(time.Now().Add(29*time.Minute)) {
				t.Fatalf("stored token %+v, %v", tok != nil, err)
			}
			// The code exchange: form body, all parameters in the body (docs/crm/hubspot.md).
			r := e.lastRequest("POST", "/oauth/v1/token")
			if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
				t.Fatalf("content type %q", ct)
			}
			form, _ := url.ParseQuery(string(r.Body))
			for k, want := range map[string]string{"grant_type": "authorization_code", "client_id": e.cfg.ClientID, "client_secret": "REDACTED", "code": "REDACTED", "redirect_uri": "https://handoff.example.com/oauth/hubspot/callback"} {
				if form.Get(k) != want {
					t.Errorf("token form %s = %q, want %q", k, form.Get(k), want)
				}
			}
			if len(r.Query) != 0 {
				t.Errorf("token request has a query string: %v", r.Query)
			}
			metaCalls := e.fake.Count("GET", "/oauth/v1/access-tokens/")
			if tc.omitHubID != (metaCalls == 1) {
				t.Fatalf("metadata endpoint calls = %d (omitHubID %v)", metaCalls, tc.omitHubID)
			}
			// Reusing the callback (state consumed) fails.
			if _, err := e.client.Callback(ctx, cb); !errors.Is(err, tokenstore.ErrBadState) {
				t.Fatalf("replayed callback: %v", err)
			}
			// The token works.
			if _, err := e.client.OwnerByEmail(ctx, portal, "dd1@acme.example"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestCallbackRejectsForgedState(t *testing.T) {
	e := newEnv(t, nil)
	code := e.fake.IssueCode(e.cfg.PublicBaseURL + "/oauth/hubspot/callback")
	_, err := e.client.Callback(ctx, url.Values{"code": {code}, "state": {"forged"}})
	if !errors.Is(err, tokenstore.ErrBadState) {
		t.Fatalf("err = %v", err)
	}
	if e.fake.CodeGrants() != 0 {
		t.Fatal("code exchanged despite a bad state")
	}
}

func TestRefreshBeforeExpiry(t *testing.T) {
	e := newEnv(t, nil)
	old := e.install(30 * time.Second) // inside the 60 s window
	if _, err := e.client.OwnerByEmail(ctx, portal, "dd1@acme.example"); err != nil {
		t.Fatal(err)
	}
	if n := e.fake.RefreshGrants(); n != 1 {
		t.Fatalf("refresh grants = %d, want 1", n)
	}
	for _, r := range e.fake.Requests() {
		if r.Status == http.StatusUnauthorized {
			t.Fatalf("a request was sent with the stale token: %+v", r.Path)
		}
	}
	tok, _ := e.store.Get(ctx, handoff.SourceHubSpot, portal)
	if tok.AccessToken == old.AccessToken || tok.RefreshToken != old.RefreshToken {
		t.Fatal("refreshed token not stored (or refresh token lost)")
	}
	form, _ := url.ParseQuery(string(e.lastRequest("POST", "/oauth/v1/token").Body))
	if form.Get("grant_type") != "refresh_token" || form.Get("client_id") != e.cfg.ClientID || form.Get("client_secret") == "" {
		t.Fatalf("refresh form %v", form)
	}
	// Fresh now: no second refresh.
	if _, err := e.client.OwnerByEmail(ctx, portal, "dd1@acme.example"); err != nil {
		t.Fatal(err)
	}
	if n := e.fake.RefreshGrants(); n != 1 {
		t.Fatalf("refresh grants = %d after a warm call", n)
	}
}

// Two clients (two processes) and 24 goroutines find the token expired at
// once: the tenant lock in Redis makes exactly one refresh grant.
func TestConcurrentRefreshHappensOnce(t *testing.T) {
	e := newEnv(t, nil)
	e.install(-time.Minute)
	clients := []*hubspot.Client{e.client, e.newClient(e.cfg)}
	var wg sync.WaitGroup
	errs := make(chan error, 24)
	for i := range 24 {
		wg.Go(func() {
			_, err := clients[i%2].OwnerByID(ctx, portal, "64492917")
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
	if n := e.fake.RefreshGrants(); n != 1 {
		t.Fatalf("refresh grants = %d, want exactly 1", n)
	}
}

func TestRevokedRefreshTokenIsTerminal(t *testing.T) {
	for _, tc := range []struct{ name, tokenURL, code string }{
		{"v1 BAD_REFRESH_TOKEN", "", "BAD_REFRESH_TOKEN"},
		{"v3 invalid_grant", "v3", "invalid_grant"},
		{"2026-03 invalid_grant", "2026-03", "invalid_grant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			if tc.tokenURL != "" {
				e.cfg.TokenURL = e.fake.URL + "/oauth/" + tc.tokenURL + "/token"
				e.client = e.newClient(e.cfg)
			}
			tk := e.install(-time.Minute)
			e.fake.RevokeToken()
			_, err := e.client.Profile(ctx, portal, handoff.ContactRef{ID: "1001"})
			var ae *handoff.AuthError
			if !errors.As(err, &ae) || ae.Refreshable || !strings.Contains(ae.Detail, tc.code) {
				t.Fatalf("err = %v", err)
			}
			if !handoff.IsPermanent(err) {
				t.Fatal("a revoked token must be permanent")
			}
			stored, _ := e.store.Get(ctx, handoff.SourceHubSpot, portal)
			if !stored.NeedsReauth || stored.RefreshToken != "" {
				t.Fatalf("tenant not marked for re-authorization: %+v", stored.NeedsReauth)
			}
			// Later calls fail at once, without asking HubSpot again.
			before := e.fake.RefreshGrants()
			_, err = e.client.OwnerByEmail(ctx, portal, "dd1@acme.example")
			if !errors.As(err, &ae) || ae.Refreshable || e.fake.RefreshGrants() != before {
				t.Fatalf("second call: %v (grants %d → %d)", err, before, e.fake.RefreshGrants())
			}
			for _, s := range []string{err.Error(), e.logs.String()} {
				if strings.Contains(s, tk.RefreshToken) || strings.Contains(s, tk.AccessToken) {
					t.Fatal("token leaked into an error or log")
				}
			}
		})
	}
}

func TestUnauthorizedRefreshesOnceThenRetries(t *testing.T) {
	e := newEnv(t, nil)
	e.install(time.Hour)
	e.fake.FailNext(1, http.StatusUnauthorized, 0)
	if _, err := e.client.OwnerByEmail(ctx, portal, "dd1@acme.example"); err != nil {
		t.Fatalf("401 then refresh: %v", err)
	}
	if e.fake.RefreshGrants() != 1 || e.fake.Count("GET", "/crm/v3/owners") != 2 {
		t.Fatalf("grants %d, owner calls %d", e.fake.RefreshGrants(), e.fake.Count("GET", "/crm/v3/owners"))
	}
	// Rejected again after the refresh: one refresh only, then AuthError.
	e.fake.FailNext(2, http.StatusUnauthorized, 0)
	_, err := e.client.OwnerByEmail(ctx, portal, "dd1@acme.example")
	var ae *handoff.AuthError
	if !errors.As(err, &ae) || ae.Refreshable {
		t.Fatalf("err = %v", err)
	}
	if e.fake.RefreshGrants() != 2 {
		t.Fatalf("grants = %d, want 2 (one per failing call)", e.fake.RefreshGrants())
	}
}

func TestNotInstalled(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.client.Profile(ctx, "999", handoff.ContactRef{ID: "1001"})
	if !errors.Is(err, handoff.ErrNotInstalled) {
		t.Fatalf("err = %v", err)
	}
	if e.fake.APICalls() != 0 {
		t.Fatal("called HubSpot without a token")
	}
}

func TestPrivateAppToken(t *testing.T) {
	fakeEnv := newEnv(t, nil)
	seed := fakeEnv.fake.Seed()
	cfg := baseConfig(fakeEnv.fake)
	cfg.ClientID, cfg.ClientSecret = "", ""
	cfg.PrivateAppToken, cfg.PortalID = seed.PrivateAppToken, portal
	c, err := hubspot.New(cfg, hubspot.Deps{}) // no store, no limiter
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Profile(ctx, portal, handoff.ContactRef{ID: "1001"})
	if err != nil || p.Account.Tier != "tier_1" {
		t.Fatalf("profile %+v %v", p, err)
	}
	for _, r := range fakeEnv.fake.Requests() {
		if got := r.Header.Get("Authorization"); got != "Bearer REDACTED" {
			t.Fatalf("authorization header %q", got)
		}
	}
	ri, ok := c.LastRateLimit(portal)
	if !ok || ri.Daily != 250000 || ri.DailyRemaining <= 0 || ri.Max != 110 {
		t.Fatalf("rate info %+v", ri)
	}
	// A 401 cannot be refreshed away.
	fakeEnv.fake.FailNext(1, http.StatusUnauthorized, 0)
	_, err = c.OwnerByID(ctx, portal, "64492917")
	var ae *handoff.AuthError
	if !errors.As(err, &ae) || ae.Refreshable || fakeEnv.fake.RefreshGrants() != 0 {
		t.Fatalf("err = %v", err)
	}
	// Other portals are not served by the private token.
	if _, err := c.OwnerByID(ctx, "777", "64492917"); !errors.Is(err, handoff.ErrNotInstalled) {
		t.Fatalf("other portal: %v", err)
	}
}

func TestStoredTokensUnreadableWithoutKey(t *testing.T) {
	e := newEnv(t, nil)
	tk := e.install(time.Hour)
	rdb := e.db.Client(t)
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatal(keys, err)
	}
	for _, k := range keys {
		v, _ := rdb.Dump(ctx, k).Result()
		if strings.Contains(v, tk.AccessToken) || strings.Contains(v, tk.RefreshToken) {
			t.Fatalf("token in clear under %s", k)
		}
	}
	other, _ := tokenstore.New(rdb, []byte(strings.Repeat("k", 32)))
	if _, err := other.Get(ctx, handoff.SourceHubSpot, portal); err == nil {
		t.Fatal("token decrypted with another key")
	}
}

func TestNoSecretsInLogsOrErrors(t *testing.T) {
	e := newEnv(t, nil)
	var errs []error
	authURL, _ := e.client.AuthCodeURL(ctx)
	cb := follow(t, authURL)
	if _, err := e.client.Callback(ctx, cb); err != nil {
		t.Fatal(err)
	}
	_, err := e.client.Callback(ctx, cb) // replay
	errs = append(errs, err)
	tok, _ := e.store.Get(ctx, handoff.SourceHubSpot, portal)
	secrets := []string{e.cfg.ClientSecret, tok.AccessToken, tok.RefreshToken, cb.Get("code")}

	e.fake.FailNext(2, http.StatusUnauthorized, 0) // 401 → refresh → 401
	_, err = e.client.OwnerByID(ctx, portal, "64492917")
	errs = append(errs, err)
	tok2, _ := e.store.Get(ctx, handoff.SourceHubSpot, portal)
	secrets = append(secrets, tok2.AccessToken)
	e.fake.FailTokenNext(1, http.StatusBadGateway)
	e.fake.ExpireAccessTokens()
	_ = e.store.Put(ctx, handoff.SourceHubSpot, portal, &tokenstore.Token{AccessToken: tok2.AccessToken, RefreshToken: tok2.RefreshToken, Expiry: time.Now().Add(-time.Minute)})
	_, err = e.client.OwnerByID(ctx, portal, "64492917") // token endpoint 502 → transient
	var te *handoff.TransientError
	if !errors.As(err, &te) {
		t.Fatalf("token endpoint 502: %v", err)
	}
	errs = append(errs, err)
	e.fake.RevokeToken()
	_, err = e.client.OwnerByID(ctx, portal, "64492917")
	errs = append(errs, err)
	_, err = e.client.Profile(ctx, portal, handoff.ContactRef{Email: "ana@globex.example"})
	errs = append(errs, err)

	text := e.logs.String()
	for _, err := range errs {
		if err == nil {
			t.Fatal("expected an error")
		}
		text += "\n" + err.Error()
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Fatalf("secret %q… leaked into logs/errors:\n%s", s[:4], text)
		}
	}
	if !strings.Contains(e.logs.String(), "hubspot token refreshed") {
		t.Fatal("expected refresh log lines (the test would pass vacuously)")
	}
}

func TestConfigFromEnvironment(t *testing.T) {
	var cfg hubspot.Config
	err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &cfg, Lookuper: envconfig.MapLookuper(map[string]string{
		"HUBSPOT_CLIENT_ID": "id", "HUBSPOT_CLIENT_SECRET": "s", "HUBSPOT_RATE_LIMIT": "190/10s",
	})})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.APIBaseURL != "https://api.hubapi.com" || cfg.AuthURL != "https://app.hubspot.com/oauth/authorize" ||
		cfg.TokenURL != "https://api.hubapi.com/oauth/v1/token" || cfg.TierProperty != "hs_ideal_customer_profile" ||
		cfg.RateLimit != "190/10s" || cfg.SearchRateLimit != "5/1s" || cfg.PipelineCacheTTL != 10*time.Minute ||
		!slices.Contains(cfg.ScopeList(), "crm.objects.owners.read") || cfg.HandoffIDProperty != "" {
		t.Fatalf("config %+v", cfg)
	}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "PUBLIC_BASE_URL") {
		t.Fatalf("OAuth without PUBLIC_BASE_URL: %v", err)
	}
	cfg.PublicBaseURL = "https://handoff.example.com"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]hubspot.Config{
		"HUBSPOT_RATE_LIMIT":        {RateLimit: "fast", SearchRateLimit: "5/s", TierProperty: "x"},
		"HUBSPOT_PORTAL_ID":         {RateLimit: "1/s", SearchRateLimit: "5/s", TierProperty: "x", PrivateAppToken: "pat"},
		"HUBSPOT_CLIENT_SECRET":     {RateLimit: "1/s", SearchRateLimit: "5/s", TierProperty: "x", ClientID: "id"},
		"HUBSPOT_SEARCH_RATE_LIMIT": {RateLimit: "1/s", SearchRateLimit: "0/s", TierProperty: "x"},
	} {
		if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// docs/crm/hubspot.md: whether HubSpot rotates refresh tokens is UNCONFIRMED; the client
// must persist whatever refresh_token comes back. With rotation on, the
// old refresh token is revoked, so a client that kept it would fail at
// the next refresh.
func TestRotatedRefreshTokenIsPersisted(t *testing.T) {
	e := newEnv(t, nil)
	e.fake.RotateRefreshTokens(true)
	first := e.install(-time.Minute)
	for i := range 2 {
		if _, err := e.client.OwnerByEmail(ctx, portal, "dd1@acme.example"); err != nil {
			t.Fatalf("refresh %d: %v", i+1, err)
		}
		stored, _ := e.store.Get(ctx, handoff.SourceHubSpot, portal)
		if stored.RefreshToken == "" || stored.RefreshToken == first.RefreshToken {
			t.Fatalf("refresh %d: rotated refresh token not stored", i+1)
		}
		e.fake.ExpireAccessTokens()
		// Expired in the store too, so the next call refreshes again.
		stored.Expiry = time.Now().Add(-time.Minute)
		if err := e.store.Put(ctx, handoff.SourceHubSpot, portal, stored); err != nil {
			t.Fatal(err)
		}
		first.RefreshToken = stored.RefreshToken
	}
	if n := e.fake.RefreshGrants(); n != 2 {
		t.Fatalf("refresh grants = %d, want 2", n)
	}
}

// docs/crm/hubspot.md: the 2026-03 token endpoint's field casing is UNCONFIRMED (its
// reference page shows accessToken, expiresIn, hubId). With
// HUBSPOT_TOKEN_URL moved there, a camelCase answer used to fail the
// install ("server response missing access_token").
func TestCamelCaseTokenResponse(t *testing.T) {
	e := newEnv(t, nil)
	e.cfg.TokenURL = e.fake.TokenURL202603()
	e.client = e.newClient(e.cfg)
	e.fake.CamelCaseTokens(true)
	authURL, err := e.client.AuthCodeURL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tenant, err := e.client.Callback(ctx, follow(t, authURL))
	if err != nil || tenant != portal {
		t.Fatalf("install: %q, %v", tenant, err)
	}
	if e.fake.Count("GET", "/oauth/v1/access-tokens/") != 0 {
		t.Fatal("hubId was not read from the camelCase response")
	}
	tok, _ := e.store.Get(ctx, handoff.SourceHubSpot, portal)
	if tok.RefreshToken == "" || tok.Expiry.Before(time.Now().Add(29*time.Minute)) {
		t.Fatalf("stored token: refresh %v, expiry %s", tok.RefreshToken != "", tok.Expiry)
	}
	// And a refresh.
	tok.Expiry = time.Now().Add(-time.Minute)
	if err := e.store.Put(ctx, handoff.SourceHubSpot, portal, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.OwnerByEmail(ctx, portal, "dd1@acme.example"); err != nil || e.fake.RefreshGrants() != 1 {
		t.Fatalf("refresh: %v (grants %d)", err, e.fake.RefreshGrants())
	}
}
