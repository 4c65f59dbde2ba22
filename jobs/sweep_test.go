package jobs

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/handoff-dev/handoff"
)

// A create-task that leaves the queue without a handler error (archived
// from the dashboard, deleted, or archived by asynq's recoverer after its
// worker died; the last case is TestRecovererArchivesCreateTask in
// cmd/handoff) never reaches the error handler. SweepLost finds it and
// leaves the conversation as the error handler would.
func TestSweepLostReleasesConversationsOfVanishedCreateTasks(t *testing.T) {
	for _, c := range []struct {
		name   string
		vanish func(h *harness, id string) error
		reason string
	}{
		{"archived without the handler", func(h *harness, id string) error { return h.insp.ArchiveTask(QueueHandoff, id) },
			"task creation failed: archived from the dashboard"},
		{"deleted", func(h *harness, id string) error { return h.insp.DeleteTask(QueueHandoff, id) },
			"task creation failed: its handoff:create-task task is gone from the queue"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			ctx := context.Background()
			if err := h.deliver(t, agentEvent("t1", "conv-lost", "pricing")); err != nil {
				t.Fatal(err)
			}
			tasks := h.pending(t, TypeCreateTask)
			if len(tasks) != 1 {
				t.Fatalf("%d create-tasks pending", len(tasks))
			}
			id := tasks[0].ID
			// Live: the sweep leaves it alone, even once old enough.
			h.clock.Advance(time.Minute)
			if n, err := h.p.SweepLost(ctx); err != nil || n != 0 {
				t.Fatalf("sweep of a live task: %d, %v", n, err)
			}
			if err := c.vanish(h, id); err != nil {
				t.Fatal(err)
			}
			if l := h.lease(t, "conv-lost"); l.State != handoff.OwnerPending {
				t.Fatalf("lease %s before the sweep", l.State)
			}
			n, err := h.p.SweepLost(ctx)
			if err != nil || n != 1 {
				t.Fatalf("sweep: %d, %v", n, err)
			}
			l := h.lease(t, "conv-lost")
			if l.State != handoff.OwnerReleased || l.HandoffID != id || !strings.HasPrefix(l.Reason, c.reason) {
				t.Fatalf("lease after the sweep: %+v", l)
			}
			if got, _ := h.rdb.HGet(ctx, keyOutcomes, "tasks_failed").Int(); got != 1 {
				t.Errorf("tasks_failed = %d", got)
			}
			if got := testutil.ToFloat64(h.p.m.jobErrors); got != 1 {
				t.Errorf("job errors counted: %v", got)
			}
			// Done once: a second sweep finds nothing.
			if n, err := h.p.SweepLost(ctx); err != nil || n != 0 {
				t.Fatalf("second sweep: %d, %v", n, err)
			}
			if m, _ := h.rdb.ZCard(ctx, keyAwaiting).Result(); m != 0 {
				t.Errorf("%d handoffs still awaiting", m)
			}
		})
	}
}

// A fresh entry is not looked at (its enqueue may be under way), and a
// created task leaves the awaiting set.
func TestSweepLostGraceAndCreatedTasks(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if err := h.deliver(t, agentEvent("t1", "conv-fresh", "pricing")); err != nil {
		t.Fatal(err)
	}
	id := h.pending(t, TypeCreateTask)[0].ID
	if err := h.insp.DeleteTask(QueueHandoff, id); err != nil {
		t.Fatal(err)
	}
	if n, err := h.p.SweepLost(ctx); err != nil || n != 0 {
		t.Fatalf("sweep within the grace period: %d, %v", n, err)
	}
	if l := h.lease(t, "conv-fresh"); l.State != handoff.OwnerPending {
		t.Fatalf("lease %s", l.State)
	}

	if err := h.deliver(t, agentEvent("t2", "conv-made", "pricing")); err != nil {
		t.Fatal(err)
	}
	made := ""
	for _, ti := range h.pending(t, TypeCreateTask) {
		made = ti.ID
	}
	if err := h.runPending(t); err != nil {
		t.Fatal(err)
	}
	if _, err := h.rdb.ZScore(ctx, keyAwaiting, made).Result(); err == nil {
		t.Error("a created task is still awaiting")
	}
	h.clock.Advance(time.Minute)
	if _, err := h.p.SweepLost(ctx); err != nil {
		t.Fatal(err)
	}
	if l := h.lease(t, "conv-made"); l.State != handoff.OwnerPending || l.TaskID == "" {
		t.Fatalf("created handoff's lease after a sweep: %+v", l)
	}
}
