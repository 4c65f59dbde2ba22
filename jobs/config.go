package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/handoff-dev/handoff"
)

// Config tunes the worker. Load it with go-envconfig; cmd/ composes it.
// SHUTDOWN_TIMEOUT belongs to cmd/ (set asynq.Config.ShutdownTimeout there).
type Config struct {
	Concurrency int `env:"WORKER_CONCURRENCY, default=20"`
	// PollInterval is how long an idle worker waits before looking for
	// work again (asynq's TaskCheckInterval): lower means faster pickup and
	// more Redis load while idle.
	PollInterval time.Duration `env:"WORKER_POLL_INTERVAL, default=1s"`
	// StrictPriority drains the handoff queue before events before
	// background. When false, the queues are weighted 6:3:1.
	StrictPriority bool `env:"QUEUE_STRICT_PRIORITY, default=true"`
	// MaxRetry is the number of counted failures before a task is archived.
	MaxRetry int `env:"JOB_MAX_RETRY, default=25"`
	// RetryMaxDelay caps the exponential backoff of transient failures.
	RetryMaxDelay time.Duration `env:"JOB_RETRY_MAX_DELAY, default=10m"`
	// RateLimitMaxRetries is how many consecutive rate-limit answers a task
	// may get before further ones count as failures (so a tenant stuck at
	// its limit cannot keep a task alive forever).
	RateLimitMaxRetries int `env:"RATE_LIMIT_MAX_RETRIES, default=50"`

	EventTimeout      time.Duration `env:"EVENT_TIMEOUT, default=60s"`
	CreateTaskTimeout time.Duration `env:"CREATE_TASK_TIMEOUT, default=60s"`
	SLACheckTimeout   time.Duration `env:"SLA_CHECK_TIMEOUT, default=30s"`

	// AuditMaxLen and AuditMaxAge bound the audit stream (XADD MAXLEN ~ and
	// XTRIM MINID ~).
	AuditMaxLen int64         `env:"AUDIT_MAX_LEN, default=100000"`
	AuditMaxAge time.Duration `env:"AUDIT_MAX_AGE, default=720h"`

	// OwnerCacheTTL is how long an owner email → CRM owner id is reused.
	OwnerCacheTTL time.Duration `env:"OWNER_CACHE_TTL, default=24h"`
	// OwnerActiveTTL is how long a CRM owner's active flag (HubSpot owner
	// not archived, Salesforce User.IsActive) is reused: a deactivation is
	// seen within it.
	OwnerActiveTTL time.Duration `env:"OWNER_ACTIVE_TTL, default=10m"`
	// DefaultSLA applies when a decision carries none.
	DefaultSLA time.Duration `env:"DEFAULT_SLA, default=4h"`
	// MaxSLAChecks is how many SLA multiples are checked (breaches counted,
	// climb steps run). After that the task is only watched for completion
	// every SLAWatchInterval, until it is done or its record expires.
	MaxSLAChecks     int           `env:"MAX_SLA_CHECKS, default=12"`
	SLAWatchInterval time.Duration `env:"SLA_WATCH_INTERVAL, default=1h"`
	// StateTTL is how long handoff records and ownership leases are kept
	// after their last change.
	StateTTL time.Duration `env:"HANDOFF_STATE_TTL, default=2160h"`
	// DecisionMemoTTL is how long an event's decision is remembered so a
	// retried or redelivered event:process reuses it (one audit record per
	// event). It must outlast the task's retries.
	DecisionMemoTTL time.Duration `env:"DECISION_MEMO_TTL, default=48h"`
	// OutcomeSamples caps the samples kept for percentiles.
	OutcomeSamples int64 `env:"OUTCOME_SAMPLES, default=10000"`
	// OutcomeRetention is how long the hourly outcome buckets (windowed
	// outcomes, the console's charts) and the console's indexes are kept.
	OutcomeRetention time.Duration `env:"OUTCOME_RETENTION, default=2160h"`
	// NegativeDispositions are task dispositions (case-insensitive) that say
	// the handoff was not needed; see docs/outcomes.md (handoff precision).
	NegativeDispositions []string `env:"NEGATIVE_DISPOSITIONS, default=not_needed,no_action_needed,not_qualified,wrong_person,spam,duplicate"`

	// LostTaskSweepInterval is how often a worker looks for handoffs whose
	// create-task asynq archived (or lost) without calling the error
	// handler, e.g. a worker killed on the task's last attempt: their
	// conversations would stay "pending" on a task that never comes.
	LostTaskSweepInterval time.Duration `env:"LOST_TASK_SWEEP_INTERVAL, default=1m"`

	// PublicBaseURL is used in "install the app at ..." error messages.
	// Passed in by the caller (PUBLIC_BASE_URL, read by the HTTP server's
	// configuration).
	PublicBaseURL string
}

