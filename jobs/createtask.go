package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/internal/redislock"
)

// Handoff record states.
const (
	stateCreating = "creating" // the CRM write may have happened
	stateCreated  = "created"
	stateRefused  = "refused" // the CRM refused the write; nothing was written
	// statePartial: some writes of a multi-call create are done and the
	// connector recorded them; the next CreateTask resumes after them (no
	// look-up first: the task is not complete, so it cannot be found).
	statePartial = "partial"
)

// notWritten reports errors that prove the CRM did not write anything: a
// rate limit (ours or the CRM's 429), a rejected request, a missing or
// revoked authorization. An error marked handoff.ErrPartlyWritten never
// is, whatever its class: some writes were done before it.
func notWritten(err error) bool {
	if errors.Is(err, handoff.ErrPartlyWritten) {
		return false
	}
	var rl *handoff.RateLimitError
	var ae *handoff.AuthError
	var pe *handoff.PermanentError
	return errors.As(err, &rl) || errors.As(err, &ae) || errors.As(err, &pe) || errors.Is(err, handoff.ErrNotInstalled)
}

// findTaskSettle is how long after a CRM write attempt a "not found" from
// FindTask is not trusted yet (search indexes, e.g. HubSpot's, lag).
const findTaskSettle = 30 * time.Second

// CreateTask is the handoff:create-task handler: exactly one CRM task per
// handoff id, even across retries, crashes and duplicate deliveries.
//
//  1. A Redis lock per handoff keeps two deliveries from racing.
//  2. If the record already holds a task id, only the follow-ups run.
//  3. If a previous attempt reached the CRM write ("creating"), the task is
//     looked up with FindTask before anything is created.
//  4. The intent ("creating", attempt n, the chosen owner) is recorded
//     before CreateTask; the task id after.
func (p *Pipeline) CreateTask(ctx context.Context, t *asynq.Task) error {
	var pl CreateTaskPayload
	if err := decode(t, &pl, func() int { return pl.V }); err != nil {
		return err
	}
	return p.createTask(ctx, pl)
}

func (p *Pipeline) createTask(ctx context.Context, pl CreateTaskPayload) error {
	if pl.HandoffID == "" {
		return &PermanentJobError{Err: errors.New("create-task payload has no handoff id")}
	}
	crm, err := p.crm(pl.CRM)
	if err != nil {
		return err
	}
	unlock, ok, err := redislock.TryAcquire(ctx, p.rdb, keyHandoffLock(pl.HandoffID), p.cfg.CreateTaskTimeout+10*time.Second)
	if err != nil {
		return fmt.Errorf("lock handoff %s: %w", pl.HandoffID, err)
	}
	if !ok {
		return fmt.Errorf("handoff %s is being created by another worker; checking again later", pl.HandoffID)
	}
	defer unlock()

	rec, err := p.loadRecord(ctx, pl.HandoffID)
	if err != nil {
		return err
	}
	if id := rec["task_id"]; id != "" {
		return p.afterCreate(ctx, pl, rec, handoff.Task{ID: id, OwnerID: rec["owner_id"]})
	}
	if leaseWaits(pl.Decision.Action) {
		// Each attempt renews the entry, so an attempt whose worker dies is
		// found by SweepLost (also for a task an operator ran again).
		if err := p.awaiting(ctx, pl.HandoffID); err != nil {
			return err
		}
	}
	if rec["state"] == stateCreating {
		task, err := crm.FindTask(ctx, pl.Tenant, pl.HandoffID)
		switch {
		case err == nil:
			p.log.InfoContext(ctx, "found the task an earlier attempt created", "handoff_id", pl.HandoffID, "task_id", task.ID)
			return p.recordCreated(ctx, pl, rec, task)
		case errors.Is(err, handoff.ErrNotFound):
			if since := p.now().Sub(rec.time("creating_at")); since < findTaskSettle {
				return fmt.Errorf("handoff %s: the previous CRM write was %s ago and the task is not searchable yet; looking again later",
					pl.HandoffID, since.Round(time.Second))
			}
		default:
			return p.notInstalled(pl.CRM, pl.Tenant, fmt.Errorf("look for the task of handoff %s: %w", pl.HandoffID, err))
		}
	}

	// The owner is chosen once per handoff, so a retry does not advance the
	// round robin or land on someone else.
	owner := handoff.Owner{ID: rec["owner_id"], Email: rec["owner_email"]}
	ownerRoute := rec["owner_route"]
	if owner.ID == "" {
		var tried []string
		owner, tried, err = p.resolveOwner(ctx, crm, pl.CRM, pl.Tenant, pl.Decision.Route, pl.Context)
		if err != nil {
			return err
		}
		ownerRoute = strings.Join(tried, ",")
	}
	// An owner the CRM refuses as inactive (handoff.ErrOwnerUnavailable:
	// deactivated since the last look) is skipped and the route tried again
	// without it, instead of failing the task.
	var unavailable []string
	var task handoff.Task
	for {
		spec := p.taskSpec(ctx, pl, owner)
		if due := rec.time("due"); !due.IsZero() {
			// Due once per handoff too: a retry sends the CRM the same due time
			// as the attempt before it, not now + SLA again.
			spec.Due = due.UTC().Truncate(time.Second)
		}
		if viaCatchAll(ownerRoute) {
			spec.Bundle.Why.Reasons = append(spec.Bundle.Why.Reasons, catchAllReason(ownerRoute))
		}
		if err := p.saveCreating(ctx, pl, spec, owner, ownerRoute); err != nil {
			return err
		}
		task, err = crm.CreateTask(ctx, spec)
		if err == nil || !errors.Is(err, handoff.ErrOwnerUnavailable) || owner.ID == "" || len(unavailable) >= maxUnavailableOwners {
			break
		}
		p.log.WarnContext(ctx, "the CRM refused the task owner as inactive; trying the route without them",
			"handoff_id", pl.HandoffID, "crm", pl.CRM, "owner_id", owner.ID)
		if merr := p.markInactive(ctx, pl.CRM, pl.Tenant, owner.ID); merr != nil {
			return merr
		}
		unavailable = append(unavailable, owner.ID)
		var tried []string
		owner, tried, err = p.resolveOwnerExcept(ctx, crm, pl.CRM, pl.Tenant, pl.Decision.Route, pl.Context, unavailable)
		if err != nil {
			return err
		}
		ownerRoute = strings.Join(tried, ",")
	}
	if err != nil {
		switch {
		case errors.Is(err, handoff.ErrPartlyWritten):
			if rerr := p.saveRecord(ctx, pl.HandoffID, map[string]any{"state": statePartial}); rerr != nil {
				p.log.WarnContext(ctx, "record partly written create", "handoff_id", pl.HandoffID, "error", rerr)
			}
		case notWritten(err):
			// The CRM refused before writing: the next attempt need not
			// look for (or wait for) a task.
			if rerr := p.saveRecord(ctx, pl.HandoffID, map[string]any{"state": stateRefused}); rerr != nil {
				p.log.WarnContext(ctx, "record refused write", "handoff_id", pl.HandoffID, "error", rerr)
			}
		}
		return p.notInstalled(pl.CRM, pl.Tenant, fmt.Errorf("create %s task for handoff %s: %w", pl.CRM, pl.HandoffID, err))
	}
	if task.OwnerID == "" {
		task.OwnerID = owner.ID
	}
	return p.recordCreated(ctx, pl, rec, task)
}

