package main

import (
	"context"
	"math/rand/v2"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/handoff-dev/handoff/internal/testredis"
	"github.com/handoff-dev/handoff/jobs"
)

// The chaos scenarios (issue 7). The three slow ones (lease recovery after
// a SIGKILL or a Redis restart, CRM backoff: 60-120 s each, mostly waiting)
// run in parallel, in declaration order, the two lease-recovery ones first;
// the quick ones run sequentially.

// A `handoff serve --role worker` subprocess is killed with SIGKILL while
// tasks are in flight (the CRM answers slowly), and a new worker starts at
// once. asynq's lease recovery hands the dead worker's tasks to the new one
// (after 60-120 s); idempotent task creation absorbs the CRM writes the dead
// worker made without recording them. CHAOS_LONG=1 kills more times.
func TestChaosWorkerSIGKILL(t *testing.T) {
	t.Parallel()
	kills := 1
	if os.Getenv("CHAOS_LONG") != "" {
		kills = 4
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(3+2*kills)*time.Minute)
	defer cancel()
	bin := buildHandoff(t)
	rs := testredis.StartServer(t, testredis.WithAOF())
	// The in-process app serves HTTP only; the worker is a subprocess.
	d, err := startDemo(ctx, demoOptions{RedisURL: rs.URL(), Role: roleHTTP})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.HubSpot.SetLatency(700 * time.Millisecond)

	turns := d.chaosTurns("sigkill", 15*kills)
	p := newChaosPoster()
	acked := map[string]bool{}
	w := startServeProc(t, ctx, bin, roleWorker, d.Env)
	killedMidTask, inFlight, creationsKilled := 0, 0, 0
	dead := map[string]bool{}
	for k := range kills {
		// Each round gives the current worker fresh work, and kills it
		// while it is working (its heartbeat lists active tasks).
		for id := range postAll(ctx, p, d.Base, turns[15*k:15*(k+1)], 4, 30*time.Second) {
			acked[id] = true
		}
		// Tasks a killed worker held stay active until lease recovery:
		// only the others are the live worker's.
		live := func() map[string]bool {
			m := d.activeTasks()
			for id := range dead {
				delete(m, id)
			}
			return m
		}
		// Wait for a task creation in flight (the CRM write).
		waitFor(t, time.Minute, func() bool {
			for _, creation := range live() {
				if creation {
					return true
				}
			}
			return false
		})
		before := live()
		if err := w.signal(t, syscall.SIGKILL, 10*time.Second); err == nil {
			t.Fatal("the worker exited cleanly on SIGKILL?")
		}
		// Count the tasks that were active before the kill and still are:
		// the dead worker was in the middle of them.
		after := d.activeTasks()
		n, nh := 0, 0
		for id, creation := range before {
			if _, ok := after[id]; ok {
				n++
				if creation {
					nh++
				}
			}
		}
		for id := range after {
			dead[id] = true
		}
		if n > 0 {
			killedMidTask++
			inFlight += n
			creationsKilled += nh
		}
		t.Logf("kill %d: worker SIGKILLed in the middle of %d task(s), %d of them task creations", k+1, n, nh)
		w = startServeProc(t, ctx, bin, roleWorker, d.Env)
	}
	d.HubSpot.SetLatency(0)
	res := chaosResult{Scenario: "worker-sigkill", Refusals: p.refusals(), Description: itoa(kills) + " SIGKILL(s) of a worker subprocess with " + itoa(inFlight) + " task(s) in flight (" + itoa(creationsKilled) + " task creations), lease recovery"}
	d.chaosCount(t, ctx, &res, turns, acked, time.Duration(2+kills)*time.Minute)
	if killedMidTask != kills || creationsKilled == 0 {
		t.Errorf("only %d of %d kills hit a task in flight, %d task creations", killedMidTask, kills, creationsKilled)
	}
	if t.Failed() {
		t.Logf("worker log tail:\n%s", w.tail())
	}
}

