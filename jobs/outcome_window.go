package jobs

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// countHour adds the counters to the current hour's bucket too, so a
// window of hours gives the same figures as the all-time counters.
func (p *Pipeline) countHour(ctx context.Context, pipe redis.Pipeliner, fields []string) {
	now := p.now()
	key := hourKey(now)
	for _, f := range fields {
		pipe.HIncrBy(ctx, key, f, 1)
	}
	pipe.ExpireAt(ctx, key, now.Truncate(time.Hour).Add(time.Hour+p.cfg.OutcomeRetention))
}

// sampleHour keeps the sample in the current hour's list too.
func (p *Pipeline) sampleHour(ctx context.Context, pipe redis.Pipeliner, allTime string, v float64) {
	now := p.now()
	key := hourSampleKey(now, allTime)
	pipe.LPush(ctx, key, strconv.FormatFloat(v, 'f', -1, 64))
	pipe.LTrim(ctx, key, 0, p.cfg.OutcomeSamples-1)
	pipe.ExpireAt(ctx, key, now.Truncate(time.Hour).Add(time.Hour+p.cfg.OutcomeRetention))
}

// MaxWindow bounds a window's length (the buckets read per request).
const MaxWindow = 92 * 24 * time.Hour

// ErrBadWindow: from/to do not make a window.
var ErrBadWindow = errors.New("bad window")

// Window is a time range [From, To) read at hour granularity: every hour
// bucket that starts before To and ends after From counts.
type Window struct {
	From, To time.Time
}

// ParseWindow reads ?window=24h|7d|30d or ?from=&to= (RFC 3339; to
// defaults to now) against now. Neither given: ok is false (all time).
func ParseWindow(window, from, to string, now time.Time) (w Window, ok bool, err error) {
	switch {
	case window != "":
		d, found := map[string]time.Duration{"24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "30d": 30 * 24 * time.Hour}[window]
		if !found {
			return w, false, fmt.Errorf("%w: window must be 24h, 7d or 30d", ErrBadWindow)
		}
		return Window{From: now.Add(-d), To: now}, true, nil
	case from == "" && to == "":
		return w, false, nil
	}
	w.To = now
	if from != "" {
		if w.From, err = time.Parse(time.RFC3339, from); err != nil {
			return w, false, fmt.Errorf("%w: from must be an RFC 3339 time (2026-12-01T00:00:00Z)", ErrBadWindow)
		}
	}
	if to != "" {
		if w.To, err = time.Parse(time.RFC3339, to); err != nil {
			return w, false, fmt.Errorf("%w: to must be an RFC 3339 time (2026-12-02T00:00:00Z)", ErrBadWindow)
		}
	}
	if from == "" {
		w.From = w.To.Add(-24 * time.Hour)
	}
	if !w.From.Before(w.To) {
		return w, false, fmt.Errorf("%w: from must be before to", ErrBadWindow)
	}
	if w.To.Sub(w.From) > MaxWindow {
		return w, false, fmt.Errorf("%w: a window is at most %d days", ErrBadWindow, int(MaxWindow/(24*time.Hour)))
	}
	return w, true, nil
}

// hours lists the UTC hour starts the window touches.
func (w Window) hours() []time.Time {
	var hs []time.Time
	for h := w.From.UTC().Truncate(time.Hour); h.Before(w.To); h = h.Add(time.Hour) {
		hs = append(hs, h)
	}
	return hs
}

// hourData is one hour bucket as read.
type hourData struct {
	At       time.Time
	Counters map[string]string
	Samples  samples
}

func (o *Outcomes) readHours(ctx context.Context, w Window) ([]hourData, error) {
	hs := w.hours()
	pipe := o.rdb.Pipeline()
	counters := make([]*redis.MapStringStringCmd, len(hs))
	lists := make([][3]*redis.StringSliceCmd, len(hs))
	for i, h := range hs {
		counters[i] = pipe.HGetAll(ctx, hourKey(h))
		for j, k := range sampleKeys {
			lists[i][j] = pipe.LRange(ctx, hourSampleKey(h, k), 0, -1)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read outcome buckets: %w", err)
	}
	out := make([]hourData, len(hs))
	for i, h := range hs {
		out[i] = hourData{At: h, Counters: counters[i].Val()}
		for j := range sampleKeys {
			out[i].Samples[j] = parseSamples(lists[i][j].Val())
		}
	}
	return out, nil
}

func merge(hs []hourData) (map[string]string, samples) {
	sum := map[string]int64{}
	var s samples
	for _, h := range hs {
		for k, v := range h.Counters {
			n, _ := strconv.ParseInt(v, 10, 64)
			sum[k] += n
		}
		for j := range s {
			s[j] = append(s[j], h.Samples[j]...)
		}
	}
	m := make(map[string]string, len(sum))
	for k, v := range sum {
		m[k] = strconv.FormatInt(v, 10)
	}
	return m, s
}

// ReportWindow is Report for the hours of w.
func (o *Outcomes) ReportWindow(ctx context.Context, w Window) (Report, error) {
	hs, err := o.readHours(ctx, w)
	if err != nil {
		return Report{}, err
	}
	return reportFrom(merge(hs)), nil
}

// Point is one step of a series: the report of [At, At+step).
type Point struct {
	At     time.Time `json:"at"`
	Report Report    `json:"report"`
	// Teams counts the step's tasks by the team whose route gave them.
	Teams map[string]int64 `json:"teams,omitempty"`
}

// Series splits w into steps (hourly up to 2 days, daily beyond) and
// reports each; Total is the report of the whole window. The counters
// behind distribution (owner_*, team_*, skipped:*) come with it.
func (o *Outcomes) Series(ctx context.Context, w Window) (points []Point, total Report, counters map[string]int64, err error) {
	hs, err := o.readHours(ctx, w)
	if err != nil {
		return nil, Report{}, nil, err
	}
	step := time.Hour
	if w.To.Sub(w.From) > 48*time.Hour {
		step = 24 * time.Hour
	}
	for i := 0; i < len(hs); {
		start := hs[i].At.Truncate(step)
		j := i
		for j < len(hs) && hs[j].At.Truncate(step).Equal(start) {
			j++
		}
		h, s := merge(hs[i:j])
		teams := map[string]int64{}
		for k, v := range h {
			if team, ok := strings.CutPrefix(k, "team_assigned:"); ok {
				teams[team], _ = strconv.ParseInt(v, 10, 64)
			}
		}
		points = append(points, Point{At: start, Report: reportFrom(h, s), Teams: teams})
		i = j
	}
	all, s := merge(hs)
	counters = make(map[string]int64, len(all))
	for k, v := range all {
		counters[k], _ = strconv.ParseInt(v, 10, 64)
	}
	return points, reportFrom(maps.Clone(all), s), counters, nil
}

// Counters sums the counters of the hours of w (no samples, no series):
// what the distribution view needs.
func (o *Outcomes) Counters(ctx context.Context, w Window) (map[string]int64, error) {
	hs := w.hours()
	pipe := o.rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(hs))
	for i, h := range hs {
		cmds[i] = pipe.HGetAll(ctx, hourKey(h))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read outcome buckets: %w", err)
	}
	sum := map[string]int64{}
	for _, c := range cmds {
		for k, v := range c.Val() {
			n, _ := strconv.ParseInt(v, 10, 64)
			sum[k] += n
		}
	}
	return sum, nil
}
