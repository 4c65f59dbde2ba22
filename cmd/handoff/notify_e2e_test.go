package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

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
    notify: ["slack:%[1]s/services/sales"]
  managers:
    owners: [mgr1@acme.example]
    notify: ["mattermost:%[1]s/hooks/managers"]
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

// Through the real server, worker, Redis and HubSpot fake: the handoff
// tells the sales channel who owns it, why, when it is due and where the
// task is; when the 2s SLA lapses the climb notify step tells the
// managers' channel (to:) and the sales channel (the owner's team).
func TestE2EHandoffNotifiesTeams(t *testing.T) {
	t.Parallel()
	cr := newChatReceiver(t)
	file := filepath.Join(t.TempDir(), "ladder.yaml")
	if err := os.WriteFile(file, []byte(fmt.Sprintf(notifyLadder, cr.srv.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	d, ctx := newE2E(t, e2eOptions{RealRedis: true, Extra: map[string]string{"LADDER_FILE": file}})
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
}
