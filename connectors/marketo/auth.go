package marketo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/internal/crmhttp"
	"github.com/handoff-dev/handoff/connectors/tokenstore"
)

const (
	// refreshBefore: a token this close to expiry is replaced before use.
	refreshBefore = 60 * time.Second
	// justFetched: Marketo hands back the current token with its remaining
	// life until it expires, so a token fetched moments ago is used even if
	// it is inside refreshBefore (no identity call per request in the last
	// minute of a token's life).
	justFetched = 10 * time.Second
	lockWait    = 15 * time.Second
)

// token returns a usable access token: the shared one from the store, or a
// fresh one fetched under the cross-process lock.
func (c *Client) token(ctx context.Context) (*oauth2.Token, error) {
	t, err := c.d.Tokens.Get(ctx, crm, c.s.munchkin)
	if err != nil && !errors.Is(err, handoff.ErrNotInstalled) {
		return nil, &handoff.TransientError{CRM: crm, Err: fmt.Errorf("read cached token: %w", err)}
	}
	if t != nil && c.usable(t) {
		return oauthToken(t), nil
	}
	return c.refresh(ctx, "")
}

func (c *Client) usable(t *tokenstore.Token) bool {
	if t.AccessToken == "" || t.NeedsReauth {
		return false
	}
	now := c.now()
	if t.Expiry.IsZero() || t.Expiry.Sub(now) > refreshBefore {
		return true
	}
	return now.Before(t.Expiry) && now.Sub(t.UpdatedAt) < justFetched
}

func oauthToken(t *tokenstore.Token) *oauth2.Token {
	return &oauth2.Token{AccessToken: t.AccessToken, TokenType: "Bearer", Expiry: t.Expiry}
}

// refresh fetches a new token unless another process already replaced the
// stale one (bad is the token Marketo rejected, or "" when it merely aged).
// One refresh per instance at a time across all processes.
func (c *Client) refresh(ctx context.Context, bad string) (*oauth2.Token, error) {
	t, err := c.tokens.Refresh(ctx, c.s.munchkin, func(ctx context.Context, cur *tokenstore.Token) (*tokenstore.Token, bool, error) {
		if cur != nil && cur.AccessToken != bad && c.usable(cur) {
			return cur, false, nil // someone else refreshed it
		}
		ot, err := c.fetchToken(ctx)
		if err != nil {
			return nil, false, err
		}
		nt := &tokenstore.Token{AccessToken: ot.AccessToken, TokenType: "bearer", Expiry: ot.Expiry}
		if s, ok := ot.Extra("scope").(string); ok {
			nt.Scope = s
		}
		return nt, true, nil
	})
	if err != nil {
		return nil, err
	}
	return oauthToken(t), nil
}

// fetchToken asks the identity endpoint for a token with the documented
// request, GET <Identity URL>/oauth/token?grant_type=client_credentials&
// client_id=…&client_secret=…; when the endpoint refuses it (4xx), the
// POST form of the same request, which the docs also allow, decides.
// The URL carries the secret, so no error or log line ever includes it.
func (c *Client) fetchToken(ctx context.Context) (*oauth2.Token, error) {
	hc := c.send.Client()
	q := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.cfg.ClientID}, "client_secret": {c.cfg.ClientSecret}}
	sep := "?"
	if strings.Contains(c.s.identityURL, "?") {
		sep = "&"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.s.identityURL+sep+q.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("build token request for %s: bad MARKETO_IDENTITY_URL", c.s.munchkin)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &handoff.TransientError{CRM: crm, Err: fmt.Errorf("fetch token: %w", crmhttp.Scrub(err))}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, &handoff.TransientError{CRM: crm, Status: resp.StatusCode, Err: fmt.Errorf("read token response: %w", err)}
	}
	if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests {
		// Not served as a GET (405, 404), or refused: the endpoint may read
		// the credentials from a POST body only; its answer to that decides.
		hctx := context.WithValue(ctx, oauth2.HTTPClient, hc)
		ot, err := c.cc.Token(hctx)
		if err != nil {
			return nil, c.identityErr(err)
		}
		return ot, nil
	}
	var tr struct {
		AccessToken string      `json:"access_token"`
		TokenType   string      `json:"token_type"`
		ExpiresIn   json.Number `json:"expires_in"`
		Scope       string      `json:"scope"`
		Error       string      `json:"error"`
	}
	jerr := json.Unmarshal(body, &tr)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, c.identityStatusErr(resp.StatusCode, tr.Error)
	}
	if jerr != nil || tr.AccessToken == "" {
		// Not documented for the identity endpoint, but a REST-style
		// refusal (606 and friends in an HTTP 200 envelope) is read as one.
		var env envelope
		if json.Unmarshal(body, &env) == nil && !env.Success && len(env.Errors) > 0 {
			return nil, fmt.Errorf("fetch token: %w", c.apiErr(ctx, env.Errors[0], env.RequestID))
		}
		return nil, &handoff.TransientError{CRM: crm, Status: resp.StatusCode, Err: errors.New("token response has no access_token")}
	}
	ot := &oauth2.Token{AccessToken: tr.AccessToken, TokenType: tr.TokenType}
	if n, err := tr.ExpiresIn.Int64(); err == nil && n > 0 {
		ot.Expiry = c.now().Add(time.Duration(n) * time.Second)
	}
	return ot.WithExtra(map[string]any{"scope": tr.Scope}), nil
}

// identityErr maps a token-endpoint failure. HTTP 401/400 means the client
// id or secret is wrong (or the service was deleted): no refresh helps.
func (c *Client) identityErr(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		return c.identityStatusErr(re.Response.StatusCode, re.ErrorCode)
	}
	// Transport errors: drop the URL (x/oauth2 wraps *url.Error).
	return &handoff.TransientError{CRM: crm, Err: fmt.Errorf("fetch token: %w", crmhttp.Scrub(err))}
}

// identityStatusErr maps an HTTP error of the identity endpoint.
func (c *Client) identityStatusErr(st int, code string) error {
	switch {
	case st == http.StatusUnauthorized || st == http.StatusBadRequest || st == http.StatusForbidden:
		return &handoff.AuthError{CRM: crm, Tenant: c.s.munchkin, Refreshable: false,
			Detail: fmt.Sprintf("identity endpoint refused the client credentials (HTTP %d %s); check MARKETO_CLIENT_ID/SECRET", st, code)}
	case st == http.StatusTooManyRequests:
		return &handoff.RateLimitError{CRM: crm, Tenant: c.s.munchkin, RetryAfter: rateWindow, Detail: "identity endpoint HTTP 429"}
	default:
		return &handoff.TransientError{CRM: crm, Status: st, Err: fmt.Errorf("identity endpoint HTTP %d", st)}
	}
}
