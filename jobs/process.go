package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/handoff-dev/handoff"
)

// Plans: what event:process decided to do with a decision.
const (
	PlanRecord   = "record"   // continue: nothing to do
	PlanHandoff  = "handoff"  // create a handoff task
	PlanFollowUp = "followup" // a human owns the conversation: append to the open task
)

// DecisionRecord is one audit-stream entry for a decision: the decision
// with its trace, the enrichment snapshot it was made on, the shadow
// ladder's answer and what the pipeline did.
type DecisionRecord struct {
	ID            string           `json:"id,omitempty"` // stream entry id
	At            time.Time        `json:"at"`
	Event         EventRef         `json:"event"`
	Action        handoff.Action   `json:"action"`
	Rung          string           `json:"rung,omitempty"`
	LadderVersion string           `json:"ladder_version"`
	Score         float64          `json:"score"`
	OwnerState    string           `json:"owner_state"`
	Plan          string           `json:"plan"`
	HandoffID     string           `json:"handoff_id,omitempty"`
	TaskID        string           `json:"task_id,omitempty"` // the open task a follow-up goes to
	Decision      handoff.Decision `json:"decision"`
	Shadow        *ShadowResult    `json:"shadow,omitempty"`
	Context       handoff.Context  `json:"context"`
}

// ShadowResult is the shadow ladder's decision on the same enrichment
// snapshot, with the text signals computed by the shadow ladder itself.
type ShadowResult struct {
	LadderVersion string         `json:"ladder_version"`
	Action        handoff.Action `json:"action"`
	Rung          string         `json:"rung,omitempty"`
	Agree         bool           `json:"agree"`
	// Topics are the shadow ladder's own topics for the buyer's text (they
	// differ from the context's when the topic maps differ).
	Topics []string `json:"topics,omitempty"`
}

// HandoffID is the stable id of the handoff an event causes: a hash of
// tenant, conversation, rung and the event's dedupe key, so a redelivered
// or retried event always names the same handoff.
func HandoffID(tenant, conversation, rung, dedupeKey string) string {
	h := sha256.Sum256([]byte(tenant + "\x00" + conversation + "\x00" + rung + "\x00" + dedupeKey))
	return "ho_" + hex.EncodeToString(h[:12])
}

// eventKey identifies an event for idempotency: its dedupe key, or a hash
// of its identity when the ingest side did not set one.
func eventKey(ev handoff.Event) string {
	if ev.DedupeKey != "" {
		return ev.DedupeKey
	}
	b, _ := json.Marshal([]any{ev.Source, ev.Tenant, ev.NativeID, ev.Kind, ev.OccurredAt, ev.Contact, ev.ConversationID})
	h := sha256.Sum256(b)
	return "h" + hex.EncodeToString(h[:12])
}

// ProcessEvent is the event:process handler.
func (p *Pipeline) ProcessEvent(ctx context.Context, t *asynq.Task) error {
	var pl EventPayload
	if err := decode(t, &pl, func() int { return pl.V }); err != nil {
		return err
	}
	return p.processEvent(ctx, pl.Event)
}

func (p *Pipeline) processEvent(ctx context.Context, ev handoff.Event) error {
	crm, tenant := ev.ContactCRM()
	ek := eventKey(ev)
	if ev.DedupeKey == "" {
		ev.DedupeKey = ek
	}
	decidedKey := keyDecided(ek)

	// A retry after the decision was recorded reuses it: one audit record
	// per event, and the same decision whatever changed since.
	var rec DecisionRecord
	b, err := p.rdb.Get(ctx, decidedKey).Bytes()
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &rec); err != nil {
			return fmt.Errorf("decode recorded decision of event %s: %w", ek, err)
		}
	case errors.Is(err, redis.Nil):
		rec, err = p.decide(ctx, ev, crm, tenant)
		if err != nil {
			return err
		}
		rb, _ := json.Marshal(rec)
		turn := p.turnMemo(ctx, ev, rec)
		// The memo and the audit entry are written in one transaction, only
		// if no concurrent delivery of the same event wrote them first.
		won := false
		var entry *redis.StringCmd
		err = p.rdb.Watch(ctx, func(tx *redis.Tx) error {
			n, err := tx.Exists(ctx, decidedKey).Result()
			if err != nil || n > 0 {
				return err
			}
			_, err = tx.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
				pipe.Set(ctx, decidedKey, rb, p.cfg.DecisionMemoTTL)
				p.writeTurn(ctx, pipe, ev, turn)
				entry = p.audit(ctx, pipe, map[string]any{
					"type": "decision", "action": string(rec.Action), "rung": rec.Rung, "tenant": tenant, "crm": string(crm),
					"contact_id": ev.Contact.ID, "contact_email": strings.ToLower(ev.Contact.Email),
					"conversation": rec.Event.Conversation, "handoff_id": rec.HandoffID, "data": string(rb),
				})
				p.count(ctx, pipe, "decisions", "decisions_action:"+string(rec.Action))
				if rec.Shadow != nil {
					p.count(ctx, pipe, "shadow_decisions")
					if rec.Shadow.Agree {
						p.count(ctx, pipe, "shadow_agreed")
					}
				}
				return nil
			})
			won = err == nil
			return err
		}, decidedKey)
		if err != nil && !errors.Is(err, redis.TxFailedErr) {
			return fmt.Errorf("record decision of event %s in the audit stream: %w", ek, err)
		}
		if !won { // a concurrent duplicate delivery got there first
			return p.processEvent(ctx, ev)
		}
		p.indexDecision(ctx, entry.Val(), crm, tenant, ev, rec)
		p.m.decisions.WithLabelValues(string(rec.Action)).Inc()
		if rec.Shadow != nil {
			p.m.shadow.WithLabelValues(fmt.Sprint(rec.Shadow.Agree)).Inc()
		}
	default:
		return fmt.Errorf("read recorded decision of event %s: %w", ek, err)
	}
	if err := p.notifyDecided(ctx, ev, rec); err != nil {
		return err
	}
	return p.act(ctx, ev, crm, tenant, rec)
}

