package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/handoff-dev/handoff"
)

// Notice types: what happened after a decision, for callbacks to the agent
// and other subscribers.
const (
	NoticeDecided      = "handoff.decided"            // every non-continue decision
	NoticeTaskCreated  = "handoff.task_created"       // the CRM task exists
	NoticeOwnerChanged = "conversation.owner_changed" // a lease change (state or owner)
	NoticeSLABreached  = "handoff.sla_breached"       // an SLA check found the task not started
	NoticeReassigned   = "handoff.reassigned"         // an SLA climb gave the task to someone else
)

// Notice is one thing that happened. ID is stable: the same happening
// (a job retried, an event redelivered) always carries the same ID, so a
// Notifier can deduplicate on it and receivers on the webhook-id made of it.
type Notice struct {
	ID   string
	Type string
	At   time.Time
	// Conversation and Seq order the owner changes of one conversation
	// (Seq is 0 for other notices).
	Conversation string
	Seq          int64
	Data         map[string]any
}

// Notifier receives notices (*callbacks.Sender durably queues each one).
// Notify must be idempotent per Notice.ID; an error fails the job, which is
// retried and notifies again with the same ID.
type Notifier interface {
	Notify(ctx context.Context, n Notice) error
}

// TaskLinker is an optional CRM method: the address a person opens to see
// a task (Salesforce builds it from the org's instance URL).
type TaskLinker interface {
	TaskURL(ctx context.Context, tenant, taskID string) (string, error)
}

func noticeID(kind string, parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return "msg_" + kind + "_" + hex.EncodeToString(h[:12])
}

func (p *Pipeline) notify(ctx context.Context, n Notice) error {
	if p.notifier == nil {
		return nil
	}
	if n.At.IsZero() {
		n.At = p.now().UTC()
	}
	if err := p.notifier.Notify(ctx, n); err != nil {
		return fmt.Errorf("queue %s notice %s: %w", n.Type, n.ID, err)
	}
	return nil
}

// notifyDecided announces a non-continue decision (once per event).
func (p *Pipeline) notifyDecided(ctx context.Context, ev handoff.Event, rec DecisionRecord) error {
	if p.notifier == nil || rec.Action == handoff.ActionContinue || rec.Action == "" {
		return nil
	}
	d := rec.Decision
	data := map[string]any{
		"event":        map[string]any{"source": string(ev.Source), "id": ev.NativeID, "kind": string(ev.Kind), "channel": ev.Channel},
		"conversation": rec.Event.Conversation, "conversation_id": ev.ConversationID,
		"action": string(d.Action), "rung": d.RungID, "exception": d.ExceptionID, "ladder_version": rec.LadderVersion,
		"handoff_id": rec.HandoffID, "plan": rec.Plan, "reason": strings.Join(d.Reasons, "; "), "decided_at": rec.At,
	}
	if ev.Source == handoff.SourceAgent {
		data["turn_id"] = ev.NativeID
	}
	return p.notify(ctx, Notice{ID: noticeID("decided", ev.DedupeKey), Type: NoticeDecided, At: rec.At, Data: data})
}

// notifyTaskCreated announces a handoff's CRM task, with a link a person
// can open.
func (p *Pipeline) notifyTaskCreated(ctx context.Context, pl CreateTaskPayload, rec record, task handoff.Task) error {
	if p.notifier == nil {
		return nil
	}
	data := map[string]any{
		"handoff_id": pl.HandoffID, "crm": string(pl.CRM), "tenant": pl.Tenant, "task_id": task.ID,
		"conversation": pl.Event.Conversation, "conversation_id": pl.Event.ConversationID,
		"action": string(pl.Decision.Action), "rung": pl.Decision.RungID, "exception": pl.Decision.ExceptionID,
		"owner": ownerData(rec["owner_id"], rec["owner_email"], rec["owner_name"]), "priority": rec["priority"],
	}
	if due := rec.time("due"); !due.IsZero() {
		data["due_at"] = due
	}
	if u := p.taskURL(ctx, pl.CRM, pl.Tenant, task.ID); u != "" {
		data["task_url"] = u
	}
	if pl.Event.Source == handoff.SourceAgent {
		data["turn_id"] = pl.Event.NativeID
	}
	return p.notify(ctx, Notice{ID: noticeID("task", pl.HandoffID, task.ID), Type: NoticeTaskCreated, Data: data})
}

func ownerData(id, email, name string) map[string]any {
	return map[string]any{"id": id, "email": email, "name": name}
}

