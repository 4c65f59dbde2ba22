package salesforce

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/internal/crmhttp"
	"github.com/handoff-dev/handoff/connectors/tokenstore"
)

// stateTTL is how long an install link stays usable.
const stateTTL = 15 * time.Minute

// RedirectURL is the OAuth callback registered on the connected app.
func (c *Client) RedirectURL() string { return c.oauthC.RedirectURL }

// AuthCodeURL starts the web-server flow: a one-time state (holding the
// PKCE verifier) and the authorize URL with an S256 code challenge.
func (c *Client) AuthCodeURL(ctx context.Context) (string, error) {
	if c.cfg.ClientID == "" {
		return "", errors.New("salesforce install: SALESFORCE_CLIENT_ID is not set")
	}
	verifier := oauth2.GenerateVerifier()
	state, err := c.tokens.NewState(ctx, crm, map[string]string{"verifier": verifier}, stateTTL)
	if err != nil {
		return "", fmt.Errorf("salesforce install: %w", err)
	}
	return c.oauthC.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), nil
}

// Callback finishes the web-server flow: it consumes the state (forged or
// reused → tokenstore.ErrBadState), exchanges the code with the PKCE
// verifier and stores the token under the org id read from the identity URL.
func (c *Client) Callback(ctx context.Context, q url.Values) (string, error) {
	if e := q.Get("error"); e != "" {
		// The user denied access or the app is misconfigured; the state is
		// still consumed so it cannot be replayed.
		_, _ = c.tokens.TakeState(ctx, crm, q.Get("state"))
		return "", &handoff.AuthError{CRM: crm, Refreshable: false, Detail: "authorization refused: " + e + ": " + q.Get("error_description")}
	}
	data, err := c.tokens.TakeState(ctx, crm, q.Get("state"))
	if err != nil {
		return "", fmt.Errorf("salesforce callback: %w", err)
	}
	code := q.Get("code")
	if code == "" {
		return "", errors.New("salesforce callback: no authorization code")
	}
	tok, err := c.oauthC.Exchange(c.oauthCtx(ctx), code, oauth2.VerifierOption(data["verifier"]))
	if err != nil {
		return "", fmt.Errorf("salesforce callback: exchange code: %w", c.grantError("", err))
	}
	st, org, err := c.stored(tok, nil)
	if err != nil {
		return "", fmt.Errorf("salesforce callback: %w", err)
	}
	if err := c.tokens.Put(ctx, crm, org, st); err != nil {
		return "", fmt.Errorf("salesforce callback: %w", err)
	}
	c.log.InfoContext(ctx, "salesforce org installed", "tenant", org)
	return org, nil
}

// Connect authorizes the configured org (SALESFORCE_JWT_* or
// SALESFORCE_REFRESH_TOKEN) without a browser, stores its token and
// returns its org id: SALESFORCE_ORG_ID, or, when it is unset, the org of
// the token response's identity URL. The first API call for an org with no
// stored token does the same, so calling it at start-up is optional.
func (c *Client) Connect(ctx context.Context) (string, error) {
	if !c.hasConfiguredOrg() {
		return "", errors.New("salesforce connect: neither SALESFORCE_JWT_USERNAME nor SALESFORCE_REFRESH_TOKEN is set")
	}
	// One grant at a time: concurrent first uses learn the org once.
	c.learnMu.Lock()
	defer c.learnMu.Unlock()
	if org := c.configuredOrg(); org != "" {
		if _, err := c.refresh(ctx, org, ""); err != nil {
			return "", fmt.Errorf("salesforce connect: %w", err)
		}
		return org, nil
	}
	tok, err := c.configuredGrant(ctx, "")
	if err != nil {
		return "", fmt.Errorf("salesforce connect: %w", c.grantError("", err))
	}
	st, org, err := c.stored(tok, nil)
	if err != nil {
		return "", fmt.Errorf("salesforce connect: %w", err)
	}
	if err := c.tokens.Put(ctx, crm, org, st); err != nil {
		return "", fmt.Errorf("salesforce connect: %w", err)
	}
	c.mu.Lock()
	c.orgID = org
	c.mu.Unlock()
	return org, nil
}

func (c *Client) hasConfiguredOrg() bool {
	return c.jwtKey != nil || c.cfg.RefreshToken != ""
}

func (c *Client) configuredOrg() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.orgID
}

// isConfiguredOrg compares org ids on their first 15 characters, so the
// 15- and 18-character forms both match.
func (c *Client) isConfiguredOrg(tenant string) bool {
	org := c.configuredOrg()
	if org == "" || !c.hasConfiguredOrg() {
		return false
	}
	return len(org) >= 15 && len(tenant) >= 15 && org[:15] == tenant[:15]
}

func (c *Client) oauthCtx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.sender.Client())
}

