package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/handoff-dev/handoff/connectors/salesforce/salesforcetest"
	"github.com/handoff-dev/handoff/jobs"
)

// A Friday-afternoon Salesforce handoff through the real server, worker and
// Salesforce fake, on a controlled clock: a 4 h SLA of New York working time
// (09:00-17:30) made at 16:00 on Friday uses 1.5 h on Friday and 2.5 h on
// Monday, so the task reminds its owner on Monday at 11:30 New York
// (ReminderDateTime in UTC, as the API returns it) and its ActivityDate is
// that Monday. When the owner starts it on Monday at 10:00, the outcomes
// report 66 h of wall time to human beside 2.5 h of working time.
func TestE2ESalesforceFridayDueAndWorkingTimeToHuman(t *testing.T) {
	t.Parallel()
	clock := newTestClock(t, "America/New_York", "2026-12-04 16:00") // a Friday
	y := `version: "e2e-worktime-sf-1"
calendars:
  ny: {zone: America/New_York, hours: {mon-fri: ["09:00-17:30"]}}
topics:
  ready: {phrases: ["ready to move forward", "get started"]}
teams:
  desk: {owners: [dd1@acme.example], calendar: ny}
rungs:
  - id: ready
    when: "'ready' in signals.topics"
    action: handoff
    route: {team: desk}
    sla: 4h
`
	file := writeLadder(t, y)
	d, ctx := newE2E(t, e2eOptions{RealRedis: true, Extra: map[string]string{"LADDER_FILE": file},
		Clock: clock.Now})
	tag := runTag()
	mustPost(t, ctx, d, d.salesforceEventDelivery("sf jane", "evt-jane-"+tag, salesforceJane(tag)))
	mustDrain(t, ctx, d, 30*time.Second)
	if arch := d.archived(); len(arch) != 0 {
		t.Fatalf("archived: %s", arch[0].LastErr)
	}
	tasks := d.Salesforce.Tasks()
	if len(tasks) != 1 {
		t.Fatalf("%d tasks, want 1", len(tasks))
	}
	tk := tasks[0]
	due := clock.At("2026-12-07 11:30")
	if tk["OwnerId"] != salesforcetest.UserDD1 {
		t.Fatalf("task owner %v, want dd1 (%s)", tk["OwnerId"], salesforcetest.UserDD1)
	}
	if want := due.UTC().Format("2006-01-02T15:04:05.000+0000"); tk["ReminderDateTime"] != want || tk["IsReminderSet"] != true {
		t.Fatalf("reminder %v set %v, want %s (Monday 11:30 New York) and true", tk["ReminderDateTime"], tk["IsReminderSet"], want)
	}
	if tk["ActivityDate"] != "2026-12-07" {
		t.Fatalf("ActivityDate %v, want Monday 2026-12-07", tk["ActivityDate"])
	}
	// The first SLA check waits for Monday 11:30.
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
	// Monday 10:00: dd1 starts the task; the check (run early) sees it.
	clock.Set("2026-12-07 10:00")
	if !d.Salesforce.SetTaskStatus(tk["Id"].(string), "In Progress") {
		t.Fatal("no such task in the fake")
	}
	if err := d.app.inspector.RunTask(jobs.QueueHandoff, check); err != nil {
		t.Fatal(err)
	}
	mustDrain(t, ctx, d, 30*time.Second)
	var rep jobs.Report
	eventually(t, 10*time.Second, "a time-to-human sample in the outcomes", func() bool {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, d.Base+"/api/outcomes", nil)
		req.Header.Set("Authorization", "Bearer "+d.AdminToken)
		resp, err := d.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /api/outcomes: %d", resp.StatusCode)
		}
		rep = jobs.Report{}
		if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
			t.Fatal(err)
		}
		return rep.TimeToHuman.Samples > 0
	})
	wall, working := (66 * time.Hour).Seconds(), (150 * time.Minute).Seconds()
	if rep.TimeToHuman.Samples != 1 || rep.TimeToHuman.P50 != wall {
		t.Fatalf("wall time to human %+v, want one sample of %.0fs (Friday 16:00 to Monday 10:00)", rep.TimeToHuman, wall)
	}
	if rep.TimeToHumanWorking.Samples != 1 || rep.TimeToHumanWorking.P50 != working {
		t.Fatalf("working time to human %+v, want one sample of %.0fs (1.5 h Friday + 1 h Monday)", rep.TimeToHumanWorking, working)
	}
}
