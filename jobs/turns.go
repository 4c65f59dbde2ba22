package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/handoff-dev/handoff"
)

// The per-turn decision memo: what POST /webhooks/agent with
// "Prefer: wait=N" answers. event:process writes it in the same
// transaction as the decision itself (so it is the one decision the
// pipeline acts on), and create-task completes it with the owner and due
// time once the CRM task exists. Each write is followed by a PUBLISH of the
// turn's dedupe key on ChannelTurns, which wakes the waiting request.

// TurnDecision is the decision on one agent turn, as the agent reads it.
type TurnDecision struct {
	TurnID         string         `json:"turn_id"`
	ConversationID string         `json:"conversation_id"`
	Action         handoff.Action `json:"action"` // continue | assist | handoff | hold
	Rung           string         `json:"rung"`
	Exception      string         `json:"exception"`
	LadderVersion  string         `json:"ladder_version"`
	OwnerState     string         `json:"owner_state"` // agent | pending | human | released, after this decision
	HandoffID      string         `json:"handoff_id"`
	Owner          *TurnOwner     `json:"owner"`  // null until known
	DueAt          *time.Time     `json:"due_at"` // when a human is due to have started; null without a handoff
	Reason         string         `json:"reason"`
}

// TurnOwner is the person who owns the buyer after a handoff. ID is the
// CRM owner (user) id; Email and Name are "" when the CRM named the owner
// by id only (a record owner on HubSpot, for instance).
type TurnOwner struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

func turnOwner(r record) *TurnOwner {
	if r["owner_id"] == "" && r["owner_email"] == "" && r["owner_name"] == "" {
		return nil
	}
	return &TurnOwner{ID: r["owner_id"], Email: r["owner_email"], Name: r["owner_name"]}
}

// turnMemo is what Redis holds: the decision and whether its owner is
// still to come (create-task fills it in).
type turnMemo struct {
	Decision     TurnDecision `json:"decision"`
	OwnerPending bool         `json:"owner_pending,omitempty"`
}

// turnMemo builds the memo of an agent turn's decision (nil for other
// events, which no one waits for).
func (p *Pipeline) turnMemo(ctx context.Context, ev handoff.Event, rec DecisionRecord) []byte {
	if ev.Source != handoff.SourceAgent {
		return nil
	}
	d := rec.Decision
	td := TurnDecision{
		TurnID: ev.NativeID, ConversationID: ev.ConversationID, Action: d.Action, Rung: d.RungID, Exception: d.ExceptionID,
		LadderVersion: rec.LadderVersion, OwnerState: rec.OwnerState, HandoffID: rec.HandoffID, Reason: strings.Join(d.Reasons, "; "),
	}
	if td.OwnerState == "" {
		td.OwnerState = handoff.OwnerAgent
	}
	m := turnMemo{}
	switch rec.Plan {
	case PlanHandoff:
		due := rec.At.Add(p.sla(d)).UTC().Truncate(time.Second)
		td.DueAt = &due
		if d.Action == handoff.ActionHandoff || d.Action == handoff.ActionHold {
			td.OwnerState = handoff.OwnerPending
		}
		m.OwnerPending = true
	case PlanFollowUp:
		// A human already owns the buyer: name them.
		if r, err := p.loadRecord(ctx, rec.HandoffID); err == nil {
			td.Owner = turnOwner(r)
			if due := r.time("due"); !due.IsZero() {
				td.DueAt = &due
			}
		}
	}
	if td.Reason == "" && d.Action == handoff.ActionContinue {
		td.Reason = "no rung or exception matched"
	}
	m.Decision = td
	b, _ := json.Marshal(m)
	return b
}

// writeTurn queues the memo write and its announcement in pipe.
func (p *Pipeline) writeTurn(ctx context.Context, pipe redis.Pipeliner, ev handoff.Event, memo []byte) {
	if memo == nil {
		return
	}
	pipe.Set(ctx, keyTurn(ev.DedupeKey), memo, p.cfg.DecisionMemoTTL)
	pipe.Publish(ctx, ChannelTurns, ev.DedupeKey)
}

// completeTurn adds the owner and the due time to the memo of the turn
// that started a handoff, once its CRM task exists. Best effort: the memo
// is an answer to a waiting agent, not state the pipeline depends on.
func (p *Pipeline) completeTurn(ctx context.Context, pl CreateTaskPayload, rec record) {
	if pl.Event.Source != handoff.SourceAgent || pl.Event.DedupeKey == "" {
		return
	}
	key := keyTurn(pl.Event.DedupeKey)
	b, err := p.rdb.Get(ctx, key).Bytes()
	if err != nil {
		return
	}
	var m turnMemo
	if json.Unmarshal(b, &m) != nil || !m.OwnerPending || m.Decision.HandoffID != pl.HandoffID {
		return
	}
	m.OwnerPending = false
	m.Decision.Owner = turnOwner(rec)
	if due := rec.time("due"); !due.IsZero() {
		m.Decision.DueAt = &due
	}
	nb, _ := json.Marshal(m)
	pipe := p.rdb.TxPipeline()
	pipe.SetArgs(ctx, key, nb, redis.SetArgs{KeepTTL: true})
	pipe.Publish(ctx, ChannelTurns, pl.Event.DedupeKey)
	if _, err := pipe.Exec(ctx); err != nil {
		p.log.WarnContext(ctx, "record the owner of an agent turn's decision", "handoff_id", pl.HandoffID, "error", err)
	}
}

