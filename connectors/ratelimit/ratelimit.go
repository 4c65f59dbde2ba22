// Package ratelimit is the per-tenant CRM call limiter shared by every
// process on one Redis. It uses GCRA from github.com/go-redis/redis_rate
// (one Lua script per check, no background work), chosen because it is the
// go-redis maintainers' own limiter and works on go-redis v9.
package ratelimit

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Limit is Rate calls per Period, with Burst calls allowed at once.
type Limit struct {
	Rate   int
	Period time.Duration
	Burst  int // defaults to Rate
}

// Limiter checks limits by key (e.g. "hubspot:62515").
type Limiter struct {
	l      *redis_rate.Limiter
	prefix string
}

// New returns a limiter on rdb.
func New(rdb redis.UniversalClient) *Limiter {
	return &Limiter{l: redis_rate.NewLimiter(rdb), prefix: "handoff:"}
}

// Allow takes one call from key's budget. It returns 0 when the call may go
// ahead, or how long to wait before asking again.
func (l *Limiter) Allow(ctx context.Context, key string, lim Limit) (time.Duration, error) {
	if lim.Rate <= 0 || lim.Period <= 0 {
		return 0, nil // no limit configured
	}
	burst := lim.Burst
	if burst <= 0 {
		burst = lim.Rate
	}
	res, err := l.l.Allow(ctx, l.prefix+key, redis_rate.Limit{Rate: lim.Rate, Period: lim.Period, Burst: burst})
	if err != nil {
		return 0, fmt.Errorf("check rate limit %s: %w", key, err)
	}
	if res.Allowed > 0 {
		return 0, nil
	}
	if res.RetryAfter <= 0 {
		return time.Millisecond, nil
	}
	return res.RetryAfter, nil
}

// ParseLimit parses a limit as the configuration writes it: "110/10s",
// "5/s" (one second), "100/20s". "", "0" and "off" mean no limit (the zero
// Limit, which Allow always lets through). Every connector's *_RATE_LIMIT
// variable uses it.
func ParseLimit(s string) (Limit, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" || strings.EqualFold(s, "off") {
		return Limit{}, nil
	}
	n, per, ok := strings.Cut(s, "/")
	if !ok {
		return Limit{}, fmt.Errorf("rate %q: want <calls>/<period>, e.g. 110/10s", s)
	}
	rate, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || rate <= 0 {
		return Limit{}, fmt.Errorf("rate %q: the count must be a positive integer", s)
	}
	per = strings.TrimSpace(per)
	if per != "" && (per[0] < '0' || per[0] > '9') {
		per = "1" + per // "5/s"
	}
	d, err := time.ParseDuration(per)
	if err != nil || d <= 0 {
		return Limit{}, fmt.Errorf("rate %q: the period must be a positive duration such as 10s", s)
	}
	return Limit{Rate: rate, Period: d}, nil
}
