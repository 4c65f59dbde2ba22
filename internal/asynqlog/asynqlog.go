// Package asynqlog adapts log/slog to asynq's Logger. asynq's background
// loops (processor, heartbeater, forwarder, janitor, recoverer) each log
// their own error every few seconds while Redis is down; the adapter lets
// the first line of a kind through and then one per interval with a count,
// so an outage is reported, not flooded.
package asynqlog

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Logger implements asynq.Logger.
type Logger struct {
	log   *slog.Logger
	every time.Duration
	now   func() time.Time

	mu   sync.Mutex
	seen map[string]*entry
}

type entry struct {
	last       time.Time
	suppressed int
}

// New returns a Logger that repeats a warning or error of the same shape at
// most once per every.
func New(log *slog.Logger, every time.Duration) *Logger {
	return NewComponent(log, "asynq", every)
}

// NewComponent is New with another component name (e.g. "go-redis").
func NewComponent(log *slog.Logger, component string, every time.Duration) *Logger {
	return &Logger{log: log.With("component", component), every: every, now: time.Now, seen: map[string]*entry{}}
}

func (l *Logger) Debug(args ...any) { l.log.Debug(fmt.Sprint(args...)) }
func (l *Logger) Info(args ...any)  { l.log.Info(fmt.Sprint(args...)) }
func (l *Logger) Warn(args ...any)  { l.limited(slog.LevelWarn, fmt.Sprint(args...)) }
func (l *Logger) Error(args ...any) { l.limited(slog.LevelError, fmt.Sprint(args...)) }
func (l *Logger) Fatal(args ...any) { l.log.Error(fmt.Sprint(args...), "fatal", true) }

// Printf implements go-redis's internal logger (redis.SetLogger), whose pool
// prints a line per failed dial.
func (l *Logger) Printf(_ context.Context, format string, args ...any) {
	l.limited(slog.LevelWarn, fmt.Sprintf(format, args...))
}

func (l *Logger) limited(level slog.Level, msg string) {
	key := shape(msg)
	now := l.now()
	l.mu.Lock()
	e, ok := l.seen[key]
	if ok && now.Sub(e.last) < l.every {
		e.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := 0
	if ok {
		suppressed = e.suppressed
	} else {
		e = &entry{}
		l.seen[key] = e
		if len(l.seen) > 1000 { // bounded memory
			clear(l.seen)
			l.seen[key] = e
		}
	}
	e.last, e.suppressed = now, 0
	l.mu.Unlock()
	if suppressed > 0 {
		l.log.Log(context.Background(), level, msg, "similar_suppressed", suppressed)
		return
	}
	l.log.Log(context.Background(), level, msg)
}

// shape reduces a message to its kind: the first 48 characters with digits
// removed, so "dial tcp 127.0.0.1:6379" and a task id do not make every
// line unique.
func shape(msg string) string {
	var b strings.Builder
	for _, r := range msg {
		if b.Len() >= 48 {
			break
		}
		if !unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}
