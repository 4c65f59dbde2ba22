package main

import (
	"context"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/handoff-dev/handoff/internal/testredis"
	"github.com/handoff-dev/handoff/jobs"
)

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
	d.HubSpot.SetRateLimit(40, 10*time.Second)
	d.HubSpot.FailNext(8, http.StatusTooManyRequests, 2*time.Second)
	d.HubSpot.FailNext(8, http.StatusInternalServerError, 0)
	d.HubSpot.FailNext(8, http.StatusServiceUnavailable, 0)
	d.HubSpot.FailNext(8, http.StatusTooManyRequests, 0)
	d.HubSpot.FailNext(8, http.StatusBadGateway, 0)

	turns := d.chaosTurns("crm", 18)
	p := newChaosPoster()
	acked := postAll(ctx, p, d.Base, turns, 4, 30*time.Second)
	res := chaosResult{Scenario: "crm-429-5xx", Description: "40 injected 429/5xx + rate limit 40/10s"}
	d.chaosCount(t, ctx, &res, turns, acked, 3*time.Minute)

	failed := map[int]int{}
	for _, r := range d.HubSpot.Requests() {
		if r.Status == 429 || r.Status >= 500 {
			failed[r.Status]++
		}
	}
	if failed[429] < 16 || failed[500] < 8 || failed[503] < 8 || failed[502] < 8 {
		t.Errorf("the fake did not serve the injected failures: %v", failed)
	}
	t.Logf("CRM failures served: %v", failed)
}

// The portal's tokens are revoked: handoffs give up (archived, with a clear
// error). After the portal is installed again, running the archived tasks
// from the dashboard API creates every task exactly once.
func TestChaosTokenRevoked(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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
