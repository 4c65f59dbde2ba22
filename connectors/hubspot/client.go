package hubspot

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
	"time"

	"golang.org/x/oauth2"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/internal/crmhttp"
	"github.com/handoff-dev/handoff/connectors/ratelimit"
)

const crm = handoff.SourceHubSpot

// TokenStore is the part of tokenstore.Store the client uses.
type TokenStore = crmhttp.TokenStore

// Limiter is the part of ratelimit.Limiter the client uses.
type Limiter = crmhttp.Limiter

// Deps are the client's collaborators.
type Deps struct {
	Tokens  TokenStore // required for OAuth tenants; may be nil in private-app-only mode
	Limiter Limiter    // nil: no client-side limit (HubSpot's 429s still map to RateLimitError)
	// HTTPClient is the base client (its Transport and Timeout are reused
	// under the OAuth transport). Default: a client with a 30 s timeout.
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time
}

// Client is the HubSpot API client for every tenant (portal).
type Client struct {
	cfg       Config
	tokens    TokenStore
	limiter   Limiter
	limit     ratelimit.Limit
	search    ratelimit.Limit
	base      *http.Client
	sender    *crmhttp.Sender
	ref       *crmhttp.Refresher
	oauthHTTP *http.Client // the token endpoint's client (tokencase.go)
	log       *slog.Logger
	now       func() time.Time
	oauth     *oauth2.Config
	pipelines *pipelineCache

	mu        sync.Mutex
	rateInfos map[string]RateLimitInfo
}

// New builds a client.
func New(cfg Config, deps Deps) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	lim, _ := ratelimit.ParseLimit(cfg.RateLimit)
	slim, _ := ratelimit.ParseLimit(cfg.SearchRateLimit)
	if deps.Tokens == nil && cfg.PrivateAppToken == "" {
		return nil, errors.New("hubspot: a token store is required unless HUBSPOT_PRIVATE_APP_TOKEN is set")
	}
	base := deps.HTTPClient
	if base == nil {
		base = &http.Client{Timeout: 30 * time.Second}
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	c := &Client{
		cfg: cfg, tokens: deps.Tokens, limiter: deps.Limiter, limit: lim, search: slim,
		base: base, log: log.With("crm", "hubspot"), now: now,
		oauth: &oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			Endpoint:     oauth2.Endpoint{AuthURL: cfg.AuthURL, TokenURL: cfg.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
			RedirectURL:  cfg.RedirectURL(),
			Scopes:       cfg.ScopeList(),
		},
		pipelines: newPipelineCache(cfg.PipelineCacheTTL, now),
		rateInfos: map[string]RateLimitInfo{},
	}
	c.sender = crmhttp.NewSender(crm, base, 0, true, 32<<20)
	c.ref = &crmhttp.Refresher{CRM: crm, Store: deps.Tokens, Log: c.log}
	c.oauthHTTP = &http.Client{Transport: tokenCaseTransport{base: base.Transport}, Timeout: base.Timeout}
	return c, nil
}

// RateLimitInfo is what the last response's X-HubSpot-RateLimit-* headers said.
type RateLimitInfo struct {
	Max            int // X-HubSpot-RateLimit-Max
	Remaining      int // X-HubSpot-RateLimit-Remaining
	Interval       time.Duration
	Daily          int // only for private-app requests
	DailyRemaining int
	At             time.Time
	// RemainingKnown says X-HubSpot-RateLimit-Remaining was sent: a
	// response with only some of the headers says nothing about what is
	// left, and must not read as "0 remaining".
	RemainingKnown bool
}

// LastRateLimit returns the rate-limit headers last seen for tenant.
func (c *Client) LastRateLimit(tenant string) (RateLimitInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ri, ok := c.rateInfos[tenant]
	return ri, ok
}

