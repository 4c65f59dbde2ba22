package salesforce_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/salesforce"
	"github.com/handoff-dev/handoff/connectors/salesforce/salesforcetest"
	"github.com/handoff-dev/handoff/connectors/tokenstore"
)

const sf = handoff.SourceSalesforce

func TestInstallWithPKCE(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	authURL, err := e.client.AuthCodeURL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(authURL)
	q := u.Query()
	if u.Path != "/services/oauth2/authorize" || q.Get("response_type") != "code" ||
		q.Get("client_id") != salesforcetest.DefaultClientID ||
		q.Get("redirect_uri") != "https://handoff.example/oauth/salesforce/callback" ||
		q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 || q.Get("state") == "" ||
		q.Get("scope") != "api refresh_token" {
		t.Fatalf("authorize URL %s", authURL)
	}

	cb := e.authorize(e.client)
	tenant, err := e.client.Callback(ctx, cb)
	if err != nil {
		t.Fatal(err)
	}
	if tenant != salesforcetest.OrgID {
		t.Fatalf("tenant %q, want the org id from the identity URL", tenant)
	}
	tok, err := e.store.Get(ctx, sf, tenant)
	if err != nil {
		t.Fatal(err)
	}
	if tok.InstanceURL != e.fake.URL || tok.RefreshToken == "" || tok.AccessToken == "" || !tok.Expiry.IsZero() {
		t.Fatalf("stored token: instance %q refresh? %v expiry %v", tok.InstanceURL, tok.RefreshToken != "", tok.Expiry)
	}
	// The token request carried the PKCE verifier and the client credentials in the body.
	var form url.Values
	for _, r := range e.fake.Requests() {
		if r.Path == "/services/oauth2/token" {
			form, _ = url.ParseQuery(string(r.Body))
		}
	}
	for _, k := range []string{"code", "code_verifier", "client_id", "client_secret", "redirect_uri"} {
		if form.Get(k) == "" {
			t.Errorf("token request lacks %s: %v", k, form)
		}
	}
	if form.Get("grant_type") != "authorization_code" {
		t.Errorf("grant_type %q", form.Get("grant_type"))
	}

	// The state is one-time: replaying the callback fails.
	if _, err := e.client.Callback(ctx, cb); !errors.Is(err, tokenstore.ErrBadState) {
		t.Fatalf("replayed callback: %v, want ErrBadState", err)
	}
	// A forged state fails before any token request.
	forged := url.Values{"code": {"x"}, "state": {"forged"}}
	if _, err := e.client.Callback(ctx, forged); !errors.Is(err, tokenstore.ErrBadState) {
		t.Fatalf("forged state: %v", err)
	}
	// A denied authorization is an AuthError.
	denied := e.authorize(e.client)
	denied.Del("code")
	denied.Set("error", "access_denied")
	var ae *handoff.AuthError
	if _, err := e.client.Callback(ctx, denied); !errors.As(err, &ae) || ae.Refreshable {
		t.Fatalf("denied: %v", err)
	}
	e.assertNoSecrets()
}

func TestCallbackRejectsWrongVerifier(t *testing.T) {
	// A second client with its own state store would send a different
	// verifier; simulate it by finishing one client's flow with the
	// code issued for another authorize request's challenge.
	e := newEnv(t, nil)
	ctx := context.Background()
	cb1 := e.authorize(e.client)
	cb2 := e.authorize(e.client)
	mixed := url.Values{"code": {cb1.Get("code")}, "state": {cb2.Get("state")}}
	_, err := e.client.Callback(ctx, mixed)
	var ae *handoff.AuthError
	if !errors.As(err, &ae) || ae.Refreshable || !strings.Contains(ae.Detail, "invalid code verifier") {
		t.Fatalf("mixed code and verifier: %v", err)
	}
}

