package jobs

import (
	"strconv"
	"time"
)

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
)

// hourKey is the bucket of t's UTC hour.
func hourKey(t time.Time) string { return keyHourPrefix + t.UTC().Format("2006010215") }

// hourSampleKey is the bucket of samples named by the all-time key (its
// suffix after "handoff:outcomes:").
func hourSampleKey(t time.Time, allTime string) string {
	return hourKey(t) + ":" + allTime[len("handoff:outcomes:"):]
}

func msString(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
