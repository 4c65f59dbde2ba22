package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/handoff-dev/handoff/connectors/hubspot/hubspottest"
	"github.com/handoff-dev/handoff/internal/testredis"
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
	if o := a.Decision.Owner; o == nil || o.Email != "compliance@acme.example" {
		t.Fatalf("redelivered bea: owner %+v, want compliance@acme.example", a.Decision.Owner)
	}
	if dec.Owner != nil && dec.Owner.Email != "compliance@acme.example" {
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

// callbackReceiver is an agent's callback endpoint: it verifies every
// request with the Standard Webhooks library, answers 500 until
// recovered, 410 for conversations whose id starts with "gone-" and 400
// for those starting with "bad-".
type callbackReceiver struct {
	t      *testing.T
	wh     *standardwebhooks.Webhook
	url    string
	secret string
	down   atomic.Bool
	// hang makes the next request wait until its sender gives up (a
	// worker stopped mid-delivery); hung is told when it does.
	hang atomic.Bool
	hung chan string

	mu       sync.Mutex
	attempts map[string]int // per webhook-id
	accepted []callback     // the 2xx answers, in arrival order
	gone     map[string]int // 410 answers per webhook-id
	refused  map[string]int // 400 answers per webhook-id
	badSig   int
}

type callback struct {
	ID   string
	At   time.Time      // when the receiver accepted it
	Type string         `json:"type"`
	Data map[string]any `json:"data"`
}

func newCallbackReceiver(t *testing.T) *callbackReceiver {
	secret := "whsec_" + base64.StdEncoding.EncodeToString(mustRandom(32))
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	rc := &callbackReceiver{t: t, wh: wh, secret: secret, attempts: map[string]int{}, gone: map[string]int{}, refused: map[string]int{}, hung: make(chan string, 1)}
	rc.down.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if rc.hang.CompareAndSwap(true, false) {
			rc.hung <- r.Header.Get("webhook-id")
			<-r.Context().Done()
			return
		}
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if err := rc.wh.Verify(body, r.Header); err != nil {
			rc.badSig++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		id := r.Header.Get("webhook-id")
		rc.attempts[id]++
		var cb callback
		_ = json.Unmarshal(body, &cb)
		cb.ID, cb.At = id, time.Now()
		if conv, _ := cb.Data["conversation"].(string); strings.HasPrefix(conv, "gone-") {
			rc.gone[id]++
			w.WriteHeader(http.StatusGone)
			return
		}
		if conv, _ := cb.Data["conversation"].(string); strings.HasPrefix(conv, "bad-") {
			rc.refused[id]++
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if rc.down.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		rc.accepted = append(rc.accepted, cb)
		if os.Getenv("HANDOFF_E2E_LOG_DIR") != "" {
			t.Logf("%s accepted %s %s (webhook-timestamp %s)", time.Now().Format(time.RFC3339Nano), cb.Type, id, r.Header.Get("webhook-timestamp"))
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	rc.url = srv.URL + "/agent/callbacks?token=receiver-secret"
	return rc
}

func (rc *callbackReceiver) env() map[string]string {
	return map[string]string{"AGENT_CALLBACK_URL": rc.url, "AGENT_CALLBACK_SECRET": rc.secret,
		"AGENT_CALLBACK_RETRY_BASE": "200ms", "AGENT_CALLBACK_RETRY_MAX_DELAY": "1s"}
}

func (rc *callbackReceiver) snapshot() ([]callback, map[string]int, map[string]int, int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	att, gone := map[string]int{}, map[string]int{}
	for k, v := range rc.attempts {
		att[k] = v
	}
	for k, v := range rc.gone {
		gone[k] = v
	}
	for k, v := range rc.refused {
		gone[k] = v // the not-retried answers, 410 or 400
	}
	return append([]callback(nil), rc.accepted...), att, gone, rc.badSig
}

// firstArrivals is what a receiver deduping by webhook-id keeps: each
// accepted callback once, in the order of its first acceptance.
func firstArrivals(rc *callbackReceiver) []callback {
	cbs, _, _, _ := rc.snapshot()
	seen := map[string]bool{}
	out := cbs[:0]
	for _, cb := range cbs {
		if !seen[cb.ID] {
			seen[cb.ID] = true
			out = append(out, cb)
		}
	}
	return out
}

// ownerChanges returns the accepted conversation.owner_changed callbacks of conv.
func ownerChanges(cbs []callback, conv string) []callback {
	var out []callback
	for _, cb := range cbs {
		if cb.Type == jobs.NoticeOwnerChanged && cb.Data["conversation"] == conv {
			out = append(out, cb)
		}
	}
	return out
}

func byType(cbs []callback, typ string) []callback {
	var out []callback
	for _, cb := range cbs {
		if cb.Type == typ {
			out = append(out, cb)
		}
	}
	return out
}

// A receiver that answers 500 for a while gets every event once it
// recovers: each webhook-id accepted exactly once, owner changes of a
// conversation in sequence order; a receiver answering 410 or 400 gets
// one try, archived (listed, and replayable); every request verifies with
// the Standard Webhooks library.
func TestE2ECallbacksSurviveAnOutage(t *testing.T) {
	t.Parallel()
	rc := newCallbackReceiver(t)
	d, ctx := newE2E(t, e2eOptions{RealRedis: true, Extra: rc.env()})
	tag := runTag()
	beaConv, anaConv, goneConv, badConv := "conv-bea-"+tag, "conv-ana-"+tag, "gone-ian-"+tag, "bad-chris-"+tag

	bea := d.agentDelivery("bea", agentTurn("t-bea-"+tag, beaConv, "bea@firstharbor.example", "email", 1,
		"Can you send your SOC 2 report and a DPA for our review?", "I will check what we can share.", 0.8, 0))
	r, _, a := postWait(t, ctx, d, bea, "wait=5")
	if r.Status != http.StatusOK || a.Decision == nil || a.Decision.Action != "hold" {
		t.Fatalf("bea: %d %s", r.Status, r.Body)
	}
	mustPost(t, ctx, d, d.agentDelivery("ana", agentTurn("t-ana-"+tag, anaConv, anaEmail, "chat", 1,
		"Can I talk to a human please?", "Let me find someone for you.", 0.9, 0)))
	mustPost(t, ctx, d, d.agentDelivery("student", agentTurn("t-stu-"+tag, "conv-stu-"+tag, studentEmail, "chat", 1,
		perSeat, "Our Team plan is listed on the pricing page.", 0.9, 0)))
	mustPost(t, ctx, d, d.agentDelivery("gone", agentTurn("t-gone-"+tag, goneConv, ianEmail, "chat", 1,
		"Can I talk to a human please?", "Let me find someone for you.", 0.9, 0)))
	mustPost(t, ctx, d, d.agentDelivery("bad", agentTurn("t-bad-"+tag, badConv, "chris@globex.example", "chat", 1,
		"Can I talk to a human please?", "Let me find someone for you.", 0.9, 0)))
	mustDrain(t, ctx, d, 30*time.Second)

	// The conversation goes back to the agent while the receiver is down.
	conv := ""
	for _, rec := range decisions(t, ctx, d) {
		if rec.Event.NativeID == "t-bea-"+tag {
			conv = rec.Event.Conversation
		}
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, d.Base+"/api/conversations/"+url.PathEscape(conv)+"/release", nil)
	req.Header.Set("Authorization", "Bearer "+d.AdminToken)
	resp, err := d.http.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("release %s: %v %v", conv, err, resp)
	}
	resp.Body.Close()

	time.Sleep(2 * time.Second) // a few failed attempts
	_, att, _, _ := rc.snapshot()
	if len(att) == 0 {
		t.Fatal("nothing was attempted while the receiver was down")
	}
	rc.down.Store(false)

	// bea: decided, task_created, owner agent→pending, pending+owner, →released.
	eventually(t, 60*time.Second, "bea's callbacks after the receiver recovered", func() bool {
		cbs, _, _, _ := rc.snapshot()
		return len(ownerChanges(cbs, beaConv)) == 3 && len(ownerChanges(cbs, anaConv)) == 2 && len(byType(cbs, jobs.NoticeTaskCreated)) == 2
	})
	time.Sleep(1500 * time.Millisecond) // anything more that would arrive
	cbs, att, gone, bad := rc.snapshot()
	if bad != 0 {
		t.Fatalf("%d requests did not verify with the Standard Webhooks library", bad)
	}
	seen := map[string]int{}
	for _, cb := range cbs {
		seen[cb.ID]++
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("webhook-id %s accepted %d times", id, n)
		}
	}
	retried := 0
	for _, n := range att {
		if n > 1 {
			retried++
		}
	}
	if retried == 0 {
		t.Error("no delivery was retried, so the outage was not exercised")
	}
	for _, c := range []string{beaConv, anaConv} {
		oc := ownerChanges(cbs, c)
		for i, cb := range oc {
			if seq, _ := cb.Data["sequence"].(float64); int(seq) != i+1 {
				t.Errorf("%s: owner change %d has sequence %v (order %v)", c, i, cb.Data["sequence"], oc)
			}
		}
	}
	oc := ownerChanges(cbs, beaConv)
	if oc[0].Data["from"] != "agent" || oc[0].Data["to"] != "pending" || oc[2].Data["to"] != "released" || oc[2].Data["from"] != "pending" {
		t.Errorf("bea's owner changes: %v", oc)
	}
	if o, _ := oc[1].Data["owner"].(map[string]any); o == nil || o["email"] != "compliance@acme.example" || oc[1].Data["task_id"] == "" {
		t.Errorf("bea's owner change with the task: %v", oc[1].Data)
	}
	decided := byType(cbs, jobs.NoticeDecided)
	var beaDecided map[string]any
	for _, cb := range decided {
		if cb.Data["turn_id"] == "t-bea-"+tag {
			beaDecided = cb.Data
		}
		if cb.Data["turn_id"] == "t-stu-"+tag {
			t.Errorf("a continue decision was announced: %v", cb.Data)
		}
	}
	if beaDecided == nil || beaDecided["action"] != "hold" || beaDecided["handoff_id"] != a.Decision.HandoffID {
		t.Errorf("bea's handoff.decided: %v (all: %v)", beaDecided, decided)
	}
	for _, cb := range byType(cbs, jobs.NoticeTaskCreated) {
		taskID, _ := cb.Data["task_id"].(string)
		want := "https://app.hubspot.com/contacts/" + strconv.Itoa(hubspottest.PortalID) + "/record/0-27/" + taskID
		if taskID == "" || cb.Data["task_url"] != want {
			t.Errorf("task_created: task_url %v, want %s", cb.Data["task_url"], want)
		}
	}

	// 410 and 400: one attempt each, archived and listed.
	rc.mu.Lock()
	n410, n400 := len(rc.gone), len(rc.refused)
	rc.mu.Unlock()
	if n410 == 0 || n400 == 0 {
		t.Fatalf("the 410 and 400 conversations got %d and %d callbacks", n410, n400)
	}
	for id, n := range gone {
		if n != 1 {
			t.Errorf("410/400 for %s was retried (%d attempts)", id, n)
		}
	}
	list := func(query string) []map[string]any {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, d.Base+"/api/callbacks"+query, nil)
		req.Header.Set("Authorization", "Bearer "+d.AdminToken)
		resp, err := d.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Callbacks []map[string]any `json:"callbacks"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET /api/callbacks%s: %d %v", query, resp.StatusCode, err)
		}
		return out.Callbacks
	}
	archived := list("?status=archived")
	if len(archived) != len(gone) {
		t.Fatalf("archived callbacks %v, want the %d answered 410", archived, len(gone))
	}
	for _, cb := range archived {
		id := cb["webhook_id"].(string)
		rc.mu.Lock()
		want := "410"
		if rc.refused[id] > 0 {
			want = "400"
		}
		rc.mu.Unlock()
		if gone[id] != 1 || !strings.Contains(cb["last_error"].(string), "answered "+want+", which is not retried") {
			t.Errorf("archived callback %v", cb)
		}
	}
	all := list("")
	completed := 0
	for _, cb := range all {
		if cb["status"] == "completed" {
			completed++
		}
	}
	if completed != len(cbs) {
		t.Errorf("%d completed callbacks listed, %d accepted", completed, len(cbs))
	}

	// Replay: an archived one is tried again (410 again), a delivered one
	// is sent again under the same webhook-id.
	replay := func(id string) int {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, d.Base+"/api/callbacks/"+url.PathEscape(id)+"/replay", nil)
		req.Header.Set("Authorization", "Bearer "+d.AdminToken)
		resp, err := d.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	goneID := archived[0]["id"].(string)
	if st := replay(goneID); st != http.StatusAccepted {
		t.Fatalf("replay archived: %d", st)
	}
	eventually(t, 10*time.Second, "the archived callback was not sent again", func() bool {
		_, _, g, _ := rc.snapshot()
		return g[goneID] == 2
	})
	doneID := oc[2].ID
	if st := replay(doneID); st != http.StatusAccepted {
		t.Fatalf("replay delivered: %d", st)
	}
	eventually(t, 10*time.Second, "the delivered callback was not sent again", func() bool {
		_, att, _, _ := rc.snapshot()
		return att[doneID] >= 2
	})
	if st := replay("msg_nope"); st != http.StatusNotFound {
		t.Errorf("replay unknown: %d", st)
	}
}

// An SLA lapse is announced (handoff.sla_breached), and so is the climb
// that gives the task to someone else (handoff.reassigned and an owner
// change with the new owner).
func TestE2ECallbacksSLABreachAndReassign(t *testing.T) {
	t.Parallel()
	rc := newCallbackReceiver(t)
	rc.down.Store(false)
	file := writeLadder(t, slaLadder)
	env := rc.env()
	env["LADDER_FILE"] = file
	d, ctx := newE2E(t, e2eOptions{RealRedis: true, Extra: env})
	tag := runTag()
	conv := "conv-sla-" + tag
	mustPost(t, ctx, d, d.agentDelivery("ana price", agentTurn("t-sla-"+tag, conv, anaEmail, "chat", 1, perSeat, "See the pricing page.", 0.9, 0)))
	eventually(t, 40*time.Second, "handoff.reassigned", func() bool {
		cbs, _, _, _ := rc.snapshot()
		return len(byType(cbs, jobs.NoticeReassigned)) == 1
	})
	cbs, _, _, bad := rc.snapshot()
	if bad != 0 {
		t.Fatalf("%d requests did not verify", bad)
	}
	br := byType(cbs, jobs.NoticeSLABreached)
	if len(br) == 0 || br[0].Data["step"] != float64(1) || br[0].Data["task_id"] == "" {
		t.Fatalf("sla_breached: %v", br)
	}
	re := byType(cbs, jobs.NoticeReassigned)[0].Data
	owner, _ := re["owner"].(map[string]any)
	prev, _ := re["previous_owner"].(map[string]any)
	if owner["id"] != hubspottest.OwnerManager1 || prev["id"] != hubspottest.OwnerAE1 {
		t.Fatalf("reassigned: %v", re)
	}
	eventually(t, 10*time.Second, "the owner change to the new owner", func() bool {
		cbs, _, _, _ := rc.snapshot()
		for _, cb := range ownerChanges(cbs, conv) {
			if o, _ := cb.Data["owner"].(map[string]any); o != nil && o["id"] == hubspottest.OwnerManager1 {
				return true
			}
		}
		return false
	})
}

// A worker stopped in the middle of a delivery loses nothing: the task
// goes back to the queue and the next process delivers it, once.
func TestE2ECallbackInFlightAtShutdownIsDelivered(t *testing.T) {
	t.Parallel()
	rc := newCallbackReceiver(t)
	rc.down.Store(false)
	rc.hang.Store(true)
	env := rc.env()
	env["SHUTDOWN_TIMEOUT"] = "2s"
	d, ctx := newE2E(t, e2eOptions{RealRedis: true, Extra: env})
	tag := runTag()
	conv := "conv-bea-" + tag
	mustPost(t, ctx, d, d.agentDelivery("bea", agentTurn("t-bea-"+tag, conv, "bea@firstharbor.example", "email", 1,
		"Can you send your SOC 2 report and a DPA for our review?", "I will check what we can share.", 0.8, 0)))
	var hungID string
	select {
	case hungID = <-rc.hung:
	case <-time.After(30 * time.Second):
		t.Fatal("no callback reached the receiver")
	}
	d.restartApp(t, ctx) // stops the worker while that delivery is in flight
	eventually(t, 60*time.Second, "the in-flight callback after the restart", func() bool {
		cbs, _, _, _ := rc.snapshot()
		for _, cb := range cbs {
			if cb.ID == hungID {
				return true
			}
		}
		return false
	})
	eventually(t, 30*time.Second, "all of bea's callbacks", func() bool {
		cbs, _, _, _ := rc.snapshot()
		return len(ownerChanges(cbs, conv)) == 2 && len(byType(cbs, jobs.NoticeTaskCreated)) == 1 && len(byType(cbs, jobs.NoticeDecided)) == 1
	})
	time.Sleep(time.Second)
	cbs, _, _, bad := rc.snapshot()
	seen := map[string]int{}
	for _, cb := range cbs {
		seen[cb.ID]++
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("webhook-id %s accepted %d times", id, n)
		}
	}
	if bad != 0 || len(cbs) != 4 {
		t.Errorf("%d accepted (want 4: decided, task_created, two owner changes), %d bad signatures", len(cbs), bad)
	}
	if oc := ownerChanges(cbs, conv); oc[0].Data["sequence"] != float64(1) || oc[1].Data["sequence"] != float64(2) {
		t.Errorf("owner changes out of order: %v", oc)
	}
}

// A worker killed (SIGKILL) in the middle of a delivery loses nothing: the
// delivery it held comes back through asynq's lease recovery and the next
// worker process delivers it, and every other callback of the handoff,
// once each and in sequence order. The worker is a `handoff serve --role
// worker` subprocess; the HTTP side runs in-process.
func TestE2ECallbackWorkerKilledMidDelivery(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 9*time.Minute)
	defer cancel()
	rc := newCallbackReceiver(t)
	rc.down.Store(false)
	rc.hang.Store(true)
	env := rc.env()
	env["AGENT_CALLBACK_TIMEOUT"] = "60s" // the hung request outlives the kill, not the other way round
	bin := buildHandoff(t)
	d, err := startDemo(ctx, demoOptions{RedisURL: testredis.New(t).URL(), Role: roleHTTP, Extra: env})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	w := startServeProc(t, ctx, bin, roleWorker, d.Env)
	tag := runTag()
	conv := "conv-bea-" + tag
	mustPost(t, ctx, d, d.agentDelivery("bea", agentTurn("t-bea-"+tag, conv, "bea@firstharbor.example", "email", 1,
		"Can you send your SOC 2 report and a DPA for our review?", "I will check what we can share.", 0.8, 0)))
	var hungID string
	select {
	case hungID = <-rc.hung:
	case <-time.After(60 * time.Second):
		t.Fatalf("no callback reached the receiver\n%s", w.tail())
	}
	if info, err := d.app.inspector.GetTaskInfo("callbacks", hungID); err != nil || info.State.String() != "active" {
		t.Fatalf("the hung delivery %s is not active: %v %v", hungID, info, err)
	}
	if err := w.signal(t, syscall.SIGKILL, 10*time.Second); err == nil {
		t.Fatal("the worker exited cleanly on SIGKILL?")
	}
	killedAt := time.Now()
	w = startServeProc(t, ctx, bin, roleWorker, d.Env)
	eventually(t, 3*time.Minute, "the killed worker's delivery, after lease recovery", func() bool {
		cbs, _, _, _ := rc.snapshot()
		for _, cb := range cbs {
			if cb.ID == hungID {
				return true
			}
		}
		return false
	})
	// Other tasks the dead worker held (the event or the task creation
	// that queued these callbacks) come back one recoverer pass (a
	// minute) after their lease expired, and then wait out their retry
	// delay. The receiver counts webhook-ids once, as Standard Webhooks
	// asks receivers to.
	deadline := time.Now().Add(4 * time.Minute)
	for {
		cbs := firstArrivals(rc)
		if len(ownerChanges(cbs, conv)) == 2 && len(byType(cbs, jobs.NoticeTaskCreated)) == 1 && len(byType(cbs, jobs.NoticeDecided)) == 1 {
			break
		}
		if time.Now().After(deadline) {
			var got []string
			for _, cb := range cbs {
				got = append(got, cb.Type+" "+cb.ID)
			}
			t.Fatalf("after 4m: not all of bea's callbacks arrived; accepted: %v\nqueues:\n%s\nworker log tail:\n%s", got, d.queueDump(), w.tail())
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second)
	all, _, _, bad := rc.snapshot()
	// A webhook-id may arrive twice only if the dead worker's delivery of
	// it was answered before the kill: the receiver said 2xx, the worker
	// died before asynq recorded the task done, and the recovered task
	// sent it again with the same webhook-id (at-least-once; receivers
	// dedupe). Anything else accepted twice is a duplicate of ours.
	first := map[string]time.Time{}
	for _, cb := range all {
		if at, seen := first[cb.ID]; !seen {
			first[cb.ID] = cb.At
		} else if !at.Before(killedAt) {
			t.Errorf("webhook-id %s (%s) accepted again after the kill, first at %s (kill at %s)", cb.ID, cb.Type, at.Format(time.RFC3339Nano), killedAt.Format(time.RFC3339Nano))
		}
	}
	cbs := firstArrivals(rc)
	if bad != 0 || len(cbs) != 4 {
		t.Errorf("%d webhook-ids accepted (want 4: decided, task_created, two owner changes), %d bad signatures", len(cbs), bad)
	}
	if oc := ownerChanges(cbs, conv); len(oc) != 2 || oc[0].Data["sequence"] != float64(1) || oc[1].Data["sequence"] != float64(2) {
		t.Errorf("owner changes out of order: %v", oc)
	}
	if t.Failed() {
		t.Logf("worker log tail:\n%s", w.tail())
	}
}