func TestRefreshOnInvalidSessionOnceThenRetry(t *testing.T) {
	e := newEnv(t, nil)
	tenant := e.install()
	ctx := context.Background()
	before, _ := e.store.Get(ctx, sf, tenant)
	e.fake.ResetRequests()
	e.fake.ExpireSessions() // the session timed out; the token had no expiry

	owner, err := e.client.OwnerByEmail(ctx, tenant, "dd1@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	if owner.ID != salesforcetest.UserDD1 {
		t.Fatalf("owner %+v", owner)
	}
	var seq []string
	for _, r := range e.fake.Requests() {
		seq = append(seq, r.Method+" "+strings.SplitN(r.Path, "/v", 2)[0]+" "+itoa(r.Status))
	}
	want := []string{"GET /services/data 401", "POST /services/oauth2/token 200", "GET /services/data 200"}
	if strings.Join(seq, ",") != strings.Join(want, ",") {
		t.Fatalf("requests %v, want %v", seq, want)
	}
	if n := e.fake.TokenRequests("refresh_token"); n != 1 {
		t.Fatalf("%d refreshes", n)
	}
	after, _ := e.store.Get(ctx, sf, tenant)
	if after.AccessToken == before.AccessToken || after.RefreshToken != before.RefreshToken || after.InstanceURL != e.fake.URL {
		t.Fatal("refreshed token not stored, or refresh token / instance URL lost")
	}
	e.assertNoSecrets(before.AccessToken)
}

func TestSecond401IsAuthErrorWithoutLoop(t *testing.T) {
	e := newEnv(t, nil)
	tenant := e.install()
	e.fake.ResetRequests()
	e.fake.FailNext(2, 401, 0)
	_, err := e.client.OwnerByEmail(context.Background(), tenant, "dd1@acme.example")
	var ae *handoff.AuthError
	if !errors.As(err, &ae) || !ae.Refreshable {
		t.Fatalf("err %v, want a refreshable AuthError", err)
	}
	if n := e.fake.APICalls(); n != 2 {
		t.Fatalf("%d API calls, want 2 (original + one retry)", n)
	}
	if n := e.fake.TokenRequests("refresh_token"); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
}

func TestRevokedRefreshTokenIsTerminal(t *testing.T) {
	e := newEnv(t, nil)
	tenant := e.install()
	ctx := context.Background()
	old, _ := e.store.Get(ctx, sf, tenant)
	e.fake.RevokeAll()
	_, err := e.client.Profile(ctx, tenant, handoff.ContactRef{Email: "jane.doe@globex.example"})
	if strings.Contains(err.Error(), old.RefreshToken) || strings.Contains(err.Error(), old.AccessToken) || strings.Contains(err.Error(), salesforcetest.DefaultClientSecret) {
		t.Fatal("a token or secret reached the error text")
	}
	defer e.assertNoSecrets(old.AccessToken, old.RefreshToken)
	var ae *handoff.AuthError
	if !errors.As(err, &ae) || ae.Refreshable {
		t.Fatalf("err %v, want a terminal AuthError", err)
	}
	if !handoff.IsPermanent(err) {
		t.Fatal("a revoked token must be permanent")
	}
	tok, err := e.store.Get(ctx, sf, tenant)
	if err != nil || !tok.NeedsReauth || tok.AccessToken != "" {
		t.Fatalf("token not marked for re-authorization: %+v %v", tok, err)
	}
	// Later calls fail fast, without calling Salesforce.
	e.fake.ResetRequests()
	_, err = e.client.OwnerByEmail(ctx, tenant, "dd1@acme.example")
	if !errors.As(err, &ae) || ae.Refreshable {
		t.Fatalf("after revocation: %v", err)
	}
	if n := len(e.fake.Requests()); n != 0 {
		t.Fatalf("%d requests after revocation", n)
	}
	// Re-installing fixes it.
	e.install()
	if _, err := e.client.OwnerByEmail(ctx, tenant, "dd1@acme.example"); err != nil {
		t.Fatalf("after re-install: %v", err)
	}
}

func TestConcurrentRefreshHappensOnce(t *testing.T) {
	e := newEnv(t, nil)
	tenant := e.install()
	// Two "processes": two clients sharing the Redis token store.
	clients := []*salesforce.Client{e.client, e.newClient()}
	e.fake.ExpireSessions()
	e.fake.ResetRequests()
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := clients[i%2].OwnerByEmail(context.Background(), tenant, "mgr1@acme.example")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := e.fake.TokenRequests("refresh_token"); n != 1 {
		t.Fatalf("%d refreshes across 20 concurrent calls in 2 clients, want 1", n)
	}
}

