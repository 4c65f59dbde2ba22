package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/handoff-dev/handoff"
)

// Lease is a conversation's ownership: who may talk to the buyer.
// agent → pending (a handoff task exists, nobody started it) → human →
// released (given back to the agent; behaves like agent).
type Lease struct {
	Conversation string         `json:"conversation"`
	State        string         `json:"state"`
	HandoffID    string         `json:"handoff_id,omitempty"`
	TaskID       string         `json:"task_id,omitempty"`
	CRM          handoff.Source `json:"crm,omitempty"`
	Tenant       string         `json:"tenant,omitempty"`
	OwnerID      string         `json:"owner_id,omitempty"`
	Since        time.Time      `json:"since"`
	Reason       string         `json:"reason,omitempty"`
	// Seq numbers the conversation's changes (a Redis INCR per change, so
	// it grows in commit order); Prev is the state before the last change.
	Seq  int64  `json:"seq,omitempty"`
	Prev string `json:"prev,omitempty"`
}

// HumanOwned reports whether a human holds the conversation.
func (l Lease) HumanOwned() bool {
	return l.State == handoff.OwnerPending || l.State == handoff.OwnerHuman
}

// OwnershipChange is one lease transition, as kept in the conversation's
// history and the audit stream.
type OwnershipChange struct {
	At           time.Time `json:"at"`
	Conversation string    `json:"conversation"`
	From         string    `json:"from"`
	To           string    `json:"to"`
	HandoffID    string    `json:"handoff_id,omitempty"`
	TaskID       string    `json:"task_id,omitempty"`
	OwnerID      string    `json:"owner_id,omitempty"`
	Reason       string    `json:"reason"`
	Seq          int64     `json:"seq,omitempty"`
}

func (p *Pipeline) lease(ctx context.Context, conv string) (Lease, error) {
	l := Lease{Conversation: conv, State: handoff.OwnerAgent}
	if conv == "" {
		return l, nil
	}
	b, err := p.rdb.Get(ctx, keyLease(conv)).Bytes()
	if errors.Is(err, redis.Nil) {
		return l, nil
	}
	if err != nil {
		return l, fmt.Errorf("read ownership of %s: %w", conv, err)
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return l, fmt.Errorf("decode ownership of %s: %w", conv, err)
	}
	return l, nil
}

// errNoChange is returned by a transition function that wants nothing
// written.
var errNoChange = errors.New("no change")

// transition changes a lease atomically (optimistic WATCH): f gets the
// current lease and returns the next one, or errNoChange. Every change is
// kept in the conversation's history and appended to the audit stream.
func (p *Pipeline) transition(ctx context.Context, conv, reason string, f func(cur Lease) (Lease, error)) (Lease, bool, error) {
	key := keyLease(conv)
	var out Lease
	changed := false
	txf := func(tx *redis.Tx) error {
		cur := Lease{Conversation: conv, State: handoff.OwnerAgent}
		b, err := tx.Get(ctx, key).Bytes()
		switch {
		case errors.Is(err, redis.Nil):
		case err != nil:
			return err
		default:
			if err := json.Unmarshal(b, &cur); err != nil {
				return err
			}
		}
		next, err := f(cur)
		if errors.Is(err, errNoChange) {
			out, changed = cur, false
			return nil
		}
		if err != nil {
			return err
		}
		now := p.now().UTC()
		seq, err := tx.Incr(ctx, keyLeaseSeq(conv)).Result()
		if err != nil {
			return err
		}
		next.Seq, next.Prev = seq, cur.State
		next.Conversation, next.Reason = conv, reason
		if next.State != cur.State {
			next.Since = now
		} else if next.Since.IsZero() {
			next.Since = cur.Since
		}
		nb, _ := json.Marshal(next)
		ch := OwnershipChange{At: now, Conversation: conv, From: cur.State, To: next.State, HandoffID: next.HandoffID,
			TaskID: next.TaskID, OwnerID: next.OwnerID, Reason: reason, Seq: seq}
		cb, _ := json.Marshal(ch)
		_, err = tx.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
			pipe.Set(ctx, key, nb, p.cfg.StateTTL)
			pipe.Expire(ctx, keyLeaseSeq(conv), p.cfg.StateTTL)
			pipe.LPush(ctx, keyLeaseLog(conv), cb)
			pipe.LTrim(ctx, keyLeaseLog(conv), 0, 99)
			pipe.Expire(ctx, keyLeaseLog(conv), p.cfg.StateTTL)
			p.audit(ctx, pipe, map[string]any{
				"type": "ownership", "conversation": conv, "state": next.State, "handoff_id": next.HandoffID, "data": string(cb),
			})
			return nil
		})
		if err == nil {
			out, changed = next, true
		}
		return err
	}
	for range 20 {
		err := p.rdb.Watch(ctx, txf, key)
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		if err != nil {
			return out, false, fmt.Errorf("change ownership of %s: %w", conv, err)
		}
		if changed {
			p.m.ownership.WithLabelValues(out.State).Inc()
			err = p.notifyOwnerChanged(ctx, out)
		} else {
			err = p.renotifyOwner(ctx, out)
		}
		// The CRM mirror (opt-in): queued again on a no-op transition too,
		// so a retried job makes up for a queueing that failed; a mirror
		// already written is skipped by its handler.
		if qerr := p.queueOwnerState(ctx, out); qerr != nil && err == nil {
			err = qerr
		}
		return out, changed, err
	}
	return out, false, fmt.Errorf("change ownership of %s: too much contention", conv)
}

