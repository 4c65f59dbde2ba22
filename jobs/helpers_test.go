package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/enrich"
	"github.com/handoff-dev/handoff/internal/testredis"
)

// fakeCRM is a hand-written CRM double with the jobs.CRM method set.
type fakeCRM struct {
	mu        sync.Mutex
	src       handoff.Source
	profiles  []handoff.Profile
	owners    map[string]handoff.Owner // by lower-case email
	tasks     map[string]*handoff.Task
	notes     map[string][]string
	specs     []handoff.TaskSpec
	tried     []handoff.TaskSpec // every CreateTask call's spec, failed ones too
	calls     map[string]int
	reassigns []string // "task:owner:priority"
	nextID    int

	createErrs      []error // returned by CreateTask before writing, one per call
	crashAfterWrite int     // CreateTask writes the task, then returns an error
	profileErr      error
}

func newFakeCRM(src handoff.Source) *fakeCRM {
	f := &fakeCRM{src: src, tasks: map[string]*handoff.Task{}, notes: map[string][]string{}, calls: map[string]int{}, owners: map[string]handoff.Owner{}}
	for i, e := range []string{"owner@acme.example", "dd1@acme.example", "dd2@acme.example", "sdr1@acme.example", "sdr2@acme.example", "mgr1@acme.example", "counsel@acme.example"} {
		f.owners[e] = handoff.Owner{ID: fmt.Sprint(100 + i), Email: e}
	}
	f.profiles = []handoff.Profile{{
		Contact: handoff.ContactRef{CRM: src, Tenant: "62515", ID: "123", Email: "ana@acme.example"},
		Facts:   handoff.ContactFacts{ID: "123", Email: "ana@acme.example", Name: "Ana Ruiz", Title: "VP Finance", Known: true},
		Account: handoff.AccountFacts{ID: "c1", Name: "Acme", Tier: "tier_1", Industry: "Software", OwnerID: "100", OwnerEmail: "owner@acme.example", Known: true},
		Deal:    handoff.DealFacts{ID: "d1", Name: "Acme 2027", Stage: "contractsent", StageLabel: "Contract sent", Probability: 0.8, IsOpen: true, Known: true},
	}, {
		Contact: handoff.ContactRef{CRM: src, Tenant: "62515", ID: "456", Email: "sam@student.example"},
		Facts:   handoff.ContactFacts{ID: "456", Email: "sam@student.example", Name: "Sam", Known: true},
	}}
	return f
}

func (f *fakeCRM) count(m string) { f.calls[m]++ }

func (f *fakeCRM) Calls(m string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[m]
}

func (f *fakeCRM) Profile(_ context.Context, tenant string, ref handoff.ContactRef) (*handoff.Profile, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.count("Profile")
	if f.profileErr != nil {
		return nil, f.profileErr
	}
	for _, p := range f.profiles {
		if (ref.ID != "" && ref.ID == p.Contact.ID) || (ref.Email != "" && strings.EqualFold(ref.Email, p.Contact.Email)) {
			cp := p
			cp.Calls = 3
			return &cp, nil
		}
	}
	return nil, handoff.ErrNotFound
}

func (f *fakeCRM) OwnerByEmail(_ context.Context, tenant, email string) (handoff.Owner, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.count("OwnerByEmail")
	o, ok := f.owners[strings.ToLower(email)]
	if !ok {
		return handoff.Owner{}, fmt.Errorf("owner %s: %w", email, handoff.ErrNotFound)
	}
	return o, nil
}

func (f *fakeCRM) CreateTask(_ context.Context, spec handoff.TaskSpec) (handoff.Task, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.count("CreateTask")
	f.tried = append(f.tried, spec)
	if len(f.createErrs) > 0 {
		err := f.createErrs[0]
		f.createErrs = f.createErrs[1:]
		if err != nil {
			return handoff.Task{}, err
		}
	}
	f.nextID++
	t := &handoff.Task{ID: fmt.Sprintf("T%d", f.nextID), HandoffID: spec.HandoffID, OwnerID: spec.Owner.ID, State: handoff.TaskNotStarted,
		Priority: spec.Priority, Subject: spec.Subject, Due: spec.Due}
	f.tasks[t.ID] = t
	f.specs = append(f.specs, spec)
	if f.crashAfterWrite > 0 {
		f.crashAfterWrite--
		return handoff.Task{}, &handoff.TransientError{CRM: f.src, Err: errors.New("connection reset after the write")}
	}
	return *t, nil
}

func (f *fakeCRM) FindTask(_ context.Context, tenant, handoffID string) (handoff.Task, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.count("FindTask")
	for _, t := range f.tasks {
		if t.HandoffID == handoffID {
			return *t, nil
		}
	}
	return handoff.Task{}, fmt.Errorf("find task: %w", handoff.ErrNotFound)
}

