// Package callbacks delivers Handoff's notices (decisions, tasks, owner
// changes, SLA breaches, reassignments) to AGENT_CALLBACK_URL, signed with
// Standard Webhooks (https://www.standardwebhooks.com/) through the
// reference library.
//
// Delivery is durable: each notice is one asynq task on the "callbacks"
// queue whose TaskID is the notice's webhook-id, so a notice queued twice
// is delivered once. Network errors, 5xx and 429 (Retry-After honoured) are
// retried with exponential backoff (about 30 hours with the defaults);
// other 4xx and 3xx (redirects are not followed) archive the task at once;
// exhausted tasks are archived too. Archived tasks stay visible and
// runnable in the dashboard; GET /api/callbacks lists recent deliveries
// and POST /api/callbacks/{id}/replay sends one again.
//
// Owner changes of one conversation are delivered in sequence order: the
// delivery of change n waits while change n-1 is still queued (pending,
// scheduled, retrying or in flight), and goes ahead once it was delivered,
// archived or never queued.
package callbacks

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/handoff-dev/handoff/jobs"
	"github.com/handoff-dev/handoff/ladder"
)

// Queue and task type of deliveries.
const (
	Queue       = "callbacks"
	TypeDeliver = "callback:deliver"
)

// Config is the callback subscriber.
type Config struct {
	URL    string `env:"AGENT_CALLBACK_URL"`
	Secret string `env:"AGENT_CALLBACK_SECRET"`
	// Timeout bounds one delivery attempt (connect, send, answer).
	Timeout time.Duration `env:"AGENT_CALLBACK_TIMEOUT, default=10s"`
	// MaxRetry, RetryBase and RetryMaxDelay: retry n waits RetryBase×2^n,
	// at most RetryMaxDelay (plus up to 25% jitter). The defaults retry
	// for about 30 hours before archiving.
	MaxRetry      int           `env:"AGENT_CALLBACK_MAX_RETRY, default=24"`
	RetryBase     time.Duration `env:"AGENT_CALLBACK_RETRY_BASE, default=10s"`
	RetryMaxDelay time.Duration `env:"AGENT_CALLBACK_RETRY_MAX_DELAY, default=2h"`
	// Retention is how long a delivered callback is kept (listed by
	// GET /api/callbacks, its webhook-id reserved against re-sending).
	Retention time.Duration `env:"AGENT_CALLBACK_RETENTION, default=72h"`
	// NotifyWebhookSecret signs the events sent to the ladder's
	// "webhook:URL" notify targets that name no variable of their own.
	NotifyWebhookSecret string `env:"NOTIFY_WEBHOOK_SECRET"`
}

// Enabled reports whether callbacks are configured.
func (c Config) Enabled() bool { return c.URL != "" || c.Secret != "" }

// CheckSecret checks a Standard Webhooks signing secret held in the
// environment variable name: whsec_ + base64 of at least 16 bytes.
func CheckSecret(name, secret string) error {
	if !strings.HasPrefix(secret, "whsec_") {
		return fmt.Errorf("%s: must start with whsec_ (Standard Webhooks secret: whsec_ + base64 of 24 to 64 random bytes)", name)
	}
	if _, err := standardwebhooks.NewWebhook(secret); err != nil {
		return fmt.Errorf("%s: the part after whsec_ is not base64", name)
	}
	if key, _ := decodeSecret(secret); len(key) < 16 {
		return fmt.Errorf("%s: %d bytes is too short; use 24 to 64 random bytes (e.g. echo whsec_$(openssl rand -base64 32))", name, len(key))
	}
	return nil
}

// Validate checks the URL and secret. The URL must be https://, or http://
// on a loopback host (a receiver on the same machine).
func (c Config) Validate() error {
	if c.NotifyWebhookSecret != "" {
		if err := CheckSecret("NOTIFY_WEBHOOK_SECRET", c.NotifyWebhookSecret); err != nil {
			return err
		}
	}
	if !c.Enabled() {
		return nil
	}
	if c.URL == "" {
		return errors.New("AGENT_CALLBACK_URL: required with AGENT_CALLBACK_SECRET")
	}
	u, err := url.Parse(c.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("AGENT_CALLBACK_URL: %q is not an absolute http(s) URL", redactURL(c.URL))
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return fmt.Errorf("AGENT_CALLBACK_URL: %q must be https:// (http:// is accepted only for a loopback host)", redactURL(c.URL))
	}
	if c.Secret == "" {
		return errors.New("AGENT_CALLBACK_SECRET: required with AGENT_CALLBACK_URL (whsec_ followed by base64 of 24 to 64 random bytes)")
	}
	if err := CheckSecret("AGENT_CALLBACK_SECRET", c.Secret); err != nil {
		return err
	}
	for name, d := range map[string]time.Duration{"AGENT_CALLBACK_TIMEOUT": c.Timeout, "AGENT_CALLBACK_RETRY_BASE": c.RetryBase,
		"AGENT_CALLBACK_RETRY_MAX_DELAY": c.RetryMaxDelay, "AGENT_CALLBACK_RETENTION": c.Retention} {
		if d <= 0 {
			return fmt.Errorf("%s: must be positive, got %s", name, d)
		}
	}
	if c.MaxRetry < 0 {
		return fmt.Errorf("AGENT_CALLBACK_MAX_RETRY: must not be negative, got %d", c.MaxRetry)
	}
	return nil
}

