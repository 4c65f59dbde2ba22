package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/handoff-dev/handoff/jobs"
)

// syncAnswer is the answer to an agent turn posted with Prefer: wait.
type syncAnswer struct {
	Status     string             `json:"status"`
	Accepted   int                `json:"accepted"`
	Duplicates int                `json:"duplicates"`
	Decision   *jobs.TurnDecision `json:"decision"`
}

func postWait(t *testing.T, ctx context.Context, d *demoEnv, dl Delivery, prefer string) (Response, http.Header, syncAnswer) {
	t.Helper()
	if prefer != "" {
		dl.Header = dl.Header.Clone()
		dl.Header.Set("Prefer", prefer)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Base+dl.Route, strings.NewReader(string(dl.Body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = dl.Header
	resp, err := d.http.Do(req)
	if err != nil {
		t.Fatalf("post %s: %v", dl.Label, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var a syncAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("post %s: answer is not JSON: %s", dl.Label, b)
	}
	return Response{Status: resp.StatusCode, Body: string(b)}, resp.Header, a
}

// An agent that posts its turn with "Prefer: wait=N" gets the pipeline's
// decision in the answer: a hold (do not send the drafted reply) with the
// human who now owns the buyer; a redelivery gets the same decision; a
// turn without Prefer is acknowledged as before; when no worker decides in
// time the answer is 202 pending.
func TestE2ESynchronousDecision(t *testing.T) {
	t.Parallel()
	const agentToken = "agent-token-0123456789abcdef"
	d, ctx := newE2E(t, e2eOptions{RealRedis: true, Extra: map[string]string{"AGENT_API_TOKEN": agentToken}})
	tag := runTag()

	bea := d.agentDelivery("bea", agentTurn("t-bea-"+tag, "conv-bea-"+tag, "bea@firstharbor.example", "email", 1,
		"Can you send your SOC 2 report and a DPA for our review?", "I will check what we can share.", 0.8, 0))
	start := time.Now()
	r, h, a := postWait(t, ctx, d, bea, "wait=8")
	took := time.Since(start)
	if r.Status != http.StatusOK || a.Decision == nil {
		t.Fatalf("bea with Prefer: wait=8: %d %s", r.Status, r.Body)
	}
	if got := h.Get("Preference-Applied"); got != "wait=8" {
		t.Errorf("Preference-Applied = %q, want wait=8", got)
	}
	dec := *a.Decision
	if a.Accepted != 1 || a.Duplicates != 0 || dec.Action != "hold" || dec.Rung+dec.Exception == "" ||
		dec.OwnerState != "pending" || !strings.HasPrefix(dec.HandoffID, "ho_") || dec.TurnID != "t-bea-"+tag ||
		dec.ConversationID != "conv-bea-"+tag || dec.LadderVersion == "" || dec.DueAt == nil || dec.Reason == "" {
		t.Fatalf("bea's decision: %s", r.Body)
	}
	t.Logf("synchronous hold in %s (owner in the answer: %v)", took.Round(time.Millisecond), dec.Owner != nil)

	// It is the decision the pipeline recorded and acted on: one per turn.
	mustDrain(t, ctx, d, 30*time.Second)
	var recs []jobs.DecisionRecord
	for _, rec := range decisions(t, ctx, d) {
		if rec.Event.NativeID == "t-bea-"+tag {
			recs = append(recs, rec)
		}
	}
	if len(recs) != 1 || recs[0].HandoffID != dec.HandoffID || recs[0].Action != "hold" ||
		recs[0].Decision.RungID != dec.Rung || recs[0].Decision.ExceptionID != dec.Exception {
		t.Fatalf("recorded decisions for bea's turn: %+v", recs)
	}
	if sla := recs[0].Decision.SLA; sla <= 0 || dec.DueAt.Sub(start) < sla-time.Minute || dec.DueAt.Sub(start) > sla+time.Minute {
		t.Errorf("due_at %s is not the rung's SLA (%s) from now", dec.DueAt, sla)
	}

	// A redelivery of the same webhook-id returns the recorded decision,
	// now with the owner the task went to.
	r, _, a = postWait(t, ctx, d, d.agentDelivery("bea again", agentTurn("t-bea-"+tag, "conv-bea-"+tag, "bea@firstharbor.example", "email", 1,
		"Can you send your SOC 2 report and a DPA for our review?", "I will check what we can share.", 0.8, 0)), "respond-async, wait=3")
	if r.Status != http.StatusOK || a.Duplicates != 1 || a.Accepted != 0 || a.Decision == nil || a.Decision.HandoffID != dec.HandoffID {
		t.Fatalf("redelivered bea: %d %s", r.Status, r.Body)
	}
	if o := a.Decision.Owner; o == nil || o.Email != "counsel@acme.example" {
		t.Fatalf("redelivered bea: owner %+v, want counsel@acme.example", a.Decision.Owner)
	}
	if dec.Owner != nil && dec.Owner.Email != "counsel@acme.example" {
		t.Fatalf("first answer named owner %+v", dec.Owner)
	}

	// A student's price question: continue, the agent keeps the buyer.
	r, _, a = postWait(t, ctx, d, d.agentDelivery("student", agentTurn("t-stu-"+tag, "conv-stu-"+tag, studentEmail, "chat", 1,
		perSeat, "Our Team plan is listed on the pricing page.", 0.9, 0)), "wait=5")
	if r.Status != http.StatusOK || a.Decision == nil || a.Decision.Action != "continue" || a.Decision.OwnerState != "agent" ||
		a.Decision.HandoffID != "" || a.Decision.Owner != nil || a.Decision.DueAt != nil {
		t.Fatalf("student with wait: %d %s", r.Status, r.Body)
	}

	// Without Prefer nothing changes: no decision, no Preference-Applied.
	r, h, _ = postWait(t, ctx, d, d.agentDelivery("student 2", agentTurn("t-stu2-"+tag, "conv-stu-"+tag, studentEmail, "chat", 2,
		"thanks", "You are welcome.", 0.9, 0)), "")
	if r.Status != http.StatusOK || strings.Contains(r.Body, "decision") || h.Get("Preference-Applied") != "" {
		t.Fatalf("turn without Prefer: %d %s %v", r.Status, r.Body, h)
	}

	// The agent token reads the conversation's owner, and nothing else.
	conv := recs[0].Event.Conversation
	get := func(path, token string) int {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, d.Base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := d.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for path, want := range map[string]int{
		"/api/conversations/" + url.PathEscape(conv): 200,
		"/api/decisions":           403,
		"/api/outcomes":            403,
		"/api/callbacks":           403,
		"/admin/queues/":           401,
		"/admin/queues/api/queues": 401,
	} {
		if got := get(path, agentToken); got != want {
			t.Errorf("agent token GET %s: %d, want %d", path, got, want)
		}
	}
	if got := get("/api/decisions", d.AdminToken); got != 200 {
		t.Errorf("admin token GET /api/decisions: %d", got)
	}

	// No worker decides: after the wait, 202 pending.
	d.app.worker.Stop()
	r, h, a = postWait(t, ctx, d, d.agentDelivery("ana", agentTurn("t-ana-"+tag, "conv-ana-"+tag, anaEmail, "chat", 1,
		"Can I talk to a human please?", "Let me find someone.", 0.9, 0)), "wait=1")
	if r.Status != http.StatusAccepted || a.Status != "pending" || a.Decision != nil || !strings.Contains(r.Body, `"decision":null`) ||
		h.Get("Preference-Applied") != "wait=1" || a.Accepted != 1 {
		t.Fatalf("undecided turn: %d %s", r.Status, r.Body)
	}
}