func (f *fakeCRM) GetTask(_ context.Context, tenant, taskID string) (handoff.Task, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.count("GetTask")
	t, ok := f.tasks[taskID]
	if !ok {
		return handoff.Task{}, handoff.ErrNotFound
	}
	return *t, nil
}

func (f *fakeCRM) AppendToTask(_ context.Context, tenant, taskID, note string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.count("AppendToTask")
	if _, ok := f.tasks[taskID]; !ok {
		return handoff.ErrNotFound
	}
	f.notes[taskID] = append(f.notes[taskID], note)
	return nil
}

func (f *fakeCRM) ReassignTask(_ context.Context, tenant, taskID string, owner handoff.Owner, priority handoff.Priority) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.count("ReassignTask")
	t, ok := f.tasks[taskID]
	if !ok {
		return handoff.ErrNotFound
	}
	t.OwnerID, t.Priority = owner.ID, priority
	f.reassigns = append(f.reassigns, fmt.Sprintf("%s:%s:%s", taskID, owner.ID, priority))
	return nil
}

func (f *fakeCRM) setState(taskID string, st handoff.TaskState, disposition string, completedAt time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tasks[taskID].State = st
	f.tasks[taskID].Disposition = disposition
	f.tasks[taskID].CompletedAt = completedAt
}

func (f *fakeCRM) taskCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.tasks)
}

func (f *fakeCRM) notesOf(id string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.notes[id])
}

// wordSignaler finds topic words.
type wordSignaler struct{}

func (wordSignaler) Signals(text string) handoff.Signals {
	s := handoff.Signals{Topics: []string{}}
	for _, t := range []string{"pricing", "legal", "stall", "angry"} {
		if strings.Contains(strings.ToLower(text), t) {
			s.Topics = append(s.Topics, t)
		}
	}
	return s
}

// ruleDecider is a small ladder double: pricing → handoff, legal → hold
// (exception), stall → assist, otherwise continue.
type ruleDecider struct {
	version string
	route   *handoff.Route
	climb   []handoff.ClimbStep
	sla     time.Duration
	// pricingAction overrides the pricing rung's action (shadow tests).
	pricingAction handoff.Action
	// topics is the ladder's own topic map for Signals (word → topic);
	// nil means wordSignaler's.
	topics map[string]string
	// alsoNeeds are the second reviewers of a pricing decision.
	alsoNeeds []handoff.Review
}

func (r ruleDecider) Version() string { return r.version }

func (r ruleDecider) Signals(text string) handoff.Signals {
	if r.topics == nil {
		return wordSignaler{}.Signals(text)
	}
	s := handoff.Signals{Topics: []string{}}
	for word, topic := range r.topics {
		if strings.Contains(strings.ToLower(text), word) && !slices.Contains(s.Topics, topic) {
			s.Topics = append(s.Topics, topic)
		}
	}
	slices.Sort(s.Topics)
	return s
}

