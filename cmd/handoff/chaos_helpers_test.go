package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/handoff-dev/handoff/connectors/hubspot/hubspottest"
	"github.com/handoff-dev/handoff/internal/testredis"
	"github.com/handoff-dev/handoff/jobs"
)

// The chaos suite (issue 7) counts events in and tasks out under faults:
// every acknowledged event must produce exactly one decision, and every
// handoff decided exactly one CRM task. Each scenario has its own Redis
// and its own CRM fakes, so they run in parallel.

// chaosTurn is one agent turn the suite sends, and whether the default
// ladder escalates it (the buyer asks for a person: rung human-request).
type chaosTurn struct {
	ID        string // webhook-id = turn id = Event.NativeID
	Conv      string
	Escalates bool
	Delivery  Delivery
}

// chaosTurns builds n agent turns for the seeded HubSpot portal, each in
// its own conversation; two of three ask for a human, one is a plain
// question the ladder lets the agent answer.
func (d *demoEnv) chaosTurns(tag string, n int) []chaosTurn {
	run := tag + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	var out []chaosTurn
	for i := range n {
		esc := i%3 != 2
		text, reply := "Can I talk to a human please?", "Let me find someone for you."
		if !esc {
			text, reply = "How much does it cost per seat? It is for a class project.", "Our Team plan is listed on the pricing page."
		}
		out = append(out, d.chaosTurn(run, fmt.Sprintf("conv-%d", i), 1, text, reply, esc))
	}
	return out
}

func (d *demoEnv) chaosTurn(run, conv string, n int, text, reply string, escalates bool) chaosTurn {
	id := fmt.Sprintf("t-%s-%s-%d", run, conv, n)
	c := conv + "-" + run
	turn := map[string]any{
		"type": "agent.turn", "id": id, "occurred_at": time.Now().UTC().Add(time.Duration(n) * time.Second).Format(time.RFC3339),
		"conversation_id": c, "channel": "chat",
		"contact": map[string]any{"email": "sam.student@university.example", "crm": "hubspot", "tenant": strconv.Itoa(hubspottest.PortalID)},
		"turn":    n, "buyer_message": text, "agent_reply": reply, "confidence": 0.9, "tool_failures": 0,
		"transcript_url": "https://agent.acme.example/conversations/" + c,
	}
	return chaosTurn{ID: id, Conv: c, Escalates: escalates, Delivery: d.agentDelivery(id, turn)}
}

// chaosPoster posts like a webhook sender: a 2xx is an acknowledgement,
// anything else (connection refused, 5xx) is retried until the deadline.
type chaosPoster struct {
	http     *http.Client
	mu       sync.Mutex
	attempts int
	refused  int // non-2xx answers and transport errors
	non2xx   map[int]int
}

func newChaosPoster() *chaosPoster {
	return &chaosPoster{http: &http.Client{Timeout: 10 * time.Second}, non2xx: map[int]int{}}
}

// once posts one attempt; it returns the status (0 = transport error).
func (p *chaosPoster) once(ctx context.Context, base string, dl Delivery) int {
	p.mu.Lock()
	p.attempts++
	p.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+dl.Route, bytes.NewReader(dl.Body))
	if err != nil {
		return 0
	}
	for k, vs := range dl.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	status := 0
	resp, err := p.http.Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		status = resp.StatusCode
	}
	if status < 200 || status > 299 {
		p.mu.Lock()
		p.refused++
		p.non2xx[status]++
		p.mu.Unlock()
	}
	return status
}

// post retries until a 2xx (true) or the deadline (false). A 4xx is
// final: a sender does not retry it, and the suite never sends one.
func (p *chaosPoster) post(ctx context.Context, base string, dl Delivery, within time.Duration) (bool, int) {
	deadline := time.Now().Add(within)
	for {
		st := p.once(ctx, base, dl)
		switch {
		case st >= 200 && st <= 299:
			return true, st
		case st >= 400 && st <= 499:
			return false, st
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false, st
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond): // a sender's backoff
		}
	}
}

func (p *chaosPoster) refusals() int { p.mu.Lock(); defer p.mu.Unlock(); return p.refused }

// chaosResult is one scenario's count.
type chaosResult struct {
	Scenario   string
	Sent       int // distinct events sent
	Acked      int // distinct events acknowledged (2xx)
	Decisions  int // decision records of acknowledged events
	Handoffs   int // distinct handoffs decided
	Tasks      int // CRM tasks created
	Duplicates int // extra decisions + extra tasks + tasks no decision asked for
	Lost       int // acknowledged events without a decision + handoffs without a task + escalations not handed off
	Archived   int
	Refusals   int // non-2xx answers / refused connections seen by senders
	// StoredUnacked counts events that were stored although their sender
	// saw no 2xx (the answer was lost): allowed, a retry is a duplicate the
	// dedupe absorbs. The reverse (2xx, not stored) is a loss.
	StoredUnacked int
	Description   string
}