// Redis (AOF, appendfsync always) is killed and restarted while senders
// post continuously: requests during the outage get 503 and are retried;
// every acknowledged event produces its decision and every escalation
// exactly one task.
func TestChaosRedisRestart(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	rs := testredis.StartServer(t, testredis.WithAOF())
	d, err := startDemo(ctx, demoOptions{RedisURL: rs.URL(), Log: chaosLog(t, "redis-restart")})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.HubSpot.SetLatency(50 * time.Millisecond) // some tasks are mid-flight when Redis dies

	turns := d.chaosTurns("redis", 36)
	p := newChaosPoster()
	var posted atomic.Int32
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	ch := make(chan chaosTurn)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for tr := range ch {
				ok, _ := p.post(ctx, d.Base, tr.Delivery, 90*time.Second)
				posted.Add(1)
				if ok {
					mu.Lock()
					acked[tr.ID] = true
					mu.Unlock()
				}
			}
		}()
	}
	// The feeder holds the second and the last third back until Redis is
	// down, so that senders are posting during each outage.
	third := len(turns) / 3
	down := []chan struct{}{make(chan struct{}), make(chan struct{})}
	go func() {
		for i, tr := range turns {
			if i == third || i == 2*third {
				<-down[i/third-1]
			}
			ch <- tr
		}
		close(ch)
	}()

	for round := range 2 {
		// Kill Redis once the first third (then two thirds) are in.
		waitFor(t, time.Minute, func() bool { return int(posted.Load()) >= (round+1)*third })
		before := p.refusals()
		rs.Stop()
		close(down[round])
		// Stay down until senders have been refused a few times.
		waitFor(t, 30*time.Second, func() bool { return p.refusals() >= before+8 })
		rs.Restart(t)
	}
	wg.Wait()
	if p.refusals() == 0 {
		t.Fatal("no request was refused: Redis was not down while senders posted")
	}
	res := chaosResult{Scenario: "redis-restart", Refusals: p.refusals(), Description: "2 Redis kills (SIGKILL) + restarts during ingest"}
	d.chaosCount(t, ctx, &res, turns, acked, 3*time.Minute)
	t.Logf("answers other than 2xx seen by senders: %v", p.non2xx)
}

// The CRM answers 429 (with and without Retry-After), 500 and 503 for a
// while and enforces a tight rate limit: tasks are delayed, none is lost
// or created twice, nothing is archived.
func TestChaosCRMOutage(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	db := testredis.New(t)
	d, err := startDemo(ctx, demoOptions{RedisURL: db.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.HubSpot.ResetRequests()
	d.HubSpot.SetRateLimit(60, 10*time.Second)
	d.HubSpot.FailNext(5, http.StatusTooManyRequests, 2*time.Second)
	d.HubSpot.FailNext(5, http.StatusInternalServerError, 0)
	d.HubSpot.FailNext(5, http.StatusServiceUnavailable, 0)
	d.HubSpot.FailNext(5, http.StatusTooManyRequests, 0)
	d.HubSpot.FailNext(5, http.StatusBadGateway, 0)

	turns := d.chaosTurns("crm", 12)
	p := newChaosPoster()
	acked := postAll(ctx, p, d.Base, turns, 4, 30*time.Second)
	res := chaosResult{Scenario: "crm-429-5xx", Description: "25 injected 429/5xx + rate limit 60/10s"}
	d.chaosCount(t, ctx, &res, turns, acked, 3*time.Minute)

	failed := map[int]int{}
	for _, r := range d.HubSpot.Requests() {
		if r.Status == 429 || r.Status >= 500 {
			failed[r.Status]++
		}
	}
	if failed[429] < 10 || failed[500] < 5 || failed[503] < 5 || failed[502] < 5 {
		t.Errorf("the fake did not serve the injected failures: %v", failed)
	}
	t.Logf("CRM failures served: %v", failed)
}

// A `handoff serve` (role all) subprocess receives SIGTERM while senders
// post: every request it acknowledged has its event processed after a new
// process starts, and nothing it did not store was acknowledged.
func TestChaosSIGTERMUnderLoad(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	bin := buildHandoff(t)
	rs := testredis.StartServer(t, testredis.WithAOF())
	// The in-process app gives the fakes, the install and the inspector;
	// it runs no worker. The subprocess serves the webhooks.
	d, err := startDemo(ctx, demoOptions{RedisURL: rs.URL(), Role: roleHTTP})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.HubSpot.SetLatency(300 * time.Millisecond) // tasks in flight at SIGTERM

	srv := startServeProc(t, ctx, bin, roleAll, d.Env)
	turns := d.chaosTurns("sigterm", 60)
	p := newChaosPoster()
	var mu sync.Mutex
	acked := map[string]bool{}
	var posted atomic.Int32
	var wg sync.WaitGroup
	ch := make(chan chaosTurn)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for tr := range ch {
				// One attempt each: the sender does not retry here, so an
				// acknowledgement can only come from the process being
				// stopped, and must mean the event was stored.
				st := p.once(ctx, srv.Base, tr.Delivery)
				posted.Add(1)
				if st >= 200 && st <= 299 {
					mu.Lock()
					acked[tr.ID] = true
					mu.Unlock()
				}
			}
		}()
	}
	go func() {
		for _, tr := range turns {
			ch <- tr
		}
		close(ch)
	}()
	waitFor(t, time.Minute, func() bool { return int(posted.Load()) >= len(turns)/3 })
	if err := srv.signal(t, syscall.SIGTERM, 40*time.Second); err != nil {
		t.Errorf("handoff serve exited with %v after SIGTERM\n%s", err, srv.tail())
	}
	wg.Wait()
	mu.Lock()
	nAcked := len(acked)
	mu.Unlock()
	if nAcked == 0 || nAcked == len(turns) {
		t.Fatalf("%d of %d acknowledged: SIGTERM did not land while requests flowed", nAcked, len(turns))
	}
	// A new process picks up whatever the old one left queued.
	d.HubSpot.SetLatency(0)
	startServeProc(t, ctx, bin, roleWorker, d.Env)
	res := chaosResult{Scenario: "sigterm-under-load", Refusals: p.refusals(), Description: "SIGTERM to handoff serve with 6 senders, restart"}
	d.chaosCount(t, ctx, &res, turns, acked, 2*time.Minute)
}