// Defaults returns the documented defaults.
func Defaults() Config {
	return Config{
		Concurrency: 20, PollInterval: time.Second, StrictPriority: true, MaxRetry: 25, RetryMaxDelay: 10 * time.Minute, RateLimitMaxRetries: 50,
		EventTimeout: 60 * time.Second, CreateTaskTimeout: 60 * time.Second, SLACheckTimeout: 30 * time.Second,
		AuditMaxLen: 100000, AuditMaxAge: 720 * time.Hour, OwnerCacheTTL: 24 * time.Hour, OwnerActiveTTL: 10 * time.Minute, DefaultSLA: 4 * time.Hour,
		MaxSLAChecks: 12, SLAWatchInterval: time.Hour, StateTTL: 2160 * time.Hour, DecisionMemoTTL: 48 * time.Hour, OutcomeSamples: 10000, OutcomeRetention: 2160 * time.Hour,
		LostTaskSweepInterval: time.Minute,
		NegativeDispositions:  []string{"not_needed", "no_action_needed", "not_qualified", "wrong_person", "spam", "duplicate"},
	}
}

// Queues returns the queue priorities: handoff before events before background.
func Queues() map[string]int {
	return map[string]int{QueueHandoff: 6, QueueEvents: 3, QueueBackground: 1}
}

// RetryDelayFunc returns the retry policy:
//   - *handoff.RateLimitError: wait RetryAfter (at least 1 s);
//   - anything else (transient errors, handoff.ErrNotInstalled, ...):
//     exponential backoff 2^n s capped at maxDelay, with "equal jitter"
//     (between half and all of it); not-installed waits at least 1 min,
//     since a person has to act.
func RetryDelayFunc(maxDelay time.Duration) asynq.RetryDelayFunc {
	if maxDelay <= 0 {
		maxDelay = 10 * time.Minute
	}
	return func(n int, err error, _ *asynq.Task) time.Duration {
		var rl *handoff.RateLimitError
		if errors.As(err, &rl) {
			return max(rl.RetryAfter, time.Second)
		}
		d := maxDelay
		if n < 30 {
			d = min(time.Duration(1<<n)*time.Second, maxDelay)
		}
		d = d/2 + rand.N(d/2+1)
		if errors.Is(err, handoff.ErrNotInstalled) {
			d = max(d, time.Minute)
		}
		return d
	}
}

// IsFailure says whether an error counts against the task's retries: a
// rate limit does not (it is a delay), unless the task has been rate
// limited RateLimitMaxRetries times in a row.
func IsFailure(err error) bool {
	var ex *RateLimitExhaustedError
	if errors.As(err, &ex) {
		return true
	}
	var rl *handoff.RateLimitError
	return !errors.As(err, &rl)
}

// RateLimitExhaustedError marks a rate limit that keeps coming back: from
// now on it counts as a failure.
type RateLimitExhaustedError struct {
	Times int64
	Err   error
}

func (e *RateLimitExhaustedError) Error() string {
	return fmt.Sprintf("rate limited %d times in a row, now counted as a failure: %v", e.Times, e.Err)
}