// decide enriches, asks both ladders and plans the action.
func (p *Pipeline) decide(ctx context.Context, ev handoff.Event, crm handoff.Source, tenant string) (DecisionRecord, error) {
	c, err := p.enricher.Build(ctx, ev)
	if err != nil {
		return DecisionRecord{}, p.notInstalled(crm, tenant, fmt.Errorf("enrich %s %s event: %w", ev.Source, ev.Kind, err))
	}
	conv := c.Conversation.ID
	if conv == "" {
		conv = ev.ConversationKey()
		c.Conversation.ID = conv
	}
	lease, err := p.lease(ctx, conv)
	if err != nil {
		return DecisionRecord{}, err
	}
	c.Conversation.OwnerState = lease.State
	d := p.decider.Decide(c)
	if d.LadderVersion == "" {
		d.LadderVersion = p.decider.Version()
	}
	ref := refOf(ev)
	ref.Conversation = conv
	rec := DecisionRecord{
		At: p.now().UTC(), Event: ref, Action: d.Action, Rung: d.Matched(), LadderVersion: d.LadderVersion,
		Score: d.Score, OwnerState: lease.State, Decision: d, Context: c, Plan: PlanRecord,
	}
	if p.shadow != nil {
		sd := p.shadow.Decide(p.shadowContext(c))
		sr := &ShadowResult{LadderVersion: sd.LadderVersion, Action: sd.Action, Rung: sd.Matched(), Topics: sd.Signals.Topics}
		if sr.LadderVersion == "" {
			sr.LadderVersion = p.shadow.Version()
		}
		sr.Agree = sd.Action == d.Action && sd.Matched() == d.Matched()
		rec.Shadow = sr
		p.log.InfoContext(ctx, "shadow decision", "event", ev.DedupeKey, "active_action", d.Action, "active_rung", d.Matched(),
			"shadow_action", sd.Action, "shadow_rung", sr.Rung, "shadow_version", sr.LadderVersion, "agree", sr.Agree)
	}
	switch {
	case lease.HumanOwned():
		rec.Plan, rec.HandoffID, rec.TaskID = PlanFollowUp, lease.HandoffID, lease.TaskID
	case d.Escalates():
		rec.Plan, rec.HandoffID = PlanHandoff, HandoffID(tenant, conv, d.Matched(), ev.DedupeKey)
	}
	p.log.InfoContext(ctx, "decision", "event", ev.DedupeKey, "source", ev.Source, "kind", ev.Kind,
		"action", d.Action, "rung", d.Matched(), "ladder_version", d.LadderVersion, "plan", rec.Plan, "handoff_id", rec.HandoffID)
	return rec, nil
}

// shadowContext is c with the text signals the shadow ladder computes from
// the buyer's words with its own topic map; everything else (the
// enrichment snapshot, the lease) is what the active ladder saw.
func (p *Pipeline) shadowContext(c handoff.Context) handoff.Context {
	if c.Event.Text == "" {
		return c
	}
	c.Signals = p.shadow.Signals(c.Event.Text)
	if c.Signals.Topics == nil {
		c.Signals.Topics = []string{}
	}
	return c
}

