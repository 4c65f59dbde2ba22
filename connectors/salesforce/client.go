// Package salesforce is Handoff's Salesforce REST API client: OAuth 2.0
// (web-server flow with PKCE, refresh-token flow, JWT bearer flow) with
// tokens kept per org in the encrypted token store, enrichment reads in as
// few SOQL queries as the API allows, and idempotent Task writes keyed on
// the handoff id (an External ID field upsert).
//
// Salesforce access tokens carry no expiry, so a 401 INVALID_SESSION_ID
// triggers one refresh (one per org across processes, under the store's
// lock) and one retry of the request.
package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/internal/crmhttp"
	"github.com/handoff-dev/handoff/connectors/ratelimit"
	"github.com/handoff-dev/handoff/connectors/tokenstore"
)

const crm = handoff.SourceSalesforce

// maxBody bounds what is read from one API response.
const maxBody = 16 << 20

// TokenStore is the part of *tokenstore.Store the client uses.
type TokenStore = crmhttp.TokenStore

// Limiter is the part of *ratelimit.Limiter the client uses.
type Limiter = crmhttp.Limiter

// Deps are the client's collaborators.
type Deps struct {
	Tokens  TokenStore // required
	Limiter Limiter    // optional: no per-org pacing when nil
	// HTTPClient is the base client (timeouts, transport); OAuth
	// transports wrap its Transport. Defaults to a 30 s client.
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time
}

// Client talks to the Salesforce orgs that installed Handoff. One Client
// serves every org (tenant = the 18-character org id).
type Client struct {
	cfg    Config
	tokens TokenStore
	lim    Limiter
	limit  ratelimit.Limit
	sender *crmhttp.Sender
	ref    *crmhttp.Refresher
	log    *slog.Logger
	now    func() time.Time
	jwtKey []byte

	learnMu sync.Mutex // one Connect at a time
	mu      sync.Mutex
	orgID   string               // the configured org (SALESFORCE_ORG_ID or learned by Connect)
	usage   map[string]LimitInfo // last Sforce-Limit-Info per org
	calls   atomic.Int64
	oauthC  *oauth2.Config
}

// New builds a client. cfg is usually loaded with go-envconfig.
func New(cfg Config, deps Deps) (*Client, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if deps.Tokens == nil {
		return nil, errors.New("salesforce: a token store is required")
	}
	key, err := cfg.jwtKey()
	if err != nil {
		return nil, err
	}
	lim, _ := ratelimit.ParseLimit(cfg.RateLimit)
	c := &Client{
		cfg:    cfg,
		tokens: deps.Tokens,
		lim:    deps.Limiter,
		limit:  lim,
		log:    deps.Logger,
		now:    deps.Now,
		jwtKey: key,
		orgID:  ID18(cfg.OrgID),
		usage:  map[string]LimitInfo{},
	}
	base := deps.HTTPClient
	if base == nil {
		base = &http.Client{Timeout: 30 * time.Second}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.sender = crmhttp.NewSender(crm, base, 0, false, maxBody)
	c.ref = &crmhttp.Refresher{CRM: crm, Store: deps.Tokens, Log: c.log}
	if c.now == nil {
		c.now = time.Now
	}
	c.oauthC = &oauth2.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:   cfg.AuthURL,
			TokenURL:  cfg.TokenURL,
			AuthStyle: oauth2.AuthStyleInParams,
		},
		RedirectURL: strings.TrimRight(cfg.PublicBaseURL, "/") + "/oauth/salesforce/callback",
		Scopes:      cfg.Scopes,
	}
	return c, nil
}

// Calls is the number of REST API requests this client has sent (token
// requests excluded).
func (c *Client) Calls() int64 { return c.sender.Calls() }

// LimitInfo is the org's daily API allocation as last reported in the
// Sforce-Limit-Info header (api-usage=Used/Max).
type LimitInfo struct {
	Used, Max int
	At        time.Time
}

// Fraction is Used/Max (0 when Max is unknown).
func (l LimitInfo) Fraction() float64 {
	if l.Max <= 0 {
		return 0
	}
	return float64(l.Used) / float64(l.Max)
}

// LimitInfo returns the last api-usage reading for the org.
func (c *Client) LimitInfo(tenant string) (LimitInfo, bool) {
	tenant = ID18(tenant)
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.usage[tenant]
	return l, ok
}

