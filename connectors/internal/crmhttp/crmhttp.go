// Package crmhttp is the HTTP plumbing the CRM clients share: one reused
// http.Client that sends a bearer token, call counting, token refresh once
// per tenant across goroutines and processes, the shared limiter check,
// Retry-After parsing and errors that never carry a URL. Each connector
// keeps its endpoints, request and response shapes and error mapping.
package crmhttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/ratelimit"
	"github.com/handoff-dev/handoff/connectors/tokenstore"
)

// TokenStore is the part of *tokenstore.Store the clients use.
type TokenStore interface {
	Get(ctx context.Context, crm handoff.Source, tenant string) (*tokenstore.Token, error)
	Put(ctx context.Context, crm handoff.Source, tenant string, t *tokenstore.Token) error
	MarkNeedsReauth(ctx context.Context, crm handoff.Source, tenant, reason string) error
	Lock(ctx context.Context, crm handoff.Source, tenant string) (unlock func(), err error)
	NewState(ctx context.Context, crm handoff.Source, data map[string]string, ttl time.Duration) (string, error)
	TakeState(ctx context.Context, crm handoff.Source, state string) (map[string]string, error)
}

// Limiter is the part of *ratelimit.Limiter the clients use.
type Limiter interface {
	Allow(ctx context.Context, key string, lim ratelimit.Limit) (time.Duration, error)
}

// ---- call counting ----

// Calls counts API requests; safe for concurrent use.
type Calls struct{ n atomic.Int64 }

// N is the count so far.
func (c *Calls) N() int {
	if c == nil {
		return 0
	}
	return int(c.n.Load())
}

func (c *Calls) add() {
	if c != nil {
		c.n.Add(1)
	}
}

type callsKey struct{}

// CountCalls returns a context whose API requests are counted in the
// returned Calls (e.g. the calls one Profile read takes).
func CountCalls(ctx context.Context) (context.Context, *Calls) {
	c := &Calls{}
	return context.WithValue(ctx, callsKey{}, c), c
}

// CountedProfile runs read with its API calls counted into Profile.Calls.
func CountedProfile(ctx context.Context, read func(context.Context) (*handoff.Profile, error)) (*handoff.Profile, error) {
	ctx, calls := CountCalls(ctx)
	p, err := read(ctx)
	if p != nil {
		p.Calls = calls.N()
	}
	return p, err
}

// ---- sending ----

// Sender sends API requests through one http.Client, built once.
type Sender struct {
	crm     handoff.Source
	client  *http.Client
	maxBody int64
	total   Calls
}

// NewSender wraps base (its Transport, Jar and redirect policy; nil: a
// default client) with timeout (0: base's). followRedirects false answers
// a 3xx as it is. Bodies are read up to maxBody bytes.
func NewSender(crm handoff.Source, base *http.Client, timeout time.Duration, followRedirects bool, maxBody int64) *Sender {
	if base == nil {
		base = &http.Client{}
	}
	if timeout == 0 {
		timeout = base.Timeout
	}
	hc := &http.Client{Transport: base.Transport, Timeout: timeout, Jar: base.Jar, CheckRedirect: base.CheckRedirect}
	if !followRedirects {
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return &Sender{crm: crm, client: hc, maxBody: maxBody}
}

// Client is the underlying client (for token endpoints).
func (s *Sender) Client() *http.Client { return s.client }

// Calls is how many API requests the sender has sent.
func (s *Sender) Calls() int64 { return int64(s.total.N()) }

// Send sends req with "Authorization: Bearer <token>" (x/oauth2's
// Token.SetAuthHeader; none when token is ""), counts it, and reads the
// body. A transport failure is a TransientError without the URL (the
// context's error when it ended); a failure after the request may have
// reached the CRM is also marked OutcomeUnknown.
func (s *Sender) Send(ctx context.Context, req *http.Request, token string) (*http.Response, []byte, error) {
	if token != "" {
		(&oauth2.Token{AccessToken: token, TokenType: "Bearer"}).SetAuthHeader(req)
	}
	s.total.add()
	if c, ok := ctx.Value(callsKey{}).(*Calls); ok {
		c.add()
	}
	resp, err := s.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, MaybeSent(ctx.Err())
		}
		return nil, nil, MaybeSent(&handoff.TransientError{CRM: s.crm, Err: Scrub(err)})
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.maxBody))
	if err != nil {
		return nil, nil, MaybeSent(&handoff.TransientError{CRM: s.crm, Status: resp.StatusCode, Err: fmt.Errorf("read response: %w", err)})
	}
	return resp, body, nil
}

// OutcomeUnknown marks an error after which the request may have been
// processed: the connection failed after it was sent, or a response could
// not be read or decoded. A multi-call write must not simply send such a
// request again.
type OutcomeUnknown struct{ Err error }