// TurnWaiter lets HTTP handlers wait for a turn's decision. One Redis
// SUBSCRIBE connection per process fans the ChannelTurns announcements out
// to the waiting requests; each waiter also re-reads the memo on a short
// backoff (25 ms doubling to 250 ms), so an announcement lost while the
// subscription reconnects delays an answer by at most that, never loses
// it. It works on a single Redis node or Sentinel (pub/sub is not
// sharded there).
type TurnWaiter struct {
	rdb redis.UniversalClient
	log *slog.Logger
	ps  *redis.PubSub

	// OwnerGrace is how much longer a waiter waits, once the decision is
	// in, for the owner of a new handoff (the CRM task being created).
	OwnerGrace time.Duration

	mu      sync.Mutex
	waiters map[string]map[chan struct{}]struct{}
	done    chan struct{}
}

// NewTurnWaiter subscribes to ChannelTurns. Close it when done.
func NewTurnWaiter(ctx context.Context, rdb redis.UniversalClient, log *slog.Logger) *TurnWaiter {
	if log == nil {
		log = slog.Default()
	}
	w := &TurnWaiter{rdb: rdb, log: log, OwnerGrace: 300 * time.Millisecond,
		waiters: map[string]map[chan struct{}]struct{}{}, done: make(chan struct{})}
	w.ps = rdb.Subscribe(context.WithoutCancel(ctx), ChannelTurns)
	go w.fanOut()
	return w
}

func (w *TurnWaiter) fanOut() {
	defer close(w.done)
	for msg := range w.ps.Channel() {
		w.mu.Lock()
		for ch := range w.waiters[msg.Payload] {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
		w.mu.Unlock()
	}
}

// Close ends the subscription.
func (w *TurnWaiter) Close() error {
	err := w.ps.Close()
	<-w.done
	return err
}

func (w *TurnWaiter) register(key string) (chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	if w.waiters[key] == nil {
		w.waiters[key] = map[chan struct{}]struct{}{}
	}
	w.waiters[key][ch] = struct{}{}
	w.mu.Unlock()
	return ch, func() {
		w.mu.Lock()
		delete(w.waiters[key], ch)
		if len(w.waiters[key]) == 0 {
			delete(w.waiters, key)
		}
		w.mu.Unlock()
	}
}

// WaitDecision waits up to wait for the decision on the turn with this
// dedupe key and returns it as JSON (a TurnDecision), or ok=false when it
// is not recorded in time. A decision that starts a handoff is returned
// with its owner if create-task records one within OwnerGrace (and the
// wait), else without.
func (w *TurnWaiter) WaitDecision(ctx context.Context, dedupeKey string, wait time.Duration) (json.RawMessage, bool, error) {
	key := keyTurn(dedupeKey)
	wake, unregister := w.register(dedupeKey)
	defer unregister()
	deadline := time.Now().Add(wait)
	var graceEnd time.Time
	var last *turnMemo
	backoff := 25 * time.Millisecond
	for {
		b, err := w.rdb.Get(ctx, key).Bytes()
		switch {
		case err == nil:
			var m turnMemo
			if err := json.Unmarshal(b, &m); err != nil {
				return nil, false, fmt.Errorf("decode the decision of turn %s: %w", dedupeKey, err)
			}
			last = &m
			if !m.OwnerPending {
				return mustJSON(m.Decision), true, nil
			}
			if graceEnd.IsZero() {
				graceEnd = time.Now().Add(w.OwnerGrace)
			}
		case errors.Is(err, redis.Nil):
		default:
			return nil, false, fmt.Errorf("read the decision of turn %s: %w", dedupeKey, err)
		}
		end := deadline
		if !graceEnd.IsZero() && graceEnd.Before(end) {
			end = graceEnd
		}
		left := time.Until(end)
		if left <= 0 {
			if last != nil {
				return mustJSON(last.Decision), true, nil
			}
			return nil, false, nil
		}
		t := time.NewTimer(min(backoff, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, false, ctx.Err()
		case <-wake:
		case <-t.C:
			backoff = min(backoff*2, 250*time.Millisecond)
		}
		t.Stop()
	}
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}
