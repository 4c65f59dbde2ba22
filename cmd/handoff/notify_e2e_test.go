package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/handoff-dev/handoff/connectors/hubspot/hubspottest"
)

// chatReceiver is a local Slack-compatible incoming webhook: it records
// the text of each message by path.
type chatReceiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	got map[string][]string
}

func newChatReceiver(t *testing.T) *chatReceiver {
	cr := &chatReceiver{got: map[string][]string{}}
	cr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m struct {
			Text string `json:"text"`
		}
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(b, &m) != nil || m.Text == "" {
			w.WriteHeader(http.StatusBadRequest) // as Slack answers a payload without text
			return
		}
		cr.mu.Lock()
		cr.got[r.URL.Path] = append(cr.got[r.URL.Path], m.Text)
		cr.mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(cr.srv.Close)
	return cr
}

func (cr *chatReceiver) texts(path string) []string {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	return append([]string(nil), cr.got[path]...)
}

const notifyLadder = `version: "e2e-notify-1"
defaults:
  sla: 4h
  priority: medium
topics:
  pricing: {phrases: [pricing, price, quote, "per seat", "how much"], risk: high}
teams:
  sales:
    owners: [ae1@acme.example]
    notify: ["slack:%[1]s/services/sales", "webhook:%[2]s/events/sales"]
  managers:
    owners: [mgr1@acme.example]
    notify: ["mattermost:%[1]s/hooks/managers", "webhook:MANAGERS_HOOK_SECRET:%[2]s/events/managers"]
rungs:
  - id: pricing
    description: Pricing questions go to sales
    when: "'pricing' in signals.topics"
    action: handoff
    route: {team: sales}
    sla: 2s
climb:
  - {after: 1x, do: notify, to: {team: managers}}
`

// eventReceiver is a generic webhook notify target: it verifies each
// request with the Standard Webhooks library and the secret of its path,
// answers 500 to the first attempt of each webhook-id, and records the
// events it accepts by path.
type eventReceiver struct {
	srv     *httptest.Server
	secrets map[string]string // path → whsec_ secret
	mu      sync.Mutex
	tries   map[string]int // webhook-id → attempts
	got     map[string][]callback
	bad     int
}