// token returns a usable token for tenant, refreshing first when it is
// known to expire within a minute.
func (c *Client) token(ctx context.Context, tenant string) (*tokenstore.Token, error) {
	t, err := c.tokens.Get(ctx, crm, tenant)
	if errors.Is(err, handoff.ErrNotInstalled) && c.hasConfiguredOrg() && c.configuredOrg() == "" {
		// SALESFORCE_ORG_ID is unset: learn the configured org from its
		// token, then see whether tenant is that org.
		if _, cerr := c.Connect(ctx); cerr != nil {
			return nil, fmt.Errorf("learn the org of the configured Salesforce credentials: %w", cerr)
		}
		t, err = c.tokens.Get(ctx, crm, tenant)
	}
	if errors.Is(err, handoff.ErrNotInstalled) && c.isConfiguredOrg(tenant) {
		return c.refresh(ctx, tenant, "")
	}
	if err != nil {
		return nil, fmt.Errorf("load token: %w", err)
	}
	if t.NeedsReauth {
		return nil, &handoff.AuthError{CRM: crm, Tenant: tenant, Refreshable: false, Detail: "re-authorization needed: " + t.Reason}
	}
	if !t.Expiry.IsZero() && t.Expiry.Sub(c.now()) < time.Minute {
		return c.refresh(ctx, tenant, t.AccessToken)
	}
	return t, nil
}

// refresh gets a new access token for tenant, once across processes: it
// takes the org's lock, re-reads the stored token and only asks
// Salesforce when the stored access token is still the stale one.
func (c *Client) refresh(ctx context.Context, tenant, stale string) (*tokenstore.Token, error) {
	st, err := c.ref.Refresh(ctx, tenant, func(ctx context.Context, cur *tokenstore.Token) (*tokenstore.Token, bool, error) {
		return c.renew(ctx, tenant, stale, cur)
	})
	if err != nil {
		return nil, fmt.Errorf("refresh token: %w", err)
	}
	return st, nil
}

// renew decides, under the org's lock, from the stored token cur (nil: none).
func (c *Client) renew(ctx context.Context, tenant, stale string, cur *tokenstore.Token) (*tokenstore.Token, bool, error) {
	switch {
	case cur == nil:
	case cur.NeedsReauth && stale == "" && c.isConfiguredOrg(tenant):
		// Connect for the configured org: its configuration may have been
		// fixed since the grant was refused, so try the grant again.
		cur = nil
	case cur.NeedsReauth:
		return nil, false, &handoff.AuthError{CRM: crm, Tenant: tenant, Refreshable: false, Detail: "re-authorization needed: " + cur.Reason}
	case cur.AccessToken != "" && cur.AccessToken != stale &&
		(cur.Expiry.IsZero() || cur.Expiry.Sub(c.now()) >= time.Minute):
		return cur, false, nil // another worker or process refreshed it
	}

	var tok *oauth2.Token
	var err error
	switch {
	case cur != nil && cur.RefreshToken != "":
		tok, err = c.oauthC.TokenSource(c.oauthCtx(ctx), &oauth2.Token{RefreshToken: cur.RefreshToken, Expiry: time.Unix(1, 0)}).Token()
	case c.isConfiguredOrg(tenant):
		tok, err = c.configuredGrant(ctx, tenant)
	default:
		// The session is dead and nothing can renew it (the install did
		// not grant the refresh_token scope).
		const reason = "no refresh token stored; re-authorize the app with the refresh_token scope"
		if cur != nil {
			c.ref.MarkNeedsReauth(ctx, tenant, reason)
		}
		return nil, false, &handoff.AuthError{CRM: crm, Tenant: tenant, Refreshable: false, Detail: reason}
	}
	if err != nil {
		err = c.grantError(tenant, err)
		var ae *handoff.AuthError
		if errors.As(err, &ae) && !ae.Refreshable && cur != nil {
			c.ref.MarkNeedsReauth(ctx, tenant, ae.Detail)
		}
		c.log.WarnContext(ctx, "salesforce token refresh failed", "tenant", tenant, "err", err)
		return nil, false, err
	}
	st, org, err := c.stored(tok, cur)
	if err != nil {
		return nil, false, err
	}
	if org != "" && (len(org) < 15 || len(tenant) < 15 || org[:15] != tenant[:15]) {
		return nil, false, &handoff.AuthError{CRM: crm, Tenant: tenant, Refreshable: false, Detail: "token belongs to another org (" + org + ")"}
	}
	return st, true, nil
}

// configuredGrant runs the JWT bearer flow, or else the refresh-token flow
// with SALESFORCE_REFRESH_TOKEN.
func (c *Client) configuredGrant(ctx context.Context, tenant string) (*oauth2.Token, error) {
	if c.jwtKey != nil {
		jc := &jwt.Config{
			Email:      c.cfg.ClientID, // iss = consumer key
			Subject:    c.cfg.JWTUsername,
			PrivateKey: c.jwtKey,
			Audience:   c.cfg.JWTAudience, // not the token URL: Salesforce wants the login URL
			Expires:    3 * time.Minute,
			TokenURL:   c.cfg.TokenURL,
		}
		return jc.TokenSource(c.oauthCtx(ctx)).Token()
	}
	return c.oauthC.TokenSource(c.oauthCtx(ctx), &oauth2.Token{RefreshToken: c.cfg.RefreshToken, Expiry: time.Unix(1, 0)}).Token()
}

