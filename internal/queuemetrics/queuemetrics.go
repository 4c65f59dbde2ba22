// Package queuemetrics exports asynq's queue metrics to Prometheus, like
// asynq/x/metrics does (same metric names and labels), but keeps working on
// a Redis that refuses MEMORY USAGE.
//
// asynq's Inspector.GetQueueInfo samples each queue's memory with MEMORY
// USAGE inside a Lua script. Some managed Redis services rename or forbid
// that command (or forbid it in scripts), and then GetQueueInfo fails as a
// whole: every scrape logged an error and exported no queue metric at all.
// This collector notices the refusal once (GetQueueInfo fails while the
// plain counts can be read), logs it once, and from then on reads the
// counts with plain commands, leaving out only
// asynq_queue_memory_usage_approx_bytes. It tries the full reading again
// every RetryFullEvery, in case the restriction is lifted.
package queuemetrics

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// RetryFullEvery is how often a degraded collector tries GetQueueInfo
// (with MEMORY USAGE) again.
const RetryFullEvery = 15 * time.Minute

// Inspector is the part of *asynq.Inspector the collector reads.
type Inspector interface {
	Queues() ([]string, error)
	GetQueueInfo(queue string) (*asynq.QueueInfo, error)
}

// Collector is a prometheus.Collector of asynq queue metrics. Register it
// unchecked (it describes nothing), so registration does not read Redis.
type Collector struct {
	insp Inspector
	rdb  redis.UniversalClient
	log  *slog.Logger
	now  func() time.Time

	mu          sync.Mutex
	noMemory    bool      // MEMORY USAGE is refused: plain counts only
	retryFullAt time.Time // when to try GetQueueInfo again
	lastErrLog  time.Time // other errors are logged at most once a minute
}

// New builds the collector. rdb must be the Redis the inspector reads.
func New(insp Inspector, rdb redis.UniversalClient, log *slog.Logger) *Collector {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Collector{insp: insp, rdb: rdb, log: log, now: time.Now}
}

// Degraded reports whether the collector reads without MEMORY USAGE.
func (c *Collector) Degraded() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.noMemory
}

// The metric descriptors, as asynq/x/metrics names them.
var (
	tasksQueuedDesc = prometheus.NewDesc("asynq_tasks_enqueued_total",
		"Number of tasks enqueued; broken down by queue and state.", []string{"queue", "state"}, nil)
	queueSizeDesc = prometheus.NewDesc("asynq_queue_size",
		"Number of tasks in a queue", []string{"queue"}, nil)
	queueLatencyDesc = prometheus.NewDesc("asynq_queue_latency_seconds",
		"Number of seconds the oldest pending task is waiting in pending state to be processed.", []string{"queue"}, nil)
	queueMemUsgDesc = prometheus.NewDesc("asynq_queue_memory_usage_approx_bytes",
		"Number of memory used by a given queue (approximated number by sampling); absent when Redis refuses MEMORY USAGE.", []string{"queue"}, nil)
	tasksProcessedTotalDesc = prometheus.NewDesc("asynq_tasks_processed_total",
		"Number of tasks processed (both succeeded and failed); broken down by queue", []string{"queue"}, nil)
	tasksFailedTotalDesc = prometheus.NewDesc("asynq_tasks_failed_total",
		"Number of tasks failed; broken down by queue", []string{"queue"}, nil)
	pausedQueuesDesc = prometheus.NewDesc("asynq_queue_paused_total",
		"Number of queues paused", []string{"queue"}, nil)
)

// Describe describes nothing: the collector is unchecked.
func (c *Collector) Describe(chan<- *prometheus.Desc) {}

// Collect reads every queue once.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	names, err := c.insp.Queues()
	if err != nil {
		c.logError("read asynq queue names for metrics", err)
		return
	}
	for _, q := range names {
		info, withMemory, err := c.queueInfo(q)
		if err != nil {
			c.logError("read asynq queue metrics", err, "queue", q)
			continue
		}
		for _, s := range []struct {
			state string
			n     int
		}{{"active", info.Active}, {"pending", info.Pending}, {"scheduled", info.Scheduled}, {"retry", info.Retry},
			{"archived", info.Archived}, {"completed", info.Completed}} {
			ch <- prometheus.MustNewConstMetric(tasksQueuedDesc, prometheus.GaugeValue, float64(s.n), q, s.state)
		}
		ch <- prometheus.MustNewConstMetric(queueSizeDesc, prometheus.GaugeValue, float64(info.Size), q)
		ch <- prometheus.MustNewConstMetric(queueLatencyDesc, prometheus.GaugeValue, info.Latency.Seconds(), q)
		if withMemory {
			ch <- prometheus.MustNewConstMetric(queueMemUsgDesc, prometheus.GaugeValue, float64(info.MemoryUsage), q)
		}
		ch <- prometheus.MustNewConstMetric(tasksProcessedTotalDesc, prometheus.CounterValue, float64(info.ProcessedTotal), q)
		ch <- prometheus.MustNewConstMetric(tasksFailedTotalDesc, prometheus.CounterValue, float64(info.FailedTotal), q)
		paused := 0.0
		if info.Paused {
			paused = 1
		}
		ch <- prometheus.MustNewConstMetric(pausedQueuesDesc, prometheus.GaugeValue, paused, q)
	}
}