func TestJWTBearerFlow(t *testing.T) {
	e := newEnv(t, func(c *salesforce.Config) {
		c.JWTUsername = salesforcetest.AdminUsername
		_, c.JWTPrivateKey = testKey(t)
	})
	c := e.client
	ctx := context.Background()
	tenant, err := c.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tenant != salesforcetest.OrgID {
		t.Fatalf("tenant %q", tenant)
	}
	tok, err := e.store.Get(ctx, sf, tenant)
	if err != nil || tok.RefreshToken != "" || tok.InstanceURL != e.fake.URL {
		t.Fatalf("stored %+v %v", tok, err)
	}
	var form url.Values
	for _, r := range e.fake.Requests() {
		if r.Path == "/services/oauth2/token" {
			form, _ = url.ParseQuery(string(r.Body))
		}
	}
	if form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || form.Get("assertion") == "" || form.Has("client_secret") {
		t.Fatalf("jwt token request %v", form)
	}
	// No refresh token: a 401 runs the JWT grant again.
	e.fake.ExpireSessions()
	if _, err := c.OwnerByEmail(ctx, tenant, "sdr1@acme.example"); err != nil {
		t.Fatal(err)
	}
	if n := e.fake.TokenRequests("urn:ietf:params:oauth:grant-type:jwt-bearer"); n != 2 {
		t.Fatalf("%d JWT grants, want 2", n)
	}
	e.assertNoSecrets(e.keyPEM)
}

func TestJWTLazyForConfiguredOrgAndBadAudience(t *testing.T) {
	e := newEnv(t, func(c *salesforce.Config) {
		c.JWTUsername = salesforcetest.AdminUsername
		c.OrgID = salesforcetest.OrgID
		_, c.JWTPrivateKey = testKey(t)
	})
	c := e.client
	// No Connect: the first call authorizes the configured org.
	p, err := c.Profile(context.Background(), salesforcetest.OrgID, handoff.ContactRef{ID: salesforcetest.ContactJane})
	if err != nil {
		t.Fatal(err)
	}
	if p.Facts.Email != "jane.doe@globex.example" {
		t.Fatalf("profile %+v", p.Facts)
	}

	e2 := newEnv(t, func(c *salesforce.Config) {
		c.JWTUsername = salesforcetest.AdminUsername
		_, c.JWTPrivateKey = testKey(t)
		c.JWTAudience = "https://evil.example"
	})
	if _, err := e2.client.Connect(context.Background()); err == nil {
		t.Fatal("a wrong audience must fail")
	} else {
		var ae *handoff.AuthError
		if !errors.As(err, &ae) || ae.Refreshable || !strings.Contains(ae.Detail, "audience") {
			t.Fatalf("bad audience: %v", err)
		}
	}
}

func TestConfiguredRefreshToken(t *testing.T) {
	e := newEnv(t, nil)
	rt := e.fake.IssueRefreshToken(salesforcetest.UserAdmin)
	e.cfg.RefreshToken = rt
	e.cfg.OrgID = salesforcetest.OrgID
	c := e.newClient()
	o, err := c.OwnerByEmail(context.Background(), salesforcetest.OrgID, "counsel@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	if o.ID != salesforcetest.UserCounsel {
		t.Fatalf("owner %+v", o)
	}
	tok, _ := e.store.Get(context.Background(), sf, salesforcetest.OrgID)
	if tok.RefreshToken != rt {
		t.Fatal("the configured refresh token should be kept with the stored token")
	}
	e.assertNoSecrets(rt)
}

