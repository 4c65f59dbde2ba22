package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/labstack/echo/v4"
	"github.com/sethvargo/go-envconfig"

	"github.com/handoff-dev/handoff/internal/testredis"
	"github.com/handoff-dev/handoff/jobs"
)

// SIGTERM stops the worker from taking new tasks at once, and the HTTP
// drain and the worker's ShutdownTimeout run side by side: a slow request
// and a slow task together take SHUTDOWN_TIMEOUT, not twice that, so
// "keep SHUTDOWN_TIMEOUT below your orchestrator's grace period" holds.
func TestShutdownStopsWorkerAtOnceAndWithinTimeout(t *testing.T) {
	const shutdown = 2 * time.Second
	db := testredis.New(t)
	cfg, err := loadConfig(context.Background(), envconfig.MapLookuper(map[string]string{
		"REDIS_URL": db.URL(), "HTTP_ADDR": "127.0.0.1:0", "SHUTDOWN_TIMEOUT": shutdown.String(), "WORKER_POLL_INTERVAL": "50ms"}))
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	a, err := newApp(context.Background(), cfg, roleAll, slog.New(slog.NewTextHandler(logs, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	slowStarted := make(chan struct{})
	ran := make(chan string, 10)
	a.mux.HandleFunc("test:slow", func(ctx context.Context, _ *asynq.Task) error {
		close(slowStarted)
		<-ctx.Done() // runs until asynq gives up on it and requeues it
		return ctx.Err()
	})
	a.mux.HandleFunc("test:late", func(context.Context, *asynq.Task) error {
		ran <- "late"
		return nil
	})
	reqStarted := make(chan struct{})
	a.http.Echo.GET("/slow", func(c echo.Context) error {
		close(reqStarted)
		time.Sleep(shutdown - 500*time.Millisecond)
		return c.String(200, "finished")
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- a.serve(ctx, l) }()

	if _, err := a.client.Enqueue(asynq.NewTask("test:slow", nil), asynq.Queue(jobs.QueueBackground)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-slowStarted:
	case <-time.After(10 * time.Second):
		t.Fatal("the slow task never started")
	}
	go func() {
		resp, err := http.Get(fmt.Sprintf("http://%s/slow", l.Addr()))
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-reqStarted
	start := time.Now()
	cancel() // what SIGTERM does through signal.NotifyContext
	// Enqueue once the worker is being stopped (the stop must not wait for
	// the HTTP drain).
	waitFor(t, shutdown/2, func() bool { return strings.Contains(logs.String(), "stopping the worker") })
	if _, err := a.client.Enqueue(asynq.NewTask("test:late", nil), asynq.Queue(jobs.QueueHandoff)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not return")
	}
	took := time.Since(start)
	if took > shutdown+time.Second {
		t.Errorf("shutdown took %s with SHUTDOWN_TIMEOUT %s: the HTTP drain and the worker's wait ran one after the other", took.Round(10*time.Millisecond), shutdown)
	}
	select {
	case <-ran:
		t.Error("a task enqueued after SIGTERM was started by the stopping worker")
	default:
	}
}