func (c *Client) recordRateHeaders(tenant string, h http.Header) {
	if h.Get("X-HubSpot-RateLimit-Max") == "" && h.Get("X-HubSpot-RateLimit-Daily") == "" {
		return // search responses carry none (docs/crm/hubspot.md)
	}
	atoi := func(k string) int { n, _ := strconv.Atoi(h.Get(k)); return n }
	ri := RateLimitInfo{
		Max:            atoi("X-HubSpot-RateLimit-Max"),
		Remaining:      atoi("X-HubSpot-RateLimit-Remaining"),
		Interval:       time.Duration(atoi("X-HubSpot-RateLimit-Interval-Milliseconds")) * time.Millisecond,
		Daily:          atoi("X-HubSpot-RateLimit-Daily"),
		DailyRemaining: atoi("X-HubSpot-RateLimit-Daily-Remaining"),
		At:             c.now(),
		RemainingKnown: strings.TrimSpace(h.Get("X-HubSpot-RateLimit-Remaining")) != "",
	}
	c.mu.Lock()
	c.rateInfos[tenant] = ri
	c.mu.Unlock()
	if ri.Max > 0 && ri.RemainingKnown && ri.Remaining*10 < ri.Max {
		c.log.Debug("hubspot rate-limit window almost used", "tenant", tenant, "remaining", ri.Remaining, "max", ri.Max)
	}
}

// request describes one API call.
type request struct {
	method string
	path   string // starting with "/"
	query  url.Values
	body   any
	search bool // counts against the search budget, not the 10-second one
}

// do performs one API call for tenant and decodes a 2xx body into out.
// A 401 leads to one forced token refresh and one retry.
func (c *Client) do(ctx context.Context, tenant string, r request, out any) error {
	if tenant == "" {
		return fmt.Errorf("hubspot: empty tenant: %w", handoff.ErrNotInstalled)
	}
	if err := c.allow(ctx, tenant, r.search); err != nil {
		return err
	}
	var payload []byte
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return fmt.Errorf("encode request body: %w", err)
		}
		payload = b
	}
	u := c.cfg.APIBaseURL + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	for attempt := 0; ; attempt++ {
		access, refreshable, err := c.accessToken(ctx, tenant)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, r.method, u, bytesReader(payload))
		if err != nil {
			return fmt.Errorf("build request: %w", err)
		}
		req.Header.Set("Accept", "application/json")
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, body, err := c.sender.Send(ctx, req, access)
		if err != nil {
			return err
		}
		c.recordRateHeaders(tenant, resp.Header)
		if resp.StatusCode == http.StatusUnauthorized && attempt == 0 && refreshable {
			// 401 → one token refresh, then retry (docs/architecture.md).
			if _, err := c.token(ctx, tenant, access); err != nil {
				return err
			}
			continue
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			if out == nil || len(body) == 0 || resp.StatusCode == http.StatusNoContent {
				return nil
			}
			if err := json.Unmarshal(body, out); err != nil {
				return &handoff.TransientError{CRM: crm, Status: resp.StatusCode, Err: fmt.Errorf("decode response: %w", err)}
			}
			return nil
		}
		return c.statusError(tenant, resp, body, attempt > 0)
	}
}

func bytesReader(b []byte) io.Reader {
	if b == nil {
		return nil
	}
	return bytes.NewReader(b)
}

func (c *Client) allow(ctx context.Context, tenant string, search bool) error {
	if !search {
		// HubSpot said the window is used up: wait for it instead of
		// spending a request on a certain 429.
		if ri, ok := c.LastRateLimit(tenant); ok && ri.Max > 0 && ri.RemainingKnown && ri.Remaining == 0 && ri.Interval > 0 {
			if wait := ri.At.Add(ri.Interval).Sub(c.now()); wait > 0 {
				return &handoff.RateLimitError{CRM: crm, Tenant: tenant, RetryAfter: wait, Detail: "X-HubSpot-RateLimit-Remaining: 0"}
			}
		}
	}
	key, lim, spec := "hubspot:"+tenant, c.limit, c.cfg.RateLimit
	if search {
		key, lim, spec = "hubspot-search:"+tenant, c.search, c.cfg.SearchRateLimit
	}
	return crmhttp.Allow(ctx, c.limiter, crm, tenant, key, lim, spec, 0)
}

