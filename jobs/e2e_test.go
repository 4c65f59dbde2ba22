package jobs

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/handoff-dev/handoff"
)

// The whole worker on a real asynq server: an event delivered twice (under
// two task ids, as a redelivery past the ingest dedupe would be) yields one
// CRM task, an owned conversation and a scheduled SLA check.
func TestWorkerEndToEnd(t *testing.T) {
	h := newHarness(t, realClock)
	ev := handoff.Event{Source: handoff.SourceHubSpot, Tenant: "62515", DedupeKey: "hs:conv:1", Kind: handoff.KindChatMessage, Channel: "chat",
		OccurredAt: time.Now().UTC(), Contact: handoff.ContactRef{ID: "123"},
		Message: &handoff.Message{Text: "Can I get a pricing quote?", Direction: handoff.Inbound}}
	b, _ := json.Marshal(EventPayload{V: 1, Event: ev})
	for _, id := range []string{"delivery-1", "delivery-2"} {
		opts := append(EventOptions(h.p.cfg), asynq.TaskID(id))
		if _, err := h.client.EnqueueContext(context.Background(), asynq.NewTask(TypeEventProcess, b), opts...); err != nil {
			t.Fatal(err)
		}
	}
	startWorker(t, h)
	conv := "hubspot:62515:123"
	waitFor(t, "the conversation to be owned with a task", 15*time.Second, func() bool {
		return h.lease(t, conv).TaskID != ""
	})
	waitFor(t, "both deliveries processed", 15*time.Second, func() bool {
		q, err := h.insp.GetQueueInfo(QueueEvents)
		return err == nil && q.Pending == 0 && q.Active == 0 && q.Retry == 0
	})
	if n := h.crm.Calls("CreateTask"); n != 1 || h.crm.taskCount() != 1 {
		t.Fatalf("CreateTask calls = %d", n)
	}
	if len(h.auditDecisions(t)) != 1 {
		t.Fatalf("audit decisions = %d", len(h.auditDecisions(t)))
	}
	hid := HandoffID("62515", conv, "pricing", "hs:conv:1")
	info, err := h.insp.GetTaskInfo(QueueHandoff, hid+":sla:1")
	if err != nil || info.State != asynq.TaskStateScheduled || info.Timeout != 30*time.Second {
		t.Fatalf("sla check = %+v, %v", info, err)
	}
	// The contact-keyed conversation through the API (escaped id).
	code, out := call(t, serveAPI(t, h), http.MethodGet, "/api/conversations/"+url.PathEscape(conv), "")
	if code != 200 || out["owner"].(map[string]any)["state"] != "pending" {
		t.Fatalf("conversation: %d %v", code, out)
	}
}
