package main

import (
	"strings"
	"testing"
	"time"

	"github.com/handoff-dev/handoff/connectors/hubspot/hubspottest"
	"github.com/handoff-dev/handoff/jobs"
)

// A Friday-evening handoff through the real server, worker and HubSpot
// fake, on a controlled clock: a 4 h SLA of New York working time made at
// 17:00 on Friday is due Monday 12:30 (hs_timestamp says so), nothing
// climbs over the weekend, and the climb reassigns on Monday at 12:30 to
// the managers, never back to who had it.
func TestE2EFridayEveningDoesNotClimbOvernight(t *testing.T) {
	t.Parallel()
	clock := newTestClock(t, "America/New_York", "2026-12-04 17:00") // a Friday
	y := `version: "e2e-worktime-1"
calendars:
  ny: {zone: America/New_York, hours: {mon-fri: ["09:00-17:30"]}}
topics:
  pricing: {phrases: [pricing, price, quote, "per seat", "how much"], risk: high}
teams:
  desk: {owners: [dd1@acme.example], calendar: ny}
  managers: {owners: [dd1@acme.example, mgr1@acme.example], calendar: ny}
rungs:
  - id: pricing
    when: "'pricing' in signals.topics"
    action: handoff
    route: {team: desk}
    sla: 4h
    climb:
      - {after: 1x, do: reassign, to: {team: managers}}
`
	file := writeLadder(t, y)
	d, ctx := newE2E(t, e2eOptions{RealRedis: true, Extra: map[string]string{"LADDER_FILE": file},
		Clock: clock.Now})
	tag := runTag()
	mustPost(t, ctx, d, d.agentDelivery("ana price", agentTurn("t-wt-"+tag, "conv-wt-"+tag, anaEmail, "chat", 1, perSeat, "See the pricing page.", 0.9, 0)))
	mustDrain(t, ctx, d, 30*time.Second)
	tasks := hubspotTasks(d)
	if len(tasks) != 1 {
		t.Fatalf("%d tasks, want 1", len(tasks))
	}
	due := clock.At("2026-12-07 12:30")
	if got := tasks[0].due(t); !got.Equal(due) || tasks[0].Props["hubspot_owner_id"] != hubspottest.OwnerDealDesk1 {
		t.Fatalf("task due %s owner %s, want Monday 12:30 New York (%s) for dd1", got, tasks[0].Props["hubspot_owner_id"], due.UTC())
	}
	// The only SLA check waits for Monday 12:30.
	sched, err := d.app.inspector.ListScheduledTasks(jobs.QueueHandoff)
	if err != nil {
		t.Fatal(err)
	}
	var check string
	for _, s := range sched {
		if strings.HasSuffix(s.ID, ":sla:1") {
			check = s.ID
			if !s.NextProcessAt.Equal(due) {
				t.Fatalf("SLA check at %s, want %s", s.NextProcessAt, due)
			}
		}
	}
	if check == "" {
		t.Fatalf("no SLA check scheduled: %+v", sched)
	}
	// Saturday: nothing ran, the task is still dd1's.
	clock.Set("2026-12-05 10:00")
	mustDrain(t, ctx, d, 10*time.Second)
	if p, _, _ := d.HubSpot.Task(tasks[0].ID); p["hubspot_owner_id"] != hubspottest.OwnerDealDesk1 {
		t.Fatalf("the task climbed over the weekend: owner %s", p["hubspot_owner_id"])
	}
	// Monday 12:30: the check runs and the task goes to the managers, not
	// back to dd1 (exclude_last 1 by default).
	clock.Set("2026-12-07 12:30")
	if err := d.app.inspector.RunTask(jobs.QueueHandoff, check); err != nil {
		t.Fatal(err)
	}
	mustDrain(t, ctx, d, 30*time.Second)
	if p, _, _ := d.HubSpot.Task(tasks[0].ID); p["hubspot_owner_id"] != hubspottest.OwnerManager1 {
		t.Fatalf("Monday's climb: owner %s, want mgr1 (%s), not dd1 again", p["hubspot_owner_id"], hubspottest.OwnerManager1)
	}
}
