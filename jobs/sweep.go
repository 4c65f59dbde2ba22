package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/internal/redislock"
)

// keyAwaiting is a sorted set of the handoffs (handoff and hold) whose
// conversation waits for its task: member the handoff id, score the
// milliseconds of its last enqueue or attempt. An entry leaves the set
// when the task is recorded or the handoff is abandoned.

// sweepGrace is how old an entry must be before SweepLost looks at it: a
// fresh one may still be between the ZADD and the enqueue.
const sweepGrace = 30 * time.Second

// sweepBatch bounds the entries one sweep looks at.
const sweepBatch = 200

// awaiting records that a handoff's conversation waits for its task.
func (p *Pipeline) awaiting(ctx context.Context, id string) error {
	if err := p.rdb.ZAdd(ctx, keyAwaiting, redis.Z{Score: float64(p.now().UnixMilli()), Member: id}).Err(); err != nil {
		return fmt.Errorf("record handoff %s as awaiting its task: %w", id, err)
	}
	return nil
}

// settled removes a handoff from the awaiting set.
func (p *Pipeline) settled(ctx context.Context, id string) error {
	if err := p.rdb.ZRem(ctx, keyAwaiting, id).Err(); err != nil {
		return fmt.Errorf("clear awaiting handoff %s: %w", id, err)
	}
	return nil
}

// taskInspector is the part of *asynq.Inspector SweepLost reads.
type taskInspector interface {
	GetTaskInfo(queue, id string) (*asynq.TaskInfo, error)
}

// SweepLost finds handoffs whose create-task is archived or gone without
// the error handler having run, and treats them as it would (log, count,
// give the conversation back to the agent). asynq calls the error handler
// only for errors a handler returned: a task whose worker died (kill -9,
// OOM) is recovered by asynq's recoverer after its lease expired, and on
// the task's last attempt the recoverer archives it directly. An operator
// can also archive or delete a pending task from the dashboard. Without the
// sweep, such a conversation stays "pending" until an SLA check that never
// comes or a manual release.
//
// It returns how many handoffs it abandoned. Live tasks (pending, active,
// scheduled, retry) are left alone; so are entries younger than 30 s.
func (p *Pipeline) SweepLost(ctx context.Context) (int, error) {
	if p.inspect == nil {
		return 0, nil
	}
	cutoff := p.now().Add(-sweepGrace).UnixMilli()
	ids, err := p.rdb.ZRangeByScore(ctx, keyAwaiting, &redis.ZRangeBy{Min: "-inf", Max: strconv.FormatInt(cutoff, 10), Count: sweepBatch}).Result()
	if err != nil {
		return 0, fmt.Errorf("read handoffs awaiting their task: %w", err)
	}
	n := 0
	for _, id := range ids {
		abandoned, err := p.sweepOne(ctx, id)
		if err != nil {
			return n, err
		}
		if abandoned {
			n++
		}
	}
	return n, nil
}

func (p *Pipeline) sweepOne(ctx context.Context, id string) (bool, error) {
	rec, err := p.loadRecord(ctx, id)
	if err != nil {
		return false, err
	}
	conv := rec["conversation"]
	info, err := p.inspect.GetTaskInfo(QueueHandoff, id)
	var cause, class string
	switch {
	case (errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound)) && rec["task_id"] != "":
		return false, p.settled(ctx, id) // done: the set only missed its removal
	case errors.Is(err, asynq.ErrTaskNotFound), errors.Is(err, asynq.ErrQueueNotFound):
		cause, class = "its "+TypeCreateTask+" task is gone from the queue (deleted?)", "lost"
	case err != nil:
		return false, fmt.Errorf("read %s task %s: %w", TypeCreateTask, id, err)
	case info.State == asynq.TaskStateArchived:
		cause, class = info.LastErr, "archived_without_handler"
		if strings.Contains(cause, "lease expired") {
			class = "lease_expired" // the worker died on the last attempt
		}
		if cause == "" {
			cause = "archived from the dashboard"
		}
		var pl CreateTaskPayload
		if json.Unmarshal(info.Payload, &pl) == nil && pl.Event.Conversation != "" {
			conv = pl.Event.Conversation
		}
	default:
		return false, nil // live: the worker (or its retry) will finish it
	}
	// What the error handler does for a final failure: log, count, abandon.
	p.m.jobErrors.WithLabelValues(TypeCreateTask, class, "true").Inc()
	p.log.ErrorContext(ctx, "task failed", "type", TypeCreateTask, "task_id", id, "class", class, "archived", true,
		"found_by", "sweep", "error", cause)
	if err := p.abandon(ctx, id, conv, cause); err != nil {
		return false, err
	}
	return true, nil
}

// RunSweeps runs SweepLost every interval until ctx is done. Several
// workers may run it: a short Redis lock keeps it to one sweep per
// interval across them.
func (p *Pipeline) RunSweeps(ctx context.Context) {
	every := p.cfg.LostTaskSweepInterval
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// Not released: held for half an interval, it lets one process
		// of the deployment sweep per interval.
		_, ok, err := redislock.TryAcquire(ctx, p.rdb, keySweepLock, max(every/2, time.Second))
		if err != nil || !ok {
			continue
		}
		if n, err := p.SweepLost(ctx); err != nil {
			p.log.WarnContext(ctx, "sweep for lost task creations", "error", err)
		} else if n > 0 {
			p.log.InfoContext(ctx, "sweep gave conversations of lost task creations back to the agent", "handoffs", n)
		}
	}
}

// leaseWaits reports whether a decision's action makes the conversation
// wait for the task (handoff and hold move it to a human first).
func leaseWaits(a handoff.Action) bool { return a != handoff.ActionAssist }
