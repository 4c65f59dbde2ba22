package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/sethvargo/go-envconfig"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/callbacks"
	"github.com/handoff-dev/handoff/internal/asynqlog"
	"github.com/handoff-dev/handoff/internal/httpserver"
	"github.com/handoff-dev/handoff/internal/queuemetrics"
	"github.com/handoff-dev/handoff/internal/redisconn"
	"github.com/handoff-dev/handoff/jobs"
	"github.com/handoff-dev/handoff/webhooks"
)

const serveUsage = `Usage: handoff serve [--role all|http|worker]

Runs Handoff. By default one process serves HTTP (webhooks, OAuth, the
dashboard at /admin/queues/, the API at /api/) and runs the job worker. To
scale out, run several processes with --role http behind a load balancer and
several with --role worker; they coordinate through Redis. Worker-only
processes still serve /healthz, /readyz and /metrics on HTTP_ADDR.

Configuration comes from environment variables (see the README). With
REDIS_URL unset, an embedded in-process Redis is used: fine for trying it
out, not durable.
`

// Roles of a serve process.
const (
	roleAll    = "all"
	roleHTTP   = "http"
	roleWorker = "worker"
)

func runServe(ctx context.Context, args []string, env envconfig.Lookuper, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", serveUsage, helpOut(args, stdout, stderr))
	role := fs.String("role", roleAll, "what this process does: all, http or worker")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("serve takes no arguments, got %q", fs.Args())
	}
	if *role != roleAll && *role != roleHTTP && *role != roleWorker {
		return usageError("--role: %q is not all, http or worker", *role)
	}
	cfg, err := loadConfig(ctx, env)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	app, err := newApp(ctx, cfg, *role, log, nil)
	if err != nil {
		return err
	}
	defer app.close()
	l, err := app.http.Listen()
	if err != nil {
		return err
	}
	return app.serve(ctx, l)
}

