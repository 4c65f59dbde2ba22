package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/handoff-dev/handoff"
)

// Resolutions: how a handoff finished.
const (
	ResolutionCompleted = "completed" // the task was completed in the CRM
	ResolutionDeleted   = "deleted"   // the task disappeared from the CRM
	ResolutionUnknown   = "unknown"   // the CRM cannot report task state (Marketo)
)

// CheckSLA is the sla:check handler. Step n runs at created + n×SLA up to
// MaxSLAChecks, then every SLAWatchInterval until the task is finished.
//   - completed: the conversation goes back to the agent; time to human and
//     resolution are recorded.
//   - in progress / waiting / deferred: a human has it (lease → human); the
//     next check watches for completion.
//   - not started: an SLA breach; the ladder's climb steps due at this
//     multiple run (reassign / notify / raise_priority); the next check is
//     scheduled at the next multiple.
//   - unknown (the CRM cannot tell): recorded, and the checks stop.
func (p *Pipeline) CheckSLA(ctx context.Context, t *asynq.Task) error {
	var pl SLACheckPayload
	if err := decode(t, &pl, func() int { return pl.V }); err != nil {
		return err
	}
	return p.checkSLA(ctx, pl.HandoffID, pl.Step)
}

func (p *Pipeline) checkSLA(ctx context.Context, id string, step int) error {
	rec, err := p.loadRecord(ctx, id)
	if err != nil {
		return err
	}
	if len(rec) == 0 || rec["closed"] != "" {
		return nil // expired or finished: nothing to follow
	}
	if rec["task_id"] == "" {
		return &PermanentJobError{Err: fmt.Errorf("handoff %s has no task recorded; nothing to check", id)}
	}
	src, tenant, taskID := handoff.Source(rec["crm"]), rec["tenant"], rec["task_id"]
	crm, err := p.crm(src)
	if err != nil {
		return err
	}
	task, err := crm.GetTask(ctx, tenant, taskID)
	if errors.Is(err, handoff.ErrNotFound) {
		return p.finish(ctx, id, rec, ResolutionDeleted, handoff.Task{ID: taskID})
	}
	if err != nil {
		return p.notInstalled(src, tenant, fmt.Errorf("read %s task %s of handoff %s: %w", src, taskID, id, err))
	}
	switch task.State {
	case handoff.TaskCompleted:
		return p.finish(ctx, id, rec, ResolutionCompleted, task)
	case handoff.TaskUnknown:
		if ok, err := p.once(ctx, id, "closed"); err != nil || !ok {
			return err
		}
		pipe := p.rdb.TxPipeline()
		pipe.HSet(ctx, keyHandoff(id), "resolution", ResolutionUnknown, "closed_at", p.now().UnixMilli())
		pipe.ZIncrBy(ctx, keyOpen(src, tenant), -1, rec["owner_id"])
		p.count(ctx, pipe, "untracked")
		pipe.ZRem(ctx, keyBoard, id)
		_, err := pipe.Exec(ctx)
		p.m.resolutions.WithLabelValues(ResolutionUnknown).Inc()
		p.log.InfoContext(ctx, "task state cannot be read from this CRM; SLA checks stop", "handoff_id", id, "crm", src)
		return err
	case handoff.TaskInProgress, handoff.TaskWaiting, handoff.TaskDeferred:
		if err := p.started(ctx, id, rec); err != nil {
			return err
		}
	default: // not started
		if step <= p.cfg.MaxSLAChecks {
			if err := p.breach(ctx, id, rec, step, crm, task); err != nil {
				return err
			}
		}
	}
	next := p.checkAt(ctx, rec, step+1)
	if step >= p.cfg.MaxSLAChecks {
		// Past the checked multiples: only watch for the human finishing.
		next = p.now().Add(p.cfg.SLAWatchInterval)
	}
	return p.sched.SLACheck(ctx, id, step+1, next)
}

