package marketo

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
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/internal/crmhttp"
	"github.com/handoff-dev/handoff/connectors/ratelimit"
)

const crm = handoff.SourceMarketo

// TokenStore is the part of connectors/tokenstore the client uses.
type TokenStore = crmhttp.TokenStore

// Limiter is the part of connectors/ratelimit the client uses.
type Limiter = crmhttp.Limiter

// Deps are the client's collaborators.
type Deps struct {
	Tokens  TokenStore            // required: the shared, encrypted token cache
	Redis   redis.UniversalClient // required: concurrency slots, 606 cooldown, task hints, the steps of a handoff
	Limiter Limiter               // optional: the shared per-instance rate limiter
	// HTTPClient is the base client (its Transport is wrapped by
	// oauth2.Transport); nil = a client with Config.HTTPTimeout.
	HTTPClient *http.Client
	Logger     *slog.Logger     // nil = discard
	Now        func() time.Time // nil = time.Now
}

// Client is the Marketo REST client for the one configured instance.
type Client struct {
	cfg    Config
	s      settings
	d      Deps
	send   *crmhttp.Sender
	tokens *crmhttp.Refresher
	cc     *clientcredentials.Config
	slots  *slots
	limit  ratelimit.Limit
	log    *slog.Logger
	now    func() time.Time
	prefix string
}

// New builds the client.
func New(cfg Config, deps Deps) (*Client, error) {
	cfg = cfg.withDefaults()
	s, err := cfg.parse()
	if err != nil {
		return nil, fmt.Errorf("marketo config: %w", err)
	}
	if deps.Tokens == nil || deps.Redis == nil {
		return nil, errors.New("marketo: Deps.Tokens and Deps.Redis are required")
	}
	c := &Client{cfg: cfg, s: s, d: deps, log: deps.Logger, now: deps.Now, prefix: "handoff:marketo:" + s.munchkin + ":"}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.send = crmhttp.NewSender(crm, deps.HTTPClient, cfg.HTTPTimeout, true, 16<<20)
	c.tokens = &crmhttp.Refresher{CRM: crm, Store: deps.Tokens, Log: c.log, LockWait: lockWait}
	c.cc = &clientcredentials.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		TokenURL:     s.identityURL,
		AuthStyle:    oauth2.AuthStyleInParams, // client_id/secret in the form body
	}
	c.slots = &slots{
		rdb:      deps.Redis,
		key:      c.prefix + "inflight",
		cooldown: c.prefix + "cooldown",
		log:      c.prefix + "calls",
		limit:    cfg.Concurrency,
		lease:    cfg.HTTPTimeout + 5*time.Second,
	}
	// GCRA allows a burst on top of the steady rate; keep burst+rate within
	// the published budget so no 20 s window sees more than Calls.
	burst := max(1, s.rate.Calls/4)
	c.limit = ratelimit.Limit{Rate: max(1, s.rate.Calls-burst), Period: s.rate.Period, Burst: burst}
	return c, nil
}

// Munchkin returns the instance id this client serves (its only tenant).
func (c *Client) Munchkin() string { return c.s.munchkin }

func (c *Client) checkTenant(tenant string) error {
	if !strings.EqualFold(strings.TrimSpace(tenant), c.s.munchkin) {
		return fmt.Errorf("marketo instance %q (this service is configured for %s): %w", tenant, c.s.munchkin, handoff.ErrNotInstalled)
	}
	return nil
}

// envelope is Marketo's response wrapper; errors come with HTTP 200.
type envelope struct {
	RequestID     string          `json:"requestId"`
	Success       bool            `json:"success"`
	Result        json.RawMessage `json:"result"`
	Errors        []apiError      `json:"errors"`
	MoreResult    bool            `json:"moreResult"`
	NextPageToken string          `json:"nextPageToken"`
}

type apiError struct {
	Code    code   `json:"code"`
	Message string `json:"message"`
}

// code is documented as a quoted string; accept a bare number too.
type code string

func (c *code) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*c = code(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("error code: %w", err)
	}
	*c = code(n.String())
	return nil
}