func (e *RateLimitExhaustedError) Unwrap() error { return e.Err }

// PermanentJobError is an error retrying cannot fix. It wraps
// asynq.SkipRetry, so the task is archived at once; its message is what
// asynqmon shows as the archived task's last error.
type PermanentJobError struct{ Err error }

func (e *PermanentJobError) Error() string {
	return "giving up, retrying cannot help: " + e.Err.Error()
}

func (e *PermanentJobError) Unwrap() []error { return []error{e.Err, asynq.SkipRetry} }

// NotInstalledError says which tenant must install the app and where.
// It is retried with backoff: the tenant may install later.
type NotInstalledError struct {
	CRM        handoff.Source
	Tenant     string
	InstallURL string
	Err        error
}

func (e *NotInstalledError) Error() string {
	noun := map[handoff.Source]string{handoff.SourceHubSpot: "portal", handoff.SourceSalesforce: "org", handoff.SourceMarketo: "instance"}[e.CRM]
	if noun == "" {
		noun = "tenant"
	}
	msg := fmt.Sprintf("%s %s %s is not installed", e.CRM, noun, e.Tenant)
	if e.InstallURL != "" {
		return msg + ": install the app at " + e.InstallURL
	}
	if e.CRM == handoff.SourceMarketo {
		return msg + ": set MARKETO_BASE_URL, MARKETO_CLIENT_ID and MARKETO_CLIENT_SECRET for it"
	}
	return msg
}

func (e *NotInstalledError) Unwrap() error { return e.Err }

// notInstalled turns handoff.ErrNotInstalled into a message that says what
// to do; other errors pass through.
func (p *Pipeline) notInstalled(crm handoff.Source, tenant string, err error) error {
	if err == nil || !errors.Is(err, handoff.ErrNotInstalled) {
		return err
	}
	var already *NotInstalledError
	if errors.As(err, &already) {
		return err
	}
	e := &NotInstalledError{CRM: crm, Tenant: tenant, Err: err}
	if crm == handoff.SourceHubSpot || crm == handoff.SourceSalesforce {
		e.InstallURL = strings.TrimRight(p.cfg.PublicBaseURL, "/") + "/oauth/" + string(crm) + "/install"
	}
	return e
}