// started records that a human picked the task up.
func (p *Pipeline) started(ctx context.Context, id string, rec record) error {
	if err := p.recordTimeToHuman(ctx, id, rec, p.now()); err != nil {
		return err
	}
	if conv := rec["conversation"]; conv != "" && rec["action"] != string(handoff.ActionAssist) {
		_, _, err := p.transition(ctx, conv, "task "+rec["task_id"]+" started", func(cur Lease) (Lease, error) {
			if cur.HandoffID != id || cur.State != handoff.OwnerPending {
				return cur, errNoChange
			}
			cur.State = handoff.OwnerHuman
			return cur, nil
		})
		return err
	}
	return nil
}

func (p *Pipeline) recordTimeToHuman(ctx context.Context, id string, rec record, at time.Time) error {
	first, err := p.once(ctx, id, "started_at")
	if err != nil || !first {
		return err
	}
	created := rec.time("created_at")
	if created.IsZero() {
		return nil
	}
	if at.Before(created) {
		at = created
	}
	tth := at.Sub(created).Seconds()
	pipe := p.rdb.TxPipeline()
	pipe.HSet(ctx, keyHandoff(id), "started_at", at.UnixMilli())
	p.sample(ctx, pipe, keyTTH, tth)
	p.sampleWorkingTTH(ctx, pipe, rec, created, at)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("record time to human of handoff %s: %w", id, err)
	}
	p.m.timeToHuman.Observe(tth)
	return nil
}

