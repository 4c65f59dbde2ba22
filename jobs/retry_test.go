package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/handoff-dev/handoff"
)

func realClock(_ *Config, d *Deps) { d.Clock = time.Now }

// startWorker runs a real asynq server with the pipeline's config.
func startWorker(t *testing.T, h *harness) {
	t.Helper()
	cfg := h.p.ServerConfig()
	cfg.DelayedTaskCheckInterval = 100 * time.Millisecond
	cfg.TaskCheckInterval = 50 * time.Millisecond
	cfg.ShutdownTimeout = 2 * time.Second
	srv := asynq.NewServerFromRedisClient(h.rdb, cfg)
	if err := srv.Start(h.p.Mux()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
}

func waitFor(t *testing.T, what string, d time.Duration, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRetryDelayFunc(t *testing.T) {
	f := RetryDelayFunc(10 * time.Minute)
	rl := fmt.Errorf("create task: %w", &handoff.RateLimitError{CRM: handoff.SourceHubSpot, RetryAfter: 7 * time.Second})
	if d := f(3, rl, nil); d != 7*time.Second {
		t.Fatalf("rate limit delay = %s", d)
	}
	if d := f(0, &handoff.RateLimitError{}, nil); d != time.Second {
		t.Fatalf("zero RetryAfter delay = %s, want 1s", d)
	}
	tr := &handoff.TransientError{CRM: handoff.SourceHubSpot, Status: 503}
	for n, want := range map[int]time.Duration{0: time.Second, 3: 8 * time.Second, 6: 64 * time.Second, 12: 10 * time.Minute, 40: 10 * time.Minute} {
		for range 20 {
			d := f(n, tr, nil)
			if d < want/2 || d > want {
				t.Fatalf("n=%d: delay %s outside [%s, %s]", n, d, want/2, want)
			}
		}
	}
	if d := f(0, fmt.Errorf("x: %w", handoff.ErrNotInstalled), nil); d < time.Minute {
		t.Fatalf("not installed delay = %s, want >= 1m", d)
	}
	cases := []struct {
		err  error
		want bool
	}{
		{rl, false},
		{&RateLimitExhaustedError{Times: 51, Err: rl}, true},
		{tr, true},
		{&PermanentJobError{Err: errors.New("x")}, true},
	}
	for _, c := range cases {
		if got := IsFailure(c.err); got != c.want {
			t.Errorf("IsFailure(%v) = %v", c.err, got)
		}
	}
	if TimeoutOption(500*time.Millisecond) != asynq.Timeout(time.Second) && fmt.Sprint(TimeoutOption(500*time.Millisecond)) != fmt.Sprint(asynq.Timeout(time.Second)) {
		t.Fatalf("sub-second timeout not rounded up: %v", TimeoutOption(500*time.Millisecond))
	}
	if got := fmt.Sprint(TimeoutOption(2500 * time.Millisecond)); got != fmt.Sprint(asynq.Timeout(3*time.Second)) {
		t.Fatalf("2.5s timeout = %s", got)
	}
}

func TestWorkerRateLimitIsNotAFailure(t *testing.T) {
	h := newHarness(t, realClock, func(c *Config, _ *Deps) { c.MaxRetry = 1 })
	rl := &handoff.RateLimitError{CRM: handoff.SourceHubSpot, Tenant: "62515", RetryAfter: time.Second}
	h.crm.createErrs = []error{rl, rl, rl}
	if err := h.deliver(t, agentEvent("t1", "conv-rl", "pricing")); err != nil {
		t.Fatal(err)
	}
	startWorker(t, h)
	waitFor(t, "the task after three rate limits", 20*time.Second, func() bool { return h.crm.taskCount() == 1 })
	if n := h.crm.Calls("CreateTask"); n != 4 {
		t.Fatalf("CreateTask calls = %d, want 4 (3 rate limited with MaxRetry 1)", n)
	}
	if n := h.crm.Calls("FindTask"); n != 0 {
		t.Fatalf("FindTask calls = %d: a refused write needs no lookup", n)
	}
	if v := testutil.ToFloat64(h.p.m.jobErrors.WithLabelValues(TypeCreateTask, "rate_limited", "false")); v != 3 {
		t.Fatalf("rate-limited errors counted = %v", v)
	}
}

func TestWorkerRateLimitCapCountsAsFailure(t *testing.T) {
	h := newHarness(t, realClock, func(c *Config, _ *Deps) { c.MaxRetry = 1; c.RateLimitMaxRetries = 2 })
	rl := &handoff.RateLimitError{CRM: handoff.SourceHubSpot, Tenant: "62515", RetryAfter: time.Second}
	h.crm.createErrs = []error{rl, rl, rl, rl, rl}
	if err := h.deliver(t, agentEvent("t1", "conv-rlx", "pricing")); err != nil {
		t.Fatal(err)
	}
	startWorker(t, h)
	var archived []*asynq.TaskInfo
	waitFor(t, "archive after the rate-limit cap", 20*time.Second, func() bool {
		archived, _ = h.insp.ListArchivedTasks(QueueHandoff)
		return len(archived) == 1
	})
	// Two free rate limits, then two counted ones (MaxRetry 1) archive it.
	if n := h.crm.Calls("CreateTask"); n != 4 {
		t.Fatalf("CreateTask calls = %d, want 4", n)
	}
	if !strings.Contains(archived[0].LastErr, "rate limited 4 times in a row") {
		t.Fatalf("last error = %q", archived[0].LastErr)
	}
}

func TestWorkerPermanentErrorIsArchivedWithMessage(t *testing.T) {
	h := newHarness(t, realClock)
	h.crm.createErrs = []error{fmt.Errorf("create task: %w", &handoff.PermanentError{CRM: handoff.SourceHubSpot, Status: 400, Code: "VALIDATION_ERROR",
		Detail: "Property values were not valid: hs_task_priority"})}
	if err := h.deliver(t, agentEvent("t1", "conv-p", "pricing")); err != nil {
		t.Fatal(err)
	}
	startWorker(t, h)
	var archived []*asynq.TaskInfo
	waitFor(t, "the archived task", 10*time.Second, func() bool {
		archived, _ = h.insp.ListArchivedTasks(QueueHandoff)
		return len(archived) == 1
	})
	want := "giving up, retrying cannot help: create hubspot task for handoff " + archived[0].ID +
		": create task: hubspot rejected the request (status 400, VALIDATION_ERROR): Property values were not valid: hs_task_priority"
	if archived[0].LastErr != want {
		t.Fatalf("last error = %q\nwant %q", archived[0].LastErr, want)
	}
	if archived[0].Retried != 0 || h.crm.Calls("CreateTask") != 1 {
		t.Fatalf("retried %d times, %d calls", archived[0].Retried, h.crm.Calls("CreateTask"))
	}
	// The conversation does not stay pending on a task that will never exist.
	waitFor(t, "the conversation released", 5*time.Second, func() bool { return h.lease(t, "conv-p").State == handoff.OwnerReleased })
	if r := h.lease(t, "conv-p").Reason; !strings.HasPrefix(r, "task creation failed: giving up") {
		t.Fatalf("reason = %q", r)
	}
	if v := testutil.ToFloat64(h.p.m.jobErrors.WithLabelValues(TypeCreateTask, "permanent", "true")); v != 1 {
		t.Fatalf("archived error metric = %v", v)
	}
}

func TestWorkerNotInstalledIsRetriedWithInstallHint(t *testing.T) {
	h := newHarness(t, realClock)
	h.crm.createErrs = []error{fmt.Errorf("load token: %w", handoff.ErrNotInstalled)}
	if err := h.deliver(t, agentEvent("t1", "conv-ni", "pricing")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	startWorker(t, h)
	var retry []*asynq.TaskInfo
	waitFor(t, "the task in retry", 10*time.Second, func() bool {
		retry, _ = h.insp.ListRetryTasks(QueueHandoff)
		return len(retry) == 1
	})
	if !strings.Contains(retry[0].LastErr, "hubspot portal 62515 is not installed: install the app at https://handoff.example/oauth/hubspot/install") {
		t.Fatalf("last error = %q", retry[0].LastErr)
	}
	if retry[0].Retried != 1 || retry[0].NextProcessAt.Before(start.Add(59*time.Second)) {
		t.Fatalf("retried=%d next=%s", retry[0].Retried, retry[0].NextProcessAt)
	}
	if len(h.crm.specs) != 0 {
		t.Fatal("nothing may be written")
	}
}

func TestEventErrorsKeepTheirClass(t *testing.T) {
	h := newHarness(t)
	h.crm.profileErr = fmt.Errorf("load token: %w", handoff.ErrNotInstalled)
	err := h.deliver(t, agentEvent("t1", "conv-e", "pricing"))
	if err == nil || !IsFailure(err) || errors.Is(err, asynq.SkipRetry) ||
		err.Error() != "hubspot portal 62515 is not installed: install the app at https://handoff.example/oauth/hubspot/install" {
		t.Fatalf("not installed: %v", err)
	}
	h.crm.profileErr = &handoff.RateLimitError{CRM: handoff.SourceHubSpot, Tenant: "62515", RetryAfter: 2 * time.Second}
	err = h.deliver(t, agentEvent("t1", "conv-e", "pricing"))
	var rl *handoff.RateLimitError
	if !errors.As(err, &rl) || IsFailure(err) || RetryDelayFunc(0)(5, err, nil) != 2*time.Second {
		t.Fatalf("rate limit: %v", err)
	}
	h.crm.profileErr = &handoff.AuthError{CRM: handoff.SourceHubSpot, Tenant: "62515", Detail: "invalid_grant"}
	err = h.deliver(t, agentEvent("t1", "conv-e", "pricing"))
	if !errors.Is(err, asynq.SkipRetry) || !strings.HasPrefix(err.Error(), "giving up, retrying cannot help: enrich agent agent_turn event:") {
		t.Fatalf("revoked: %v", err)
	}
	if len(h.auditDecisions(t)) != 0 {
		t.Fatal("no decision may be recorded without a context")
	}
	b := []byte(`{"v":2,"event":{}}`)
	err = h.p.Mux().ProcessTask(context.Background(), asynq.NewTask(TypeEventProcess, b))
	if !errors.Is(err, asynq.SkipRetry) || !strings.Contains(err.Error(), "payload version 2 is not supported") {
		t.Fatalf("unknown version: %v", err)
	}
}

// asynq archives a task on any error once its retries are used up
// (processor.go: msg.Retried >= msg.Retry), whether or not IsFailure counts
// the error. A rate limit on the last attempt is therefore archived, and
// the error handler must treat it as final: release the conversation and
// count the archive.
func TestWorkerRateLimitOnLastAttemptIsTreatedAsArchived(t *testing.T) {
	h := newHarness(t, realClock, func(c *Config, _ *Deps) { c.MaxRetry = 1 })
	refreshable := &handoff.AuthError{CRM: handoff.SourceHubSpot, Tenant: "62515", Refreshable: true, Detail: "expired"}
	rl := &handoff.RateLimitError{CRM: handoff.SourceHubSpot, Tenant: "62515", RetryAfter: time.Second}
	h.crm.createErrs = []error{refreshable, rl}
	if err := h.deliver(t, agentEvent("t1", "conv-last", "pricing")); err != nil {
		t.Fatal(err)
	}
	startWorker(t, h)
	var archived []*asynq.TaskInfo
	waitFor(t, "the archived task", 20*time.Second, func() bool {
		archived, _ = h.insp.ListArchivedTasks(QueueHandoff)
		return len(archived) == 1
	})
	if n := h.crm.Calls("CreateTask"); n != 2 {
		t.Fatalf("CreateTask calls = %d, want 2", n)
	}
	waitFor(t, "the conversation released", 5*time.Second, func() bool { return h.lease(t, "conv-last").State == handoff.OwnerReleased })
	if v := testutil.ToFloat64(h.p.m.jobErrors.WithLabelValues(TypeCreateTask, "rate_limited", "true")); v != 1 {
		t.Fatalf("archived rate-limit errors counted = %v, want 1", v)
	}
}

// An archived create-task gives the conversation back to the agent "until
// someone re-runs the archived task" (abandon). When an operator does
// re-run it (asynqmon / Inspector.RunTask) and the task is created, the
// conversation goes to the human who now has the task.
func TestRerunArchivedCreateTaskTakesTheConversationBack(t *testing.T) {
	h := newHarness(t, realClock)
	h.crm.createErrs = []error{fmt.Errorf("create task: %w", &handoff.AuthError{CRM: handoff.SourceHubSpot, Tenant: "62515", Detail: "refresh token revoked"})}
	if err := h.deliver(t, agentEvent("t1", "conv-rerun", "pricing")); err != nil {
		t.Fatal(err)
	}
	startWorker(t, h)
	var archived []*asynq.TaskInfo
	waitFor(t, "the archived task", 10*time.Second, func() bool {
		archived, _ = h.insp.ListArchivedTasks(QueueHandoff)
		return len(archived) == 1
	})
	waitFor(t, "the conversation released", 5*time.Second, func() bool { return h.lease(t, "conv-rerun").State == handoff.OwnerReleased })
	if err := h.insp.RunTask(QueueHandoff, archived[0].ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the task created by the re-run", 10*time.Second, func() bool { return h.crm.taskCount() == 1 })
	waitFor(t, "the conversation pending on the new task", 5*time.Second, func() bool {
		l := h.lease(t, "conv-rerun")
		return l.State == handoff.OwnerPending && l.TaskID != "" && l.HandoffID == archived[0].ID
	})
}
