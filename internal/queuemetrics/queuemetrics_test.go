package queuemetrics

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"

	"github.com/handoff-dev/handoff/internal/testredis"
)

// syncBuffer is a log sink safe for the collector's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// fill enqueues work in two queues: 3 pending in "alpha" (one of them
// paused queue aside), 2 scheduled and 1 archived in "beta".
func fill(t *testing.T, rdb redis.UniversalClient) {
	t.Helper()
	cl := asynq.NewClientFromRedisClient(rdb)
	for i := range 3 {
		if _, err := cl.Enqueue(asynq.NewTask("t", []byte{byte(i)}), asynq.Queue("alpha")); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		if _, err := cl.Enqueue(asynq.NewTask("t", []byte{byte(i)}), asynq.Queue("beta"), asynq.ProcessIn(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	info, err := cl.Enqueue(asynq.NewTask("t", []byte("x")), asynq.Queue("beta"), asynq.ProcessIn(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := asynq.NewInspectorFromRedisClient(rdb).ArchiveTask("beta", info.ID); err != nil {
		t.Fatal(err)
	}
}

func gather(t *testing.T, reg *prometheus.Registry) map[string][]*dto.Metric {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("scrape failed: %v", err)
	}
	out := map[string][]*dto.Metric{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf.GetMetric()
	}
	return out
}

func value(ms []*dto.Metric, labels map[string]string) (float64, bool) {
next:
	for _, m := range ms {
		for _, lp := range m.GetLabel() {
			if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
				continue next
			}
		}
		if g := m.GetGauge(); g != nil {
			return g.GetValue(), true
		}
		return m.GetCounter().GetValue(), true
	}
	return 0, false
}

// A Redis that refuses MEMORY USAGE (renamed away, or denied by an ACL, as
// some managed services do): every scrape still succeeds with the queue
// counts, the memory gauge is left out, and the refusal is logged once.
func TestMemoryUsageRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
	}{
		{"rename-command MEMORY", []string{"--rename-command", "MEMORY", ""}},
		{"ACL -memory", []string{"--user", "default", "on", "nopass", "~*", "&*", "+@all", "-memory"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := testredis.StartServer(t, testredis.WithArgs(c.args...))
			rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
			defer rdb.Close()
			if err := rdb.Do(t.Context(), "MEMORY", "USAGE", "x").Err(); err == nil || err == redis.Nil {
				t.Fatalf("the server answers MEMORY USAGE (%v); the test needs one that refuses it", err)
			}
			fill(t, rdb)
			insp := asynq.NewInspectorFromRedisClient(rdb)
			if _, err := insp.GetQueueInfo("alpha"); err == nil {
				t.Fatal("asynq's GetQueueInfo works without MEMORY USAGE; this collector is no longer needed")
			}
			var logs syncBuffer
			col := New(insp, rdb, slog.New(slog.NewTextHandler(&logs, nil)))
			reg := prometheus.NewRegistry()
			reg.MustRegister(col)
			for range 3 {
				ms := gather(t, reg)
				for _, want := range []struct {
					name   string
					labels map[string]string
					v      float64
				}{
					{"asynq_tasks_enqueued_total", map[string]string{"queue": "alpha", "state": "pending"}, 3},
					{"asynq_tasks_enqueued_total", map[string]string{"queue": "beta", "state": "scheduled"}, 2},
					{"asynq_tasks_enqueued_total", map[string]string{"queue": "beta", "state": "archived"}, 1},
					{"asynq_queue_size", map[string]string{"queue": "beta"}, 3},
					{"asynq_queue_paused_total", map[string]string{"queue": "alpha"}, 0},
				} {
					got, ok := value(ms[want.name], want.labels)
					if !ok || got != want.v {
						t.Errorf("%s%v = %v (present %v), want %v", want.name, want.labels, got, ok, want.v)
					}
				}
				if lat, ok := value(ms["asynq_queue_latency_seconds"], map[string]string{"queue": "alpha"}); !ok || lat < 0 || lat > 60 {
					t.Errorf("latency of alpha = %v (present %v)", lat, ok)
				}
				if _, ok := ms["asynq_queue_memory_usage_approx_bytes"]; ok {
					t.Error("the memory gauge is exported though Redis refuses MEMORY USAGE")
				}
			}
			if !col.Degraded() {
				t.Error("the collector did not notice the refusal")
			}
			if n := strings.Count(logs.String(), "refuses MEMORY USAGE"); n != 1 {
				t.Errorf("the refusal was logged %d times in 3 scrapes, want once:\n%s", n, logs.String())
			}
			if strings.Contains(logs.String(), "level=ERROR") {
				t.Errorf("errors logged:\n%s", logs.String())
			}
		})
	}
}

// On a Redis that allows MEMORY USAGE the collector exports what asynq's
// Inspector reads, memory included; and its plain reading agrees with the
// Inspector's counts (the key layout it relies on is asynq's).
func TestPlainReadingMatchesInspector(t *testing.T) {
	db := testredis.New(t)
	rdb := db.Client(t)
	fill(t, rdb)
	insp := asynq.NewInspectorFromRedisClient(rdb)
	if err := insp.PauseQueue("alpha"); err != nil {
		t.Fatal(err)
	}
	col := New(insp, rdb, nil)
	for _, q := range []string{"alpha", "beta"} {
		want, err := insp.GetQueueInfo(q)
		if err != nil {
			t.Fatal(err)
		}
		got, err := col.plain(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		if got.Pending != want.Pending || got.Active != want.Active || got.Scheduled != want.Scheduled || got.Retry != want.Retry ||
			got.Archived != want.Archived || got.Completed != want.Completed || got.Size != want.Size || got.Paused != want.Paused ||
			got.ProcessedTotal != want.ProcessedTotal || got.FailedTotal != want.FailedTotal || got.Groups != want.Groups {
			t.Errorf("%s: plain %+v, inspector %+v", q, *got, *want)
		}
		if d := got.Latency - want.Latency; d < -2*time.Second || d > 2*time.Second {
			t.Errorf("%s: latency %v vs %v", q, got.Latency, want.Latency)
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(col)
	ms := gather(t, reg)
	if v, ok := value(ms["asynq_queue_memory_usage_approx_bytes"], map[string]string{"queue": "alpha"}); !ok || v <= 0 {
		t.Errorf("memory gauge of alpha = %v (present %v), want > 0", v, ok)
	}
	if v, _ := value(ms["asynq_queue_paused_total"], map[string]string{"queue": "alpha"}); v != 1 {
		t.Errorf("paused alpha = %v", v)
	}
	if col.Degraded() {
		t.Error("degraded on a Redis that answers MEMORY USAGE")
	}
}