func newEventReceiver(t *testing.T, secrets map[string]string) *eventReceiver {
	er := &eventReceiver{secrets: secrets, tries: map[string]int{}, got: map[string][]callback{}}
	er.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		er.mu.Lock()
		defer er.mu.Unlock()
		wh, err := standardwebhooks.NewWebhook(er.secrets[r.URL.Path])
		if err != nil || wh.Verify(b, r.Header) != nil {
			er.bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		id := r.Header.Get("webhook-id")
		if er.tries[id]++; er.tries[id] == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		var cb callback
		_ = json.Unmarshal(b, &cb)
		cb.ID = id
		er.got[r.URL.Path] = append(er.got[r.URL.Path], cb)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(er.srv.Close)
	return er
}

func (er *eventReceiver) events(path string) []callback {
	er.mu.Lock()
	defer er.mu.Unlock()
	return append([]callback(nil), er.got[path]...)
}

// Through the real server, worker, Redis and HubSpot fake: the handoff
// tells the sales channel who owns it, why, when it is due and where the
// task is; when the 2s SLA lapses the climb notify step tells the
// managers' channel (to:) and the sales channel (the owner's team). The
// teams' generic webhook targets get the same news as signed events
// (handoff.task_created, then handoff.sla_breached), each verified with
// the Standard Webhooks library and its own secret, delivered once each
// after a 500.
func TestE2EHandoffNotifiesTeams(t *testing.T) {
	t.Parallel()
	cr := newChatReceiver(t)
	salesSecret := "whsec_" + base64.StdEncoding.EncodeToString(mustRandom(32))
	managersSecret := "whsec_" + base64.StdEncoding.EncodeToString(mustRandom(32))
	er := newEventReceiver(t, map[string]string{"/events/sales": salesSecret, "/events/managers": managersSecret})
	file := writeLadder(t, fmt.Sprintf(notifyLadder, cr.srv.URL, er.srv.URL))
	d, ctx := newE2E(t, e2eOptions{RealRedis: true, Extra: map[string]string{"LADDER_FILE": file,
		"NOTIFY_WEBHOOK_SECRET": salesSecret, "MANAGERS_HOOK_SECRET": managersSecret,
		"AGENT_CALLBACK_RETRY_BASE": "200ms", "AGENT_CALLBACK_RETRY_MAX_DELAY": "1s"}})
	tag := runTag()
	mustPost(t, ctx, d, d.agentDelivery("ana price", agentTurn("t-ntf-"+tag, "conv-ntf-"+tag, anaEmail, "chat", 1, perSeat, "See the pricing page.", 0.9, 0)))
	eventually(t, 30*time.Second, "the sales channel hears of the handoff", func() bool { return len(cr.texts("/services/sales")) >= 1 })
	ids := d.HubSpot.TaskIDs()
	if len(ids) != 1 {
		t.Fatalf("%d tasks, want 1", len(ids))
	}
	msg := cr.texts("/services/sales")[0]
	for _, want := range []string{"ae1@acme.example", "pricing", "due 20", "/record/0-27/" + ids[0] + "|Open the task>"} {
		if !strings.Contains(msg, want) {
			t.Errorf("sales message lacks %q:\n%s", want, msg)
		}
	}
	eventually(t, 30*time.Second, "the climb notify step reaches the managers", func() bool { return len(cr.texts("/hooks/managers")) >= 1 })
	m := cr.texts("/hooks/managers")[0]
	if !strings.Contains(m, "SLA lapsed") || !strings.Contains(m, "[Open the task](") || !strings.Contains(m, "ae1@acme.example") {
		t.Fatalf("managers message:\n%s", m)
	}
	eventually(t, 10*time.Second, "the owner's team hears of the lapse too", func() bool { return len(cr.texts("/services/sales")) >= 2 })
	if p, _, _ := d.HubSpot.Task(ids[0]); p["hubspot_owner_id"] != hubspottest.OwnerAE1 {
		t.Fatalf("notify must not reassign: owner %s", p["hubspot_owner_id"])
	}
	time.Sleep(500 * time.Millisecond)
	if n := len(cr.texts("/hooks/managers")); n != 1 {
		t.Fatalf("managers got %d messages, want 1", n)
	}

	// The generic webhook targets.
	eventually(t, 20*time.Second, "the signed events", func() bool {
		return len(er.events("/events/sales")) == 2 && len(er.events("/events/managers")) == 1
	})
	time.Sleep(time.Second) // anything more that would arrive
	sales, managers := er.events("/events/sales"), er.events("/events/managers")
	er.mu.Lock()
	bad, tries := er.bad, maps.Clone(er.tries)
	er.mu.Unlock()
	if bad != 0 {
		t.Fatalf("%d requests did not verify with the Standard Webhooks library", bad)
	}
	if len(sales) != 2 || len(managers) != 1 {
		t.Fatalf("events: sales %v, managers %v", sales, managers)
	}
	for _, cb := range append(sales, managers...) {
		if tries[cb.ID] != 2 {
			t.Errorf("webhook-id %s: %d attempts, want a 500 then one delivery", cb.ID, tries[cb.ID])
		}
	}
	created := sales[0]
	o, _ := created.Data["owner"].(map[string]any)
	if created.Type != "handoff.task_created" || o["email"] != "ae1@acme.example" || created.Data["task_id"] != ids[0] ||
		!strings.HasSuffix(created.Data["task_url"].(string), "/record/0-27/"+ids[0]) || created.Data["rung"] != "pricing" ||
		!strings.Contains(created.Data["reason"].(string), "pricing") || created.Data["sla_seconds"] != float64(2) || created.Data["due_at"] == nil {
		t.Errorf("sales task_created event: %+v", created)
	}
	for _, cb := range []callback{sales[1], managers[0]} {
		if cb.Type != "handoff.sla_breached" || cb.Data["step"] != float64(1) || cb.Data["task_id"] != ids[0] {
			t.Errorf("sla_breached event: %+v", cb)
		}
	}
	if sales[1].ID == managers[0].ID {
		t.Error("two targets got the same webhook-id")
	}
}
