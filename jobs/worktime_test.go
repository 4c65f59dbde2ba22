package jobs

import (
	"testing"
	"time"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/ladder"
)

const workingTimeLadder = `version: "wt1"
calendars:
  ny:
    zone: America/New_York
    hours: {mon-fri: ["09:00-17:30"]}
    country: US
topics:
  pricing: {phrases: [pricing]}
teams:
  sales: {owners: [dd1@acme.example], calendar: ny}
  managers: {owners: [mgr1@acme.example]}
rungs:
  - id: pricing
    when: "'pricing' in signals.topics"
    action: handoff
    route: {team: sales}
    sla: 1h
    climb:
      - {after: 1x, do: reassign, to: {team: managers}, priority: urgent}
      - {after: 2x, do: notify}
`

// wallClock wraps a decider and sets the decisions' SLA clock, as a rung's
// sla_clock does.
type wallClock struct {
	*ladder.Ladder
	clock string
}

func (w wallClock) Decide(c handoff.Context) handoff.Decision {
	d := w.Ladder.Decide(c)
	d.SLAClock = w.clock
	return d
}

func newYork(t *testing.T, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// A handoff made on Friday at 17:00 in New York with a 1 h SLA in working
// time is due Monday 09:30 (half an hour on Friday, half on Monday); the
// climb runs on Monday, never overnight or on the weekend.
func TestWorkingTimeSLAFridayEveningDoesNotClimbOvernight(t *testing.T) {
	l, err := ladder.Parse("wt.yaml", []byte(workingTimeLadder))
	if err != nil {
		t.Fatal(err)
	}
	cal, _ := l.Calendar("ny")
	h := newHarness(t, func(_ *Config, d *Deps) { d.Decider = l })
	h.clock.t = newYork(t, "2026-12-04 17:00") // a Friday
	if err := h.deliver(t, agentEvent("t1", "conv-wt", "what is your pricing?")); err != nil {
		t.Fatal(err)
	}
	if err := h.runPending(t); err != nil {
		t.Fatal(err)
	}
	if len(h.crm.specs) != 1 {
		t.Fatalf("%d tasks created", len(h.crm.specs))
	}
	due := newYork(t, "2026-12-07 09:30")
	if got := h.crm.specs[0].Due; !got.Equal(due) {
		t.Fatalf("task due %s, want Monday 09:30 New York (%s)", got, due.UTC())
	}
	hid := HandoffID("62515", "conv-wt", "pricing", "agent:t1")
	rec, err := h.p.loadRecord(t.Context(), hid)
	if err != nil {
		t.Fatal(err)
	}
	if rec["calendar"] != "ny" || rec.time("due").UnixMilli() != due.UnixMilli() {
		t.Fatalf("record calendar %q due %s", rec["calendar"], rec.time("due"))
	}

	// Friday night: the only scheduled check is Monday's.
	h.clock.Advance(3 * time.Hour)
	sched := h.scheduled(t)
	if len(sched) != 1 || sched[0].ID != hid+":sla:1" || !sched[0].NextProcessAt.Equal(due) {
		t.Fatalf("scheduled = %+v, want sla:1 at %s", sched, due)
	}

	// Monday 09:30: the SLA lapsed, the task goes to the managers; the
	// second step is an hour of working time later.
	h.clock.t = due
	if err := h.runSLA(t, hid, 1); err != nil {
		t.Fatal(err)
	}
	if len(h.crm.reassigns) != 1 || h.crm.reassigns[0] != "T1:105:urgent" {
		t.Fatalf("reassigns = %v", h.crm.reassigns)
	}
	sched = h.scheduled(t)
	if next := newYork(t, "2026-12-07 10:30"); len(sched) != 1 || sched[0].ID != hid+":sla:2" || !sched[0].NextProcessAt.Equal(next) {
		t.Fatalf("scheduled = %+v, want sla:2 at %s", sched, next)
	}
	if !cal.Working(sched[0].NextProcessAt) {
		t.Fatalf("step 2 scheduled outside working hours: %s", sched[0].NextProcessAt)
	}

	// A manager starts it at 10:15: 65 h 15 min of wall time, 1 h 45 min
	// of working time (30 min on Friday, 75 min on Monday).
	h.clock.t = newYork(t, "2026-12-07 10:15")
	h.crm.setState("T1", handoff.TaskInProgress, "", time.Time{})
	if err := h.runSLA(t, hid, 2); err != nil {
		t.Fatal(err)
	}
	r, err := NewOutcomes(h.rdb).Report(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if r.TimeToHuman.P50 != (65*time.Hour+15*time.Minute).Seconds() || r.TimeToHumanWorking.P50 != (time.Hour+45*time.Minute).Seconds() {
		t.Fatalf("time to human: wall %+v, working %+v", r.TimeToHuman, r.TimeToHumanWorking)
	}
	if r.SLA.Breaches != 1 {
		t.Errorf("breaches = %d, want 1 (Monday 09:30 only)", r.SLA.Breaches)
	}
}

// The climb steps of a handoff made late on Friday before a Monday holiday
// (Martin Luther King Jr. Day 2027) land on Tuesday; with sla_clock: wall they run that night.
func TestWorkingTimeSLAClock(t *testing.T) {
	l, err := ladder.Parse("wt.yaml", []byte(workingTimeLadder))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name        string
		decider     Decider
		calendars   Calendars
		due, second time.Time
		calendar    string
	}{
		{"working (the ladder's calendars)", l, nil, newYork(t, "2027-01-19 09:30"), newYork(t, "2027-01-19 10:30"), "ny"},
		{"working, calendars given", wallClock{l, handoff.SLAClockWorking}, l, newYork(t, "2027-01-19 09:30"), newYork(t, "2027-01-19 10:30"), "ny"},
		{"wall", wallClock{l, handoff.SLAClockWall}, nil, newYork(t, "2027-01-15 18:00"), newYork(t, "2027-01-15 19:00"), ""},
		{"no calendars known", struct{ Decider }{l}, nil, newYork(t, "2027-01-15 18:00"), newYork(t, "2027-01-15 19:00"), "ny"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(_ *Config, d *Deps) { d.Decider, d.Calendars = tc.decider, tc.calendars })
			h.clock.t = newYork(t, "2027-01-15 17:00")
			if err := h.deliver(t, agentEvent("t1", "conv-wt", "pricing please")); err != nil {
				t.Fatal(err)
			}
			if err := h.runPending(t); err != nil {
				t.Fatal(err)
			}
			if len(h.crm.specs) != 1 || !h.crm.specs[0].Due.Equal(tc.due) {
				t.Fatalf("specs = %+v, want one due %s", h.crm.specs, tc.due)
			}
			hid := HandoffID("62515", "conv-wt", "pricing", "agent:t1")
			if rec, _ := h.p.loadRecord(t.Context(), hid); rec["calendar"] != tc.calendar {
				t.Errorf("record calendar %q, want %q", rec["calendar"], tc.calendar)
			}
			h.clock.t = tc.due
			if err := h.runSLA(t, hid, 1); err != nil {
				t.Fatal(err)
			}
			if s := h.scheduled(t); len(s) != 1 || !s[0].NextProcessAt.Equal(tc.second) {
				t.Fatalf("scheduled = %+v, want step 2 at %s", s, tc.second)
			}
		})
	}
}

