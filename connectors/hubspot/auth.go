package hubspot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"golang.org/x/oauth2"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/internal/crmhttp"
	"github.com/handoff-dev/handoff/connectors/tokenstore"
)

// refreshSkew: a token expiring within this window is refreshed first.
const refreshSkew = 60 * time.Second

// stateTTL bounds how long an install may take in the browser.
const stateTTL = 15 * time.Minute

// accessToken is the token for one request, and whether a 401 can be
// answered by a refresh.
func (c *Client) accessToken(ctx context.Context, tenant string) (string, bool, error) {
	if c.isPrivateApp(tenant) {
		return c.cfg.PrivateAppToken, false, nil
	}
	t, err := c.token(ctx, tenant, "")
	if err != nil {
		return "", false, err
	}
	return t.AccessToken, t.RefreshToken != "", nil
}

func (c *Client) isPrivateApp(tenant string) bool {
	return c.cfg.PrivateAppToken != "" && tenant == c.cfg.PortalID
}

func (c *Client) fresh(t *tokenstore.Token) bool {
	return t.AccessToken != "" && (t.Expiry.IsZero() || t.Expiry.After(c.now().Add(refreshSkew)))
}

// token returns a usable token for tenant. If the stored one expires soon,
// or rejected is the access token HubSpot just refused, it refreshes under
// the tenant's cross-process lock, once.
func (c *Client) token(ctx context.Context, tenant, rejected string) (*tokenstore.Token, error) {
	if c.tokens == nil {
		return nil, fmt.Errorf("hubspot tenant %s: %w", tenant, handoff.ErrNotInstalled)
	}
	t, err := c.tokens.Get(ctx, crm, tenant)
	if err != nil {
		return nil, fmt.Errorf("load token: %w", err)
	}
	if t.NeedsReauth {
		return nil, &handoff.AuthError{CRM: crm, Tenant: tenant, Detail: "re-authorization needed: " + t.Reason}
	}
	if c.fresh(t) && (rejected == "" || t.AccessToken != rejected) {
		return t, nil
	}
	return c.ref.Refresh(ctx, tenant, func(ctx context.Context, t *tokenstore.Token) (*tokenstore.Token, bool, error) {
		switch {
		case t == nil:
			return nil, false, fmt.Errorf("hubspot tenant %s: %w", tenant, handoff.ErrNotInstalled)
		case t.NeedsReauth:
			return nil, false, &handoff.AuthError{CRM: crm, Tenant: tenant, Detail: "re-authorization needed: " + t.Reason}
		case c.fresh(t) && (rejected == "" || t.AccessToken != rejected):
			return t, false, nil // another worker or process refreshed it
		case t.RefreshToken == "":
			return nil, false, &handoff.AuthError{CRM: crm, Tenant: tenant, Detail: "access token expired and no refresh token is stored"}
		}
		nt, err := c.refresh(ctx, tenant, t.RefreshToken)
		return nt, err == nil, err
	})
}

// oauthCtx carries the HTTP client x/oauth2 uses for the token endpoint:
// the base client, accepting camelCase token responses too (tokencase.go).
func (c *Client) oauthCtx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.oauthHTTP)
}

// refresh runs the refresh_token grant through x/oauth2.
func (c *Client) refresh(ctx context.Context, tenant, refreshToken string) (*tokenstore.Token, error) {
	src := c.oauth.TokenSource(c.oauthCtx(ctx), &oauth2.Token{RefreshToken: refreshToken})
	ot, err := src.Token()
	if err != nil {
		return nil, c.grantError(ctx, tenant, "refresh token", err)
	}
	nt := fromOAuth(ot)
	if nt.RefreshToken == "" {
		nt.RefreshToken = refreshToken // persist whatever comes back, keep the old one otherwise (docs/crm/hubspot.md)
	}
	return nt, nil
}

// grantError maps token-endpoint failures. invalid_grant and HubSpot's v1
// BAD_REFRESH_TOKEN are terminal: the tenant must install again.
func (c *Client) grantError(ctx context.Context, tenant, what string, err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &handoff.TransientError{CRM: crm, Err: fmt.Errorf("%s: token endpoint unreachable: %w", what, crmhttp.Scrub(err))}
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	// v1 names the failure in "status"; HubSpot's generic error JSON
	// (docs/crm/hubspot.md), which newer endpoints may use, in "category" with
	// status "error".
	var v1 struct {
		Status   string `json:"status"`
		Category string `json:"category"`
	}
	_ = json.Unmarshal(re.Body, &v1)
	code := re.ErrorCode
	if code == "" {
		code = v1.Status
	}
	if (code == "" || code == "error") && v1.Category != "" {
		code = v1.Category
	}
	switch {
	case code == "invalid_grant" || code == "BAD_REFRESH_TOKEN":
		c.ref.MarkNeedsReauth(ctx, tenant, "refresh token rejected ("+code+")")
		c.log.Warn("hubspot refresh token rejected; the portal must install the app again", "tenant", tenant, "code", code)
		return &handoff.AuthError{CRM: crm, Tenant: tenant, Refreshable: false, Detail: what + " rejected: " + code}
	case status >= 500 || status == http.StatusTooManyRequests:
		return &handoff.TransientError{CRM: crm, Status: status, Err: fmt.Errorf("%s: token endpoint answered %d", what, status)}
	}
	// invalid_client and friends: configuration, not the tenant.
	return &handoff.AuthError{CRM: crm, Tenant: tenant, Refreshable: false, Detail: fmt.Sprintf("%s refused (status %d, %s)", what, status, code)}
}

