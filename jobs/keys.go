package jobs

import (
	"strconv"
	"strings"
	"time"

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

// Ingest.
//
// The dedupe marker of an event is its own task record,
// asynq:{events}:t:<dedupe key>, kept by asynq while the task waits or runs
// and, once done, for DEDUPE_TTL (asynq.Retention); an archived task is
// kept 90 days. The keys below are the only ones the ingester writes or
// reads itself; each is a single key, so no operation spans hash slots.
const (
	// LegacyDedupeKeyPrefix prefixes the dedupe key that releases before
	// the task record became the marker wrote after each enqueue
	// ("handoff:dedupe:<dedupe key>", EX DEDUPE_TTL). It is only read, and
	// only while LegacyDedupeUntilKey says such keys may still be alive.
	LegacyDedupeKeyPrefix = "handoff:dedupe:"
	// LegacyDedupeUntilKey holds the unix second until which legacy dedupe
	// keys are honoured: 0 on a fresh install, the first start of this
	// release plus DEDUPE_TTL on an upgraded one. Written once (SET NX),
	// never expires, one small string per deployment.
	LegacyDedupeUntilKey = "handoff:ingest:legacy-dedupe-until"
)

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
//   - handoff:rr:<crm>:<tenant>:<team>            a team's round-robin counter; no expiry (one per team)
//   - handoff:owner:<crm>:<tenant>:<email>        the CRM owner of an email (JSON); OWNER_CACHE_TTL (a tenth of it when unknown)
//   - handoff:away:<email>                        an owner's away period (JSON); expires at its end
//   - handoff:owner-active:<crm>:<tenant>:<id>    "0" while the CRM reports the owner inactive; OWNER_ACTIVE_TTL
func keyRoundRobin(src handoff.Source, tenant, team string) string {
	return "handoff:rr:" + string(src) + ":" + tenant + ":" + team
}
func keyOwnerByEmail(src handoff.Source, tenant, email string) string {
	return "handoff:owner:" + string(src) + ":" + tenant + ":" + strings.ToLower(email)
}
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

// Redis keys behind windowed outcomes and the console's views. Each is
// bounded: by OutcomeRetention (hourly buckets and the open-handoff board,
// whose members also leave when a handoff closes) or, for the decision
// indexes, like the audit stream (AUDIT_MAX_LEN entries, AUDIT_MAX_AGE).
const (
	// keyHourPrefix + "2026120215" is a hash of the outcome counters
	// counted in that UTC hour (the same fields as handoff:outcomes);
	// + ":tth", ":tth_working", ":completeness" are that hour's samples
	// (lists capped at OUTCOME_SAMPLES). All expire OUTCOME_RETENTION
	// after the hour ends.
	keyHourPrefix = "handoff:outcomes:hour:"
	// keyBoard is a sorted set of open handoff ids scored by due time (ms):
	// added when the task is created, removed when the handoff closes;
	// members whose record expired are dropped when read.
	keyBoard = "handoff:console:open"
	// keyDecisionIndex + "" (all), "rung:<id>", "action:<a>",
	// "contact:<id or email>", "conv:<conversation>", "tenant:<t>",
	// "disagree" (shadow disagreed) are sorted sets of audit stream ids of
	// decisions scored by time (ms), trimmed with the stream.
	keyDecisionIndex = "handoff:console:dec:"
	// keyIndexBackfilled says the stream's decisions were filed under the
	// indexes once (BackfillDecisionIndex): the time it started; no expiry,
	// one small string per deployment.
	keyIndexBackfilled = "handoff:console:dec-backfilled"
)

// hourKey is the bucket of t's UTC hour.
func hourKey(t time.Time) string { return keyHourPrefix + t.UTC().Format("2006010215") }

// hourSampleKey is the bucket of samples named by the all-time key (its
// suffix after "handoff:outcomes:").
func hourSampleKey(t time.Time, allTime string) string {
	return hourKey(t) + ":" + allTime[len("handoff:outcomes:"):]
}

func msString(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