// An owner whose CRM user has a time zone works the team's hours on their
// own clock: at 17:00 New York on a Friday a Los Angeles owner still has
// 30 minutes of hours, so a 1 h SLA is due at 15:00 their time (18:00 in
// New York), the due date is read in their zone, and the SLA check runs then.
func TestWorkingTimeOwnerZoneWins(t *testing.T) {
	l, err := ladder.Parse("wt.yaml", []byte(workingTimeLadder))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(_ *Config, d *Deps) { d.Decider = l })
	o := h.crm.owners["dd1@acme.example"]
	o.TimeZone = "America/Los_Angeles"
	h.crm.owners["dd1@acme.example"] = o
	h.clock.t = newYork(t, "2026-12-04 17:00")
	if err := h.deliver(t, agentEvent("t1", "conv-tz", "what is your pricing?")); err != nil {
		t.Fatal(err)
	}
	if err := h.runPending(t); err != nil {
		t.Fatal(err)
	}
	due := newYork(t, "2026-12-04 18:00")
	if len(h.crm.specs) != 1 || !h.crm.specs[0].Due.Equal(due) || h.crm.specs[0].DueZone != "America/Los_Angeles" {
		t.Fatalf("specs = %+v, want one due %s in America/Los_Angeles", h.crm.specs, due)
	}
	hid := HandoffID("62515", "conv-tz", "pricing", "agent:t1")
	if s := h.scheduled(t); len(s) != 1 || !s[0].NextProcessAt.Equal(due) {
		t.Fatalf("scheduled = %+v, want sla:1 at %s", s, due)
	}
	if rec, _ := h.p.loadRecord(t.Context(), hid); rec["owner_tz"] != "America/Los_Angeles" {
		t.Errorf("record owner_tz %q", rec["owner_tz"])
	}
	// Without a zone of their own the owner counts New York hours and the
	// due date is read in the calendar's zone.
	h2 := newHarness(t, func(_ *Config, d *Deps) { d.Decider = l })
	h2.clock.t = newYork(t, "2026-12-04 17:00")
	if err := h2.deliver(t, agentEvent("t1", "conv-tz", "what is your pricing?")); err != nil {
		t.Fatal(err)
	}
	if err := h2.runPending(t); err != nil {
		t.Fatal(err)
	}
	if s := h2.crm.specs; len(s) != 1 || !s[0].Due.Equal(newYork(t, "2026-12-07 09:30")) || s[0].DueZone != "America/New_York" {
		t.Fatalf("specs = %+v, want one due Monday 09:30 in America/New_York", s)
	}
}