func newLogger(cfg LogConfig, w io.Writer) *slog.Logger {
	level, _ := parseLevel(cfg.Level) // validated already
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// app is one running Handoff process: explicit wiring of every part.
type app struct {
	cfg       Config
	role      string
	log       *slog.Logger
	redis     *redisconn.Conn
	registry  *prometheus.Registry
	inspector *asynq.Inspector
	client    *asynq.Client
	worker    *asynq.Server
	mux       *asynq.ServeMux
	pipeline  *pipeline
	dashboard *asynqmon.HTTPHandler
	turns     *jobs.TurnWaiter // HTTP roles: synchronous agent decisions
	http      *httpserver.Server
}

// newApp builds the product; clock is the pipeline's time (nil: the wall
// clock), so tests can run a Friday evening and the Monday after it.
func newApp(ctx context.Context, cfg Config, role string, log *slog.Logger, clock func() time.Time) (*app, error) {
	conn, err := redisconn.Open(ctx, cfg.Redis, log)
	if err != nil {
		return nil, &exitError{code: 2, msg: "configuration: " + err.Error()}
	}
	// Open is lazy: nothing below talks to Redis (or to a CRM) until
	// CheckServer at the end, so every configuration error the constructors
	// find stops start-up before any network I/O.
	a := &app{cfg: cfg, role: role, log: log, redis: conn, registry: prometheus.NewRegistry()}
	a.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	// One Redis pool for everything asynq does in this process.
	a.inspector = asynq.NewInspectorFromRedisClient(conn.Client)
	a.client = asynq.NewClientFromRedisClient(conn.Client)
	// asynq's queue metrics, degrading (no memory gauge) on a Redis that
	// refuses MEMORY USAGE instead of failing every scrape.
	a.registry.MustRegister(queuemetrics.New(a.inspector, conn.Client, log))

	pl, err := buildPipeline(cfg, conn, a.client, a.registry, log, defaultHTTPClient(), clock)
	if err != nil {
		conn.Close()
		return nil, &exitError{code: 2, msg: "configuration: " + err.Error()}
	}
	a.pipeline = pl
	if role != roleHTTP {
		wc := pl.jobs.ServerConfig()
		wc.Logger = asynqlog.New(log, 30*time.Second)
		wc.ShutdownTimeout = min(cfg.HTTP.ShutdownTimeout, 25*time.Second)
		a.mux = pl.jobs.Mux()
		if cb := pl.callbacks; cb != nil {
			// Deliveries have their own queue (after events, before
			// background) and their own retry policy.
			wc.Queues[callbacks.Queue] = 2
			wc.RetryDelayFunc = cb.RetryDelayFunc(wc.RetryDelayFunc)
			wc.IsFailure = callbacks.IsFailure(wc.IsFailure)
			wc.DelayedTaskCheckInterval = time.Second
			cb.Register(a.mux)
		}
		a.worker = asynq.NewServerFromRedisClient(conn.Client, wc)
	}

	checks := []httpserver.Check{{Name: "redis", Fn: conn.Ping}}
	if a.worker != nil {
		checks = append(checks, httpserver.Check{Name: "worker", Fn: a.workerHeartbeat})
	}
	srv, err := httpserver.New(cfg.HTTP, httpserver.Deps{Log: log, Registry: a.registry, Ready: checks, OpsOnly: role == roleWorker})
	if err != nil {
		conn.Close()
		return nil, &exitError{code: 2, msg: "configuration: " + err.Error()}
	}
	a.http = srv
	if role != roleWorker {
		ingester := jobs.NewIngester(a.client, conn.Client, cfg.Ingest)
		wcfg := cfg.Webhooks
		if wcfg.AgentDefaultCRM == "" && wcfg.AgentDefaultTenant == "" {
			if crm, tenant, ok := soleCRMTenant(cfg); ok {
				wcfg.AgentDefaultCRM, wcfg.AgentDefaultTenant = string(crm), tenant
				log.Info("agent turns that name no CRM go to the only CRM configured", "crm", crm, "tenant", tenant)
			}
		}
		hooks, err := webhooks.New(wcfg, ingester, a.registry, log, time.Now)
		if err != nil {
			conn.Close()
			return nil, &exitError{code: 2, msg: "configuration: " + err.Error()}
		}
		a.turns = jobs.NewTurnWaiter(ctx, conn.Client, log)
		hooks.SetDecisionWaiter(a.turns)
		hooks.Register(srv.Echo)
		if g := srv.API(); g != nil {
			jobs.NewAPI(pl.jobs).Register(g)
			if pl.callbacks != nil {
				pl.callbacks.RegisterAPI(g)
			}
		}
		if c := pl.crms.hubspot; c != nil && cfg.HubSpot.ClientID != "" {
			srv.MountOAuth(handoff.SourceHubSpot, "HubSpot", "portal", c)
		}
		if c := pl.crms.salesforce; c != nil && cfg.Salesforce.ClientID != "" {
			srv.MountOAuth(handoff.SourceSalesforce, "Salesforce", "org", c)
		}
		if err := mountConsole(cfg, pl, srv, log); err != nil {
			conn.Close()
			return nil, &exitError{code: 2, msg: "configuration: " + err.Error()}
		}
		a.dashboard = asynqmon.New(asynqmon.Options{RootPath: "/admin/queues", RedisConnOpt: conn.Opt})
		if !srv.MountDashboard(a.dashboard) {
			a.dashboard.Close()
			a.dashboard = nil
		}
	}
	// Say now, not after a restart, if this Redis can lose queued work.
	conn.CheckServer(ctx, log)
	return a, nil
}

// workerHeartbeat is ready when this process's asynq server has written a
// heartbeat to Redis in the last 10 s (asynq beats every 5 s, with a 10 s TTL).
func (a *app) workerHeartbeat(ctx context.Context) error {
	servers, err := a.inspector.Servers()
	if err != nil {
		return fmt.Errorf("cannot read worker heartbeats: %w", err)
	}
	host, _ := os.Hostname()
	pid := os.Getpid()
	for _, s := range servers {
		if s.PID == pid && s.Host == host {
			return nil
		}
	}
	return errors.New("no fresh heartbeat from this process's worker yet")
}

// serve runs until ctx is cancelled (SIGINT/SIGTERM), then shuts down the
// HTTP side and the worker side by side: the listener closes and in-flight
// requests finish, while the worker stops taking tasks at once and gives the
// running ones up to its ShutdownTimeout before requeueing them. Both are
// bounded by SHUTDOWN_TIMEOUT, so the whole stop takes about that long, not
// twice as long (and no task starts after the signal).
func (a *app) serve(ctx context.Context, l net.Listener) error {
	wctx, stopWorker := context.WithCancel(ctx)
	defer stopWorker()
	workerDone := make(chan struct{})
	if a.worker != nil {
		if err := a.worker.Start(a.mux); err != nil {
			return fmt.Errorf("start worker: %w", err)
		}
		// Handoffs whose create-task asynq archived without the error
		// handler (a worker killed on the last attempt) are found here.
		go a.pipeline.jobs.RunSweeps(wctx)
		// History written before the decision indexes existed, filed
		// under them once per deployment (the console and /api/decisions
		// read the indexes only).
		go func() {
			if n, err := a.pipeline.jobs.BackfillDecisionIndex(wctx); err != nil {
				a.log.Warn("backfill the decision index (retried at the next start)", "error", err)
			} else if n > 0 {
				a.log.Info("decision index backfilled from the audit stream", "decisions", n)
			}
		}()
		go func() {
			defer close(workerDone)
			<-wctx.Done()
			a.log.Info("stopping the worker: in-progress tasks finish or are requeued")
			a.worker.Shutdown()
		}()
	} else {
		close(workerDone)
	}
	a.log.Info("handoff is running", "role", a.role, "addr", l.Addr().String(), "redis", string(a.redis.Mode),
		"admin", a.cfg.HTTP.AdminToken != "", "version", version)
	err := a.http.Serve(ctx, l)
	stopWorker() // also when the HTTP server failed on its own
	<-workerDone
	a.log.Info("handoff stopped")
	return err
}

func (a *app) close() {
	if a.turns != nil {
		_ = a.turns.Close()
	}
	if a.dashboard != nil {
		_ = a.dashboard.Close()
	}
	_ = a.inspector.Close()
	_ = a.redis.Close()
}
