package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/internal/testredis"
)

func testEvents(n int, prefix string) []handoff.Event {
	evs := make([]handoff.Event, n)
	for i := range evs {
		evs[i] = handoff.Event{
			Source: handoff.SourceHubSpot, Tenant: "62515", NativeID: fmt.Sprint(i),
			DedupeKey: fmt.Sprintf("hubspot-%s%04d", prefix, i), Kind: handoff.KindPropertyChange,
			OccurredAt: time.Unix(1764000000, 0).UTC(),
		}
	}
	return evs
}

type env struct {
	rdb    *redis.Client
	client *asynq.Client
	insp   *asynq.Inspector
}

func newEnv(t *testing.T) env {
	t.Helper()
	db := testredis.New(t)
	rdb := db.Client(t)
	return env{rdb: rdb, client: asynq.NewClientFromRedisClient(rdb), insp: asynq.NewInspectorFromRedisClient(rdb)}
}

func (e env) pending(t *testing.T, queue string) int {
	t.Helper()
	qs, err := e.insp.Queues()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(qs, queue) {
		return 0
	}
	info, err := e.insp.GetQueueInfo(queue)
	if err != nil {
		t.Fatal(err)
	}
	return info.Size
}

func TestIngestStoresOnceAndDedupes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	in := NewIngester(e.client, e.rdb, IngestConfig{DedupeTTL: time.Hour, Timeout: 1500 * time.Millisecond})
	evs := testEvents(100, "a")
	evs = append(evs, evs[3]) // the same event twice in one batch
	res, err := in.Ingest(ctx, evs)
	if err != nil {
		t.Fatal(err)
	}
	if res != (handoff.IngestResult{Accepted: 100, Duplicates: 1}) {
		t.Fatalf("first delivery: %+v", res)
	}
	if n := e.pending(t, QueueEvents); n != 100 {
		t.Fatalf("%d tasks queued, want 100", n)
	}
	res, err = in.Ingest(ctx, evs[:100])
	if err != nil || res != (handoff.IngestResult{Duplicates: 100}) {
		t.Fatalf("redelivery: %+v, %v", res, err)
	}
	if n := e.pending(t, QueueEvents); n != 100 {
		t.Fatalf("%d tasks after redelivery, want 100", n)
	}
	// The dedupe key outlives the task: delete the tasks (as after success
	// without retention) and redeliver.
	if _, err := e.insp.DeleteAllPendingTasks(QueueEvents); err != nil {
		t.Fatal(err)
	}
	res, err = in.Ingest(ctx, evs[:10])
	if err != nil || res.Accepted != 0 || res.Duplicates != 10 {
		t.Fatalf("after the tasks are gone: %+v, %v", res, err)
	}
	ttl := e.rdb.TTL(ctx, DedupeKeyPrefix+evs[0].DedupeKey).Val()
	if ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("dedupe key TTL %s, want about 1h", ttl)
	}
	// Task options: queue, retry, whole-second timeout, payload.
	info, err := e.insp.GetTaskInfo(QueueEvents, evs[50].DedupeKey)
	if !errors.Is(err, asynq.ErrTaskNotFound) {
		t.Fatalf("deleted task still there: %v %v", info, err)
	}
	res, err = in.Ingest(ctx, testEvents(1, "b"))
	if err != nil || res.Accepted != 1 {
		t.Fatal(res, err)
	}
	info, err = e.insp.GetTaskInfo(QueueEvents, "hubspot-b0000")
	if err != nil {
		t.Fatal(err)
	}
	if info.Type != TypeEventProcess || info.MaxRetry != 12 || info.Timeout != 2*time.Second {
		t.Errorf("task %s maxretry %d timeout %s", info.Type, info.MaxRetry, info.Timeout)
	}
	p, err := DecodeEventPayload(info.Payload)
	if err != nil || p.V != 1 || p.Event.DedupeKey != "hubspot-b0000" || p.Event.Tenant != "62515" {
		t.Errorf("payload %+v, %v", p, err)
	}
}

