package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/hibiken/asynq"

	"github.com/handoff-dev/handoff"
)

// Task types handled by the pipeline (TypeEventProcess is in types_pipeline.go).
const (
	TypeCreateTask = "handoff:create-task"
	TypeSLACheck   = "sla:check"
)

// PayloadVersion is the version of every payload this package writes.
// Handlers reject (archive) payloads of an unknown version with a clear
// message instead of guessing.
const PayloadVersion = 1

// EventRef names the event that caused a handoff, without its raw body.
type EventRef struct {
	Source         handoff.Source     `json:"source"`
	Tenant         string             `json:"tenant"`
	NativeID       string             `json:"native_id,omitempty"`
	DedupeKey      string             `json:"dedupe_key"`
	Kind           handoff.Kind       `json:"kind"`
	Channel        string             `json:"channel,omitempty"`
	OccurredAt     time.Time          `json:"occurred_at"`
	Contact        handoff.ContactRef `json:"contact"`
	ConversationID string             `json:"conversation_id,omitempty"`
	Conversation   string             `json:"conversation"` // the ownership key
	TranscriptURL  string             `json:"transcript_url,omitempty"`
}

func refOf(ev handoff.Event) EventRef {
	r := EventRef{
		Source: ev.Source, Tenant: ev.Tenant, NativeID: ev.NativeID, DedupeKey: ev.DedupeKey,
		Kind: ev.Kind, Channel: ev.Channel, OccurredAt: ev.OccurredAt, Contact: ev.Contact,
		ConversationID: ev.ConversationID, Conversation: ev.ConversationKey(),
	}
	if ev.Agent != nil {
		r.TranscriptURL = ev.Agent.TranscriptURL
	}
	return r
}

// CreateTaskPayload is the handoff:create-task payload (V = 1).
type CreateTaskPayload struct {
	V         int              `json:"v"`
	HandoffID string           `json:"handoff_id"`
	Tenant    string           `json:"tenant"` // the CRM tenant that gets the task
	CRM       handoff.Source   `json:"crm"`
	Decision  handoff.Decision `json:"decision"`
	Context   handoff.Context  `json:"context"` // the snapshot the ladder decided on
	Event     EventRef         `json:"event"`
}

// SLACheckPayload is the sla:check payload (V = 1). Step 1 runs at the SLA,
// step n at n times the SLA after the task was created.
type SLACheckPayload struct {
	V         int    `json:"v"`
	HandoffID string `json:"handoff_id"`
	Step      int    `json:"step"`
}

// Scheduler enqueues the pipeline's follow-up tasks with the right queue,
// task id, timeout and retry count. A task id that is already taken means
// the task was enqueued before: that is success, except for an archived
// create-task (see CreateTask).
type Scheduler struct {
	q        Enqueuer
	cfg      Config
	archived archivedRunner // nil: archived tasks are left alone
}

// archivedRunner is the part of *asynq.Inspector the scheduler uses to run
// an archived task again.
type archivedRunner interface {
	GetTaskInfo(queue, id string) (*asynq.TaskInfo, error)
	RunTask(queue, id string) error
}

// NewScheduler wraps an enqueuer (an *asynq.Client).
func NewScheduler(q Enqueuer, cfg Config) *Scheduler { return &Scheduler{q: q, cfg: cfg} }

// TimeoutOption returns asynq.Timeout rounded UP to whole seconds and at
// least one second: asynq stores timeouts as whole seconds and treats 0 as
// "no timeout" (then 30 minutes).
func TimeoutOption(d time.Duration) asynq.Option {
	s := math.Ceil(d.Seconds())
	if s < 1 {
		s = 1
	}
	return asynq.Timeout(time.Duration(s) * time.Second)
}

// CreateTask enqueues handoff:create-task with TaskID = handoff id.
//
// An archived task keeps its id (asynq deletes it only after 90 days or
// past 10,000 archived tasks), so when the event is
// processed again (an operator re-ran it) the enqueue conflicts with the
// archived create-task and the conversation would wait on a task that never
// runs. The archived task is run again instead: it is the same handoff.
func (s *Scheduler) CreateTask(ctx context.Context, p CreateTaskPayload) error {
	p.V = PayloadVersion
	conflict, err := s.enqueueID(ctx, TypeCreateTask, p, p.HandoffID,
		asynq.Queue(QueueHandoff), TimeoutOption(s.cfg.CreateTaskTimeout), asynq.MaxRetry(s.cfg.MaxRetry))
	if err != nil || !conflict || s.archived == nil {
		return err
	}
	info, err := s.archived.GetTaskInfo(QueueHandoff, p.HandoffID)
	if err != nil || info.State != asynq.TaskStateArchived {
		return nil // live (pending, active, retry, scheduled) or gone: nothing to do
	}
	if err := s.archived.RunTask(QueueHandoff, p.HandoffID); err != nil {
		return fmt.Errorf("run archived %s %s again: %w", TypeCreateTask, p.HandoffID, err)
	}
	return nil
}

// SLACheck enqueues sla:check to run at `at`, with TaskID handoff id + step.
func (s *Scheduler) SLACheck(ctx context.Context, handoffID string, step int, at time.Time) error {
	p := SLACheckPayload{V: PayloadVersion, HandoffID: handoffID, Step: step}
	return s.enqueue(ctx, TypeSLACheck, p, fmt.Sprintf("%s:sla:%d", handoffID, step),
		asynq.Queue(QueueHandoff), asynq.ProcessAt(at), TimeoutOption(s.cfg.SLACheckTimeout), asynq.MaxRetry(s.cfg.MaxRetry))
}

// EventOptions are the options an event:process task should be enqueued
// with (the ingest side may use them).
func EventOptions(cfg Config) []asynq.Option {
	return []asynq.Option{asynq.Queue(QueueEvents), TimeoutOption(cfg.EventTimeout), asynq.MaxRetry(cfg.MaxRetry)}
}

func (s *Scheduler) enqueue(ctx context.Context, typ string, payload any, id string, opts ...asynq.Option) error {
	_, err := s.enqueueID(ctx, typ, payload, id, opts...)
	return err
}

// enqueueID enqueues with TaskID id; conflict reports that the id was
// taken (not an error).
func (s *Scheduler) enqueueID(ctx context.Context, typ string, payload any, id string, opts ...asynq.Option) (conflict bool, err error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return false, fmt.Errorf("encode %s payload: %w", typ, err)
	}
	opts = append(opts, asynq.TaskID(id))
	if _, err := s.q.EnqueueContext(ctx, asynq.NewTask(typ, b), opts...); err != nil {
		if errors.Is(err, asynq.ErrTaskIDConflict) {
			return true, nil
		}
		return false, fmt.Errorf("enqueue %s %s: %w", typ, id, err)
	}
	return false, nil
}

// decode reads a versioned payload; an undecodable or unknown-version
// payload can never succeed, so it is archived with the reason.
func decode(t *asynq.Task, v any, version func() int) error {
	if err := json.Unmarshal(t.Payload(), v); err != nil {
		return fmt.Errorf("%s payload is not valid JSON (%v): %w", t.Type(), err, asynq.SkipRetry)
	}
	// A payload without a version (0) is read as v1.
	if got := version(); got != PayloadVersion && got != 0 {
		return fmt.Errorf("%s payload version %d is not supported (this worker reads v%d): %w", t.Type(), got, PayloadVersion, asynq.SkipRetry)
	}
	return nil
}