var base64Std = base64.StdEncoding

func decodeSecret(s string) ([]byte, error) {
	return base64Std.DecodeString(strings.TrimPrefix(s, "whsec_"))
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redactURL keeps scheme, host and path: a query or user info may hold a token.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Scheme + "://" + u.Host + u.Path
}

// Enqueuer queues tasks (*asynq.Client).
type Enqueuer interface {
	EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// Deps are the sender's collaborators.
type Deps struct {
	Redis      redis.UniversalClient // required: the inspector reads delivery states
	Enqueuer   Enqueuer              // required
	HTTPClient *http.Client          // optional; redirects are never followed
	Logger     *slog.Logger
	Clock      func() time.Time
	// WebhookSecrets are the signing secrets of the ladder's webhook notify
	// targets, by the environment variable that holds each (see
	// ladder.NotifyTarget.SecretEnv); NOTIFY_WEBHOOK_SECRET comes from
	// Config when it is not given here.
	WebhookSecrets map[string]string
}

// Sender queues and delivers callbacks. It implements jobs.Notifier.
type Sender struct {
	cfg  Config
	wh   *standardwebhooks.Webhook
	q    Enqueuer
	insp *asynq.Inspector
	http *http.Client
	log  *slog.Logger
	now  func() time.Time
	// hooks sign webhook notify targets, by secret variable name.
	hooks map[string]*standardwebhooks.Webhook
	// predecessorWait is how long a delivery waits in-process for the
	// previous owner change of its conversation before retrying later.
	predecessorWait time.Duration
}

// New checks cfg and builds the sender.
func New(cfg Config, deps Deps) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Redis == nil || deps.Enqueuer == nil {
		return nil, errors.New("callbacks: Redis and Enqueuer are required")
	}
	// Without AGENT_CALLBACK_URL the sender delivers chat notifications
	// only (Notify does nothing), with the default delivery settings for
	// any left unset.
	var wh *standardwebhooks.Webhook
	if cfg.Enabled() {
		var err error
		if wh, err = standardwebhooks.NewWebhook(cfg.Secret); err != nil {
			return nil, errors.New("AGENT_CALLBACK_SECRET: not a Standard Webhooks secret")
		}
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&cfg.Timeout, 10 * time.Second}, {&cfg.RetryBase, 10 * time.Second}, {&cfg.RetryMaxDelay, 2 * time.Hour}, {&cfg.Retention, 72 * time.Hour}} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	hc := &http.Client{Timeout: cfg.Timeout}
	if deps.HTTPClient != nil {
		c := *deps.HTTPClient
		hc = &c
		if hc.Timeout == 0 || hc.Timeout > cfg.Timeout {
			hc.Timeout = cfg.Timeout
		}
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	hooks := map[string]*standardwebhooks.Webhook{}
	secrets := map[string]string{}
	if cfg.NotifyWebhookSecret != "" {
		secrets[ladder.DefaultWebhookSecretEnv] = cfg.NotifyWebhookSecret
	}
	for name, secret := range deps.WebhookSecrets {
		secrets[name] = secret
	}
	for name, secret := range secrets {
		if err := CheckSecret(name, secret); err != nil {
			return nil, err
		}
		var err error
		if hooks[name], err = standardwebhooks.NewWebhook(secret); err != nil {
			return nil, fmt.Errorf("%s: not a Standard Webhooks secret", name)
		}
	}
	s := &Sender{cfg: cfg, wh: wh, q: deps.Enqueuer, insp: asynq.NewInspectorFromRedisClient(deps.Redis), http: hc,
		log: deps.Logger, now: deps.Clock, hooks: hooks, predecessorWait: 2 * time.Second}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// payload is the callback:deliver task payload. Body is the exact JSON
// sent, fixed when the notice is queued, so every attempt (and a replay)
// sends the same bytes under the same webhook-id.
type payload struct {
	V            int             `json:"v"`
	ID           string          `json:"id"` // webhook-id
	Type         string          `json:"type"`
	Conversation string          `json:"conversation,omitempty"`
	Seq          int64           `json:"seq,omitempty"`
	Body         json.RawMessage `json:"body"`
	Replay       bool            `json:"replay,omitempty"`
	// URL and Format: a notification to people (chat.go), sent unsigned
	// to URL in a chat format, or, for the webhook format, signed with
	// the secret held in the environment variable SecretEnv (the secret
	// itself is never queued).
	URL       string `json:"url,omitempty"`
	Format    string `json:"format,omitempty"`
	SecretEnv string `json:"secret_env,omitempty"`
}

// envelope is the body of a callback, as Standard Webhooks recommends:
// type, timestamp, data.
type envelope struct {
	Type      string         `json:"type"`
	Timestamp time.Time      `json:"timestamp"`
	Data      map[string]any `json:"data"`
}

// Notify queues one delivery of n (jobs.Notifier). A notice already queued
// (same id, delivered within the retention or still in flight) is not
// queued again.
func (s *Sender) Notify(ctx context.Context, n jobs.Notice) error {
	if s.wh == nil {
		return nil // no AGENT_CALLBACK_URL: chat notifications only
	}
	body, err := json.Marshal(envelope{Type: n.Type, Timestamp: n.At.UTC(), Data: n.Data})
	if err != nil {
		return fmt.Errorf("encode %s callback: %w", n.Type, err)
	}
	return s.enqueue(ctx, payload{V: 1, ID: n.ID, Type: n.Type, Conversation: n.Conversation, Seq: n.Seq, Body: body}, n.ID)
}

func (s *Sender) enqueue(ctx context.Context, pl payload, taskID string) error {
	b, err := json.Marshal(pl)
	if err != nil {
		return fmt.Errorf("encode callback %s: %w", pl.ID, err)
	}
	_, err = s.q.EnqueueContext(ctx, asynq.NewTask(TypeDeliver, b), asynq.Queue(Queue), asynq.TaskID(taskID),
		asynq.MaxRetry(s.cfg.MaxRetry), asynq.Retention(s.cfg.Retention), jobs.TimeoutOption(s.cfg.Timeout+s.predecessorWait+5*time.Second))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("queue callback %s (%s): %w", pl.ID, pl.Type, err)
	}
	return nil
}

