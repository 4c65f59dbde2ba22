package jobs

import (
	"context"
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