// act carries out the plan. It is idempotent: a retried event re-runs it.
func (p *Pipeline) act(ctx context.Context, ev handoff.Event, crm handoff.Source, tenant string, rec DecisionRecord) error {
	conv := rec.Event.Conversation
	lease, err := p.lease(ctx, conv)
	if err != nil {
		return err
	}
	// Whatever the ladder said, a human who owns the conversation hears
	// about what the buyer did, on the open task, and keeps the buyer.
	// (Only the event that started the lease's own handoff goes on to
	// create it.)
	if lease.HumanOwned() && (rec.Plan != PlanHandoff || lease.HandoffID != rec.HandoffID) {
		return p.followUp(ctx, lease, ev, rec)
	}
	if rec.Plan == PlanFollowUp && rec.Decision.Escalates() {
		// Planned as a follow-up, but the human released the conversation
		// since: the escalation stands on its own.
		rec.Plan, rec.HandoffID = PlanHandoff, HandoffID(tenant, conv, rec.Decision.Matched(), ev.DedupeKey)
	}
	if rec.Plan != PlanHandoff {
		return nil
	}
	if conv == "" {
		p.log.WarnContext(ctx, "escalation for an event that names no contact or conversation; recorded only",
			"event", ev.DedupeKey, "action", rec.Action, "rung", rec.Rung)
		return nil
	}
	if crm == "" || tenant == "" {
		return &PermanentJobError{Err: fmt.Errorf("event %s escalated (%s at %s) but names no CRM for its contact, so no task can be created; "+
			"agent events must carry contact.crm and contact.tenant", ev.DedupeKey, rec.Action, rec.Rung)}
	}
	if _, err := p.crm(crm); err != nil {
		return err
	}
	d := rec.Decision
	if d.Action == handoff.ActionAssist {
		// The agent keeps the conversation. One open FYI task per
		// conversation and rung: later matches are appended to it.
		akey := keyAssist(conv, d.Matched())
		ok, err := p.rdb.SetNX(ctx, akey, rec.HandoffID, p.cfg.StateTTL).Result()
		if err != nil {
			return fmt.Errorf("record assist of %s: %w", conv, err)
		}
		if !ok {
			open, err := p.rdb.Get(ctx, akey).Result()
			if err != nil && !errors.Is(err, redis.Nil) {
				return fmt.Errorf("read assist of %s: %w", conv, err)
			}
			if open != rec.HandoffID {
				r, err := p.loadRecord(ctx, open)
				if err != nil {
					return err
				}
				switch {
				case r["closed"] != "" || len(r) == 0: // done (or expired): a new FYI task
					if err := p.rdb.Set(ctx, akey, rec.HandoffID, p.cfg.StateTTL).Err(); err != nil {
						return fmt.Errorf("record assist of %s: %w", conv, err)
					}
				case r["task_id"] == "":
					return nil // the FYI task is being created and already says it
				default:
					return p.followUp(ctx, Lease{Conversation: conv, HandoffID: open, TaskID: r["task_id"], CRM: handoff.Source(r["crm"]), Tenant: r["tenant"]}, ev, rec)
				}
			}
		}
	} else {
		// handoff / hold: the conversation goes to a human now, before the
		// task exists, so a second event cannot start a second handoff.
		_, _, err := p.transition(ctx, conv, "handoff "+string(d.Action)+" at "+d.Matched(), func(cur Lease) (Lease, error) {
			if cur.HumanOwned() {
				if cur.HandoffID == rec.HandoffID {
					return cur, errNoChange
				}
				return cur, errOwnedMeanwhile
			}
			return Lease{State: handoff.OwnerPending, HandoffID: rec.HandoffID, CRM: crm, Tenant: tenant}, nil
		})
		if errors.Is(err, errOwnedMeanwhile) {
			return p.act(ctx, ev, crm, tenant, rec) // another event won: follow up on its task
		}
		if err != nil {
			return err
		}
	}
	if err := p.saveRecord(ctx, rec.HandoffID, map[string]any{
		"crm": string(crm), "tenant": tenant, "conversation": conv, "action": string(d.Action), "rung": d.Matched(),
		"source": string(ev.Source), "channel": ev.Channel, "event": ev.DedupeKey,
	}); err != nil {
		return err
	}
	if err := p.rdb.HSetNX(ctx, keyHandoff(rec.HandoffID), "queued_at", p.now().UnixMilli()).Err(); err != nil {
		return fmt.Errorf("record handoff %s: %w", rec.HandoffID, err)
	}
	if leaseWaits(d.Action) {
		// Watched by SweepLost until the task is recorded, in case asynq
		// archives the create-task without calling the error handler.
		if err := p.awaiting(ctx, rec.HandoffID); err != nil {
			return err
		}
	}
	err = p.sched.CreateTask(ctx, CreateTaskPayload{
		HandoffID: rec.HandoffID, Tenant: tenant, CRM: crm, Decision: d, Context: rec.Context, Event: rec.Event,
	})
	if err != nil {
		return err
	}
	first, err := p.rdb.SetNX(ctx, keyHandoffStarted(rec.HandoffID), 1, p.cfg.StateTTL).Result()
	if err == nil && first {
		p.m.handoffs.WithLabelValues(string(d.Action), d.Matched(), string(ev.Source), ev.Channel).Inc()
		pipe := p.rdb.TxPipeline()
		p.count(ctx, pipe, "handoffs", "handoffs_rung:"+d.Matched(), "handoffs_source:"+string(ev.Source),
			"handoffs_channel:"+orNone(ev.Channel), "handoffs_action:"+string(d.Action))
		p.countAlsoNeeds(ctx, pipe, d.AlsoNeeds)
		if _, err := pipe.Exec(ctx); err != nil {
			p.log.WarnContext(ctx, "count handoff", "handoff_id", rec.HandoffID, "error", err)
		}
	}
	return nil
}