// maxUnavailableOwners bounds how many owners one create-task attempt
// skips as inactive before it gives up (and retries later).
const maxUnavailableOwners = 5

// saveCreating records the intent to create the task for this owner: the
// "creating" state (a retry looks for the task first) and attempt count.
func (p *Pipeline) saveCreating(ctx context.Context, pl CreateTaskPayload, spec handoff.TaskSpec, owner handoff.Owner, ownerRoute string) error {
	ctxJSON, _ := json.Marshal(pl.Context)
	climb, _ := json.Marshal(pl.Decision.Climb)
	notify, _ := json.Marshal(ownerTeamTargets(pl.Decision.Route, ownerRoute))
	if err := p.saveRecord(ctx, pl.HandoffID, map[string]any{
		"state": stateCreating, "creating_at": p.now().UnixMilli(), "owner_id": owner.ID, "owner_email": owner.Email, "owner_name": owner.Name,
		"owner_tz": owner.TimeZone, "owner_route": ownerRoute, "crm": string(pl.CRM), "tenant": pl.Tenant, "conversation": pl.Event.Conversation,
		"action": string(pl.Decision.Action), "rung": pl.Decision.Matched(), "source": string(pl.Event.Source), "channel": pl.Event.Channel,
		"sla_ms": p.sla(pl.Decision).Milliseconds(), "priority": string(spec.Priority), "due": spec.Due.UnixMilli(),
		"climb": string(climb), "context": string(ctxJSON), "completeness": spec.Bundle.Completeness,
		"calendar": p.slaCalendar(pl.Decision), "notify": string(notify), "why": why(pl.Decision),
	}); err != nil {
		return err
	}
	if err := p.rdb.HIncrBy(ctx, keyHandoff(pl.HandoffID), "attempts", 1).Err(); err != nil {
		return fmt.Errorf("count attempt of handoff %s: %w", pl.HandoffID, err)
	}
	return nil
}

// catchAllReason is the bundle's line for a task given to a catch-all.
func catchAllReason(ownerRoute string) string {
	tried := strings.Split(ownerRoute, ",")
	last := tried[len(tried)-1]
	return fmt.Sprintf("Routed to the catch-all %s: nobody on the route could take it (tried %s)",
		strings.TrimPrefix(last, routeCatchAll), strings.Join(tried[:len(tried)-1], ", "))
}

func (p *Pipeline) sla(d handoff.Decision) time.Duration {
	if d.SLA > 0 {
		return d.SLA
	}
	return p.cfg.DefaultSLA
}

