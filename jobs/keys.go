package jobs

import (
	"strings"

	"github.com/handoff-dev/handoff"
)

// The pipeline's Redis keys, all of them, with what each holds and how
// long it lives. Everything lives under "handoff:"; asynq's own keys live
// under "asynq:". A key is built here and nowhere else.
//
// Lifetimes name the configuration that sets them: HANDOFF_STATE_TTL
// (StateTTL, 90 days), DECISION_MEMO_TTL (48 h), AUDIT_MAX_LEN and
// AUDIT_MAX_AGE (the audit stream's bound), OUTCOME_SAMPLES (the sample
// lists' length), OWNER_ACTIVE_TTL.

// Ownership of a conversation (see Lease in store.go, the one place that
// changes it).
//
//   - handoff:own:<conv>           the lease (JSON); StateTTL, renewed on every change
//   - handoff:own:seq:<conv>       the lease's change counter; StateTTL
//   - handoff:own:log:<conv>       list of the lease's changes; StateTTL
//   - handoff:own:notified:<conv>  the last change announced to callbacks; StateTTL
//   - handoff:own:crm:<conv>       the last change mirrored into the CRM contact; StateTTL
//   - handoff:own:crm:lock:<conv>  lock of that mirror; 2 min
func keyLease(conv string) string             { return "handoff:own:" + conv }
func keyLeaseSeq(conv string) string          { return "handoff:own:seq:" + conv }
func keyLeaseLog(conv string) string          { return "handoff:own:log:" + conv }
func keyLeaseNotified(conv string) string     { return "handoff:own:notified:" + conv }
func keyOwnerStateWritten(conv string) string { return "handoff:own:crm:" + conv }
func keyOwnerStateLock(conv string) string    { return "handoff:own:crm:lock:" + conv }

// Handoffs.
//
//   - handoff:h:<id>                   the handoff record (hash); StateTTL
//   - handoff:h:<id>:lock              lock of its task creation; CREATE_TASK_TIMEOUT + 10 s
//   - handoff:open:<crm>:<tenant>      sorted set of open handoffs (score: next SLA check); members leave on close
//   - handoff:awaiting-task            sorted set of handoffs whose task is not recorded yet (score: last attempt, ms)
//   - handoff:jobs:started:<id>        once-marker: the handoff was counted; StateTTL
//   - handoff:assist:<conv>:<rung>     the open assist (FYI) handoff of a conversation and rung; StateTTL
//   - handoff:jobs:task-lock:<task>    lock of appends to one CRM task; max(EVENT_TIMEOUT, SLA_CHECK_TIMEOUT) + 10 s
//   - handoff:jobs:appended:<task>:<event>  once-marker: the event was appended to the task; StateTTL
func keyHandoff(id string) string     { return "handoff:h:" + id }
func keyHandoffLock(id string) string { return keyHandoff(id) + ":lock" }
func keyOpen(crm handoff.Source, tenant string) string {
	return "handoff:open:" + string(crm) + ":" + tenant
}

const keyAwaiting = "handoff:awaiting-task"

func keyHandoffStarted(id string) string { return "handoff:jobs:started:" + id }
func keyAssist(conv, rung string) string { return "handoff:assist:" + conv + ":" + rung }
func keyTaskLock(taskID string) string   { return "handoff:jobs:task-lock:" + taskID }
func keyAppended(taskID, dedupe string) string {
	return "handoff:jobs:appended:" + taskID + ":" + dedupe
}

// Decisions.
//
//   - handoff:jobs:decided:<event>  an event's recorded decision, reused by its retries; DECISION_MEMO_TTL
//   - handoff:turn:<event>          an agent turn's decision as the agent reads it; DECISION_MEMO_TTL
//   - handoff:turns                 pub/sub channel announcing turn decisions (no storage)
func keyDecided(eventKey string) string { return "handoff:jobs:decided:" + eventKey }
func keyTurn(dedupeKey string) string   { return "handoff:turn:" + dedupeKey }

// ChannelTurns is the Redis pub/sub channel that announces memo writes.
const ChannelTurns = "handoff:turns"

// Audit and outcomes.
//
//   - handoff:audit                     stream of decisions and ownership changes; AUDIT_MAX_LEN / AUDIT_MAX_AGE
//   - handoff:outcomes                  hash of all-time outcome counters; no expiry
//   - handoff:outcomes:tth              list of time-to-human samples (wall); OUTCOME_SAMPLES long
//   - handoff:outcomes:tth_working      the same on each handoff's SLA clock; OUTCOME_SAMPLES long
//   - handoff:outcomes:completeness     list of bundle completeness samples; OUTCOME_SAMPLES long
const (
	keyAudit      = "handoff:audit"
	keyOutcomes   = "handoff:outcomes"
	keyTTH        = "handoff:outcomes:tth"
	keyTTHWorking = "handoff:outcomes:tth_working"
	keyComplete   = "handoff:outcomes:completeness"
)

// Owners.
//
//   - handoff:away:<email>                        an owner's away period (JSON); expires at its end
//   - handoff:owner-active:<crm>:<tenant>:<id>    "0" while the CRM reports the owner inactive; OWNER_ACTIVE_TTL
func keyAway(email string) string { return "handoff:away:" + strings.ToLower(strings.TrimSpace(email)) }
func keyOwnerActive(src handoff.Source, tenant, id string) string {
	return "handoff:owner-active:" + string(src) + ":" + tenant + ":" + id
}

// Jobs.
//
//   - handoff:jobs:ratelimited:<type>:<task>  consecutive rate-limit answers of one task; 7 days
//   - handoff:jobs:sweep:lock                 one lost-task sweep per interval in the deployment; half the interval
func keyRateLimited(taskType, taskID string) string {
	return "handoff:jobs:ratelimited:" + taskType + ":" + taskID
}

const keySweepLock = "handoff:jobs:sweep:lock"