// taskURL is the task's deep link: HubSpot's task record page, the
// connector's own link (Salesforce Lightning), or "" (Marketo has no task
// page: the task is a campaign run).
func (p *Pipeline) taskURL(ctx context.Context, src handoff.Source, tenant, taskID string) string {
	if taskID == "" {
		return ""
	}
	if l, ok := p.crms[src].(TaskLinker); ok {
		u, err := l.TaskURL(ctx, tenant, taskID)
		if err != nil {
			p.log.WarnContext(ctx, "build the task's link", "crm", src, "task_id", taskID, "error", err)
		}
		return u
	}
	if src == handoff.SourceHubSpot && tenant != "" {
		return HubSpotTaskURL(tenant, taskID)
	}
	return ""
}

// HubSpotTaskURL is a task's record page in HubSpot: tasks are object type
// 0-27, and a record page is /contacts/{portal}/record/{objectTypeId}/{id}.
func HubSpotTaskURL(portal, taskID string) string {
	return "https://app.hubspot.com/contacts/" + url.PathEscape(portal) + "/record/0-27/" + url.PathEscape(taskID)
}

// notifyOwnerChanged announces a lease change. Seq is the conversation's
// change number (Lease.Seq); the notice id is made of conversation and seq.
func (p *Pipeline) notifyOwnerChanged(ctx context.Context, l Lease) error {
	if p.notifier == nil || l.Seq == 0 {
		return nil
	}
	owner := map[string]any(nil)
	if l.HandoffID != "" {
		r, err := p.loadRecord(ctx, l.HandoffID)
		if err != nil {
			return err
		}
		id := l.OwnerID
		if id == "" {
			id = r["owner_id"]
		}
		if id != "" || r["owner_email"] != "" {
			email, name := r["owner_email"], r["owner_name"]
			if id != r["owner_id"] {
				email, name = "", ""
			}
			owner = ownerData(id, email, name)
		}
	}
	data := map[string]any{
		"conversation": l.Conversation, "from": l.Prev, "to": l.State, "handoff_id": l.HandoffID, "task_id": l.TaskID,
		"owner": owner, "sequence": l.Seq, "reason": l.Reason, "since": l.Since,
	}
	if l.HandoffID == "" {
		data["handoff_id"] = nil
	}
	err := p.notify(ctx, Notice{ID: OwnerNoticeID(l.Conversation, l.Seq), Type: NoticeOwnerChanged, At: l.Since,
		Conversation: l.Conversation, Seq: l.Seq, Data: data})
	if err != nil {
		return err
	}
	// Remember the last change announced, so a later no-op transition
	// (which re-announces a change whose notice may have been lost) does
	// not announce it again once the notice has long been delivered.
	return p.rdb.Set(ctx, keyLeaseNotified(l.Conversation), l.Seq, p.cfg.StateTTL).Err()
}

// renotifyOwner re-announces the lease's last change if its notice was
// not queued (the job that changed it failed before queueing): the retried
// job finds "no change" and comes here.
func (p *Pipeline) renotifyOwner(ctx context.Context, cur Lease) error {
	if p.notifier == nil || cur.Seq == 0 {
		return nil
	}
	n, err := p.rdb.Get(ctx, keyLeaseNotified(cur.Conversation)).Int64()
	if err != nil && err != redis.Nil {
		return fmt.Errorf("read announced ownership of %s: %w", cur.Conversation, err)
	}
	if n >= cur.Seq {
		return nil
	}
	return p.notifyOwnerChanged(ctx, cur)
}

// notifySLA announces an SLA breach or a reassignment at SLA step `step`.
func (p *Pipeline) notifySLA(ctx context.Context, typ, id string, rec record, step int, extra map[string]any) error {
	if p.notifier == nil {
		return nil
	}
	data := map[string]any{
		"handoff_id": id, "crm": rec["crm"], "tenant": rec["tenant"], "task_id": rec["task_id"], "conversation": rec["conversation"],
		"rung": rec["rung"], "action": rec["action"], "step": step, "owner": ownerData(rec["owner_id"], rec["owner_email"], rec["owner_name"]),
	}
	if due := rec.time("due"); !due.IsZero() {
		data["due_at"] = due
	}
	if u := p.taskURL(ctx, handoff.Source(rec["crm"]), rec["tenant"], rec["task_id"]); u != "" {
		data["task_url"] = u
	}
	for k, v := range extra {
		data[k] = v
	}
	kind := "breach"
	if typ == NoticeReassigned {
		kind = "reassign"
	}
	return p.notify(ctx, Notice{ID: noticeID(kind, id, strconv.Itoa(step)), Type: typ, Data: data})
}

// OwnerNoticeID is the notice id of a conversation's seq-th owner change
// (a deliverer orders a conversation's changes by looking up the previous one).
func OwnerNoticeID(conv string, seq int64) string {
	return noticeID("owner", conv, strconv.FormatInt(seq, 10))
}
