package console

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/hubspot"
	"github.com/handoff-dev/handoff/internal/testredis"
	"github.com/handoff-dev/handoff/jobs"
	"github.com/handoff-dev/handoff/ladder"
)

type noEnricher struct{}

func (noEnricher) Build(_ context.Context, ev handoff.Event) (handoff.Context, error) {
	return handoff.Context{}, nil
}

const perfToken = "perf-admin-token-0123456789"

// perfConsole is the console over a real Redis holding n audit decisions
// (real ladder decisions with their traces) spread over 30 days, their
// index entries, 30 days of hourly outcome buckets and open handoffs.
func perfConsole(t testing.TB, n, open int) (*echo.Echo, time.Time) {
	t.Helper()
	ctx := context.Background()
	rdb := testredis.New(t).Client(t)
	live, err := ladder.Default()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	pl, err := jobs.New(jobs.Config{}, jobs.Deps{Redis: rdb, Enricher: noEnricher{}, Decider: live, Enqueuer: asynq.NewClientFromRedisClient(rdb)})
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"What does the enterprise plan cost for 300 seats?", "Can I talk to a person please?", "thanks, that helps",
		"We need your SOC 2 report and a DPA before we sign", "This is the third time your bot got it wrong, I am furious"}
	var meta []seedRecord
	for i, tx := range texts {
		c := handoff.Context{}
		c.Event.Source, c.Event.Kind, c.Event.Channel, c.Event.Text = "agent", "agent_turn", "chat", tx
		c.Contact.Email, c.Account.Name, c.Account.Tier = fmt.Sprintf("buyer%d@example.com", i), "Globex", "tier_1"
		c.Signals = live.Signals(tx)
		d := live.Decide(c)
		r := jobs.DecisionRecord{Action: d.Action, Rung: d.Matched(), LadderVersion: d.LadderVersion, Decision: d, Context: c,
			Shadow: &jobs.ShadowResult{LadderVersion: "shadow", Action: d.Action, Rung: d.Matched(), Agree: i%2 == 0}}
		if d.Escalates() { // its page shows the task as HubSpot got it
			r.Plan, r.HandoffID = jobs.PlanHandoff, fmt.Sprintf("ho_perf_%d", i)
		}
		meta = append(meta, newSeedRecord(t, r))
	}
	start := now.Add(-30 * 24 * time.Hour)
	step := (30 * 24 * time.Hour) / time.Duration(n)
	// The batches are sent in order by one goroutine while the next is
	// built. Index members are gathered per key and added with one ZADD
	// each per batch: the shared indexes (all, action, tenant, crm, rung,
	// disagree) take most of the members.
	batches, sent := make(chan redis.Pipeliner, 1), make(chan error, 1)
	go func() {
		var first error
		for p := range batches {
			if _, err := p.Exec(ctx); err != nil && first == nil {
				first = err
			}
		}
		sent <- first
	}()
	pipe := rdb.Pipeline()
	index := map[string][]redis.Z{}
	flush := func() {
		for k, zs := range index {
			pipe.ZAdd(ctx, k, zs...)
		}
		clear(index)
		batches <- pipe
		pipe = rdb.Pipeline()
	}
	for i := range n {
		m := meta[i%len(meta)]
		r := m.rec
		r.At = start.Add(time.Duration(i) * step)
		r.Event = jobs.EventRef{Source: "agent", Kind: "agent_turn", Contact: handoff.ContactRef{Email: fmt.Sprintf("c%d@example.com", i%5000), CRM: "hubspot", Tenant: "62515"},
			Conversation: fmt.Sprintf("conv-%d", i%20000)}
		b := m.with(t, r.At, r.Event)
		if i < len(meta) { // the built JSON reads back as the record itself
			var back jobs.DecisionRecord
			want, _ := json.Marshal(r)
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if got, _ := json.Marshal(back); string(got) != string(want) {
				t.Fatalf("seeded record %d reads back differently:\n%s\nwant\n%s", i, got, want)
			}
		}
		id := fmt.Sprintf("%d-%d", r.At.UnixMilli(), i)
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: "handoff:audit", ID: id, Values: map[string]any{"type": "decision", "action": string(r.Action),
			"rung": r.Rung, "tenant": "62515", "crm": "hubspot", "contact_id": "", "contact_email": r.Event.Contact.Email,
			"conversation": r.Event.Conversation, "data": b}})
		z := redis.Z{Score: float64(r.At.UnixMilli()), Member: id}
		keys := []string{"", "action:" + string(r.Action), "tenant:62515", "crm:hubspot", "contact:" + r.Event.Contact.Email, "conv:" + r.Event.Conversation}
		if r.Rung != "" {
			keys = append(keys, "rung:"+r.Rung)
		}
		if !r.Shadow.Agree {
			keys = append(keys, "disagree")
		}
		for _, k := range keys {
			index["handoff:console:dec:"+k] = append(index["handoff:console:dec:"+k], z)
		}
		if i%2000 == 1999 {
			flush()
		}
	}
	var tth, completeness []any // 40 samples an hour
	for j := range 40 {
		tth, completeness = append(tth, strconv.Itoa(60*(j+1))), append(completeness, "0.875")
	}
	for h := start.Truncate(time.Hour); h.Before(now); h = h.Add(time.Hour) {
		key := "handoff:outcomes:hour:" + h.Format("2006010215")
		pipe.HSet(ctx, key, "decisions", 140, "handoffs", 40, "handoffs_rung:pricing", 25, "handoffs_rung:human-request", 15, "tasks_created", 40,
			"sla_breached_handoffs", 3, "completed", 30, "completed_by_first_assignee", 27, "with_disposition", 20, "warranted", 18,
			"shadow_decisions", 140, "shadow_agreed", 120, "owner_assigned:ae1@acme.example", 20, "owner_assigned:sdr1@acme.example", 20, "team_assigned:sdr", 20)
		pipe.LPush(ctx, key+":tth", tth...)
		pipe.LPush(ctx, key+":completeness", completeness...)
		if h.Hour() == 0 {
			flush()
		}
	}
	for i := range open {
		id := fmt.Sprintf("ho_perf%06d", i)
		due := now.Add(time.Duration(i-open/4) * time.Minute)
		pipe.HSet(ctx, "handoff:h:"+id, "crm", "hubspot", "tenant", "62515", "rung", "pricing", "action", "handoff", "conversation", fmt.Sprintf("conv-%d", i),
			"owner_email", "ae1@acme.example", "task_id", strconv.Itoa(90000000000+i), "created_at", due.Add(-30*time.Minute).UnixMilli(),
			"due", due.UnixMilli(), "sla_ms", (30 * time.Minute).Milliseconds())
		pipe.ZAdd(ctx, "handoff:console:open", redis.Z{Score: float64(due.UnixMilli()), Member: id})
		if i%1000 == 999 {
			flush()
		}
	}
	flush()
	close(batches)
	if err := <-sent; err != nil {
		t.Fatalf("seed: %v", err)
	}
	c, err := New(Config{Token: "perf-console-read-only-token"}, Deps{AdminToken: perfToken, Board: pl, Records: pl.Outcomes(), Live: live,
		Tasks: map[handoff.Source]TaskRenderer{handoff.SourceHubSpot: {Render: hubspot.RenderBody, HTML: true}}})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	c.Register(e)
	return e, now
}