// Without SALESFORCE_ORG_ID the configured org is learned from the token
// response's identity URL on first use (15- or 18-character tenant), once
// for concurrent first uses; another org stays not installed.
func TestConfiguredRefreshTokenLearnsTheOrg(t *testing.T) {
	e := newEnv(t, nil)
	rt := e.fake.IssueRefreshToken(salesforcetest.UserAdmin)
	e.cfg.RefreshToken = rt
	c := e.newClient()
	ctx := context.Background()
	errs := make(chan error, 4)
	for _, tenant := range []string{salesforcetest.OrgID, salesforcetest.OrgID[:15], salesforcetest.OrgID, salesforcetest.OrgID[:15]} {
		go func() {
			_, err := c.OwnerByEmail(ctx, tenant, "counsel@acme.example")
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := e.fake.TokenRequests("refresh_token"); n != 1 {
		t.Errorf("%d refresh-token grants, want 1", n)
	}
	if _, err := e.store.Get(ctx, sf, salesforcetest.OrgID); err != nil {
		t.Fatalf("token not stored under the learned org: %v", err)
	}
	if _, err := c.OwnerByEmail(ctx, "00D000000000000AAA", "dd1@acme.example"); !errors.Is(err, handoff.ErrNotInstalled) {
		t.Fatalf("another org: %v", err)
	}
	e.assertNoSecrets(rt)
}

func TestNotInstalled(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.client.OwnerByEmail(context.Background(), "00D000000000000AAA", "dd1@acme.example")
	if !errors.Is(err, handoff.ErrNotInstalled) {
		t.Fatalf("err %v", err)
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for n > 0 {
		s = string(rune('0'+n%10)) + s
		n /= 10
	}
	return s
}

func TestNoRefreshTokenIsTerminal(t *testing.T) {
	e := newEnv(t, func(c *salesforce.Config) { c.Scopes = []string{"api"} })
	tenant := e.install()
	ctx := context.Background()
	tok, _ := e.store.Get(ctx, sf, tenant)
	if tok.RefreshToken != "" {
		t.Fatal("without the refresh_token scope no refresh token is issued")
	}
	e.fake.ExpireSessions()
	_, err := e.client.OwnerByEmail(ctx, tenant, "dd1@acme.example")
	var ae *handoff.AuthError
	if !errors.As(err, &ae) || ae.Refreshable {
		t.Fatalf("err %v", err)
	}
	if tok, _ := e.store.Get(ctx, sf, tenant); !tok.NeedsReauth {
		t.Fatal("the tenant should need re-authorization")
	}
}

func TestTokenEndpointOutageIsTransient(t *testing.T) {
	e := newEnv(t, nil)
	tenant := e.install()
	e.fake.ExpireSessions()
	e.fake.FailTokenNext(1, 503)
	_, err := e.client.OwnerByEmail(context.Background(), tenant, "dd1@acme.example")
	var te *handoff.TransientError
	if !errors.As(err, &te) {
		t.Fatalf("err %v, want TransientError", err)
	}
	if tok, _ := e.store.Get(context.Background(), sf, tenant); tok.NeedsReauth {
		t.Fatal("an outage must not require re-authorization")
	}
	if _, err := e.client.OwnerByEmail(context.Background(), tenant, "dd1@acme.example"); err != nil {
		t.Fatalf("after the outage: %v", err)
	}
}

func TestConnectRetriesAConfiguredOrgMarkedForReauth(t *testing.T) {
	e := newEnv(t, func(c *salesforce.Config) {
		c.JWTUsername = salesforcetest.AdminUsername
		c.OrgID = salesforcetest.OrgID
		_, c.JWTPrivateKey = testKey(t)
	})
	ctx := context.Background()
	if err := e.store.MarkNeedsReauth(ctx, sf, salesforcetest.OrgID, "invalid_grant: user hasn't approved this consumer"); err != nil {
		t.Fatal(err)
	}
	var ae *handoff.AuthError
	if _, err := e.client.OwnerByEmail(ctx, salesforcetest.OrgID, "dd1@acme.example"); !errors.As(err, &ae) || ae.Refreshable {
		t.Fatalf("marked org: %v", err)
	}
	// The admin fixed the app; Connect (at start-up) tries the grant again.
	if _, err := e.client.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.OwnerByEmail(ctx, salesforcetest.OrgID, "dd1@acme.example"); err != nil {
		t.Fatal(err)
	}
}
