package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/handoff-dev/handoff/jobs"
)

// loopReceiver is the demo agent's callback endpoint on loopback: it
// verifies each callback with the Standard Webhooks library and keeps it.
type loopReceiver struct {
	URL, Secret string
	srv         *http.Server
	wh          *standardwebhooks.Webhook

	mu       sync.Mutex
	got      []loopCallback
	seen     map[string]bool
	rejected int
}

type loopCallback struct {
	ID   string
	Type string         `json:"type"`
	Data map[string]any `json:"data"`
}

func startLoopReceiver() (*loopReceiver, error) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	rc := &loopReceiver{Secret: "whsec_" + base64.StdEncoding.EncodeToString(key), seen: map[string]bool{}}
	wh, err := standardwebhooks.NewWebhook(rc.Secret)
	if err != nil {
		return nil, err
	}
	rc.wh = wh
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start the demo agent's callback receiver: %w", err)
	}
	rc.URL = "http://" + l.Addr().String() + "/agent/callbacks"
	rc.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if rc.wh.Verify(body, r.Header) != nil {
			rc.rejected++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		id := r.Header.Get("webhook-id")
		if !rc.seen[id] { // receivers deduplicate on webhook-id
			rc.seen[id] = true
			cb := loopCallback{ID: id}
			_ = json.Unmarshal(body, &cb)
			rc.got = append(rc.got, cb)
		}
		w.WriteHeader(http.StatusNoContent)
	})}
	go func() { _ = rc.srv.Serve(l) }()
	return rc, nil
}

func (rc *loopReceiver) Close() { _ = rc.srv.Close() }

func (rc *loopReceiver) about(conv string) []loopCallback {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []loopCallback
	for _, cb := range rc.got {
		if cb.Data["conversation"] == conv || cb.Data["conversation_id"] == conv {
			out = append(out, cb)
		}
	}
	return out
}

// showLoop plays the agent's side of the loop: it posts a turn with
// Prefer: wait=5 and prints the synchronous decision, then the signed
// callbacks that follow for that conversation.
func (d *demoEnv) showLoop(ctx context.Context, w io.Writer, rc *loopReceiver) error {
	conv := "conv-loop-" + runID()
	turn := map[string]any{
		"type": "agent.turn", "id": conv + "-t1", "occurred_at": time.Now().UTC().Format(time.RFC3339),
		"conversation_id": conv, "channel": "chat",
		"contact": map[string]any{"email": "ana@globex.example", "crm": "hubspot", "tenant": d.HubSpot.PortalID()},
		"turn":    1, "buyer_message": "Can I talk to a human please?", "agent_reply": "Let me find someone for you.", "confidence": 0.9,
	}
	dl := d.agentDelivery("loop", turn)
	dl.Header.Set("Prefer", "wait=5")
	fmt.Fprintf(w, "\nThe agent's loop: a turn posted with \"Prefer: wait=5\" (the agent asks before sending its reply):\n")
	t0 := time.Now()
	r, err := d.post(ctx, dl)
	if err != nil {
		return fmt.Errorf("demo: post the loop turn: %w", err)
	}
	var ans struct {
		Decision *jobs.TurnDecision `json:"decision"`
	}
	_ = json.Unmarshal([]byte(r.Body), &ans)
	if r.Status != http.StatusOK || ans.Decision == nil {
		return fmt.Errorf("demo: the loop turn answered %d: %s", r.Status, firstLine(r.Body))
	}
	dec := ans.Decision
	owner := "(not known yet)"
	switch o := dec.Owner; {
	case o != nil && o.Email != "":
		owner = strings.TrimSpace(o.Name + " <" + o.Email + ">")
	case o != nil:
		owner = "CRM owner " + o.ID
	}
	due := ""
	if dec.DueAt != nil {
		due = ", due " + dec.DueAt.Local().Format("15:04")
	}
	fmt.Fprintf(w, "  %d in %s: %s at %q, owner state %s, owner %s%s\n", r.Status, time.Since(t0).Round(time.Millisecond),
		dec.Action, dec.Rung+dec.Exception, dec.OwnerState, owner, due)

	// The callbacks that follow: decided, task created, owner changes.
	deadline := time.Now().Add(10 * time.Second)
	for len(rc.about(conv)) < 4 && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	fmt.Fprintf(w, "Signed callbacks received at the agent's %s (each verified with the Standard Webhooks library):\n", rc.URL)
	var b bytes.Buffer
	for _, cb := range rc.about(conv) {
		fmt.Fprintf(&b, "  %-27s", cb.Type)
		switch cb.Type {
		case jobs.NoticeDecided:
			fmt.Fprintf(&b, " %v at %v%v", cb.Data["action"], cb.Data["rung"], cb.Data["exception"])
		case jobs.NoticeTaskCreated:
			fmt.Fprintf(&b, " task %v %v", cb.Data["task_id"], cb.Data["task_url"])
		case jobs.NoticeOwnerChanged:
			fmt.Fprintf(&b, " #%v %v → %v", cb.Data["sequence"], cb.Data["from"], cb.Data["to"])
			if o, _ := cb.Data["owner"].(map[string]any); o != nil && o["email"] != "" {
				fmt.Fprintf(&b, " (%v)", o["email"])
			} else if o != nil && o["id"] != "" {
				fmt.Fprintf(&b, " (CRM owner %v)", o["id"])
			}
		}
		b.WriteString("\n")
	}
	_, _ = w.Write(b.Bytes())
	rc.mu.Lock()
	total, rejected := len(rc.got), rc.rejected
	rc.mu.Unlock()
	fmt.Fprintf(w, "  (%d callbacks in all during the demo, %d rejected)\n", total, rejected)
	return nil
}

func runID() string { return fmt.Sprintf("%x", time.Now().UnixNano()) }
