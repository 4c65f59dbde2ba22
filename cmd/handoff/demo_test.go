package main

import (
	"bytes"
	"context"
	"io"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/handoff-dev/handoff/internal/testredis"
	"github.com/handoff-dev/handoff/jobs"
	"github.com/handoff-dev/handoff/webhooks"
)

// The demo's scenario through the real HTTP path, worker, connectors and
// fakes: every step gets the decision the default ladder promises, and
// every escalation exactly one task in the CRM it came from.
func TestDemoScenarioDecisions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d, err := startDemo(ctx, demoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	steps := d.scenario()
	wantTasks := map[string]int{}
	for _, s := range steps {
		r, err := d.post(ctx, s.Delivery)
		if err != nil || r.Status != 200 {
			t.Fatalf("%s: %d %s %v", s.Label, r.Status, r.Body, err)
		}
		if s.Expect == "duplicate" && !strings.Contains(r.Body, `"duplicates":1`) {
			t.Fatalf("%s: redelivery not reported as a duplicate: %s", s.Label, r.Body)
		}
		if err := d.waitDrained(ctx, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		switch s.Expect {
		case "continue", "duplicate", "follow-up":
		default:
			crm := "hubspot" // agent turns name the HubSpot portal
			switch s.Route {
			case webhooks.PathSalesforce, webhooks.PathSalesforceEvents:
				crm = "salesforce"
			case webhooks.PathMarketo:
				crm = "marketo"
			}
			wantTasks[crm]++
		}
	}
	recs, err := jobs.NewOutcomes(d.app.redis.Client).FindDecisions(ctx, jobs.DecisionQuery{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].ID < recs[j].ID })
	var want []scenarioStep
	for _, s := range steps {
		if s.Expect != "duplicate" {
			want = append(want, s)
		}
	}
	if len(recs) != len(want) {
		t.Fatalf("%d decisions recorded for %d distinct events (one audit record per decision)", len(recs), len(want))
	}
	for i, r := range recs {
		got := r.Rung
		switch {
		case r.Plan == "followup":
			got = "follow-up"
		case r.Action == "continue":
			got = "continue"
		}
		if got != want[i].Expect {
			t.Errorf("step %q: decided %q (action %s, plan %s), want %q", want[i].Label, got, r.Action, r.Plan, want[i].Expect)
		}
	}
	// Each task went to the first choice of its route (team routes to a
	// team member, since the demo seeds the ladder's teams as CRM users),
	// except the one fallback the demo means: the contact with no owner.
	fallbacks := 0
	for _, r := range recs {
		if r.Plan != jobs.PlanHandoff {
			continue
		}
		o, err := d.app.pipeline.jobs.HandoffOwner(ctx, r.HandoffID)
		if err != nil || o.OwnerID == "" || len(o.Route) == 0 {
			t.Fatalf("%s: owner %+v, %v", r.Rung, o, err)
		}
		if o.FellBack() {
			fallbacks++
			if r.Context.Contact.Email != demoOwnerless {
				t.Errorf("%s for %s fell back along %v to %s", r.Rung, r.Context.Contact.Email, o.Route, d.ownerEmail(o))
			}
			continue
		}
		if rt := r.Decision.Route; rt != nil && rt.Team != "" && !slices.Contains(rt.Owners, d.ownerEmail(o)) {
			t.Errorf("%s: routed to team %s %v, but the task went to %s", r.Rung, rt.Team, rt.Owners, d.ownerEmail(o))
		}
	}
	if fallbacks != 1 {
		t.Errorf("%d fallbacks, want the one deliberate one", fallbacks)
	}
	got := map[string]int{"hubspot": len(d.HubSpot.TaskIDs()), "salesforce": len(d.Salesforce.Tasks()), "marketo": len(d.Marketo.Tasks())}
	for crm, n := range wantTasks {
		if got[crm] != n {
			t.Errorf("%s holds %d tasks, want %d (one per escalation)", crm, got[crm], n)
		}
	}
	if arch := d.archived(); len(arch) != 0 {
		t.Fatalf("%d tasks archived, first: %s", len(arch), arch[0].LastErr)
	}
}

// `handoff demo` as a user runs it: exit 0 and a readable report.
func TestDemoCommand(t *testing.T) {
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := run(ctx, []string{"demo"}, envconfig.MapLookuper(nil), &out, io.Discard); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	for _, want := range []string{"Decisions (ladder default-", "Tasks in HubSpot", "Tasks in Salesforce", "Marketo (fake instance)", "tasks went to the first choice of their route", "Fallback (on purpose", "Done in",
		// The agent's loop: a synchronous handoff, then its signed callbacks, all verified.
		`200 in`, `handoff at "human-request", owner state pending`, "handoff.task_created", "#1 agent → pending", "#2 pending → pending", " 0 rejected)",
		// A team's chat webhook gets its handoffs.
		"Notifications at the SDR team's Slack-compatible webhook", "New handoff for"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
}

// `handoff report` reads the outcomes the pipeline recorded in Redis.
func TestReportCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db := testredis.New(t)
	d, err := startDemo(ctx, demoOptions{RedisURL: db.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	steps := d.scenario()
	for _, s := range steps[:3] { // student (continue), Ana pricing (handoff), follow-up
		if r, err := d.post(ctx, s.Delivery); err != nil || r.Status != 200 {
			t.Fatalf("%s: %v %v", s.Label, r, err)
		}
		if err := d.waitDrained(ctx, 30*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"report"}, envconfig.MapLookuper(map[string]string{"REDIS_URL": db.URL()}), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Decisions  3", "tasks created 1", "pricing 1", "Follow-ups  1"} {
		if !strings.Contains(strings.Join(strings.Fields(out.String()), "  "), strings.Join(strings.Fields(want), "  ")) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := run(ctx, []string{"report", "--json"}, envconfig.MapLookuper(map[string]string{"REDIS_URL": db.URL()}), &out, io.Discard); err != nil || !strings.Contains(out.String(), `"tasks_created": 1`) {
		t.Fatalf("report --json: %v\n%s", err, out.String())
	}
	if err := run(ctx, []string{"report"}, envconfig.MapLookuper(nil), io.Discard, io.Discard); err == nil {
		t.Fatal("report without REDIS_URL succeeded")
	}
}