// request is one REST call.
type request struct {
	op     string // what is being done, for errors
	method string
	path   string
	query  url.Values
	body   any
}

// call runs r with the rate limiter, the concurrency cap and the token,
// decodes the envelope, refreshes and retries once on 600/601/602, and maps
// errors to the handoff types.
func (c *Client) call(ctx context.Context, r request) (*envelope, error) {
	var payload []byte
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return nil, fmt.Errorf("%s: encode body: %w", r.op, err)
		}
		payload = b
	}
	tok, err := c.token(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.op, err)
	}
	for attempt := 0; ; attempt++ {
		env, err := c.roundTrip(ctx, r, payload, tok)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.op, err)
		}
		if env.Success {
			return env, nil
		}
		e := firstError(env)
		switch e.Code {
		case "600", "601", "602":
			if attempt > 0 {
				return nil, fmt.Errorf("%s: %w", r.op, &handoff.AuthError{CRM: crm, Tenant: c.s.munchkin, Refreshable: true,
					Detail: fmt.Sprintf("Marketo %s %s again after a token refresh (requestId %s)", e.Code, e.Message, env.RequestID)})
			}
			c.log.InfoContext(ctx, "marketo token rejected; refreshing", "code", string(e.Code), "request_id", env.RequestID)
			tok, err = c.refresh(ctx, tok.AccessToken)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", r.op, err)
			}
			continue
		}
		return nil, fmt.Errorf("%s: %w", r.op, c.apiErr(ctx, e, env.RequestID))
	}
}

func firstError(env *envelope) apiError {
	if len(env.Errors) > 0 {
		return env.Errors[0]
	}
	return apiError{Code: "0", Message: "success=false without errors"}
}

// roundTrip does one HTTP exchange.
func (c *Client) roundTrip(ctx context.Context, r request, payload []byte, tok *oauth2.Token) (*envelope, error) {
	if err := c.allow(ctx); err != nil {
		return nil, err
	}
	release, err := c.slots.acquire(ctx, c.cfg.ConcurrencyWait)
	if err != nil {
		var cd errCooldown
		switch {
		case errors.As(err, &cd):
			return nil, &handoff.RateLimitError{CRM: crm, Tenant: c.s.munchkin, RetryAfter: cd.left, Detail: "606 cooldown"}
		case errors.As(err, new(errFull)):
			return nil, &handoff.RateLimitError{CRM: crm, Tenant: c.s.munchkin, RetryAfter: time.Second,
				Detail: fmt.Sprintf("%d requests already in flight (MARKETO_CONCURRENCY)", c.cfg.Concurrency)}
		}
		return nil, &handoff.TransientError{CRM: crm, Err: err}
	}
	defer release()

	u := c.s.base + r.path
	method, contentType := r.method, "application/json"
	if len(r.query) > 0 {
		q := r.query.Encode()
		if method == http.MethodGet && payload == nil && len(u)+1+len(q) > maxURL {
			// Marketo answers 414 past 8 KB of URL; the documented
			// workaround is a POST with ?_method=GET and the query string
			// as a form body.
			method, contentType = http.MethodPost, "application/x-www-form-urlencoded"
			u += "?_method=GET"
			payload = []byte(q)
		} else {
			u += "?" + q
		}
	}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if payload != nil {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	// The token goes only in "Authorization: Bearer", never in the query.
	resp, raw, err := c.send.Send(ctx, req, tok.AccessToken)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		// Marketo documents 502 as a failure to retry (not a request
		// that ran), and answers its own limits in the envelope.
		return nil, &handoff.TransientError{CRM: crm, Status: resp.StatusCode, Err: fmt.Errorf("HTTP %d", resp.StatusCode)}
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, &handoff.AuthError{CRM: crm, Tenant: c.s.munchkin, Refreshable: true, Detail: "HTTP 401 from the REST API"}
	case resp.StatusCode >= 300:
		return nil, &handoff.PermanentError{CRM: crm, Status: resp.StatusCode, Code: strconv.Itoa(resp.StatusCode),
			Detail: httpDetail(resp.StatusCode)}
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, crmhttp.MaybeSent(&handoff.TransientError{CRM: crm, Status: resp.StatusCode, Err: fmt.Errorf("decode envelope: %w", err)})
	}
	return &env, nil
}