// ParseLimitInfo reads the api-usage part of a Sforce-Limit-Info header in
// every form Salesforce documents: "api-usage=10018/100000; api-bursts=1/750",
// "api-usage=25/5000; per-app-api-usage=17/250(appName=sample-app)", or
// api-usage alone. Parts are separated by ";" (or "," as some clients
// print them); a separator inside parentheses (an app name) splits nothing.
func ParseLimitInfo(h string) (used, max int, ok bool) {
	for _, part := range splitLimitInfo(h) {
		k, v, found := strings.Cut(part, "=")
		if !found || strings.TrimSpace(k) != "api-usage" {
			continue
		}
		u, m, found := strings.Cut(v, "/")
		if !found {
			return 0, 0, false
		}
		ui, err1 := strconv.Atoi(strings.TrimSpace(u))
		mi, err2 := strconv.Atoi(strings.TrimSpace(m))
		if err1 != nil || err2 != nil || ui < 0 || mi < 0 {
			return 0, 0, false
		}
		return ui, mi, true
	}
	return 0, 0, false
}

// splitLimitInfo splits a Sforce-Limit-Info value at ";" and "," outside
// parentheses.
func splitLimitInfo(h string) []string {
	var parts []string
	depth, start := 0, 0
	for i, r := range h {
		switch {
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
		case (r == ';' || r == ',') && depth == 0:
			parts = append(parts, h[start:i])
			start = i + 1
		}
	}
	return append(parts, h[start:])
}

// APIError is one entry of Salesforce's JSON error array.
type APIError struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields,omitempty"`
}

// decodeErrors reads a REST error body: normally a JSON array of
// {message, errorCode, fields}; tolerates a single object and OAuth-style
// {error, error_description}.
func decodeErrors(body []byte) []APIError {
	var arr []APIError
	if err := json.Unmarshal(body, &arr); err == nil && len(arr) > 0 {
		return arr
	}
	var one struct {
		APIError
		Error     string `json:"error"`
		ErrorDesc string `json:"error_description"`
	}
	if err := json.Unmarshal(body, &one); err == nil {
		if one.ErrorCode != "" {
			return []APIError{one.APIError}
		}
		if one.Error != "" {
			return []APIError{{ErrorCode: one.Error, Message: one.ErrorDesc}}
		}
	}
	return nil
}

// transientCodes are 4xx error codes that go away on retry.
var transientCodes = map[string]bool{
	"UNABLE_TO_LOCK_ROW": true,
	"SERVER_UNAVAILABLE": true,
}

// classify turns a non-2xx response into a root typed error.
func (c *Client) classify(tenant string, resp *http.Response, body []byte) error {
	errs := decodeErrors(body)
	code, msg := "", ""
	if len(errs) > 0 {
		code, msg = errs[0].ErrorCode, errs[0].Message
		if len(errs[0].Fields) > 0 {
			msg += " (fields: " + strings.Join(errs[0].Fields, ", ") + ")"
		}
	}
	if code == "" {
		code = http.StatusText(resp.StatusCode)
	}
	st := resp.StatusCode
	switch {
	case code == "REQUEST_LIMIT_EXCEEDED" || st == http.StatusTooManyRequests:
		retry := c.retryAfter(resp)
		if used, max, ok := ParseLimitInfo(resp.Header.Get("Sforce-Limit-Info")); ok && max > 0 && used >= max && resp.Header.Get("Retry-After") == "" {
			// The rolling 24 h allocation is spent (not the concurrent
			// long-running request cap): wait longer.
			retry = c.cfg.APIUsageRetry
		}
		return &handoff.RateLimitError{CRM: crm, Tenant: tenant, RetryAfter: retry, Detail: code + ": " + msg}
	case st == http.StatusUnauthorized:
		return &handoff.AuthError{CRM: crm, Tenant: tenant, Refreshable: true, Detail: code + ": " + msg}
	case st == http.StatusNotFound:
		return fmt.Errorf("%s: %s: %w", code, msg, handoff.ErrNotFound)
	case st >= 500 || transientCodes[code] || st == http.StatusConflict:
		return &handoff.TransientError{CRM: crm, Status: st, Err: fmt.Errorf("%s: %s", code, msg)}
	default:
		return &handoff.PermanentError{CRM: crm, Status: st, Code: code, Detail: msg}
	}
}

func (c *Client) retryAfter(resp *http.Response) time.Duration {
	if d := crmhttp.RetryAfter(resp.Header, c.now()); d > 0 {
		return d
	}
	return c.cfg.LimitRetry
}