// seedRecord is a decision record whose JSON is built once: the entries
// of the seeded stream differ only in their time and event, and encoding
// the decision's trace 100,000 times is most of the seeding's time.
type seedRecord struct {
	rec  jobs.DecisionRecord
	rest []byte // the record's JSON members but "at" and "event", comma-led
}

func newSeedRecord(t testing.TB, r jobs.DecisionRecord) seedRecord {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(b, &members); err != nil {
		t.Fatal(err)
	}
	if _, ok := members["at"]; !ok {
		t.Fatal(`a decision record's JSON has no "at"`)
	}
	if _, ok := members["event"]; !ok {
		t.Fatal(`a decision record's JSON has no "event"`)
	}
	var rest []byte
	for k, v := range members {
		if k == "at" || k == "event" {
			continue
		}
		key, _ := json.Marshal(k)
		rest = append(append(append(append(rest, ','), key...), ':'), v...)
	}
	return seedRecord{rec: r, rest: rest}
}

// with is the record's JSON with at and ev.
func (s seedRecord) with(t testing.TB, at time.Time, ev jobs.EventRef) []byte {
	a, err := json.Marshal(at)
	if err != nil {
		t.Fatal(err)
	}
	e, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 0, len(a)+len(e)+len(s.rest)+16)
	out = append(append(append(out, `{"at":`...), a...), `,"event":`...)
	out = append(append(append(out, e...), s.rest...), '}')
	return out
}