func (r ruleDecider) Decide(c handoff.Context) handoff.Decision {
	d := handoff.Decision{LadderVersion: r.version, Action: handoff.ActionContinue, Signals: c.Signals, Score: 0.2,
		Trace: []handoff.TraceStep{{Kind: "rung", ID: "pricing", When: "'pricing' in signals.topics", Matched: slices.Contains(c.Signals.Topics, "pricing"),
			Values: handoff.TraceValues{{Path: "signals.topics", Value: c.Signals.Topics}}}}}
	switch {
	case slices.Contains(c.Signals.Topics, "legal"):
		d.Action, d.ExceptionID, d.Route = handoff.ActionHold, "legal-language", &handoff.Route{Team: "legal", Owners: []string{"counsel@acme.example"}}
	case slices.Contains(c.Signals.Topics, "pricing"):
		d.Action, d.RungID, d.Route, d.Priority = handoff.ActionHandoff, "pricing", r.route, handoff.PriorityHigh
		if r.pricingAction != "" {
			d.Action = r.pricingAction
		}
		d.Reasons = []string{"'pricing' in signals.topics", "account.tier = tier_1"}
		d.Required = []string{"buyer_asked", "agent_replied", "transcript_url", "sources", "account", "deal", "next_steps", "constraints"}
		d.NextSteps = []string{"Confirm budget", "Send the price sheet"}
		d.Constraints = []string{"No discount above 10%"}
		d.Climb = r.climb
		d.SLA = r.sla
		d.Score = 0.8
		d.AlsoNeeds = r.alsoNeeds
	case slices.Contains(c.Signals.Topics, "stall"):
		d.Action, d.RungID, d.Route = handoff.ActionAssist, "stall", &handoff.Route{To: "contact_owner", Fallback: &handoff.Route{Team: "sdr", Owners: []string{"sdr1@acme.example"}}}
	}
	return d
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type harness struct {
	p      *Pipeline
	crm    *fakeCRM
	rdb    *redis.Client
	client *asynq.Client
	insp   *asynq.Inspector
	clock  *fakeClock
	reg    *prometheus.Registry
	db     testredis.DB
}

type harnessOpt func(*Config, *Deps)

func newHarness(t *testing.T, opts ...harnessOpt) *harness {
	t.Helper()
	db := testredis.New(t)
	rdb := db.Client(t)
	clock := &fakeClock{t: time.Now().UTC().Truncate(time.Second)}
	crm := newFakeCRM(handoff.SourceHubSpot)
	reg := prometheus.NewRegistry()
	e, err := enrich.New(enrich.Defaults(), enrich.Deps{Redis: rdb, Profiles: map[handoff.Source]enrich.ProfileReader{handoff.SourceHubSpot: crm},
		Signaler: wordSignaler{}, Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	client := asynq.NewClientFromRedisClient(rdb)
	insp := asynq.NewInspectorFromRedisClient(rdb)
	cfg := Defaults()
	cfg.PublicBaseURL = "https://handoff.example"
	deps := Deps{
		Redis: rdb, CRMs: map[handoff.Source]CRM{handoff.SourceHubSpot: crm}, Enricher: e,
		Decider:  ruleDecider{version: "v1", sla: 30 * time.Minute, route: &handoff.Route{To: "account_owner"}},
		Enqueuer: client, Clock: clock.Now, Metrics: reg, Logger: slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(&cfg, &deps)
	}
	p, err := New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{p: p, crm: crm, rdb: rdb, client: client, insp: insp, clock: clock, reg: reg, db: db}
}

func agentEvent(id, conv, text string) handoff.Event {
	conf := 0.4
	return handoff.Event{
		Source: handoff.SourceAgent, Tenant: "acme-agent", NativeID: id, DedupeKey: "agent:" + id, Kind: handoff.KindAgentTurn, Channel: "chat",
		OccurredAt: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), ConversationID: conv,
		Contact: handoff.ContactRef{CRM: handoff.SourceHubSpot, Tenant: "62515", Email: "ana@acme.example"},
		Message: &handoff.Message{Text: text, Direction: handoff.Inbound},
		Agent: &handoff.AgentTurn{Turn: 3, Reply: "I will check our price list.", Confidence: &conf,
			Sources: []string{"https://acme.example/pricing"}, TranscriptURL: "https://agent.example/t/" + conv},
	}
}

// deliver runs event:process for ev as the worker would.
func (h *harness) deliver(t *testing.T, ev handoff.Event) error {
	t.Helper()
	b, _ := json.Marshal(EventPayload{V: 1, Event: ev})
	return h.p.Mux().ProcessTask(context.Background(), asynq.NewTask(TypeEventProcess, b))
}

// pending returns the pending tasks of a type in the handoff queue.
func (h *harness) pending(t *testing.T, typ string) []*asynq.TaskInfo {
	t.Helper()
	ts, err := h.insp.ListPendingTasks(QueueHandoff, asynq.PageSize(100))
	if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
		t.Fatal(err)
	}
	var out []*asynq.TaskInfo
	for _, x := range ts {
		if x.Type == typ {
			out = append(out, x)
		}
	}
	return out
}

func (h *harness) scheduled(t *testing.T) []*asynq.TaskInfo {
	t.Helper()
	ts, err := h.insp.ListScheduledTasks(QueueHandoff, asynq.PageSize(100))
	if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
		t.Fatal(err)
	}
	return ts
}

// runPending runs (and removes, as a successful worker would) every pending
// create-task; it returns the first error.
func (h *harness) runPending(t *testing.T) error {
	t.Helper()
	for _, ti := range h.pending(t, TypeCreateTask) {
		if err := h.p.Mux().ProcessTask(context.Background(), asynq.NewTask(ti.Type, ti.Payload)); err != nil {
			return err
		}
		if err := h.insp.DeleteTask(ti.Queue, ti.ID); err != nil {
			t.Fatal(err)
		}
	}
	return nil
}

// runSLA runs the scheduled sla:check with the given step.
func (h *harness) runSLA(t *testing.T, handoffID string, step int) error {
	t.Helper()
	id := fmt.Sprintf("%s:sla:%d", handoffID, step)
	for _, ti := range h.scheduled(t) {
		if ti.ID == id {
			if err := h.p.Mux().ProcessTask(context.Background(), asynq.NewTask(ti.Type, ti.Payload)); err != nil {
				return err
			}
			return h.insp.DeleteTask(ti.Queue, ti.ID)
		}
	}
	t.Fatalf("sla:check %s is not scheduled", id)
	return nil
}

func (h *harness) lease(t *testing.T, conv string) Lease {
	t.Helper()
	l, err := h.p.lease(context.Background(), conv)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func (h *harness) auditDecisions(t *testing.T) []redis.XMessage {
	t.Helper()
	msgs, err := h.rdb.XRange(context.Background(), keyAudit, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var out []redis.XMessage
	for _, m := range msgs {
		if m.Values["type"] == "decision" {
			out = append(out, m)
		}
	}
	return out
}
