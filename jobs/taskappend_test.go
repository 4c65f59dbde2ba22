package jobs

import (
	"context"
	"github.com/hibiken/asynq"
	"strings"
	"testing"
	"time"

	"github.com/handoff-dev/handoff"
)

// An append waits while another worker holds the task's lock, then goes
// ahead once it is released; if the lock is not released in time it
// returns an error (the job is retried) and writes nothing.
func TestAppendToTaskWaitsForTheTaskLock(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	task, err := h.crm.CreateTask(ctx, handoff.TaskSpec{HandoffID: "h-1", Subject: "Follow up"})
	if err != nil {
		t.Fatal(err)
	}
	id := task.ID
	key := "handoff:jobs:task-lock:" + id
	if err := h.rdb.Set(ctx, key, "other-worker", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}

	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	err = h.p.appendToTask(short, h.crm, "62515", id, "note while locked")
	if err == nil || !strings.Contains(err.Error(), id) {
		t.Fatalf("append under another worker's lock: %v", err)
	}
	if n := h.crm.Calls("AppendToTask"); n != 0 {
		t.Fatalf("%d CRM appends while the task was locked", n)
	}

	go func() {
		time.Sleep(200 * time.Millisecond)
		h.rdb.Del(context.Background(), key)
	}()
	start := time.Now()
	if err := h.p.appendToTask(ctx, h.crm, "62515", id, "note after release"); err != nil {
		t.Fatalf("append after the lock was released: %v", err)
	}
	if waited := time.Since(start); waited < 150*time.Millisecond {
		t.Errorf("append did not wait for the lock (%s)", waited)
	}
	if notes := h.crm.notesOf(id); len(notes) != 1 || notes[0] != "note after release" {
		t.Fatalf("notes %q, want only the one appended after the release", notes)
	}
	if v, _ := h.rdb.Exists(ctx, key).Result(); v != 0 {
		t.Error("the lock was not released after the append")
	}
}

// An archived create-task keeps its id; processing its event again (an
// operator re-ran it) runs the archived task again instead of conflicting
// with it and leaving the conversation waiting on a task that never runs.
func TestCreateTaskRunsTheArchivedTaskAgain(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	p := CreateTaskPayload{HandoffID: "ho_archived1", Tenant: "62515", CRM: handoff.SourceHubSpot}
	if err := h.p.sched.CreateTask(ctx, p); err != nil {
		t.Fatal(err)
	}
	state := func() asynq.TaskState {
		t.Helper()
		info, err := h.insp.GetTaskInfo(QueueHandoff, p.HandoffID)
		if err != nil {
			t.Fatal(err)
		}
		return info.State
	}
	// A second enqueue of a live task changes nothing.
	if err := h.p.sched.CreateTask(ctx, p); err != nil || state() != asynq.TaskStatePending {
		t.Fatalf("second enqueue of a pending task: %v, state %s", err, state())
	}
	if err := h.insp.ArchiveTask(QueueHandoff, p.HandoffID); err != nil {
		t.Fatal(err)
	}
	if state() != asynq.TaskStateArchived {
		t.Fatalf("state %s after ArchiveTask", state())
	}
	if err := h.p.sched.CreateTask(ctx, p); err != nil {
		t.Fatal(err)
	}
	if got := state(); got != asynq.TaskStatePending {
		t.Fatalf("archived create-task after its event ran again: %s, want pending", got)
	}
}
