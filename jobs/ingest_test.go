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
	// Task options: queue, retry, whole-second timeout, retention, payload.
	info, err := e.insp.GetTaskInfo(QueueEvents, evs[50].DedupeKey)
	if err != nil {
		t.Fatal(err)
	}
	if info.Type != TypeEventProcess || info.MaxRetry != 12 || info.Timeout != 2*time.Second || info.Retention != time.Hour {
		t.Errorf("task %s maxretry %d timeout %s retention %s", info.Type, info.MaxRetry, info.Timeout, info.Retention)
	}
	p, err := DecodeEventPayload(info.Payload)
	if err != nil || p.V != 1 || p.Event.DedupeKey != evs[50].DedupeKey || p.Event.Tenant != "62515" {
		t.Errorf("payload %+v, %v", p, err)
	}
	// No key of the ingester's own on a fresh install: the task is the
	// marker.
	if keys := e.rdb.Keys(ctx, LegacyDedupeKeyPrefix+"*").Val(); len(keys) != 0 {
		t.Errorf("dedupe keys written: %v", keys)
	}
}

// work runs an asynq server on the events queue with handler until the
// test ends.
func (e env) work(t *testing.T, handler asynq.HandlerFunc) {
	t.Helper()
	srv := asynq.NewServerFromRedisClient(e.rdb, asynq.Config{
		Queues: map[string]int{QueueEvents: 1}, Concurrency: 4,
		JanitorInterval: 100 * time.Millisecond, TaskCheckInterval: 10 * time.Millisecond,
		RetryDelayFunc: func(int, error, *asynq.Task) time.Duration { return 10 * time.Millisecond },
		LogLevel:       asynq.FatalLevel,
	})
	mux := asynq.NewServeMux()
	mux.Handle(TypeEventProcess, handler)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
}

func (e env) waitState(t *testing.T, id string, want asynq.TaskState) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := e.insp.GetTaskInfo(QueueEvents, id)
		if err == nil && info.State == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s: %v %v, want state %s", id, info, err, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A finished event is still a duplicate for DEDUPE_TTL (asynq keeps the
// completed task under its id), and only then can it be stored again.
func TestIngestCompletedTaskStaysDuplicateForTTL(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var runs atomic.Int64
	e.work(t, func(context.Context, *asynq.Task) error { runs.Add(1); return nil })
	in := NewIngester(e.client, e.rdb, IngestConfig{DedupeTTL: 2 * time.Second})
	ev := testEvents(1, "done")
	if res, err := in.Ingest(ctx, ev); err != nil || res.Accepted != 1 {
		t.Fatalf("first delivery: %+v, %v", res, err)
	}
	e.waitState(t, ev[0].DedupeKey, asynq.TaskStateCompleted)
	res, err := in.Ingest(ctx, ev)
	if err != nil || res != (handoff.IngestResult{Duplicates: 1}) {
		t.Fatalf("redelivery after completion: %+v, %v", res, err)
	}
	// Past the retention the janitor drops the record: the window is
	// bounded, the key is not kept forever.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := e.insp.GetTaskInfo(QueueEvents, ev[0].DedupeKey); errors.Is(err, asynq.ErrTaskNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("completed task kept past its retention")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if res, err := in.Ingest(ctx, ev); err != nil || res.Accepted != 1 {
		t.Fatalf("delivery after the window: %+v, %v", res, err)
	}
	e.waitState(t, ev[0].DedupeKey, asynq.TaskStateCompleted)
	if n := runs.Load(); n != 2 {
		t.Errorf("handler ran %d times, want 2 (once per window)", n)
	}
}

// A task that gave up (archived) or is waiting for a retry still holds its
// id: the redelivery creates nothing.
func TestIngestArchivedAndRetryingTasksAreDuplicates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.work(t, func(_ context.Context, task *asynq.Task) error {
		p, err := DecodeEventPayload(task.Payload())
		if err != nil {
			return err
		}
		if p.Event.NativeID == "0" {
			return fmt.Errorf("permanent: %w", asynq.SkipRetry)
		}
		return errors.New("try again")
	})
	in := NewIngester(e.client, e.rdb, IngestConfig{MaxRetry: 1000})
	evs := testEvents(2, "fail")
	if res, err := in.Ingest(ctx, evs); err != nil || res.Accepted != 2 {
		t.Fatalf("first delivery: %+v, %v", res, err)
	}
	e.waitState(t, evs[0].DedupeKey, asynq.TaskStateArchived)
	res, err := in.Ingest(ctx, evs)
	if err != nil || res != (handoff.IngestResult{Duplicates: 2}) {
		t.Fatalf("redelivery: %+v, %v", res, err)
	}
}