// A live task with the same id (dedupe key lost, e.g. written by a crash
// between enqueue and SET) counts as a duplicate, not an error.
func TestIngestTaskIDConflictIsDuplicate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	in := NewIngester(e.client, e.rdb, IngestConfig{})
	evs := testEvents(5, "c")
	if _, err := in.Ingest(ctx, evs); err != nil {
		t.Fatal(err)
	}
	if err := e.rdb.Del(ctx, DedupeKeyPrefix+evs[0].DedupeKey, DedupeKeyPrefix+evs[1].DedupeKey).Err(); err != nil {
		t.Fatal(err)
	}
	res, err := in.Ingest(ctx, evs)
	if err != nil || res != (handoff.IngestResult{Duplicates: 5}) {
		t.Fatalf("%+v, %v", res, err)
	}
	if e.rdb.Exists(ctx, DedupeKeyPrefix+evs[0].DedupeKey).Val() != 1 {
		t.Error("the dedupe key was not restored")
	}
}

// flaky fails every enqueue after the first n.
type flaky struct {
	inner Enqueuer
	n     int64
	calls atomic.Int64
}

func (f *flaky) EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error) {
	if f.calls.Add(1) > f.n {
		return nil, errors.New("connection reset")
	}
	return f.inner.EnqueueContext(ctx, task, opts...)
}

// Failure part-way: an error (the sender is not acknowledged), and the
// redelivery stores exactly the rest.
func TestIngestPartialFailureThenRedelivery(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	evs := testEvents(100, "d")
	bad := newIngester(&flaky{inner: e.client, n: 37}, e.rdb, IngestConfig{Concurrency: 4})
	res, err := bad.Ingest(ctx, evs)
	if !errors.Is(err, handoff.ErrUnavailable) {
		t.Fatalf("partial failure: %v", err)
	}
	if res.Accepted != 37 {
		t.Fatalf("accepted %d before the failure, want 37", res.Accepted)
	}
	good := NewIngester(e.client, e.rdb, IngestConfig{})
	res, err = good.Ingest(ctx, evs)
	if err != nil || res != (handoff.IngestResult{Accepted: 63, Duplicates: 37}) {
		t.Fatalf("redelivery: %+v, %v", res, err)
	}
	if n := e.pending(t, QueueEvents); n != 100 {
		t.Fatalf("%d tasks, want 100", n)
	}
}

func TestIngestRedisDown(t *testing.T) {
	srv := testredis.StartServer(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond, DialerRetries: 1, DialerRetryTimeout: time.Millisecond})
	t.Cleanup(func() { _ = rdb.Close() })
	in := NewIngester(asynq.NewClientFromRedisClient(rdb), rdb, IngestConfig{})
	srv.Stop()
	_, err := in.Ingest(context.Background(), testEvents(3, "e"))
	if !errors.Is(err, handoff.ErrUnavailable) {
		t.Fatalf("Redis down: %v, want ErrUnavailable", err)
	}
	srv.Restart(t)
	res, err := in.Ingest(context.Background(), testEvents(3, "e"))
	if err != nil || res.Accepted != 3 {
		t.Fatalf("after restart: %+v, %v", res, err)
	}
}

func TestIngestRefusesEmptyKey(t *testing.T) {
	e := newEnv(t)
	evs := testEvents(2, "f")
	evs[1].DedupeKey = ""
	if _, err := NewIngester(e.client, e.rdb, IngestConfig{}).Ingest(context.Background(), evs); err == nil {
		t.Fatal("an event without a dedupe key was accepted")
	}
}

func TestDecodeEventPayloadVersion(t *testing.T) {
	if _, err := DecodeEventPayload([]byte(`{"v":2,"event":{}}`)); err == nil {
		t.Error("version 2 accepted")
	}
	if _, err := DecodeEventPayload([]byte(`{`)); err == nil {
		t.Error("bad JSON accepted")
	}
}

func TestIngestConfigDefaults(t *testing.T) {
	c := IngestConfig{Timeout: 500 * time.Millisecond}.withDefaults()
	if c.Timeout != time.Second || c.DedupeTTL != 72*time.Hour || c.Concurrency != 8 || c.MaxRetry != 12 {
		t.Errorf("defaults %+v", c)
	}
}

// The README promises EVENT_TIMEOUT rounded UP to whole seconds (asynq keeps
// whole seconds): 1.2s must give the handler 2s, not 1s.
func TestIngestTimeoutRoundsUp(t *testing.T) {
	for in, want := range map[time.Duration]time.Duration{
		1200 * time.Millisecond:  2 * time.Second,
		2 * time.Second:          2 * time.Second,
		59500 * time.Millisecond: time.Minute,
		300 * time.Millisecond:   time.Second,
	} {
		if got := (IngestConfig{Timeout: in}).withDefaults().Timeout; got != want {
			t.Errorf("EVENT_TIMEOUT %s: task timeout %s, want %s", in, got, want)
		}
	}
}
