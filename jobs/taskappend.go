package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/handoff-dev/handoff/internal/redislock"
)

// appendLockWait is how long an append waits for another worker's append
// to the same task before giving up and letting asynq retry the job.
const appendLockWait = 15 * time.Second

// appendToTask adds note to a CRM task, one append per task at a time.
//
// The connectors do not overwrite what a person writes meanwhile:
// Salesforce appends with a conditional write (If-Unmodified-Since,
// re-read on 412), HubSpot logs the note as a separate note record, and
// Marketo logs a new activity. The lock still matters between our own
// workers: two appends to one Salesforce task at once would keep failing
// each other's precondition, and a HubSpot task without any associated
// record still gets the note in its body by read and write. A short Redis
// lock per task serializes the appends of all workers. A worker that finds
// the lock taken waits for it (an append is a few CRM round trips) up to
// appendLockWait, then returns a retryable error: the job is retried and
// the note is not lost.
func (p *Pipeline) appendToTask(ctx context.Context, crm CRM, tenant, taskID, note string) error {
	key := keyTaskLock(taskID)
	ttl := max(p.cfg.EventTimeout, p.cfg.SLACheckTimeout) + 10*time.Second // only matters if a worker dies holding it
	wctx, cancel := context.WithTimeout(ctx, appendLockWait)
	release, err := redislock.Acquire(wctx, p.rdb, key, ttl)
	cancel()
	switch {
	case errors.Is(err, redislock.ErrTimeout) && ctx.Err() == nil:
		return fmt.Errorf("task %s is being updated by another worker for over %s; the update will be retried", taskID, appendLockWait)
	case err != nil:
		return fmt.Errorf("lock task %s for an update: %w", taskID, err)
	}
	defer release()
	return crm.AppendToTask(ctx, tenant, taskID, note)
}