func (e OutcomeUnknown) Error() string { return e.Err.Error() }
func (e OutcomeUnknown) Unwrap() error { return e.Err }

// MaybeSent marks err as OutcomeUnknown, unless it is a failure to
// connect (nothing was sent).
func MaybeSent(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return err
	}
	return OutcomeUnknown{err}
}

// MayHaveRun says err is (or wraps) OutcomeUnknown.
func MayHaveRun(err error) bool { return errors.As(err, new(OutcomeUnknown)) }

// Scrub drops the URL (which may hold a token, a query with emails or a
// client secret) from a transport error.
func Scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s request: %w", ue.Op, ue.Err)
	}
	return err
}

// RetryAfter reads a Retry-After header: delay seconds (a fraction too)
// or an HTTP date
// (relative to now); 0 when absent, unreadable or past.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// ---- limits ----

// Allow asks the shared limiter for one call under key. A refusal shorter
// than maxWait (in total) is waited out; a longer one is a RateLimitError
// naming spec, and a limiter failure (Redis) a TransientError. A nil
// limiter or a zero limit allows everything.
func Allow(ctx context.Context, l Limiter, crm handoff.Source, tenant, key string, lim ratelimit.Limit, spec string, maxWait time.Duration) error {
	if l == nil || lim.Rate <= 0 {
		return nil
	}
	waited := time.Duration(0)
	for {
		d, err := l.Allow(ctx, key, lim)
		if err != nil {
			return &handoff.TransientError{CRM: crm, Err: fmt.Errorf("rate limiter: %w", err)}
		}
		if d == 0 {
			return nil
		}
		if waited+d > maxWait {
			return &handoff.RateLimitError{CRM: crm, Tenant: tenant, RetryAfter: d, Detail: "client-side limit " + spec}
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		waited += d
	}
}

// ---- token refresh ----

// Refresher replaces tenants' tokens once: goroutines of this process queue
// on a mutex per tenant, processes on the store's lock, and the stored
// token is read again once both are held, so a token another worker just
// fetched is used rather than fetched again.
type Refresher struct {
	CRM   handoff.Source
	Store TokenStore
	Log   *slog.Logger
	// LockWait bounds the wait for the store's lock (0: the store's own).
	LockWait time.Duration

	local sync.Map // tenant → *sync.Mutex
}

// Renew decides, under the locks, from the stored token (nil when none is
// stored) which token to use, and whether it is new (then it is stored).
type Renew func(ctx context.Context, cur *tokenstore.Token) (t *tokenstore.Token, fresh bool, err error)

// Refresh runs renew for tenant under the locks.
func (r *Refresher) Refresh(ctx context.Context, tenant string, renew Renew) (*tokenstore.Token, error) {
	m, _ := r.local.LoadOrStore(tenant, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	defer mu.Unlock()
	lctx := ctx
	if r.LockWait > 0 {
		var cancel context.CancelFunc
		lctx, cancel = context.WithTimeout(ctx, r.LockWait)
		defer cancel()
	}
	unlock, err := r.Store.Lock(lctx, r.CRM, tenant)
	if err != nil {
		return nil, &handoff.TransientError{CRM: r.CRM, Err: fmt.Errorf("take the token refresh lock: %w", err)}
	}
	defer unlock()
	cur, err := r.Store.Get(ctx, r.CRM, tenant)
	switch {
	case errors.Is(err, handoff.ErrNotInstalled):
		cur = nil
	case err != nil:
		return nil, &handoff.TransientError{CRM: r.CRM, Err: fmt.Errorf("read the stored token: %w", err)}
	}
	t, fresh, err := renew(ctx, cur)
	if err != nil || !fresh {
		return t, err
	}
	if err := r.Store.Put(ctx, r.CRM, tenant, t); err != nil {
		return nil, &handoff.TransientError{CRM: r.CRM, Err: fmt.Errorf("store the new token: %w", err)}
	}
	r.Log.InfoContext(ctx, string(r.CRM)+" token refreshed", "tenant", tenant)
	return t, nil
}

// MarkNeedsReauth records that tenant must authorize again. It uses a
// context that the caller's cancellation does not end (the mark must land
// even when the job's deadline is up) and logs a failure.
func (r *Refresher) MarkNeedsReauth(ctx context.Context, tenant, reason string) {
	if r.Store == nil || tenant == "" {
		return
	}
	if err := r.Store.MarkNeedsReauth(context.WithoutCancel(ctx), r.CRM, tenant, reason); err != nil {
		r.Log.ErrorContext(ctx, string(r.CRM)+": could not mark the tenant as needing re-authorization", "tenant", tenant, "err", err)
	}
}