// The portal's tokens are revoked: handoffs give up (archived, with a clear
// error). After the portal is installed again, running the archived tasks
// from the dashboard API creates every task exactly once.
func TestChaosTokenRevoked(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	db := testredis.New(t)
	d, err := startDemo(ctx, demoOptions{RedisURL: db.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// A first turn caches the contact's profile, so that after the
	// revocation some events are still decided from the cache and it is
	// the task creation that gives up (handoff:create-task archived), not
	// only the enrichment (event:process archived).
	turns := d.chaosTurns("revoked", 9)
	p := newChaosPoster()
	acked := postAll(ctx, p, d.Base, turns[2:3], 1, 30*time.Second)
	if err := d.waitDrained(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	d.HubSpot.RevokeToken()
	for id := range postAll(ctx, p, d.Base, append(turns[:2:2], turns[3:]...), 3, 30*time.Second) {
		acked[id] = true
	}
	if err := d.waitDrained(ctx, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	arch := d.archived()
	if len(arch) == 0 {
		t.Fatal("nothing was archived while the tokens were revoked")
	}
	for _, a := range arch {
		t.Logf("archived while revoked: %s %s: %s", a.Type, a.ID, a.LastErr)
	}
	if n := len(d.HubSpot.TaskIDs()); n != 0 {
		t.Fatalf("%d tasks created with revoked tokens", n)
	}

	if err := d.install(ctx, "/oauth/hubspot/install"); err != nil {
		t.Fatalf("re-install: %v", err)
	}
	queues := map[string]bool{}
	for _, a := range arch {
		queues[a.Queue] = true
	}
	for _, q := range []string{jobs.QueueEvents, jobs.QueueHandoff} {
		if !queues[q] {
			continue
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, d.Base+"/admin/queues/api/queues/"+q+"/archived_tasks:run_all", nil)
		req.SetBasicAuth("ops", d.AdminToken)
		resp, err := d.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
			t.Fatalf("run_all %s: %d", q, resp.StatusCode)
		}
	}
	res := chaosResult{Scenario: "token-revoked", Refusals: p.refusals(), Description: "revoke, " + itoa(len(arch)) + " archived, re-install, run_all"}
	d.chaosCount(t, ctx, &res, turns, acked, 2*time.Minute)
}

// The same webhooks delivered four times each, shuffled, by concurrent
// senders, across conversations of three turns (hello, ask for a human,
// thanks): one decision per event, one task per conversation.
func TestChaosRedeliveries(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	db := testredis.New(t)
	d, err := startDemo(ctx, demoOptions{RedisURL: db.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	run := "redeliver-" + itoa(int(time.Now().UnixNano()%1e9))
	var turns []chaosTurn
	for c := range 8 {
		conv := "conv-" + itoa(c)
		turns = append(turns,
			d.chaosTurn(run, conv, 1, "hello", "Hi! How can I help?", false),
			d.chaosTurn(run, conv, 2, "Can I talk to a human please?", "Let me find someone for you.", true),
			d.chaosTurn(run, conv, 3, "thanks", "You're welcome.", false),
		)
	}
	var deliveries []chaosTurn
	for range 4 {
		deliveries = append(deliveries, turns...)
	}
	rand.Shuffle(len(deliveries), func(i, j int) { deliveries[i], deliveries[j] = deliveries[j], deliveries[i] })
	p := newChaosPoster()
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	ch := make(chan chaosTurn)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for tr := range ch {
				if ok, _ := p.post(ctx, d.Base, tr.Delivery, 30*time.Second); ok {
					mu.Lock()
					acked[tr.ID] = true
					mu.Unlock()
				}
			}
		}()
	}
	for i, tr := range deliveries {
		ch <- tr
		if i == len(deliveries)/2 {
			// Half-way, let the worker catch up so later copies arrive
			// after the first ones were processed (and their tasks exist).
			if err := d.waitDrained(ctx, time.Minute); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(ch)
	wg.Wait()
	res := chaosResult{Scenario: "redeliveries", Refusals: p.refusals(), Description: "24 events x4, shuffled, 8 senders"}
	d.chaosCount(t, ctx, &res, turns, acked, 2*time.Minute)
	if res.Tasks != 8 {
		t.Errorf("%d tasks for 8 conversations that asked for a human", res.Tasks)
	}
}
