package jobs

import "github.com/handoff-dev/handoff"

// NOTE for the merge: these names and values are also defined by the
// webhooks branch in jobs/ingest.go (the enqueue side). They are identical;
// keep one copy.

// TypeEventProcess is the task type of one received event.
const TypeEventProcess = "event:process"

// Queues, in priority order (see ServerConfig).
const (
	QueueHandoff    = "handoff"
	QueueEvents     = "events"
	QueueBackground = "background"
)

// EventPayload is the event:process payload (V = 1).
type EventPayload struct {
	V     int           `json:"v"`
	Event handoff.Event `json:"event"`
}
