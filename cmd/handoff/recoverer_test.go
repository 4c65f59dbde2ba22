package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/internal/testredis"
	"github.com/handoff-dev/handoff/jobs"
)

// A worker is SIGKILLed while a create-task runs its last attempt. asynq's
// recoverer (in the next worker) archives the task after its lease expired,
// without calling the error handler; the lost-task sweep must then leave
// the conversation as the error handler would: released to the agent with
// "task creation failed: ...". Takes 1-2.5 minutes (the recoverer's
// interval and lease margin are fixed in asynq).
func TestRecovererArchivesCreateTaskOnItsLastAttempt(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := buildHandoff(t)
	rs := testredis.StartServer(t)
	// JOB_MAX_RETRY=1: the first attempt fails (a CRM 500), so the second
	// is the last. The in-process app serves HTTP; workers are subprocesses.
	d, err := startDemo(ctx, demoOptions{RedisURL: rs.URL(), Role: roleHTTP,
		Extra: map[string]string{"JOB_MAX_RETRY": "1", "LOST_TASK_SWEEP_INTERVAL": "2s"}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	insp := d.app.inspector
	// Hold create-tasks back until the CRM fault is armed.
	if err := insp.PauseQueue(jobs.QueueHandoff); err != nil {
		t.Fatal(err)
	}
	w := startServeProc(t, ctx, bin, roleWorker, d.Env)
	turn := d.chaosTurn("lastattempt", "conv-last", 1, "Can I talk to a human please?", "Let me find someone for you.", true)
	if ok, st := newChaosPoster().post(ctx, d.Base, turn.Delivery, 30*time.Second); !ok {
		t.Fatalf("turn not acknowledged: %d", st)
	}
	var dec jobs.DecisionRecord
	waitFor(t, 30*time.Second, func() bool {
		recs, _ := jobs.NewOutcomes(d.app.redis.Client).FindDecisions(ctx, jobs.DecisionQuery{Limit: 10})
		for _, r := range recs {
			if r.Event.NativeID == turn.ID && r.HandoffID != "" {
				dec = r
				return true
			}
		}
		return false
	})
	id, conv := dec.HandoffID, dec.Event.Conversation
	task := func() *asynq.TaskInfo {
		ti, err := insp.GetTaskInfo(jobs.QueueHandoff, id)
		if err != nil {
			return nil
		}
		return ti
	}
	waitFor(t, 10*time.Second, func() bool { return task() != nil })

	// Attempt 1 fails on its first CRM call; attempt 2 (the last) hangs in
	// the CRM until the worker is killed.
	d.HubSpot.FailNext(1, http.StatusInternalServerError, 0)
	if err := insp.UnpauseQueue(jobs.QueueHandoff); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, func() bool { ti := task(); return ti != nil && ti.State == asynq.TaskStateRetry && ti.Retried == 1 })
	d.HubSpot.SetLatency(10 * time.Minute)
	waitFor(t, 30*time.Second, func() bool { ti := task(); return ti != nil && ti.State == asynq.TaskStateActive })
	time.Sleep(500 * time.Millisecond) // into the CRM call
	if err := w.signal(t, syscall.SIGKILL, 10*time.Second); err == nil {
		t.Fatal("the worker exited cleanly on SIGKILL?")
	}
	d.HubSpot.SetLatency(0)
	killed := time.Now()
	if l := d.lease(t, ctx, conv); l.State != handoff.OwnerPending || l.HandoffID != id {
		t.Fatalf("lease right after the kill: %+v", l)
	}
	w2 := startServeProc(t, ctx, bin, roleWorker, d.Env)

	// The recoverer archives the task (lease expired, no retries left)...
	waitFor(t, 3*time.Minute, func() bool { ti := task(); return ti != nil && ti.State == asynq.TaskStateArchived })
	ti := task()
	if !strings.Contains(ti.LastErr, "lease expired") || ti.Retried != 1 {
		t.Fatalf("archived task: retried %d, last error %q (want asynq's lease expiry)", ti.Retried, ti.LastErr)
	}
	// ...and the sweep leaves the conversation as the error handler would.
	waitFor(t, 45*time.Second, func() bool { return d.lease(t, ctx, conv).State == handoff.OwnerReleased })
	l := d.lease(t, ctx, conv)
	if l.HandoffID != id || l.TaskID != "" || !strings.HasPrefix(l.Reason, "task creation failed: ") || !strings.Contains(l.Reason, "lease expired") {
		t.Fatalf("lease after the sweep: %+v", l)
	}
	t.Logf("archived by the recoverer and released by the sweep %.0fs after the kill", time.Since(killed).Seconds())
	b, _ := os.ReadFile(w2.log)
	if !strings.Contains(string(b), `"found_by":"sweep"`) || !strings.Contains(string(b), `"class":"lease_expired"`) {
		t.Errorf("the second worker did not log the lost task creation:\n%s", w2.tail())
	}
}

func (d *demoEnv) lease(t *testing.T, ctx context.Context, conv string) jobs.Lease {
	t.Helper()
	c, err := d.app.pipeline.jobs.Conversation(ctx, conv)
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	return c.Owner
}