// terminalGrantErrors are OAuth error codes after which only a new
// install (or a configuration fix) helps.
var terminalGrantErrors = map[string]bool{
	"invalid_grant":       true,
	"inactive_user":       true,
	"inactive_org":        true,
	"invalid_client_id":   true,
	"invalid_client":      true,
	"unauthorized_client": true,
}

// grantError classifies a token-endpoint failure. Secrets never appear:
// RetrieveError's text is not used, only its code and description.
func (c *Client) grantError(tenant string, err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return &handoff.TransientError{CRM: crm, Err: crmhttp.Scrub(err)}
	}
	code, desc := re.ErrorCode, re.ErrorDescription
	if code == "" { // x/oauth2/jwt does not parse the body
		var b struct {
			Error string `json:"error"`
			Desc  string `json:"error_description"`
		}
		if json.Unmarshal(re.Body, &b) == nil {
			code, desc = b.Error, b.Desc
		}
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	if terminalGrantErrors[code] {
		return &handoff.AuthError{CRM: crm, Tenant: tenant, Refreshable: false, Detail: strings.TrimSpace(code + ": " + desc)}
	}
	if status >= 500 || status == 0 {
		return &handoff.TransientError{CRM: crm, Status: status, Err: fmt.Errorf("token endpoint: %s %s", code, desc)}
	}
	return &handoff.PermanentError{CRM: crm, Status: status, Code: code, Detail: "token endpoint: " + desc}
}

// stored converts a token response into what the store keeps. It reads
// instance_url and the org id from the identity URL
// (https://login.salesforce.com/id/<orgId>/<userId>), checks the response
// signature when a client secret is configured, and keeps prev's refresh
// token and instance URL when the response lacks them.
func (c *Client) stored(tok *oauth2.Token, prev *tokenstore.Token) (*tokenstore.Token, string, error) {
	st := &tokenstore.Token{
		AccessToken:  tok.AccessToken,
		RefreshToken: tok.RefreshToken,
		TokenType:    tok.TokenType,
		Expiry:       tok.Expiry,
	}
	st.InstanceURL, _ = tok.Extra("instance_url").(string)
	st.Scope, _ = tok.Extra("scope").(string)
	if prev != nil {
		if st.RefreshToken == "" {
			st.RefreshToken = prev.RefreshToken
		}
		if st.InstanceURL == "" {
			st.InstanceURL = prev.InstanceURL
		}
	}
	if st.AccessToken == "" {
		return nil, "", errors.New("token response has no access_token")
	}
	if st.InstanceURL == "" {
		return nil, "", errors.New("token response has no instance_url")
	}
	id, _ := tok.Extra("id").(string)
	issued := extraString(tok, "issued_at")
	if sig, _ := tok.Extra("signature").(string); sig != "" && c.cfg.ClientSecret != "" && id != "" {
		if !VerifySignature(c.cfg.ClientSecret, id, issued, sig) {
			return nil, "", &handoff.AuthError{CRM: crm, Refreshable: false, Detail: "token response signature does not match its identity URL"}
		}
	}
	org, _, err := ParseIdentityURL(id)
	if err != nil && prev == nil {
		return nil, "", err
	}
	return st, ID18(org), nil
}

// extraString reads a token response field as the text Salesforce sent.
// issued_at is documented as a string of epoch milliseconds; a JSON number
// (decoded as float64) or a form-encoded response (int64 from Extra) is
// written back in plain decimal, so the signature is checked over the same
// digits, never over "1.7639028e+12".
func extraString(tok *oauth2.Token, key string) string {
	switch v := tok.Extra(key).(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case json.Number:
		return v.String()
	default:
		return fmt.Sprint(v)
	}
}

// ParseIdentityURL splits https://login.salesforce.com/id/<orgId>/<userId>.
func ParseIdentityURL(id string) (org, user string, err error) {
	u, err := url.Parse(id)
	if err != nil || u.Path == "" {
		return "", "", fmt.Errorf("token response identity URL %q is not a URL", id)
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 3 || parts[len(parts)-3] != "id" {
		return "", "", fmt.Errorf("token response identity URL %q is not .../id/<orgId>/<userId>", id)
	}
	org, user = parts[len(parts)-2], parts[len(parts)-1]
	if !strings.HasPrefix(org, "00D") || (len(org) != 15 && len(org) != 18) {
		return "", "", fmt.Errorf("identity URL org id %q is not an org id", org)
	}
	return org, user, nil
}

// VerifySignature checks a token response's signature: Base64 of
// HMAC-SHA256(id + issued_at) keyed with the client secret.
func VerifySignature(clientSecret, id, issuedAt, signature string) bool {
	m := hmac.New(sha256.New, []byte(clientSecret))
	m.Write([]byte(id + issuedAt))
	want := m.Sum(nil)
	got, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return false
	}
	return hmac.Equal(want, got)
}
