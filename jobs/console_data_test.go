package jobs

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestWindowedOutcomesMatchAllTimeAndExcludeOtherHours(t *testing.T) {
	h, _ := outcomeScenario(t)
	ctx := context.Background()
	o := NewOutcomes(h.rdb)
	all, err := o.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := h.clock.Now()
	w, ok, err := ParseWindow("24h", "", "", now)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	win, err := o.ReportWindow(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(win) != fmt.Sprint(all) {
		t.Fatalf("24h window differs from all time:\n%+v\n%+v", win, all)
	}
	// A day before the scenario: nothing counted.
	past, err := o.ReportWindow(ctx, Window{From: now.Add(-72 * time.Hour), To: now.Add(-48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if past.Decisions.Total != 0 || past.TimeToHuman.Samples != 0 {
		t.Fatalf("window before the scenario counted %+v", past)
	}
	// The series sums to the window.
	points, total, counters, err := o.Series(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, p := range points {
		sum += p.Report.Handoffs.Total
	}
	if sum != 4 || total.Handoffs.Total != 4 || len(points) != 24 && len(points) != 25 {
		t.Fatalf("series: %d points, sum %d, total %d", len(points), sum, total.Handoffs.Total)
	}
	if counters["owner_assigned:owner@acme.example"] != 4 {
		t.Fatalf("no owner distribution counted: %v", counters)
	}
	if counters["owner_reassigned_away:owner@acme.example"] != 1 || counters["owner_breached:owner@acme.example"] != 1 {
		t.Fatalf("reassigned away not counted: %v", counters)
	}

	e := serveAPI(t, h)
	code, out := call(t, e, http.MethodGet, "/api/outcomes?window=7d", "")
	if code != 200 || out["handoffs"].(map[string]any)["total"].(float64) != 4 {
		t.Fatalf("outcomes?window=7d: %d %v", code, out)
	}
	from := now.Add(-72 * time.Hour).Format(time.RFC3339)
	to := now.Add(-48 * time.Hour).Format(time.RFC3339)
	code, out = call(t, e, http.MethodGet, "/api/outcomes?from="+from+"&to="+to, "")
	if code != 200 || out["handoffs"].(map[string]any)["total"].(float64) != 0 {
		t.Fatalf("outcomes?from&to before the scenario: %d %v", code, out)
	}
	for _, q := range []string{"window=1y", "from=yesterday", "from=" + to + "&to=" + from} {
		if code, out := call(t, e, http.MethodGet, "/api/outcomes?"+q, ""); code != 400 || out["error"].(map[string]any)["code"] != "bad_window" {
			t.Errorf("outcomes?%s: %d %v", q, code, out)
		}
	}
}

func TestDecisionIndexAndOpenBoard(t *testing.T) {
	h, ids := outcomeScenario(t)
	ctx := context.Background()
	o := NewOutcomes(h.rdb)
	for q, want := range map[string]int{"rung": 4, "conv": 1, "action": 1, "contact": 5, "none": 5} {
		var dq DecisionQuery
		switch q {
		case "rung":
			dq.Rung = "pricing"
		case "conv":
			dq.Conversation = "o2"
		case "action":
			dq.Action = "continue"
		case "contact":
			dq.Contact = "ANA@acme.example"
		}
		ds, err := o.FindDecisions(ctx, dq)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != want {
			t.Errorf("FindDecisions(%s) = %d, want %d", q, len(ds), want)
		}
		if len(ds) > 0 && ds[0].ID == "" {
			t.Errorf("FindDecisions(%s): no audit id", q)
		}
	}
	ds, _ := o.FindDecisions(ctx, DecisionQuery{Rung: "pricing", Limit: 1})
	if len(ds) != 1 || ds[0].HandoffID != ids[3] {
		t.Fatalf("newest pricing decision = %+v", ds)
	}
	d, ok, err := o.DecisionByID(ctx, ds[0].ID)
	if err != nil || !ok || d.HandoffID != ids[3] {
		t.Fatalf("DecisionByID: %v %v %+v", ok, err, d)
	}
	// A window after every decision finds none.
	ds, _ = o.FindDecisions(ctx, DecisionQuery{From: h.clock.Now().Add(time.Hour)})
	if len(ds) != 0 {
		t.Fatalf("window after the decisions found %d", len(ds))
	}

	// The board: H1-H3 were completed; H4 (released, its task open) stays.
	board, err := h.p.OpenBoard(ctx, BoardFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(board) != 1 || board[0].ID != ids[3] || board[0].OwnerState != "released" {
		t.Fatalf("board = %+v", board)
	}
	// A later handoff (same SLA) breaches later: it comes second.
	h.clock.Advance(time.Minute)
	if err := h.deliver(t, agentEvent("p10", "o10", "pricing")); err != nil {
		t.Fatal(err)
	}
	if err := h.runPending(t); err != nil {
		t.Fatal(err)
	}
	board, _ = h.p.OpenBoard(ctx, BoardFilter{})
	if len(board) != 2 {
		t.Fatalf("board = %+v", board)
	}
	if board[0].Due.After(board[1].Due) {
		t.Fatalf("board not in breach order: %v then %v", board[0].Due, board[1].Due)
	}
	if b, _ := h.p.OpenBoard(ctx, BoardFilter{Tenant: "nope"}); len(b) != 0 {
		t.Fatalf("tenant filter: %+v", b)
	}
}

// A deployment upgraded from a release without the decision indexes: its
// audit stream is filed under them once, and the queries find what they
// would have found had the indexes been written with the decisions.
func TestBackfillDecisionIndexFromTheStream(t *testing.T) {
	h, _ := outcomeScenario(t)
	ctx := context.Background()
	o := NewOutcomes(h.rdb)
	queries := []DecisionQuery{{}, {Rung: "pricing"}, {Conversation: "o2"}, {Action: "continue"}, {Contact: "ana@acme.example"}, {Tenant: "62515"}}
	before := make([][]DecisionRecord, len(queries))
	for i, q := range queries {
		before[i], _ = o.FindDecisions(ctx, q)
	}
	if len(before[0]) != 5 || len(before[1]) != 4 {
		t.Fatalf("scenario: %d decisions, %d pricing (want 5, 4)", len(before[0]), len(before[1]))
	}
	keys, err := h.rdb.Keys(ctx, keyDecisionIndex+"*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("no index keys to drop: %v", err)
	}
	if err := h.rdb.Del(ctx, keys...).Err(); err != nil {
		t.Fatal(err)
	}
	if ds, _ := o.FindDecisions(ctx, DecisionQuery{}); len(ds) != 0 {
		t.Fatalf("found %d decisions with the indexes dropped", len(ds))
	}
	n, err := h.p.BackfillDecisionIndex(ctx)
	if err != nil || n != len(before[0]) {
		t.Fatalf("backfill filed %d (want %d): %v", n, len(before[0]), err)
	}
	for i, q := range queries {
		after, err := o.FindDecisions(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != len(before[i]) {
			t.Errorf("%+v: %d decisions after the backfill, %d before", q, len(after), len(before[i]))
			continue
		}
		for j := range after {
			if after[j].ID != before[i][j].ID {
				t.Errorf("%+v: decision %d is %s after the backfill, %s before", q, j, after[j].ID, before[i][j].ID)
			}
		}
	}
	// Once per deployment: a second start files nothing.
	if n, err := h.p.BackfillDecisionIndex(ctx); err != nil || n != 0 {
		t.Fatalf("second backfill filed %d: %v", n, err)
	}
}
