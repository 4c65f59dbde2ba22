// Package jobs is the handoff pipeline run by the asynq worker:
//
//	event:process        enrich → Decide (active + shadow) → audit → act
//	handoff:create-task  one CRM task per handoff id, owner resolved, bundle attached
//	sla:check            follow the task; climb the ladder when nobody started it
//
// plus the per-conversation ownership lease (agent → pending → human →
// released), the audit stream, outcome metrics and the /api handlers.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/handoff-dev/handoff"
)

// CRM is the method set the pipeline needs from a connector (each of
// connectors/hubspot, salesforce and marketo implements it; see
// docs/architecture.md for the layout).
type CRM interface {
	Profile(ctx context.Context, tenant string, ref handoff.ContactRef) (*handoff.Profile, error)
	OwnerByEmail(ctx context.Context, tenant, email string) (handoff.Owner, error)
	CreateTask(ctx context.Context, spec handoff.TaskSpec) (handoff.Task, error)
	FindTask(ctx context.Context, tenant, handoffID string) (handoff.Task, error)
	GetTask(ctx context.Context, tenant, taskID string) (handoff.Task, error)
	AppendToTask(ctx context.Context, tenant, taskID, note string) error
	ReassignTask(ctx context.Context, tenant, taskID string, owner handoff.Owner, priority handoff.Priority) error
}

// Enricher builds the ladder's context for an event (*enrich.Enricher).
type Enricher interface {
	Build(ctx context.Context, ev handoff.Event) (handoff.Context, error)
}

// Decider is an escalation ladder (*ladder.Ladder).
type Decider interface {
	Decide(c handoff.Context) handoff.Decision
	Version() string
}

// ShadowDecider is the shadow ladder (*ladder.Ladder): it computes the text
// signals with its own topic map before deciding, as `ladder diff` does,
// so a ladder whose topics changed is compared on its own reading.
type ShadowDecider interface {
	Decider
	Signals(text string) handoff.Signals
}

// Deps are the pipeline's collaborators; cmd/ wires the concrete ones.
type Deps struct {
	Redis    redis.UniversalClient  // required
	CRMs     map[handoff.Source]CRM // the connectors, by CRM
	Enricher Enricher               // required
	Decider  Decider                // required: the active ladder
	Shadow   ShadowDecider          // optional: decisions logged and counted, never acted on
	Enqueuer Enqueuer               // required: an *asynq.Client
	Clock    func() time.Time       // default time.Now
	Logger   *slog.Logger           // default slog.Default()
	Metrics  prometheus.Registerer  // optional
	// Calendars resolve Route.Calendar for SLAs in working time; default:
	// the Decider, if it has calendars (*ladder.Ladder does).
	Calendars Calendars
	// OwnerFile gives owners' time zones and away periods from the
	// ladder file; default: the Decider, if it has them (*ladder.Ladder
	// does).
	OwnerFile OwnerFile
	Notifier  Notifier // optional: callbacks on decisions, tasks, owner changes, SLA breaches
	// People is optional: chat notifications to the ladder's notify:
	// targets (a handoff's owner team, climb notify steps).
	People PeopleNotifier
}

// Pipeline holds the handlers. Build it with New; it is safe for
// concurrent use by many workers.
type Pipeline struct {
	cfg      Config
	rdb      redis.UniversalClient
	crms     map[handoff.Source]CRM
	enricher Enricher
	decider  Decider
	shadow   ShadowDecider
	sched    *Scheduler
	inspect  taskInspector // create-tasks' state, for SweepLost
	now      func() time.Time
	log      *slog.Logger
	m        *metrics
	// calendars resolve route calendars (worktime.go); nil: wall time.
	calendars Calendars
	// ownerFile: owners' zones and away periods from the ladder; nil: none.
	ownerFile OwnerFile
	// zones caches calendars read in owners' time zones (zonedCalendar →
	// *worktime.Calendar; loading a zone reads the zone database, tens of
	// microseconds). Entries are small and few: calendars × owner zones.
	zones    sync.Map
	notifier Notifier
	people   PeopleNotifier
}