// errorClass names an error for logs and metrics.
func errorClass(err error) string {
	var rl *handoff.RateLimitError
	var ex *RateLimitExhaustedError
	var pj *PermanentJobError
	switch {
	case errors.As(err, &ex):
		return "rate_limit_exhausted"
	case errors.As(err, &rl):
		return "rate_limited"
	case errors.As(err, &pj), errors.Is(err, asynq.SkipRetry), handoff.IsPermanent(err):
		return "permanent"
	case errors.Is(err, handoff.ErrNotInstalled):
		return "not_installed"
	case asynq.IsPanicError(err):
		return "panic"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	return "transient"
}

// ServerConfig is the asynq server configuration for the pipeline's worker:
// concurrency, queue priorities, the retry policy and the error handler.
// cmd/ sets ShutdownTimeout and its own Logger on top (readiness reads the
// worker's heartbeat through the Inspector, so no HealthCheckFunc is set).
func (p *Pipeline) ServerConfig() asynq.Config {
	return asynq.Config{
		Concurrency:       p.cfg.Concurrency,
		TaskCheckInterval: p.cfg.PollInterval,
		Queues:            Queues(),
		StrictPriority:    p.cfg.StrictPriority,
		RetryDelayFunc:    RetryDelayFunc(p.cfg.RetryMaxDelay),
		IsFailure:         IsFailure,
		ErrorHandler:      asynq.ErrorHandlerFunc(p.handleError),
		Logger:            slogAdapter{p.log},
	}
}

// handleError logs (type, id, retry, class and the error text, which the
// connectors keep free of secrets; never the payload) and counts.
func (p *Pipeline) handleError(ctx context.Context, t *asynq.Task, err error) {
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	id, _ := asynq.GetTaskID(ctx)
	class := errorClass(err)
	// asynq archives on SkipRetry, and on ANY error once the retries are
	// used up (processor.go: msg.Retried >= msg.Retry), even one IsFailure
	// does not count: a rate limit on the last attempt is archived too.
	// RevokeTask deletes the task instead.
	final := !errors.Is(err, asynq.RevokeTask) && (errors.Is(err, asynq.SkipRetry) || retried >= maxRetry)
	p.m.jobErrors.WithLabelValues(t.Type(), class, fmt.Sprint(final)).Inc()
	level := slog.LevelWarn
	if final {
		level = slog.LevelError
	}
	p.log.Log(ctx, level, "task failed", "type", t.Type(), "task_id", id, "retried", retried,
		"max_retry", maxRetry, "class", class, "archived", final, "error", err.Error())
	if final && t.Type() == TypeCreateTask {
		var pl CreateTaskPayload
		if json.Unmarshal(t.Payload(), &pl) == nil {
			_ = p.abandon(context.WithoutCancel(ctx), pl.HandoffID, pl.Event.Conversation, err.Error())
		}
	}
}

// reasonAbandoned starts the reason of a lease released by abandon; a
// re-run of the archived task that creates it takes the conversation back.
const reasonAbandoned = "task creation failed: "

// abandon is called when a create-task is archived (by the error handler,
// or found by SweepLost): the conversation must not stay "pending" on a
// task that will never exist, so the agent gets it back (until someone
// re-runs the archived task).
func (p *Pipeline) abandon(ctx context.Context, handoffID, conv, cause string) error {
	if handoffID == "" {
		return nil
	}
	if conv != "" {
		_, changed, err := p.transition(ctx, conv, reasonAbandoned+cause, func(cur Lease) (Lease, error) {
			if cur.HandoffID != handoffID || cur.TaskID != "" || !cur.HumanOwned() {
				return cur, errNoChange
			}
			cur.State = handoff.OwnerReleased
			return cur, nil
		})
		if err != nil {
			p.log.ErrorContext(ctx, "release conversation of a failed handoff", "handoff_id", handoffID, "error", err)
			return err
		}
		if changed {
			pipe := p.rdb.TxPipeline()
			p.count(ctx, pipe, "tasks_failed")
			_, _ = pipe.Exec(ctx)
		}
	}
	return p.settled(ctx, handoffID)
}

// classify is the middleware that turns handler errors into the retry
// policy's terms: consecutive rate limits are counted per task, permanent
// errors skip retries.
func (p *Pipeline) classify(next asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		err := next.ProcessTask(ctx, t)
		id, _ := asynq.GetTaskID(ctx)
		key := keyRateLimited(t.Type(), id)
		var rl *handoff.RateLimitError
		if errors.As(err, &rl) && id != "" {
			pipe := p.rdb.TxPipeline()
			n := pipe.Incr(ctx, key)
			pipe.Expire(ctx, key, 7*24*time.Hour)
			if _, rerr := pipe.Exec(ctx); rerr == nil && n.Val() > int64(p.cfg.RateLimitMaxRetries) {
				return &RateLimitExhaustedError{Times: n.Val(), Err: err}
			}
			return err
		}
		if id != "" {
			_ = p.rdb.Del(ctx, key).Err()
		}
		if err == nil || errors.Is(err, asynq.SkipRetry) {
			return err
		}
		if handoff.IsPermanent(err) {
			return &PermanentJobError{Err: err}
		}
		return err
	})
}

// slogAdapter lets asynq log through slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...), "component", "asynq") }
func (a slogAdapter) Info(args ...any)  { a.l.Info(fmt.Sprint(args...), "component", "asynq") }
func (a slogAdapter) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...), "component", "asynq") }
func (a slogAdapter) Error(args ...any) { a.l.Error(fmt.Sprint(args...), "component", "asynq") }
func (a slogAdapter) Fatal(args ...any) {
	a.l.Error(fmt.Sprint(args...), "component", "asynq", "fatal", true)
}