// audit appends one entry to the audit stream inside pipe, bounded by
// length (MAXLEN ~) and by age (MINID ~). Redis takes one trim strategy per
// XADD, so the age trim is a separate XTRIM in the same pipeline.
func (p *Pipeline) audit(ctx context.Context, pipe redis.Pipeliner, values map[string]any) *redis.StringCmd {
	cmd := pipe.XAdd(ctx, &redis.XAddArgs{Stream: keyAudit, MaxLen: p.cfg.AuditMaxLen, Approx: p.cfg.AuditMaxLen > 0, Values: values})
	if p.cfg.AuditMaxAge > 0 {
		minID := strconv.FormatInt(p.now().Add(-p.cfg.AuditMaxAge).UnixMilli(), 10)
		pipe.XTrimMinIDApprox(ctx, keyAudit, minID, 0)
	}
	return cmd
}

// record is a handoff's state in Redis (hash handoff:h:<id>).
type record map[string]string

func (r record) int(f string) int64 {
	v, _ := strconv.ParseInt(r[f], 10, 64)
	return v
}

func (r record) time(f string) time.Time {
	ms := r.int(f)
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func (p *Pipeline) loadRecord(ctx context.Context, id string) (record, error) {
	r, err := p.rdb.HGetAll(ctx, keyHandoff(id)).Result()
	if err != nil {
		return nil, fmt.Errorf("read handoff %s: %w", id, err)
	}
	return record(r), nil
}

func (p *Pipeline) saveRecord(ctx context.Context, id string, fields map[string]any) error {
	pipe := p.rdb.TxPipeline()
	pipe.HSet(ctx, keyHandoff(id), fields)
	pipe.Expire(ctx, keyHandoff(id), p.cfg.StateTTL)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("record handoff %s: %w", id, err)
	}
	return nil
}

// once sets a flag on a handoff record and reports whether this call set
// it: counters guarded by it are counted once even when a job is retried.
func (p *Pipeline) once(ctx context.Context, id, flag string) (bool, error) {
	ok, err := p.rdb.HSetNX(ctx, keyHandoff(id), flag, 1).Result()
	if err != nil {
		return false, fmt.Errorf("mark handoff %s %s: %w", id, flag, err)
	}
	return ok, nil
}

// count adds to outcome counters.
func (p *Pipeline) count(ctx context.Context, pipe redis.Pipeliner, fields ...string) {
	for _, f := range fields {
		pipe.HIncrBy(ctx, keyOutcomes, f, 1)
	}
	p.countHour(ctx, pipe, fields)
}

// sample keeps a capped list of observations for percentiles.
func (p *Pipeline) sample(ctx context.Context, pipe redis.Pipeliner, key string, v float64) {
	pipe.LPush(ctx, key, strconv.FormatFloat(v, 'f', -1, 64))
	pipe.LTrim(ctx, key, 0, p.cfg.OutcomeSamples-1)
	p.sampleHour(ctx, pipe, key, v)
}