func (p *Pipeline) taskSpec(ctx context.Context, pl CreateTaskPayload, owner handoff.Owner) handoff.TaskSpec {
	d, c := pl.Decision, pl.Context
	prio := d.Priority
	if prio == "" {
		prio = handoff.PriorityMedium
	}
	ref := pl.Event.Contact
	if ref.ID == "" {
		ref.ID = c.Contact.ID
	}
	if ref.Email == "" {
		ref.Email = c.Contact.Email
	}
	ref.CRM, ref.Tenant = pl.CRM, pl.Tenant
	return handoff.TaskSpec{
		HandoffID: pl.HandoffID, Tenant: pl.Tenant, Contact: ref, CompanyID: c.Account.ID, DealID: c.Deal.ID,
		Owner: owner, Subject: taskSubject(d, c), Due: p.dueAt(ctx, d, p.now(), owner.TimeZone).UTC().Truncate(time.Second),
		DueZone:  dueZone(p.calendar(ctx, p.slaCalendar(d)), owner),
		Priority: prio, Bundle: BuildBundle(pl.HandoffID, d, c, pl.Event),
	}
}

// recordCreated stores the task id and counts the handoff once.
func (p *Pipeline) recordCreated(ctx context.Context, pl CreateTaskPayload, rec record, task handoff.Task) error {
	ownerID := task.OwnerID
	if ownerID == "" {
		ownerID = rec["owner_id"]
	}
	now := p.now()
	fields := map[string]any{"state": stateCreated, "task_id": task.ID, "owner_id": ownerID}
	if rec["created_at"] == "" {
		fields["created_at"] = now.UnixMilli()
		fields["first_owner_id"] = ownerID
		if rec["due"] == "" {
			fields["due"] = p.dueAt(ctx, pl.Decision, now, rec["owner_tz"]).UnixMilli()
		}
	}
	if err := p.saveRecord(ctx, pl.HandoffID, fields); err != nil {
		return fmt.Errorf("the %s task %s exists but recording it failed (a retry will find it): %w", pl.CRM, task.ID, err)
	}
	if first, err := p.once(ctx, pl.HandoffID, "counted_created"); err != nil {
		return err
	} else if first {
		cur, err := p.loadRecord(ctx, pl.HandoffID)
		if err != nil {
			return err
		}
		pipe := p.rdb.TxPipeline()
		pipe.ZIncrBy(ctx, keyOpen(pl.CRM, pl.Tenant), 1, ownerID)
		completeness := BuildBundle(pl.HandoffID, pl.Decision, pl.Context, pl.Event).Completeness
		p.count(ctx, pipe, "tasks_created")
		if route, err := p.rdb.HGet(ctx, keyHandoff(pl.HandoffID), "owner_route").Result(); err == nil && viaCatchAll(route) {
			p.count(ctx, pipe, "catch_all")
		}
		p.sample(ctx, pipe, keyComplete, completeness)
		p.boardAdd(ctx, pipe, pl.HandoffID, cur, ownerID)
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("count handoff %s: %w", pl.HandoffID, err)
		}
		p.m.completeness.Observe(completeness)
	}
	rec, err := p.loadRecord(ctx, pl.HandoffID)
	if err != nil {
		return err
	}
	return p.afterCreate(ctx, pl, rec, task)
}

// afterCreate moves the ownership lease to pending with the task id (for
// handoff and hold) and schedules the first SLA check. Both are idempotent.
func (p *Pipeline) afterCreate(ctx context.Context, pl CreateTaskPayload, rec record, task handoff.Task) error {
	p.completeTurn(ctx, pl, rec)
	conv := pl.Event.Conversation
	if conv != "" && pl.Decision.Action != handoff.ActionAssist {
		_, _, err := p.transition(ctx, conv, "task "+task.ID+" created", func(cur Lease) (Lease, error) {
			state := handoff.OwnerPending
			switch {
			case cur.HandoffID == pl.HandoffID && cur.State == handoff.OwnerReleased && !strings.HasPrefix(cur.Reason, reasonAbandoned):
				return cur, errNoChange // released (by a person) before the task existed: respect it
			case cur.HandoffID == pl.HandoffID && cur.TaskID == task.ID:
				return cur, errNoChange
			case cur.HandoffID == pl.HandoffID && cur.State == handoff.OwnerReleased:
				// released because this task was archived; its re-run created it
			case cur.HandoffID == pl.HandoffID:
				state = cur.State
			case cur.HumanOwned():
				return cur, errNoChange // another handoff owns the conversation
			}
			return Lease{State: state, HandoffID: pl.HandoffID, TaskID: task.ID, CRM: pl.CRM, Tenant: pl.Tenant, OwnerID: task.OwnerID}, nil
		})
		if err != nil {
			return err
		}
	}
	if err := p.settled(ctx, pl.HandoffID); err != nil {
		return err
	}
	if err := p.notifyTaskCreated(ctx, pl, rec, task); err != nil {
		return err
	}
	if err := p.alertTaskCreated(ctx, pl, rec, task); err != nil {
		return err
	}
	created := rec.time("created_at")
	if created.IsZero() {
		created = p.now()
	}
	return p.sched.SLACheck(ctx, pl.HandoffID, 1, p.dueAt(ctx, pl.Decision, created, rec["owner_tz"]))
}