// Register adds the delivery handler to mux.
func (s *Sender) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(TypeDeliver, s.Deliver)
}

// Deliver is the callback:deliver handler.
func (s *Sender) Deliver(ctx context.Context, t *asynq.Task) error {
	var pl payload
	if err := json.Unmarshal(t.Payload(), &pl); err != nil || pl.ID == "" || len(pl.Body) == 0 {
		return fmt.Errorf("callback payload is not valid: %w", asynq.SkipRetry)
	}
	if pl.URL != "" && pl.Format == ladder.FormatWebhook {
		return s.sendWebhook(ctx, pl)
	}
	if pl.URL != "" {
		return s.sendChat(ctx, pl)
	}
	if pl.Seq > 1 && pl.Conversation != "" && !pl.Replay {
		if err := s.waitPredecessor(ctx, pl); err != nil {
			return err
		}
	}
	return s.send(ctx, pl)
}

// waitPredecessor holds the delivery of owner change n until change n-1
// of the same conversation is no longer queued.
func (s *Sender) waitPredecessor(ctx context.Context, pl payload) error {
	prev := jobs.OwnerNoticeID(pl.Conversation, pl.Seq-1)
	deadline := time.Now().Add(s.predecessorWait)
	for {
		info, err := s.insp.GetTaskInfo(Queue, prev)
		switch {
		case errors.Is(err, asynq.ErrTaskNotFound), errors.Is(err, asynq.ErrQueueNotFound):
			return nil // never queued, or delivered and no longer kept
		case err != nil:
			return fmt.Errorf("look up the previous owner change of callback %s: %w", pl.ID, err)
		case info.State == asynq.TaskStateCompleted || info.State == asynq.TaskStateArchived:
			return nil
		}
		if time.Now().After(deadline) {
			return &WaitError{Previous: prev, State: info.State.String()}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// WaitError: the delivery waits for the conversation's previous owner
// change. It does not count against the retries.
type WaitError struct{ Previous, State string }

func (e *WaitError) Error() string {
	return "waiting for the previous owner change " + e.Previous + " (" + e.State + ") to be delivered first"
}

// StatusError is a receiver's non-2xx answer that is retried (5xx, 429).
type StatusError struct {
	Status     int
	RetryAfter time.Duration // from Retry-After, 0 if none
}

func (e *StatusError) Error() string {
	msg := "callback receiver answered " + strconv.Itoa(e.Status)
	if e.RetryAfter > 0 {
		msg += ", retry after " + e.RetryAfter.String()
	}
	return msg
}

// post sends one delivery and sorts the answer for asynq: 2xx done; 5xx,
// 429 and network errors retried (Retry-After honoured); redirects, which
// are never followed, and other 4xx archived. what names the delivery,
// who the receiver, where its redacted URL, and fix what to change when a
// redirect answers.
func (s *Sender) post(ctx context.Context, req *http.Request, what, who, where, fix string) error {
	resp, err := s.http.Do(req)
	if err != nil {
		// *url.Error repeats the URL (which may carry a token): keep the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("POST %s to %s: %v", what, where, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch st := resp.StatusCode; {
	case st >= 200 && st < 300:
		s.log.DebugContext(ctx, what+" delivered", "status", st)
		return nil
	case st == http.StatusTooManyRequests || st >= 500:
		return &StatusError{Status: st, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), s.now())}
	case st >= 300 && st < 400:
		return fmt.Errorf("%s at %s answered %d (a redirect, which is not followed; %s): %w", who, where, st, fix, asynq.SkipRetry)
	default:
		return fmt.Errorf("%s at %s answered %d, which is not retried: %w", who, where, st, asynq.SkipRetry)
	}
}

func (s *Sender) send(ctx context.Context, pl payload) error {
	if s.wh == nil {
		return fmt.Errorf("callback %s: AGENT_CALLBACK_URL is not set any more: %w", pl.ID, asynq.SkipRetry)
	}
	req, err := s.signedRequest(ctx, s.wh, s.cfg.URL, pl)
	if err != nil {
		return fmt.Errorf("callback %s: %w", pl.ID, err)
	}
	return s.post(ctx, req, "callback "+pl.ID, "callback receiver", redactURL(s.cfg.URL), "fix AGENT_CALLBACK_URL")
}

// signedRequest is the POST of pl's body to u with the Standard Webhooks
// headers (webhook-id, webhook-timestamp, webhook-signature) signed by wh.
// An error is final (asynq.SkipRetry).
func (s *Sender) signedRequest(ctx context.Context, wh *standardwebhooks.Webhook, u string, pl payload) (*http.Request, error) {
	ts := s.now()
	sig, err := wh.Sign(pl.ID, ts, pl.Body)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", asynq.SkipRetry)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(pl.Body))
	if err != nil {
		return nil, fmt.Errorf("build the request: %w", asynq.SkipRetry)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Handoff-Callbacks/1")
	req.Header.Set(standardwebhooks.HeaderWebhookID, pl.ID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	return req, nil
}

// retryAfter reads Retry-After: seconds or an HTTP date (RFC 9110 10.2.3).
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// RetryDelayFunc is the retry policy of deliveries, falling back to
// `other` for every other task type: a Retry-After is honoured (plus a
// second, up to 24 h); otherwise RetryBase×2^n up to RetryMaxDelay, plus up to 25%
// jitter; a delivery waiting for its predecessor looks again in 1 s.
func (s *Sender) RetryDelayFunc(other asynq.RetryDelayFunc) asynq.RetryDelayFunc {
	return func(n int, err error, t *asynq.Task) time.Duration {
		if t.Type() != TypeDeliver {
			return other(n, err, t)
		}
		var we *WaitError
		if errors.As(err, &we) {
			return time.Second
		}
		var se *StatusError
		if errors.As(err, &se) && se.RetryAfter > 0 {
			// asynq schedules retries in whole seconds (rounding down):
			// one more second keeps the retry from coming early.
			return min(se.RetryAfter+time.Second, 24*time.Hour)
		}
		d := s.cfg.RetryMaxDelay
		if n < 30 {
			d = min(s.cfg.RetryBase*time.Duration(1<<n), s.cfg.RetryMaxDelay)
		}
		return d + rand.N(d/4+1)
	}
}

// IsFailure wraps the worker's IsFailure: waiting for a predecessor is not
// a failure.
func IsFailure(other func(error) bool) func(error) bool {
	return func(err error) bool {
		var we *WaitError
		if errors.As(err, &we) {
			return false
		}
		if other == nil {
			return err != nil
		}
		return other(err)
	}
}