// Exactly one Redis round trip per single-event request once the process
// is warm (upgrade marker read, script cached, queue published).
func TestIngestSingleEventIsOneRoundTrip(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var calls atomic.Int64
	e.rdb.AddHook(countHook{&calls})
	in := NewIngester(e.client, e.rdb, IngestConfig{})
	if _, err := in.Ingest(ctx, testEvents(1, "warm")); err != nil {
		t.Fatal(err)
	}
	for i, want := range []handoff.IngestResult{{Accepted: 1}, {Duplicates: 1}} {
		calls.Store(0)
		res, err := in.Ingest(ctx, testEvents(1, "rt"))
		if err != nil || res != want {
			t.Fatalf("delivery %d: %+v, %v", i, res, err)
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("delivery %d: %d Redis round trips, want 1", i, n)
		}
	}
}

// countHook counts round trips: one per command or pipeline.
type countHook struct{ n *atomic.Int64 }

func (countHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { h.n.Add(1); return next(ctx, cmd) }
}
func (h countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { h.n.Add(1); return next(ctx, cmds) }
}

// legacyDeployment leaves Redis as the previous release did after it
// ingested and processed evs: the events queue known to asynq, the tasks
// gone (no retention then) and a handoff:dedupe:<key> for each event.
func legacyDeployment(t *testing.T, e env, evs []handoff.Event) {
	t.Helper()
	ctx := context.Background()
	for i := range evs {
		task, err := NewEventTask(&evs[i])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.client.EnqueueContext(ctx, task, asynq.TaskID(evs[i].DedupeKey), asynq.Queue(QueueEvents)); err != nil {
			t.Fatal(err)
		}
		if err := e.rdb.Set(ctx, LegacyDedupeKeyPrefix+evs[i].DedupeKey, "1", 72*time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.insp.DeleteAllPendingTasks(QueueEvents); err != nil {
		t.Fatal(err)
	}
}

// After an upgrade, the keys the previous release wrote are honoured until
// DEDUPE_TTL after the first start of this one, then no longer read.
func TestIngestHonoursLegacyDedupeKeysAfterUpgrade(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	old := testEvents(3, "legacy")
	legacyDeployment(t, e, old)

	start := time.Unix(1764000000, 0)
	in := newIngester(e.client, e.rdb, IngestConfig{DedupeTTL: time.Hour})
	in.now = func() time.Time { return start }
	batch := append(slices.Clone(old), testEvents(2, "new")...)
	res, err := in.Ingest(ctx, batch)
	if err != nil || res != (handoff.IngestResult{Accepted: 2, Duplicates: 3}) {
		t.Fatalf("first delivery after the upgrade: %+v, %v", res, err)
	}
	if n := e.pending(t, QueueEvents); n != 2 {
		t.Fatalf("%d tasks, want the 2 new events only", n)
	}
	if v := e.rdb.Get(ctx, LegacyDedupeUntilKey).Val(); v != fmt.Sprint(start.Add(time.Hour).Unix()) {
		t.Errorf("upgrade marker %q, want first start + DEDUPE_TTL", v)
	}
	// Another process started later agrees on the same window.
	later := newIngester(e.client, e.rdb, IngestConfig{DedupeTTL: time.Hour})
	later.now = func() time.Time { return start.Add(59 * time.Minute) }
	if res, err := later.Ingest(ctx, old[:1]); err != nil || res != (handoff.IngestResult{Duplicates: 1}) {
		t.Fatalf("redelivery in the window, second process: %+v, %v", res, err)
	}
	// Past the window the (here artificially long-lived) legacy key is no
	// longer read.
	later.now = func() time.Time { return start.Add(time.Hour) }
	if res, err := later.Ingest(ctx, old[:1]); err != nil || res != (handoff.IngestResult{Accepted: 1}) {
		t.Fatalf("delivery after the window: %+v, %v", res, err)
	}
}

// A fresh install never reads legacy keys: its marker says 0.
func TestIngestFreshInstallSkipsLegacyCheck(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	in := NewIngester(e.client, e.rdb, IngestConfig{})
	if _, err := in.Ingest(ctx, testEvents(1, "first")); err != nil {
		t.Fatal(err)
	}
	if v := e.rdb.Get(ctx, LegacyDedupeUntilKey).Val(); v != "0" {
		t.Fatalf("upgrade marker %q on a fresh install, want 0", v)
	}
	// A stray key in the legacy layout is not consulted.
	ev := testEvents(1, "stray")
	e.rdb.Set(ctx, LegacyDedupeKeyPrefix+ev[0].DedupeKey, "1", time.Hour)
	if res, err := NewIngester(e.client, e.rdb, IngestConfig{}).Ingest(ctx, ev); err != nil || res.Accepted != 1 {
		t.Fatalf("%+v, %v", res, err)
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