// maxURL is the longest URL sent as a GET; Marketo refuses URLs over 8 KB
// with 414 (kept below, for proxies that count the request line).
const maxURL = 7 << 10

func httpDetail(status int) string {
	switch status {
	case http.StatusRequestEntityTooLarge:
		return "payload larger than 1 MB"
	case http.StatusRequestURITooLong:
		return "URI longer than 8 KB"
	}
	return http.StatusText(status)
}

// maxLimiterWait: a refusal shorter than this is waited out in place (a
// multi-call read should not fail for a 200 ms gap); longer ones return a
// RateLimitError without calling Marketo.
const maxLimiterWait = time.Second

func (c *Client) allow(ctx context.Context) error {
	return crmhttp.Allow(ctx, c.d.Limiter, crm, c.s.munchkin, "marketo:"+c.s.munchkin, c.limit, c.cfg.RateLimit, maxLimiterWait)
}

// Rate-limit windows (docs/crm/marketo.md).
const (
	rateWindow        = 20 * time.Second
	concurrencyPause  = 2 * time.Second
	quotaResetUTCHour = 6 // 12:00 AM CST = 06:00 UTC
)

// apiErr maps a response- or record-level error to the handoff types.
func (c *Client) apiErr(ctx context.Context, e apiError, requestID string) error {
	detail := fmt.Sprintf("%s %s (requestId %s)", e.Code, e.Message, requestID)
	switch e.Code {
	case "606":
		left := c.slots.startCooldown(ctx)
		return &handoff.RateLimitError{CRM: crm, Tenant: c.s.munchkin, RetryAfter: left, Detail: detail}
	case "615":
		return &handoff.RateLimitError{CRM: crm, Tenant: c.s.munchkin, RetryAfter: concurrencyPause, Detail: detail}
	case "607":
		return &handoff.RateLimitError{CRM: crm, Tenant: c.s.munchkin, RetryAfter: untilQuotaReset(c.now()), Detail: detail}
	case "604", "608", "611", "713", "719", "1029":
		return &handoff.TransientError{CRM: crm, Err: errors.New(detail)}
	case "603":
		return &handoff.AuthError{CRM: crm, Tenant: c.s.munchkin, Refreshable: false,
			Detail: detail + ": the API user's role lacks a permission or the IP is not allowlisted"}
	case "702", "1004", "1013":
		return fmt.Errorf("marketo %s: %w", detail, handoff.ErrNotFound)
	}
	return &handoff.PermanentError{CRM: crm, Code: string(e.Code), Detail: detail}
}

// untilQuotaReset is the time to the next 12:00 AM CST (UTC-6), when
// Marketo resets the daily quota.
func untilQuotaReset(now time.Time) time.Duration {
	now = now.UTC()
	next := time.Date(now.Year(), now.Month(), now.Day(), quotaResetUTCHour, 0, 0, 0, time.UTC)
	if !next.After(now) {
		next = next.Add(24 * time.Hour)
	}
	return next.Sub(now)
}

// recordResult is a per-record status in result[].
type recordResult struct {
	ID          json.Number `json:"id"`
	MarketoGUID string      `json:"marketoGUID"`
	Status      string      `json:"status"`
	Reasons     []apiError  `json:"reasons"`
}

// checkRecords turns a skipped/failed record into an error.
func (c *Client) checkRecords(ctx context.Context, env *envelope) ([]recordResult, error) {
	var rs []recordResult
	if len(env.Result) > 0 {
		if err := json.Unmarshal(env.Result, &rs); err != nil {
			return nil, &handoff.TransientError{CRM: crm, Err: fmt.Errorf("decode result: %w", err)}
		}
	}
	for _, r := range rs {
		if r.Status == "skipped" || r.Status == "failed" || len(r.Reasons) > 0 {
			e := apiError{Code: "0", Message: "record " + r.Status}
			if len(r.Reasons) > 0 {
				e = r.Reasons[0]
			}
			return rs, c.apiErr(ctx, e, env.RequestID)
		}
	}
	return rs, nil
}
