// Command baseline is the yardstick of the ingest benchmark
// (scripts/bench-ingest.sh): a bare Echo server that does the least work an
// acknowledged webhook needs. It verifies nothing and parses nothing; it
// reads the body, takes the event count from the X-Load-Events header that
// handoff-load adds, and enqueues one asynq task per event with a TaskID
// (X-Load-ID + index) and the same options (retention included) and fan-out
// as Handoff's ingester, then answers 200. Handoff's ingest throughput is
// reported as a fraction of this server's, measured in the same run on the
// same Redis.
//
//	baseline --listen 127.0.0.1:18081 --redis redis://127.0.0.1:6379/0
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "baseline: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("baseline", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:18081", "address to serve on")
	redisURL := fs.String("redis", os.Getenv("REDIS_URL"), "Redis URL (default $REDIS_URL)")
	fanout := fs.Int("fanout", 8, "parallel enqueues per request (Handoff's INGEST_CONCURRENCY default)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *redisURL == "" {
		return errors.New("--redis or REDIS_URL is required")
	}
	opt, err := redis.ParseURL(*redisURL)
	if err != nil {
		return fmt.Errorf("parse --redis: %w", err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping redis: %w", err)
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.POST("/webhooks/*", handler(asynq.NewClientFromRedisClient(rdb), max(*fanout, 1)))
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })

	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", *listen, err)
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second, WriteTimeout: 30 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

type ack struct {
	Status     string `json:"status"`
	Received   int    `json:"received"`
	Accepted   int64  `json:"accepted"`
	Duplicates int64  `json:"duplicates"`
}

func handler(client *asynq.Client, fanout int) echo.HandlerFunc {
	return func(c echo.Context) error {
		body, err := io.ReadAll(io.LimitReader(c.Request().Body, 1<<20))
		if err != nil {
			return c.JSON(http.StatusBadRequest, map[string]string{"error": "read body"})
		}
		n, err := strconv.Atoi(c.Request().Header.Get("X-Load-Events"))
		if err != nil || n < 1 || n > 100 {
			n = 1
		}
		id := c.Request().Header.Get("X-Load-ID")
		if id == "" {
			return c.JSON(http.StatusBadRequest, map[string]string{"error": "X-Load-ID missing"})
		}
		ctx, cancel := context.WithTimeout(c.Request().Context(), 4*time.Second)
		defer cancel()
		var accepted, dups atomic.Int64
		var failed atomic.Bool
		sem := make(chan struct{}, fanout)
		var wg sync.WaitGroup
		for i := range n {
			// Each task carries its share of the body, so Redis stores about
			// as many bytes as Handoff's per-event payloads.
			part := body[i*len(body)/n : (i+1)*len(body)/n]
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				task := asynq.NewTask("event:process", part)
				_, err := client.EnqueueContext(ctx, task, asynq.TaskID(id+"-"+strconv.Itoa(i)),
					asynq.Queue("events"), asynq.MaxRetry(12), asynq.Timeout(60*time.Second),
					asynq.Retention(72*time.Hour))
				switch {
				case err == nil:
					accepted.Add(1)
				case errors.Is(err, asynq.ErrTaskIDConflict):
					dups.Add(1)
				default:
					failed.Store(true)
				}
			}()
		}
		wg.Wait()
		if failed.Load() {
			c.Response().Header().Set("Retry-After", "30")
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"error": "unavailable"})
		}
		return c.JSON(http.StatusOK, ack{Status: "ok", Received: n, Accepted: accepted.Load(), Duplicates: dups.Load()})
	}
}
