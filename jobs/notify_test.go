package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/handoff-dev/handoff"
)

// recordingNotifier keeps one notice per id (as the asynq TaskID does) and
// can fail the first notice of a type.
type recordingNotifier struct {
	mu     sync.Mutex
	byID   map[string]Notice
	order  []string
	failOn map[string]int // type -> failures left
}

func (n *recordingNotifier) Notify(_ context.Context, x Notice) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.failOn[x.Type] > 0 {
		n.failOn[x.Type]--
		return errors.New("redis down")
	}
	if _, ok := n.byID[x.ID]; !ok {
		n.byID[x.ID] = x
		n.order = append(n.order, x.ID)
	}
	return nil
}

func (n *recordingNotifier) ofType(typ string) []Notice {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []Notice
	for _, id := range n.order {
		if n.byID[id].Type == typ {
			out = append(out, n.byID[id])
		}
	}
	return out
}

// A handoff is announced: decided, owner agent→pending, task created,
// pending with the owner. A job that changed the lease but failed to queue
// its notice re-announces it when retried; the turn's memo names the owner.
func TestNoticesOfAHandoffSurviveAFailedQueue(t *testing.T) {
	rn := &recordingNotifier{byID: map[string]Notice{}, failOn: map[string]int{NoticeOwnerChanged: 1}}
	h := newHarness(t, func(_ *Config, d *Deps) { d.Notifier = rn })
	ev := agentEvent("turn-n", "conv-n", "What is your pricing for 200 seats?")
	if err := h.deliver(t, ev); err == nil {
		t.Fatal("the first run should fail: its owner change could not be queued")
	}
	if l := h.lease(t, "conv-n"); l.State != handoff.OwnerPending || l.Seq != 1 || l.Prev != handoff.OwnerAgent {
		t.Fatalf("lease after the failed run: %+v", l)
	}
	if err := h.deliver(t, ev); err != nil { // the retry
		t.Fatal(err)
	}
	if err := h.deliver(t, ev); err != nil { // and a redelivery: nothing new
		t.Fatal(err)
	}
	if err := h.runPending(t); err != nil {
		t.Fatal(err)
	}
	dec := rn.ofType(NoticeDecided)
	if len(dec) != 1 || dec[0].Data["action"] != "handoff" || dec[0].Data["rung"] != "pricing" || dec[0].Data["turn_id"] != "turn-n" {
		t.Fatalf("decided: %+v", dec)
	}
	oc := rn.ofType(NoticeOwnerChanged)
	if len(oc) != 2 || oc[0].Seq != 1 || oc[1].Seq != 2 || oc[0].Data["from"] != "agent" || oc[0].Data["to"] != "pending" ||
		oc[1].Data["task_id"] == "" || oc[1].Conversation != "conv-n" || oc[0].ID != OwnerNoticeID("conv-n", 1) {
		t.Fatalf("owner changes: %+v", oc)
	}
	if o, _ := oc[1].Data["owner"].(map[string]any); o == nil || o["id"] == "" {
		t.Fatalf("the second owner change names no owner: %+v", oc[1].Data)
	}
	tc := rn.ofType(NoticeTaskCreated)
	if len(tc) != 1 || tc[0].Data["task_id"] != oc[1].Data["task_id"] ||
		tc[0].Data["task_url"] != HubSpotTaskURL("62515", tc[0].Data["task_id"].(string)) {
		t.Fatalf("task created: %+v", tc)
	}
	// A later no-op transition does not announce the change again.
	before := len(rn.ofType(NoticeOwnerChanged))
	if err := h.p.renotifyOwner(context.Background(), h.lease(t, "conv-n")); err != nil {
		t.Fatal(err)
	}
	if after := len(rn.ofType(NoticeOwnerChanged)); after != before {
		t.Fatalf("re-announced: %d → %d", before, after)
	}

	// The turn's memo: the decision with its owner once the task exists.
	b, err := h.rdb.Get(context.Background(), keyTurn(ev.DedupeKey)).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	var m turnMemo
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.OwnerPending || m.Decision.Owner == nil || m.Decision.Action != handoff.ActionHandoff || m.Decision.OwnerState != handoff.OwnerPending ||
		m.Decision.TurnID != "turn-n" || m.Decision.DueAt == nil || m.Decision.Rung != "pricing" {
		t.Fatalf("turn memo: %s", b)
	}
}

// Continue decisions are not announced; nothing is when no notifier is set.
func TestContinueIsNotAnnounced(t *testing.T) {
	rn := &recordingNotifier{byID: map[string]Notice{}}
	h := newHarness(t, func(_ *Config, d *Deps) { d.Notifier = rn })
	if err := h.deliver(t, agentEvent("turn-c", "conv-c", "thanks, that helps")); err != nil {
		t.Fatal(err)
	}
	if len(rn.order) != 0 {
		t.Fatalf("notices for a continue: %v", rn.order)
	}
}