// finish closes a handoff once: time to human (if nobody was seen starting
// it), resolution, disposition, first-assignee accuracy, and the agent gets
// the conversation back.
func (p *Pipeline) finish(ctx context.Context, id string, rec record, resolution string, task handoff.Task) error {
	at := p.now()
	if !task.CompletedAt.IsZero() {
		at = task.CompletedAt
	}
	if resolution == ResolutionCompleted {
		if err := p.recordTimeToHuman(ctx, id, rec, at); err != nil {
			return err
		}
	}
	if conv := rec["conversation"]; conv != "" {
		_, _, err := p.transition(ctx, conv, "task "+rec["task_id"]+" "+resolution, func(cur Lease) (Lease, error) {
			if cur.HandoffID != id || !cur.HumanOwned() {
				return cur, errNoChange
			}
			cur.State = handoff.OwnerReleased
			return cur, nil
		})
		if err != nil {
			return err
		}
		akey := keyAssist(conv, rec["rung"])
		if cur, _ := p.rdb.Get(ctx, akey).Result(); cur == id {
			_ = p.rdb.Del(ctx, akey).Err()
		}
	}
	first, err := p.once(ctx, id, "closed")
	if err != nil || !first {
		return err
	}
	src, tenant := handoff.Source(rec["crm"]), rec["tenant"]
	pipe := p.rdb.TxPipeline()
	pipe.HSet(ctx, keyHandoff(id), "resolution", resolution, "closed_at", at.UnixMilli(), "disposition", task.Disposition)
	pipe.ZIncrBy(ctx, keyOpen(src, tenant), -1, rec["owner_id"])
	p.count(ctx, pipe, "finished", "resolution:"+resolution)
	pipe.ZRem(ctx, keyBoard, id)
	if resolution == ResolutionCompleted {
		p.count(ctx, pipe, "completed")
		if rec.int("reassigned") == 0 {
			p.count(ctx, pipe, "completed_by_first_assignee")
		}
		if d := strings.TrimSpace(task.Disposition); d != "" {
			p.count(ctx, pipe, "with_disposition", "disposition:"+strings.ToLower(d))
			if !slices.ContainsFunc(p.cfg.NegativeDispositions, func(n string) bool { return strings.EqualFold(strings.TrimSpace(n), d) }) {
				p.count(ctx, pipe, "warranted")
			}
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("record resolution of handoff %s: %w", id, err)
	}
	p.m.resolutions.WithLabelValues(resolution).Inc()
	return nil
}

// breach records an SLA lapse and runs the climb steps due at this step.
func (p *Pipeline) breach(ctx context.Context, id string, rec record, step int, crm CRM, task handoff.Task) error {
	if first, err := p.once(ctx, id, fmt.Sprintf("breach:%d", step)); err != nil {
		return err
	} else if first {
		pipe := p.rdb.TxPipeline()
		p.count(ctx, pipe, "sla_breaches")
		if step == 1 {
			p.count(ctx, pipe, "sla_breached_handoffs", "owner_breached:"+ownerKey(rec["owner_email"], rec["owner_id"]))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("count SLA breach of handoff %s: %w", id, err)
		}
		p.m.slaBreaches.WithLabelValues(rec["rung"]).Inc()
	}
	if err := p.notifySLA(ctx, NoticeSLABreached, id, rec, step, nil); err != nil {
		return err
	}
	var climb []handoff.ClimbStep
	if s := rec["climb"]; s != "" {
		if err := json.Unmarshal([]byte(s), &climb); err != nil {
			return &PermanentJobError{Err: fmt.Errorf("decode climb of handoff %s: %w", id, err)}
		}
	}
	for i, cs := range climb {
		after := cs.After
		if after <= 0 {
			after = 1
		}
		// Steps due at this check: (step-1, step] multiples of the SLA.
		if after > float64(step) || after <= float64(step-1) {
			continue
		}
		flag := fmt.Sprintf("climb:%d", i)
		if rec[flag] != "" {
			continue
		}
		if err := p.climb(ctx, id, rec, step, cs, crm, task); err != nil {
			return err
		}
		if err := p.saveRecord(ctx, id, map[string]any{flag: p.now().UnixMilli()}); err != nil {
			return err
		}
	}
	return nil
}

func (p *Pipeline) climb(ctx context.Context, id string, rec record, step int, cs handoff.ClimbStep, crm CRM, task handoff.Task) error {
	src, tenant, taskID := handoff.Source(rec["crm"]), rec["tenant"], rec["task_id"]
	prio := cs.Priority
	if prio == "" {
		prio = handoff.Priority(rec["priority"])
	}
	switch cs.Do {
	case "reassign":
		if n := rec.int("reassigned"); cs.MaxReassignments > 0 && n >= int64(cs.MaxReassignments) {
			p.log.InfoContext(ctx, "SLA climb: the handoff has had its reassignments; not reassigned", "handoff_id", id, "step", step,
				"reassigned", n, "max_reassignments", cs.MaxReassignments)
			if first, err := p.once(ctx, id, fmt.Sprintf("capped:%d", step)); err != nil || !first {
				return err
			}
			if err := p.rdb.HIncrBy(ctx, keyOutcomes, "reassignments_capped", 1).Err(); err != nil {
				return fmt.Errorf("count the capped reassignment of handoff %s: %w", id, err)
			}
			return nil
		}
		var c handoff.Context
		_ = json.Unmarshal([]byte(rec["context"]), &c)
		skip := lastOwners(rec, cs.ExcludeLast)
		owner, _, err := p.resolveOwnerExcept(ctx, crm, src, tenant, cs.To, c, skip)
		if err != nil && len(skip) > 0 && errors.As(err, new(*PermanentJobError)) {
			// Everyone left had the task already: it stays where it is.
			p.log.WarnContext(ctx, "SLA climb: nobody to reassign to but the task's earlier owners; not reassigned", "handoff_id", id, "step", step, "error", err)
			return nil
		}
		if err != nil {
			return fmt.Errorf("resolve climb target of handoff %s: %w", id, err)
		}
		if err := crm.ReassignTask(ctx, tenant, taskID, owner, prio); err != nil {
			return p.notInstalled(src, tenant, fmt.Errorf("reassign task %s of handoff %s: %w", taskID, id, err))
		}
		history := withOwner(rec, owner.ID)
		pipe := p.rdb.TxPipeline()
		pipe.HSet(ctx, keyHandoff(id), "owner_id", owner.ID, "owner_email", owner.Email, "owner_name", owner.Name, "owner_tz", owner.TimeZone, "priority", string(prio), "owner_history", history)
		pipe.HIncrBy(ctx, keyHandoff(id), "reassigned", 1)
		pipe.ZIncrBy(ctx, keyOpen(src, tenant), -1, rec["owner_id"])
		pipe.ZIncrBy(ctx, keyOpen(src, tenant), 1, owner.ID)
		p.count(ctx, pipe, "reassignments", "owner_reassigned_away:"+ownerKey(rec["owner_email"], rec["owner_id"]))
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("record reassignment of handoff %s: %w", id, err)
		}
		prev := ownerData(rec["owner_id"], rec["owner_email"], rec["owner_name"])
		rec["owner_id"], rec["owner_email"], rec["owner_name"], rec["owner_tz"], rec["priority"], rec["owner_history"] = owner.ID, owner.Email, owner.Name, owner.TimeZone, string(prio), history
		p.m.reassignments.Inc()
		if conv := rec["conversation"]; conv != "" {
			_, _, err := p.transition(ctx, conv, fmt.Sprintf("SLA lapsed %d×: task reassigned", step), func(cur Lease) (Lease, error) {
				if cur.HandoffID != id || !cur.HumanOwned() {
					return cur, errNoChange
				}
				cur.OwnerID = owner.ID
				return cur, nil
			})
			if err != nil {
				return err
			}
		}
		if err := p.notifySLA(ctx, NoticeReassigned, id, rec, step, map[string]any{"previous_owner": prev}); err != nil {
			return err
		}
		p.log.InfoContext(ctx, "SLA climb: reassigned", "handoff_id", id, "task_id", taskID, "step", step, "owner_id", owner.ID, "priority", prio)
	case "raise_priority":
		owner := handoff.Owner{ID: rec["owner_id"], Email: rec["owner_email"]}
		if err := crm.ReassignTask(ctx, tenant, taskID, owner, prio); err != nil {
			return p.notInstalled(src, tenant, fmt.Errorf("raise priority of task %s of handoff %s: %w", taskID, id, err))
		}
		if err := p.saveRecord(ctx, id, map[string]any{"priority": string(prio)}); err != nil {
			return err
		}
	default: // notify
		due := rec.time("due")
		note := fmt.Sprintf("SLA lapsed: this handoff was due %s and has not been started (%d× the SLA). The buyer is waiting.",
			due.Format("2006-01-02 15:04 MST"), step)
		if err := p.appendToTask(ctx, crm, tenant, taskID, note); err != nil {
			return p.notInstalled(src, tenant, fmt.Errorf("append SLA note to task %s of handoff %s: %w", taskID, id, err))
		}
		if err := p.alertClimb(ctx, id, rec, step, cs); err != nil {
			return err
		}
		p.log.WarnContext(ctx, "SLA climb: notified", "handoff_id", id, "task_id", taskID, "step", step)
	}
	return nil
}

// Release gives a conversation back to the agent (POST
// /api/conversations/{id}/release). It fails with ErrNotOwned when no human
// holds it.
func (p *Pipeline) Release(ctx context.Context, conv, reason string) (Lease, error) {
	if reason == "" {
		reason = "released through the API"
	}
	l, changed, err := p.transition(ctx, conv, reason, func(cur Lease) (Lease, error) {
		if !cur.HumanOwned() {
			return cur, ErrNotOwned
		}
		cur.State = handoff.OwnerReleased
		return cur, nil
	})
	if err != nil && changed {
		// Released; only its announcement failed (the next change of the
		// conversation announces it again).
		p.log.WarnContext(ctx, "announce a released conversation", "conversation", conv, "error", err)
	} else if err != nil {
		return l, err
	}
	if changed {
		pipe := p.rdb.TxPipeline()
		p.count(ctx, pipe, "released")
		_, _ = pipe.Exec(ctx)
	}
	return l, nil
}

// ErrNotOwned: the conversation is not held by a human.
var ErrNotOwned = errors.New("the conversation is not owned by a human")