// countAlsoNeeds counts a started handoff's second reviewers: once per
// reviewing rung or exception id, and the handoff once if it names any.
func (p *Pipeline) countAlsoNeeds(ctx context.Context, pipe redis.Pipeliner, rs []handoff.Review) {
	var ids []string
	for _, r := range rs {
		if r.ID != "" && !slices.Contains(ids, r.ID) {
			ids = append(ids, r.ID)
		}
	}
	if len(ids) == 0 {
		return
	}
	fields := []string{"handoffs_with_also_needs"}
	for _, id := range ids {
		fields = append(fields, "also_needs:"+id)
	}
	p.count(ctx, pipe, fields...)
}

var errOwnedMeanwhile = errors.New("a human took the conversation meanwhile")

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// followUp appends what the buyer did to the task a human owns. Until that
// task exists the job is retried (the note is not lost).
func (p *Pipeline) followUp(ctx context.Context, lease Lease, ev handoff.Event, rec DecisionRecord) error {
	if lease.TaskID == "" {
		r, err := p.loadRecord(ctx, lease.HandoffID)
		if err != nil {
			return err
		}
		lease.TaskID = r["task_id"]
		if lease.TaskID == "" {
			return fmt.Errorf("conversation %s is owned by handoff %s whose task is not created yet; the update will be appended once it is",
				lease.Conversation, lease.HandoffID)
		}
	}
	mark := keyAppended(lease.TaskID, ev.DedupeKey)
	if n, err := p.rdb.Exists(ctx, mark).Result(); err == nil && n > 0 {
		return nil
	}
	crm, err := p.crm(lease.CRM)
	if err != nil {
		return err
	}
	if err := p.appendToTask(ctx, crm, lease.Tenant, lease.TaskID, followUpNote(ev, rec)); err != nil {
		return p.notInstalled(lease.CRM, lease.Tenant, fmt.Errorf("append follow-up to task %s: %w", lease.TaskID, err))
	}
	if err := p.rdb.Set(ctx, mark, 1, p.cfg.StateTTL).Err(); err != nil {
		p.log.WarnContext(ctx, "mark follow-up", "task_id", lease.TaskID, "error", err)
	}
	p.m.followUps.Inc()
	pipe := p.rdb.TxPipeline()
	p.count(ctx, pipe, "followups")
	_, _ = pipe.Exec(ctx)
	return nil
}

// followUpNote says what the buyer did or said since the handoff.
func followUpNote(ev handoff.Event, rec DecisionRecord) string {
	at := ev.OccurredAt
	if at.IsZero() {
		at = rec.At
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Update %s: %s", at.UTC().Format("2006-01-02 15:04 MST"), strings.ReplaceAll(string(ev.Kind), "_", " "))
	if ev.Channel != "" {
		fmt.Fprintf(&b, " (%s)", ev.Channel)
	}
	if ev.Campaign != "" {
		fmt.Fprintf(&b, ", campaign %q", ev.Campaign)
	}
	if ev.Property != nil {
		fmt.Fprintf(&b, ", %s changed to %q", ev.Property.Name, ev.Property.Value)
	}
	b.WriteString(".")
	if t := rec.Context.Event.Text; t != "" {
		fmt.Fprintf(&b, "\nThe buyer wrote: %q", t)
	}
	if ev.Agent != nil && ev.Agent.Reply != "" {
		fmt.Fprintf(&b, "\nThe agent replied: %q", ev.Agent.Reply)
	}
	if rec.Decision.Escalates() {
		fmt.Fprintf(&b, "\nThe ladder (%s) would escalate again: %s at %s.", rec.LadderVersion, rec.Action, rec.Rung)
	}
	b.WriteString("\nThe conversation stays with you until you complete this task or release it.")
	return b.String()
}