func get(t testing.TB, e *echo.Echo, path string) (int, string) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer "+perfToken)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Body)
	return rec.Code, string(b)
}

// With 100,000 audit entries each view renders in < 200 ms at p95. It
// skips under the race detector, which slows everything several times
// over (make test runs with it; run this one on its own for the figures).
func TestViewsFastOnRealVolumes(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("seeds 100,000 audit entries; timings under -short or the race detector mean nothing (run go test -run TestViewsFastOnRealVolumes -v ./console/)")
	}
	e, _ := perfConsole(t, 100000, 1000)
	// A decision id to open.
	_, body := get(t, e, "/console/decisions?window=30d")
	i := strings.Index(body, `href="/console/decisions/`)
	if i < 0 {
		t.Fatal("the decisions view lists no decision")
	}
	id := body[i+len(`href="/console/decisions/`):]
	id = id[:strings.IndexByte(id, '"')]
	_, body = get(t, e, "/console/decisions?window=30d&action=handoff")
	i = strings.Index(body, `href="/console/decisions/`)
	if i < 0 {
		t.Fatal("the decisions view lists no handoff")
	}
	handoffID := body[i+len(`href="/console/decisions/`):]
	handoffID = handoffID[:strings.IndexByte(handoffID, '"')]
	views := map[string]struct {
		path, want string
	}{
		"open":              {"/console/open", `data-handoff="ho_perf000000"`},
		"decisions":         {"/console/decisions?window=30d", "50 shown"},
		"decisions by rung": {"/console/decisions?window=30d&rung=human-request", "50 shown"},
		"decision":          {"/console/decisions/" + id, "Checked, in order"},
		"decision, handoff": {"/console/decisions/" + handoffID, `id="task-body"`},
		"conversation":      {"/console/conversations/conv-7", "<ol id=\"timeline\""},
		"outcomes 24h":      {"/console/outcomes?window=24h", `id="chart-handoffs"`},
		"outcomes 30d":      {"/console/outcomes?window=30d", `id="chart-tth"`},
		"distribution":      {"/console/distribution?window=30d", "ae1@acme.example"},
		"shadow":            {"/console/shadow?window=30d", `id="disagreements"`},
		"playground":        {"/console/playground?from=" + id, "Explain"},
	}
	names := make([]string, 0, len(views))
	for n := range views {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		v := views[name]
		var ds []time.Duration
		for range 20 {
			start := time.Now()
			code, body := get(t, e, v.path)
			ds = append(ds, time.Since(start))
			if code != 200 || !strings.Contains(body, v.want) {
				t.Fatalf("%s: %d, want %q in the page", name, code, v.want)
			}
		}
		slices.Sort(ds)
		p95 := ds[len(ds)*95/100-1]
		t.Logf("%-18s p50 %6.1f ms  p95 %6.1f ms", name, ms(ds[len(ds)/2]), ms(p95))
		if p95 > 200*time.Millisecond {
			t.Errorf("%s: p95 %s, want < 200ms", name, p95)
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