func fromOAuth(ot *oauth2.Token) *tokenstore.Token {
	t := &tokenstore.Token{AccessToken: ot.AccessToken, RefreshToken: ot.RefreshToken, TokenType: ot.TokenType, Expiry: ot.Expiry}
	switch s := ot.Extra("scopes").(type) {
	case []any:
		for i, v := range s {
			if i > 0 {
				t.Scope += " "
			}
			t.Scope += fmt.Sprint(v)
		}
	case string:
		t.Scope = s
	}
	return t
}

// AuthCodeURL starts an install: it stores a one-time state and returns
// HubSpot's consent URL (docs/crm/hubspot.md).
func (c *Client) AuthCodeURL(ctx context.Context) (string, error) {
	if c.tokens == nil || c.cfg.ClientID == "" {
		return "", errors.New("hubspot OAuth is not configured (HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET)")
	}
	state, err := c.tokens.NewState(ctx, crm, map[string]string{"kind": "install"}, stateTTL)
	if err != nil {
		return "", fmt.Errorf("create OAuth state: %w", err)
	}
	return c.oauth.AuthCodeURL(state), nil
}

// Callback completes an install: it consumes the state (tokenstore.ErrBadState
// when forged or reused), exchanges the code, learns the portal id and
// stores the token under it.
func (c *Client) Callback(ctx context.Context, q url.Values) (string, error) {
	if c.tokens == nil {
		return "", errors.New("hubspot OAuth is not configured")
	}
	if _, err := c.tokens.TakeState(ctx, crm, q.Get("state")); err != nil {
		return "", fmt.Errorf("hubspot callback: %w", err)
	}
	if e := q.Get("error"); e != "" {
		return "", &handoff.AuthError{CRM: crm, Detail: "install was not approved: " + e}
	}
	code := q.Get("code")
	if code == "" {
		return "", &handoff.PermanentError{CRM: crm, Code: "missing_code", Detail: "callback has no code"}
	}
	ot, err := c.oauth.Exchange(c.oauthCtx(ctx), code)
	if err != nil {
		return "", fmt.Errorf("hubspot callback: %w", c.grantError(ctx, "", "authorization code", err))
	}
	portal := hubID(ot.Extra("hub_id"))
	if portal == "" {
		if portal, err = c.portalOf(ctx, ot.AccessToken); err != nil {
			return "", fmt.Errorf("hubspot callback: %w", err)
		}
	}
	if err := c.tokens.Put(ctx, crm, portal, fromOAuth(ot)); err != nil {
		return "", fmt.Errorf("hubspot callback: %w", err)
	}
	c.log.Info("hubspot portal installed", "tenant", portal)
	return portal, nil
}

func hubID(v any) string {
	switch x := v.(type) {
	case float64:
		if x > 0 {
			return strconv.FormatInt(int64(x), 10)
		}
	case json.Number:
		return x.String()
	case string:
		return x
	}
	return ""
}

// TokenInfo is the access-token metadata of GET /oauth/v1/access-tokens/{token} (docs/crm/hubspot.md).
type TokenInfo struct {
	HubID     int64    `json:"hub_id"`
	User      string   `json:"user"`
	Scopes    []string `json:"scopes"`
	AppID     int64    `json:"app_id"`
	ExpiresIn int64    `json:"expires_in"`
	TokenType string   `json:"token_type"`
}

// tokenInfoPath is the v1 metadata endpoint; it goes away with v1 (Feb 2027).
const tokenInfoPath = "/oauth/v1/access-tokens/"

// portalOf asks the metadata endpoint which portal a new access token belongs to.
func (c *Client) portalOf(ctx context.Context, accessToken string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.APIBaseURL+tokenInfoPath+url.PathEscape(accessToken), nil)
	if err != nil {
		return "", errors.New("build token metadata request")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.base.Do(req)
	if err != nil {
		// The URL holds the token: never wrap the *url.Error.
		return "", &handoff.TransientError{CRM: crm, Err: errors.New("token metadata endpoint unreachable")}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		if resp.StatusCode >= 500 {
			return "", &handoff.TransientError{CRM: crm, Status: resp.StatusCode, Err: errors.New("token metadata")}
		}
		return "", &handoff.AuthError{CRM: crm, Detail: fmt.Sprintf("token metadata answered %d", resp.StatusCode)}
	}
	var ti TokenInfo
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&ti); err != nil || ti.HubID == 0 {
		return "", &handoff.PermanentError{CRM: crm, Status: resp.StatusCode, Code: "bad_token_info", Detail: "token metadata has no hub_id"}
	}
	return strconv.FormatInt(ti.HubID, 10), nil
}
