// Command handoff is the Handoff service: webhooks in, escalation ladder,
// owned CRM tasks out. Run `handoff --help`.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
	_ "time/tzdata" // MARKETO_TIME_ZONE must load on images without /usr/share/zoneinfo

	"github.com/redis/go-redis/v9"
	"github.com/sethvargo/go-envconfig"

	"github.com/handoff-dev/handoff/internal/asynqlog"
)

func main() {
	// go-redis's pool logger is package-global, so the process (not run,
	// which tests call many times) routes it to the service log, rate
	// limited: a Redis outage is reported, not flooded. A bad LOG_* value
	// is reported by run.
	// One-off commands (report, ladder, version) report a Redis failure as
	// their error; only the long-running ones log go-redis's own lines.
	var lc LogConfig
	if len(os.Args) > 1 && (os.Args[1] == "serve" || os.Args[1] == "demo") &&
		envconfig.Process(context.Background(), &lc) == nil && validLog(lc) {
		redis.SetLogger(asynqlog.NewComponent(newLogger(lc, os.Stderr), "go-redis", 30*time.Second))
	} else {
		redis.SetLogger(asynqlog.NewComponent(slog.New(slog.DiscardHandler), "go-redis", time.Minute))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], envconfig.OsLookuper(), os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.msg != "" {
				fmt.Fprintln(os.Stderr, "handoff:", ee.msg)
			}
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "handoff:", err)
		os.Exit(1)
	}
}