// New checks the dependencies and registers the metrics.
func New(cfg Config, deps Deps) (*Pipeline, error) {
	switch {
	case deps.Redis == nil:
		return nil, errors.New("jobs: Redis is required")
	case deps.Enricher == nil:
		return nil, errors.New("jobs: Enricher is required")
	case deps.Decider == nil:
		return nil, errors.New("jobs: Decider is required")
	case deps.Enqueuer == nil:
		return nil, errors.New("jobs: Enqueuer is required")
	}
	d := Defaults()
	orDefault(&cfg.Concurrency, d.Concurrency)
	orDefault(&cfg.MaxRetry, d.MaxRetry)
	orDefault(&cfg.RateLimitMaxRetries, d.RateLimitMaxRetries)
	orDefault(&cfg.DefaultSLA, d.DefaultSLA)
	orDefault(&cfg.MaxSLAChecks, d.MaxSLAChecks)
	orDefault(&cfg.SLAWatchInterval, d.SLAWatchInterval)
	orDefault(&cfg.StateTTL, d.StateTTL)
	orDefault(&cfg.DecisionMemoTTL, d.DecisionMemoTTL)
	orDefault(&cfg.OutcomeSamples, d.OutcomeSamples)
	orDefault(&cfg.OutcomeRetention, d.OutcomeRetention)
	orDefault(&cfg.OwnerCacheTTL, d.OwnerCacheTTL)
	orDefault(&cfg.OwnerActiveTTL, d.OwnerActiveTTL)
	orDefault(&cfg.LostTaskSweepInterval, d.LostTaskSweepInterval)
	p := &Pipeline{
		cfg: cfg, rdb: deps.Redis, crms: deps.CRMs, enricher: deps.Enricher, decider: deps.Decider,
		shadow: deps.Shadow, sched: NewScheduler(deps.Enqueuer, cfg), now: deps.Clock, log: deps.Logger,
		notifier: deps.Notifier, people: deps.People,
	}
	if p.now == nil {
		p.now = time.Now
	}
	p.calendars = deps.Calendars
	if p.calendars == nil {
		p.calendars, _ = deps.Decider.(Calendars)
	}
	p.ownerFile = deps.OwnerFile
	if p.ownerFile == nil {
		p.ownerFile, _ = deps.Decider.(OwnerFile)
	}
	if deps.Redis != nil {
		insp := asynq.NewInspectorFromRedisClient(deps.Redis)
		p.sched.archived, p.inspect = insp, insp
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	if p.crms == nil {
		p.crms = map[handoff.Source]CRM{}
	}
	m, err := newMetrics(deps.Metrics)
	if err != nil {
		return nil, err
	}
	p.m = m
	return p, nil
}

// Register adds the pipeline's handlers (and its error-classifying
// middleware) to mux.
func (p *Pipeline) Register(mux *asynq.ServeMux) {
	mux.Handle(TypeEventProcess, p.classify(asynq.HandlerFunc(p.ProcessEvent)))
	mux.Handle(TypeCreateTask, p.classify(asynq.HandlerFunc(p.CreateTask)))
	mux.Handle(TypeSLACheck, p.classify(asynq.HandlerFunc(p.CheckSLA)))
	mux.Handle(TypeOwnerState, p.classify(asynq.HandlerFunc(p.MirrorOwnerState)))
}

// Mux returns a ServeMux with the pipeline's handlers.
func (p *Pipeline) Mux() *asynq.ServeMux {
	mux := asynq.NewServeMux()
	p.Register(mux)
	return mux
}

func (p *Pipeline) crm(src handoff.Source) (CRM, error) {
	c := p.crms[src]
	if c == nil {
		return nil, &PermanentJobError{Err: fmt.Errorf("no %q connector is configured", src)}
	}
	return c, nil
}

// metrics are the pipeline's Prometheus collectors.
type metrics struct {
	decisions     *prometheus.CounterVec
	handoffs      *prometheus.CounterVec
	timeToHuman   prometheus.Histogram
	slaBreaches   *prometheus.CounterVec
	resolutions   *prometheus.CounterVec
	completeness  prometheus.Histogram
	reassignments prometheus.Counter
	shadow        *prometheus.CounterVec
	followUps     prometheus.Counter
	jobErrors     *prometheus.CounterVec
	ownership     *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "handoff_decisions_total", Help: "Ladder decisions by action.",
		}, []string{"action"}),
		handoffs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "handoff_handoffs_total", Help: "Handoffs started, by action, rung (or exception), source and channel.",
		}, []string{"action", "rung", "source", "channel"}),
		timeToHuman: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "handoff_time_to_human_seconds", Help: "Time from task creation until a human started (or completed) it.",
			Buckets: []float64{60, 300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 24 * 3600, 72 * 3600},
		}),
		slaBreaches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "handoff_sla_breaches_total", Help: "SLA checks that found the task not started, by rung.",
		}, []string{"rung"}),
		resolutions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "handoff_resolutions_total", Help: "Handoffs finished, by how (completed, released, unknown).",
		}, []string{"resolution"}),
		completeness: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "handoff_context_completeness_ratio", Help: "Share of the rung's required bundle fields that were filled.",
			Buckets: []float64{0.25, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99, 1},
		}),
		reassignments: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "handoff_reassignments_total", Help: "Tasks reassigned by an SLA climb.",
		}),
		shadow: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "handoff_shadow_decisions_total", Help: "Shadow ladder decisions, by whether they agreed with the active ladder.",
		}, []string{"agree"}),
		followUps: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "handoff_followups_total", Help: "Events appended to an open task because a human owns the conversation.",
		}),
		jobErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "handoff_job_errors_total", Help: "Task handler errors by task type, class and whether the task was archived.",
		}, []string{"type", "class", "archived"}),
		ownership: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "handoff_ownership_changes_total", Help: "Ownership lease changes by new state.",
		}, []string{"state"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.decisions, m.handoffs, m.timeToHuman, m.slaBreaches, m.resolutions,
			m.completeness, m.reassignments, m.shadow, m.followUps, m.jobErrors, m.ownership} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("jobs: register metrics: %w", err)
			}
		}
	}
	return m, nil
}

// orDefault sets *v to def when it is zero or negative (unset config).
func orDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}
