package jobs

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/handoff-dev/handoff"
)

// mirrorCRM is the fake CRM with the owner-state property configured.
type mirrorCRM struct {
	*fakeCRM
	mu     sync.Mutex
	writes []string // contact=state
}

func (m *mirrorCRM) OwnerStateEnabled() bool { return true }

func (m *mirrorCRM) WriteOwnerState(_ context.Context, _, contactID, state string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.writes = append(m.writes, contactID+"="+state)
	return nil
}

// Each owner change queues one mirror task; run in any order, the CRM
// ends at the latest state and an older change never writes over a newer
// one.
func TestOwnerStateMirrorLatestWins(t *testing.T) {
	var m *mirrorCRM
	h := newHarness(t, func(_ *Config, d *Deps) {
		m = &mirrorCRM{fakeCRM: d.CRMs[handoff.SourceHubSpot].(*fakeCRM)}
		d.CRMs = map[handoff.Source]CRM{handoff.SourceHubSpot: m}
	})
	if err := h.deliver(t, agentEvent("t1", "conv-m", "pricing")); err != nil {
		t.Fatal(err)
	}
	if err := h.runPending(t); err != nil {
		t.Fatal(err)
	}
	if _, err := h.p.Release(context.Background(), "conv-m", "done"); err != nil {
		t.Fatal(err)
	}
	tasks := h.pending(t, TypeOwnerState)
	if len(tasks) < 3 {
		t.Fatalf("%d owner-state tasks, want one per change (agent→pending, pending with the task, released)", len(tasks))
	}
	// Oldest first: the first run writes the current (released) state,
	// the later ones find it written and skip.
	seq := func(ti *asynq.TaskInfo) int64 {
		var pl OwnerStatePayload
		_ = json.Unmarshal(ti.Payload, &pl)
		return pl.Seq
	}
	slices.SortFunc(tasks, func(a, b *asynq.TaskInfo) int { return int(seq(a) - seq(b)) })
	for _, ti := range tasks {
		if err := h.p.Mux().ProcessTask(context.Background(), asynq.NewTask(ti.Type, ti.Payload)); err != nil {
			t.Fatal(err)
		}
	}
	if len(m.writes) != 1 || m.writes[0] != "123="+handoff.OwnerReleased {
		t.Fatalf("writes = %v", m.writes)
	}
	// A stale change queued again (a retried job) writes nothing.
	if err := h.p.Mux().ProcessTask(context.Background(), asynq.NewTask(tasks[0].Type, tasks[0].Payload)); err != nil || len(m.writes) != 1 {
		t.Fatalf("stale change: %v, writes = %v", err, m.writes)
	}
}

// Without a configured property nothing is queued.
func TestOwnerStateMirrorOff(t *testing.T) {
	h := newHarness(t)
	if err := h.deliver(t, agentEvent("t1", "conv-o", "pricing")); err != nil {
		t.Fatal(err)
	}
	if n := len(h.pending(t, TypeOwnerState)); n != 0 {
		t.Fatalf("%d owner-state tasks with the mirror off", n)
	}
}