// preflight applies our own pacing and the api-usage backoff.
func (c *Client) preflight(ctx context.Context, tenant string) error {
	if err := crmhttp.Allow(ctx, c.lim, crm, tenant, "salesforce:"+tenant, c.limit, c.cfg.RateLimit, 0); err != nil {
		return err
	}
	if c.cfg.APIUsageBackoff > 0 {
		if l, ok := c.LimitInfo(tenant); ok && l.Fraction() >= c.cfg.APIUsageBackoff {
			if wait := l.At.Add(c.cfg.APIUsageRetry).Sub(c.now()); wait > 0 {
				return &handoff.RateLimitError{CRM: crm, Tenant: tenant, RetryAfter: wait,
					Detail: fmt.Sprintf("api-usage %d/%d reached the %.0f%% backoff threshold", l.Used, l.Max, c.cfg.APIUsageBackoff*100)}
			}
		}
	}
	return nil
}

// do sends one REST request to {instance_url}/services/data/{version}{path}
// for tenant, refreshing the token once on 401 and retrying once. out, if
// non-nil, receives the decoded JSON body of a 2xx answer. It returns the
// HTTP status of the final answer.
func (c *Client) do(ctx context.Context, tenant, method, path string, query url.Values, body, out any) (int, error) {
	st, _, err := c.doHeader(ctx, tenant, method, path, query, nil, body, out)
	return st, err
}

// doHeader is do with extra request headers (hdr, may be nil); it also
// returns the final answer's response headers.
func (c *Client) doHeader(ctx context.Context, tenant, method, path string, query url.Values, hdr http.Header, body, out any) (int, http.Header, error) {
	tenant = ID18(tenant) // tokens are stored under the 18-character org id
	if err := c.preflight(ctx, tenant); err != nil {
		return 0, nil, err
	}
	var payload []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, fmt.Errorf("encode request: %w", err)
		}
		payload = b
	}
	tok, err := c.token(ctx, tenant)
	if err != nil {
		return 0, nil, err
	}
	resp, respBody, err := c.send(ctx, tenant, tok, method, path, query, hdr, payload)
	if err != nil {
		return 0, nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		// Salesforce tokens have no expiry: the session timed out or was
		// revoked. Refresh once (unless someone already did) and retry once.
		c.log.InfoContext(ctx, "salesforce session rejected; refreshing token", "tenant", tenant, "code", firstCode(respBody))
		tok, err = c.refresh(ctx, tenant, tok.AccessToken)
		if err != nil {
			return 0, nil, err
		}
		resp, respBody, err = c.send(ctx, tenant, tok, method, path, query, hdr, payload)
		if err != nil {
			return 0, nil, err
		}
		if resp.StatusCode == http.StatusUnauthorized {
			return resp.StatusCode, resp.Header, &handoff.AuthError{CRM: crm, Tenant: tenant, Refreshable: true,
				Detail: "session rejected again right after a token refresh (" + firstCode(respBody) + ")"}
		}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, resp.Header, c.classify(tenant, resp, respBody)
	}
	if out != nil && len(respBody) > 0 {
		if err := json.Unmarshal(respBody, out); err != nil {
			return resp.StatusCode, resp.Header, &handoff.TransientError{CRM: crm, Status: resp.StatusCode, Err: fmt.Errorf("decode response: %w", err)}
		}
	}
	return resp.StatusCode, resp.Header, nil
}

func firstCode(body []byte) string {
	if errs := decodeErrors(body); len(errs) > 0 {
		return errs[0].ErrorCode
	}
	return ""
}

// send makes one HTTP request through an oauth2.Transport carrying tok.
func (c *Client) send(ctx context.Context, tenant string, tok *tokenstore.Token, method, path string, query url.Values, hdr http.Header, payload []byte) (*http.Response, []byte, error) {
	if tok.InstanceURL == "" {
		return nil, nil, &handoff.AuthError{CRM: crm, Tenant: tenant, Refreshable: false, Detail: "stored token has no instance_url; re-authorize"}
	}
	u := strings.TrimRight(tok.InstanceURL, "/") + "/services/data/" + c.cfg.APIVersion + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, nil, fmt.Errorf("build request: %w", err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := c.now()
	resp, b, err := c.sender.Send(ctx, req, tok.AccessToken)
	if err != nil {
		return nil, nil, err
	}
	if used, max, ok := ParseLimitInfo(resp.Header.Get("Sforce-Limit-Info")); ok {
		c.mu.Lock()
		c.usage[tenant] = LimitInfo{Used: used, Max: max, At: c.now()}
		c.mu.Unlock()
	}
	// The path may carry record ids but never the SOQL text (PII).
	c.log.DebugContext(ctx, "salesforce api call", "tenant", tenant, "method", method, "path", path,
		"status", resp.StatusCode, "duration", c.now().Sub(start), "limit_info", resp.Header.Get("Sforce-Limit-Info"))
	return resp, b, nil
}