// apiError is HubSpot's error JSON (docs/crm/hubspot.md); every field is optional.
type apiError struct {
	Status        string `json:"status"`
	Message       string `json:"message"`
	CorrelationID string `json:"correlationId"`
	Category      string `json:"category"`
	SubCategory   string `json:"subCategory"`
	ErrorType     string `json:"errorType"`  // 429: RATE_LIMIT
	PolicyName    string `json:"policyName"` // 429: DAILY | TEN_SECONDLY_ROLLING
	Errors        []struct {
		Message string `json:"message"`
		In      string `json:"in"`
		Code    string `json:"code"`
	} `json:"errors"`
}

func (e apiError) code() string {
	switch {
	case e.Category != "":
		return e.Category
	case e.ErrorType != "":
		return e.ErrorType
	}
	return e.Status
}

func (e apiError) detail() string {
	d := e.Message
	if d == "" && len(e.Errors) > 0 {
		d = e.Errors[0].Message
	}
	if len(d) > 300 {
		d = d[:300] + "…"
	}
	if e.CorrelationID != "" {
		d += " (correlationId " + e.CorrelationID + ")"
	}
	return d
}

// Fallback waits when a 429 carries no Retry-After (UNCONFIRMED on REST
// 429s, docs/crm/hubspot.md); they follow the policy named in the body.
const (
	retryTenSecondly = 10 * time.Second
	retrySecondly    = time.Second
	retryDaily       = time.Hour
	retryLocked      = 2 * time.Second // 423: wait at least 2 s (docs/crm/hubspot.md)
)

func (c *Client) statusError(tenant string, resp *http.Response, body []byte, refreshed bool) error {
	var ae apiError
	_ = json.Unmarshal(body, &ae)
	st := resp.StatusCode
	ra := crmhttp.RetryAfter(resp.Header, c.now())
	switch {
	case st == http.StatusTooManyRequests:
		if ra == 0 {
			msg := strings.ToLower(ae.Message)
			switch {
			case ae.PolicyName == "DAILY" || (ae.PolicyName == "" && strings.Contains(msg, "daily limit")):
				ra = retryDaily
			case strings.Contains(msg, "secondly limit") && !strings.Contains(msg, "ten_secondly"):
				ra = retrySecondly
			default:
				if ms, _ := strconv.Atoi(resp.Header.Get("X-HubSpot-RateLimit-Interval-Milliseconds")); ms > 0 {
					ra = time.Duration(ms) * time.Millisecond
				} else {
					ra = retryTenSecondly
				}
			}
		}
		detail := ae.PolicyName
		if detail == "" {
			detail = ae.Message
		}
		return &handoff.RateLimitError{CRM: crm, Tenant: tenant, RetryAfter: ra, Detail: detail}
	case st == 423:
		return &handoff.RateLimitError{CRM: crm, Tenant: tenant, RetryAfter: max(ra, retryLocked), Detail: "record locked"}
	case st == 477:
		if ra == 0 {
			ra = retryTenSecondly
		}
		return &handoff.RateLimitError{CRM: crm, Tenant: tenant, RetryAfter: ra, Detail: "migration in progress"}
	case st == http.StatusUnauthorized:
		d := ae.code()
		if refreshed {
			d += ": rejected again after a token refresh"
		}
		return &handoff.AuthError{CRM: crm, Tenant: tenant, Refreshable: false, Detail: d}
	case st == http.StatusNotFound || ae.Category == "OBJECT_NOT_FOUND":
		return fmt.Errorf("hubspot %s: %w", ae.detail(), handoff.ErrNotFound)
	case st >= 500:
		return &handoff.TransientError{CRM: crm, Status: st, Err: fmt.Errorf("%s %s", ae.code(), ae.detail())}
	case st == http.StatusRequestTimeout:
		return &handoff.TransientError{CRM: crm, Status: st, Err: errors.New("request timeout")}
	}
	// 400 VALIDATION_ERROR, 403 MISSING_SCOPES (not a dead token), 409, 414 …
	code := ae.code()
	if code == "" {
		code = http.StatusText(st)
	}
	return &handoff.PermanentError{CRM: crm, Status: st, Code: code, Detail: ae.detail()}
}
