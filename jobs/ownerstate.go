package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/internal/redislock"
)

// TypeOwnerState mirrors a conversation's owner state into its CRM contact.
const TypeOwnerState = "handoff:owner-state"

// OwnerStateWriter is an optional CRM method: keep a contact property (or
// field) at agent|pending|human|released. OwnerStateEnabled is false
// unless the connector's configuration names the property.
type OwnerStateWriter interface {
	OwnerStateEnabled() bool
	WriteOwnerState(ctx context.Context, tenant, contactID, state string) error
}

// OwnerStatePayload names one owner change (conversation and sequence).
type OwnerStatePayload struct {
	V            int    `json:"v"`
	Conversation string `json:"conversation"`
	Seq          int64  `json:"seq"`
}

// queueOwnerState queues the CRM mirror of change l, when the CRM of the
// lease's handoff mirrors owner states. One task per change (TaskID
// conversation + seq), retried like the pipeline's other tasks.
func (p *Pipeline) queueOwnerState(ctx context.Context, l Lease) error {
	if l.Seq == 0 || !p.mirrorsOwnerState() {
		return nil
	}
	pl := OwnerStatePayload{V: PayloadVersion, Conversation: l.Conversation, Seq: l.Seq}
	return p.sched.enqueue(ctx, TypeOwnerState, pl, fmt.Sprintf("ownstate:%s:%d", l.Conversation, l.Seq),
		asynq.Queue(QueueHandoff), TimeoutOption(p.cfg.CreateTaskTimeout), asynq.MaxRetry(p.cfg.MaxRetry))
}

func (p *Pipeline) mirrorsOwnerState() bool {
	for _, c := range p.crms {
		if w, ok := c.(OwnerStateWriter); ok && w.OwnerStateEnabled() {
			return true
		}
	}
	return false
}

// errOwnerStateBusy: another run mirrors the conversation right now.
var errOwnerStateBusy = errors.New("another owner-state write of the conversation is in flight")

// MirrorOwnerState is the handoff:owner-state handler. Latest state wins:
// under a per-conversation lock it writes the lease's current state, and
// only when the change it carries is newer than the last one written, so
// an older state never overwrites a newer one.
func (p *Pipeline) MirrorOwnerState(ctx context.Context, t *asynq.Task) error {
	var pl OwnerStatePayload
	if err := json.Unmarshal(t.Payload(), &pl); err != nil || pl.Conversation == "" {
		return &PermanentJobError{Err: fmt.Errorf("owner-state payload is not valid: %v", err)}
	}
	lock := keyOwnerStateLock(pl.Conversation)
	release, ok, err := redislock.TryAcquire(ctx, p.rdb, lock, 2*time.Minute)
	if err != nil {
		return fmt.Errorf("lock owner-state of %s: %w", pl.Conversation, err)
	}
	if !ok {
		return fmt.Errorf("mirror owner state of %s (change %d): %w", pl.Conversation, pl.Seq, errOwnerStateBusy)
	}
	defer release()

	cur, err := p.lease(ctx, pl.Conversation)
	if err != nil {
		return err
	}
	written, err := p.rdb.Get(ctx, keyOwnerStateWritten(pl.Conversation)).Int64()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("read mirrored owner state of %s: %w", pl.Conversation, err)
	}
	if written >= cur.Seq || cur.HandoffID == "" {
		return nil // a newer (or this) state is already in the CRM, or no handoff names a contact
	}
	rec, err := p.loadRecord(ctx, cur.HandoffID)
	if err != nil {
		return err
	}
	var c handoff.Context
	if s := rec["context"]; s != "" {
		_ = json.Unmarshal([]byte(s), &c)
	}
	src, tenant := handoff.Source(rec["crm"]), rec["tenant"]
	if c.Contact.ID == "" || src == "" {
		if rec["state"] == "" {
			// The handoff's task job has not recorded its contact yet.
			return fmt.Errorf("mirror owner state of %s: handoff %s not recorded yet", pl.Conversation, cur.HandoffID)
		}
		return nil // a handoff without a CRM contact: nothing to mirror
	}
	w, ok := p.crms[src].(OwnerStateWriter)
	if !ok || !w.OwnerStateEnabled() {
		return nil
	}
	if err := w.WriteOwnerState(ctx, tenant, c.Contact.ID, cur.State); err != nil {
		return p.notInstalled(src, tenant, fmt.Errorf("write owner state %s of %s contact %s: %w", cur.State, src, c.Contact.ID, err))
	}
	if err := p.rdb.Set(ctx, keyOwnerStateWritten(pl.Conversation), cur.Seq, p.cfg.StateTTL).Err(); err != nil {
		return fmt.Errorf("record mirrored owner state of %s: %w", pl.Conversation, err)
	}
	return nil
}