// queueInfo reads one queue: through the Inspector while MEMORY USAGE
// works, with plain commands once it is refused.
func (c *Collector) queueInfo(q string) (*asynq.QueueInfo, bool, error) {
	c.mu.Lock()
	full := !c.noMemory || !c.now().Before(c.retryFullAt)
	wasDegraded := c.noMemory
	c.mu.Unlock()
	var fullErr error
	if full {
		info, err := c.insp.GetQueueInfo(q)
		if err == nil {
			if wasDegraded {
				c.mu.Lock()
				c.noMemory = false
				c.mu.Unlock()
				c.log.Info("asynq queue metrics: Redis answers MEMORY USAGE again; asynq_queue_memory_usage_approx_bytes is back")
			}
			return info, true, nil
		}
		fullErr = err
	}
	info, err := c.plain(context.Background(), q)
	if err != nil {
		if fullErr != nil {
			return nil, false, fullErr // Redis itself is failing, not one command
		}
		return nil, false, err
	}
	if fullErr != nil {
		// The plain counts read fine, so what failed is the memory
		// sampling the Inspector adds: MEMORY USAGE is refused.
		c.mu.Lock()
		first := !c.noMemory
		c.noMemory = true
		c.retryFullAt = c.now().Add(RetryFullEvery)
		c.mu.Unlock()
		if first && !wasDegraded {
			c.log.Warn("asynq queue metrics: this Redis refuses MEMORY USAGE (some managed services do); queue metrics carry on without asynq_queue_memory_usage_approx_bytes",
				"queue", q, "error", fullErr.Error(), "retry_in", RetryFullEvery.String())
		}
	}
	return info, false, nil
}

// plain reads a queue's counts with plain commands in one pipeline: the
// reading asynq's queue-stats script does (internal/rdb CurrentStats),
// without the memory sampling. The keys are asynq's, "asynq:{<queue>}:...".
func (c *Collector) plain(ctx context.Context, q string) (*asynq.QueueInfo, error) {
	p := "asynq:{" + q + "}:"
	pipe := c.rdb.Pipeline()
	pending := pipe.LLen(ctx, p+"pending")
	active := pipe.LLen(ctx, p+"active")
	scheduled := pipe.ZCard(ctx, p+"scheduled")
	retry := pipe.ZCard(ctx, p+"retry")
	archived := pipe.ZCard(ctx, p+"archived")
	completed := pipe.ZCard(ctx, p+"completed")
	processed := pipe.Get(ctx, p+"processed")
	failed := pipe.Get(ctx, p+"failed")
	paused := pipe.Exists(ctx, p+"paused")
	oldest := pipe.LIndex(ctx, p+"pending", -1)
	groups := pipe.SMembers(ctx, p+"groups")
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return nil, fmt.Errorf("read queue %s: %w", q, err)
	}
	info := &asynq.QueueInfo{
		Queue: q, Pending: int(pending.Val()), Active: int(active.Val()), Scheduled: int(scheduled.Val()),
		Retry: int(retry.Val()), Archived: int(archived.Val()), Completed: int(completed.Val()),
		Paused: paused.Val() > 0, Timestamp: c.now(),
	}
	info.ProcessedTotal, _ = strconv.Atoi(processed.Val())
	info.FailedTotal, _ = strconv.Atoi(failed.Val())
	gs := groups.Val()
	info.Groups = len(gs)
	if id := oldest.Val(); id != "" || len(gs) > 0 {
		pipe := c.rdb.Pipeline()
		var since *redis.StringCmd
		if id != "" {
			since = pipe.HGet(ctx, p+"t:"+id, "pending_since")
		}
		var sizes []*redis.IntCmd
		for _, g := range gs {
			sizes = append(sizes, pipe.ZCard(ctx, p+"g:"+g))
		}
		if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
			return nil, fmt.Errorf("read queue %s: %w", q, err)
		}
		if since != nil {
			if ns, err := strconv.ParseInt(since.Val(), 10, 64); err == nil && ns > 0 {
				info.Latency = c.now().Sub(time.Unix(0, ns))
			}
		}
		for _, s := range sizes {
			info.Aggregating += int(s.Val())
		}
	}
	info.Size = info.Pending + info.Active + info.Scheduled + info.Retry + info.Archived + info.Completed + info.Aggregating
	return info, nil
}

// logError logs other failures (Redis down, ...) at most once a minute:
// a scrape every few seconds must not flood the log.
func (c *Collector) logError(msg string, err error, args ...any) {
	c.mu.Lock()
	now := c.now()
	if now.Sub(c.lastErrLog) < time.Minute {
		c.mu.Unlock()
		return
	}
	c.lastErrLog = now
	c.mu.Unlock()
	c.log.Warn(msg, append(args, "error", err.Error())...)
}