var handoffMarkerRE = regexp.MustCompile(`Handoff ID: (ho_[0-9a-f]+)`)

// chaosCount waits for the queues to drain, then counts decisions and
// tasks against what was acknowledged.
func (d *demoEnv) chaosCount(t *testing.T, ctx context.Context, res *chaosResult, sent []chaosTurn, acked map[string]bool, within time.Duration) {
	t.Helper()
	if err := d.waitDrained(ctx, within); err != nil {
		t.Errorf("%s: %v", res.Scenario, err)
	}
	res.Sent = len(sent)
	res.Acked = len(acked)
	recs, err := jobs.NewOutcomes(d.app.redis.Client).FindDecisions(ctx, jobs.DecisionQuery{Limit: 500})
	if err != nil {
		t.Fatalf("read decisions: %v", err)
	}
	perEvent := map[string]int{}
	handoffs := map[string]bool{}
	plan := map[string]string{}
	for _, r := range recs {
		perEvent[r.Event.NativeID]++
		plan[r.Event.NativeID] = r.Plan
		if r.Plan == jobs.PlanHandoff {
			handoffs[r.HandoffID] = true
		}
	}
	for _, s := range sent {
		n := perEvent[s.ID]
		if acked[s.ID] {
			res.Decisions += min(n, 1)
			if n == 0 {
				res.Lost++
				t.Errorf("%s: acknowledged event %s has no decision", res.Scenario, s.ID)
			} else if s.Escalates && plan[s.ID] != jobs.PlanHandoff && plan[s.ID] != jobs.PlanFollowUp {
				res.Lost++
				t.Errorf("%s: escalating event %s was decided with plan %q", res.Scenario, s.ID, plan[s.ID])
			}
		}
		if !acked[s.ID] && n > 0 {
			res.StoredUnacked++
		}
		if n > 1 {
			res.Duplicates += n - 1
			t.Errorf("%s: event %s decided %d times", res.Scenario, s.ID, n)
		}
	}
	res.Handoffs = len(handoffs)
	perHandoff := map[string]int{}
	for _, id := range d.HubSpot.TaskIDs() {
		props, _, _ := d.HubSpot.Task(id)
		m := handoffMarkerRE.FindStringSubmatch(props["hs_task_body"])
		if m == nil {
			res.Duplicates++
			t.Errorf("%s: HubSpot task %s carries no handoff id", res.Scenario, id)
			continue
		}
		perHandoff[m[1]]++
		res.Tasks++
	}
	for h := range handoffs {
		if perHandoff[h] == 0 {
			res.Lost++
			t.Errorf("%s: handoff %s has no task", res.Scenario, h)
		}
	}
	for h, n := range perHandoff {
		switch {
		case !handoffs[h]:
			res.Duplicates += n
			t.Errorf("%s: %d task(s) for handoff %s, which no decision asked for", res.Scenario, n, h)
		case n > 1:
			res.Duplicates += n - 1
			t.Errorf("%s: handoff %s has %d tasks", res.Scenario, h, n)
		}
	}
	arch := d.archived()
	res.Archived = len(arch)
	for _, a := range arch {
		t.Errorf("%s: archived %s %s: %s", res.Scenario, a.Type, a.ID, a.LastErr)
	}
	chaosReport(t, *res)
}

// chaosReport logs one line the script collects, and appends it to
// $CHAOS_REPORT when set.
func chaosReport(t *testing.T, r chaosResult) {
	line := fmt.Sprintf("CHAOS-RESULT\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d", r.Scenario, r.Sent, r.Acked, r.Decisions, r.Handoffs, r.Tasks, r.Duplicates, r.Lost, r.Archived, r.Refusals)
	t.Logf("%s  (scenario sent acked decisions handoffs tasks duplicates lost archived refusals; %s; stored without a 2xx: %d)", line, r.Description, r.StoredUnacked)
	if p := os.Getenv("CHAOS_REPORT"); p != "" {
		f, err := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintln(f, line)
			f.Close()
		}
	}
	if r.Lost > 0 || r.Duplicates > 0 || r.Archived > 0 {
		t.Errorf("%s: lost %d, duplicates %d, archived %d (want 0, 0, 0)", r.Scenario, r.Lost, r.Duplicates, r.Archived)
	}
}

