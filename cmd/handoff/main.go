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

	"github.com/redis/go-redis/v9"
	"github.com/sethvargo/go-envconfig"

	"github.com/handoff-dev/handoff/internal/asynqlog"
)

// procLogger, set only by main, routes process-wide loggers of libraries
// (go-redis's pool logger is package-global) to ours. Tests leave it nil.
var procLogger func(*slog.Logger)

func main() {
	procLogger = func(log *slog.Logger) {
		redis.SetLogger(asynqlog.NewComponent(log, "go-redis", 30*time.Second))
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