// buildHandoff compiles this command once per test into its temp dir.
func buildHandoff(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "handoff")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// proc is a `handoff serve` subprocess.
type proc struct {
	cmd  *exec.Cmd
	Base string
	log  string
	done chan error
}

// startServe runs `handoff serve --role role` with env (HTTP_ADDR replaced
// by a free port) and waits until it is ready.
func startServeProc(t *testing.T, ctx context.Context, bin, role string, env map[string]string) *proc {
	t.Helper()
	port, err := testredis.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	// HANDOFF_E2E_LOG_DIR=dir keeps each subprocess's log as
	// dir/<test>-serve-<role>-<port>.log, for debugging a failure.
	logf := filepath.Join(t.TempDir(), "serve-"+role+".log")
	if dir := os.Getenv("HANDOFF_E2E_LOG_DIR"); dir != "" {
		logf = filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+"-serve-"+role+"-"+strconv.Itoa(port)+".log")
	}
	f, err := os.Create(logf)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--role", role)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		if k == "HTTP_ADDR" {
			v = addr
		}
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, Base: "http://" + addr, log: logf, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait(); f.Close() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := c.Get(p.Base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("handoff serve --role %s exited: %v\n%s", role, err, p.tail())
		default:
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("handoff serve --role %s not ready in 30s\n%s", role, p.tail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// signal sends sig and, for SIGTERM, waits for the process to exit.
func (p *proc) signal(t *testing.T, sig syscall.Signal, wait time.Duration) error {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(wait):
		t.Fatalf("process did not exit within %s after %v\n%s", wait, sig, p.tail())
	}
	return nil
}

func (p *proc) tail() string {
	b, _ := os.ReadFile(p.log)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

// activeTasks returns the ids (queue/id) of the tasks in the active state,
// and whether each is a task creation.
func (d *demoEnv) activeTasks() map[string]bool {
	out := map[string]bool{}
	for _, q := range []string{jobs.QueueEvents, jobs.QueueHandoff} {
		ts, err := d.app.inspector.ListActiveTasks(q)
		if err != nil {
			continue
		}
		for _, ti := range ts {
			out[q+"/"+ti.ID] = q == jobs.QueueHandoff
		}
	}
	return out
}

// postAll posts turns with `workers` concurrent senders and returns the
// acknowledged ids.
func postAll(ctx context.Context, p *chaosPoster, base string, turns []chaosTurn, workers int, within time.Duration) map[string]bool {
	var mu sync.Mutex
	acked := map[string]bool{}
	ch := make(chan chaosTurn)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for tr := range ch {
				if ok, _ := p.post(ctx, base, tr.Delivery, within); ok {
					mu.Lock()
					acked[tr.ID] = true
					mu.Unlock()
				}
			}
		}()
	}
	for _, tr := range turns {
		ch <- tr
	}
	close(ch)
	wg.Wait()
	return acked
}

func itoa(n int) string { return strconv.Itoa(n) }

// chaosLog is where an in-process app logs: $CHAOS_LOG_DIR/<name>.log when
// set (to read after a failure), else nowhere.
func chaosLog(t *testing.T, name string) io.Writer {
	dir := os.Getenv("CHAOS_LOG_DIR")
	if dir == "" {
		return nil
	}
	f, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// queueDump describes every task of every queue that is not completed:
// what a test that waits in vain for the pipeline prints.
func (d *demoEnv) queueDump() string {
	qs, err := d.app.inspector.Queues()
	if err != nil {
		return "list queues: " + err.Error()
	}
	var b strings.Builder
	for _, q := range qs {
		lists := []struct {
			state string
			list  func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error)
		}{{"pending", d.app.inspector.ListPendingTasks}, {"active", d.app.inspector.ListActiveTasks},
			{"scheduled", d.app.inspector.ListScheduledTasks}, {"retry", d.app.inspector.ListRetryTasks},
			{"archived", d.app.inspector.ListArchivedTasks}}
		for _, l := range lists {
			ts, err := l.list(q, asynq.PageSize(50))
			if err != nil {
				fmt.Fprintf(&b, "%s %s: %v\n", q, l.state, err)
				continue
			}
			for _, ti := range ts {
				fmt.Fprintf(&b, "%s %s %s %s retried=%d next=%s err=%q\n", q, l.state, ti.Type, ti.ID, ti.Retried,
					ti.NextProcessAt.Format(time.RFC3339), ti.LastErr)
			}
		}
	}
	return b.String()
}
