package jobs

import (
	"testing"
	"time"

	"github.com/handoff-dev/handoff/ladder"
)

// ownerFileLadder routes pricing to a two-member team and says in its
// owners: section that dd1 is on holiday and dd2 works from Los Angeles.
const ownerFileLadder = `version: "of1"
calendars:
  ny:
    zone: America/New_York
    hours: {mon-fri: ["09:00-17:30"]}
topics:
  pricing: {phrases: [pricing]}
teams:
  sales: {owners: [dd1@acme.example, dd2@acme.example], calendar: ny}
rungs:
  - id: pricing
    when: "'pricing' in signals.topics"
    action: handoff
    route: {team: sales}
    sla: 1h
owners:
  dd1@acme.example:
    away:
      - {from: 2026-12-24, until: 2026-12-28, reason: holidays}
  dd2@acme.example: {time_zone: America/Los_Angeles}
`

// A member the ladder file has away is skipped by the round robin exactly
// like one away through the API: the next member gets the task. Outside
// the period the member takes their turn again.
func TestFileAwayMemberIsSkipped(t *testing.T) {
	l, err := ladder.Parse("of.yaml", []byte(ownerFileLadder))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		at   time.Time
		want string // owner id of the first turn
	}{
		{"in the period", newYork(t, "2026-12-28 12:00"), "102"},
		{"after the period", newYork(t, "2026-12-29 12:00"), "101"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(_ *Config, d *Deps) { d.Decider = l })
			h.clock.t = tc.at
			if err := h.deliver(t, agentEvent("t1", "conv-fileaway", "what is your pricing?")); err != nil {
				t.Fatal(err)
			}
			if err := h.runPending(t); err != nil {
				t.Fatal(err)
			}
			if len(h.crm.specs) != 1 || h.crm.specs[0].Owner.ID != tc.want {
				t.Fatalf("specs = %+v, want one task for owner %s", h.crm.specs, tc.want)
			}
		})
	}
}

// The file's time zone shifts the due time as a CRM zone does (see
// TestWorkingTimeOwnerZoneWins): at 17:00 New York on a Friday dd2, in Los
// Angeles by the file, has 30 minutes of hours left, so a 1 h SLA is due
// at 18:00 New York; a CRM zone wins over the file's.
func TestFileOwnerZoneShiftsDue(t *testing.T) {
	l, err := ladder.Parse("of.yaml", []byte(ownerFileLadder))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, crmZone, wantZone string
		due                     time.Time
	}{
		{"file zone", "", "America/Los_Angeles", newYork(t, "2026-12-04 18:00")},
		{"CRM zone wins", "America/New_York", "America/New_York", newYork(t, "2026-12-07 09:30")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(_ *Config, d *Deps) { d.Decider = l })
			o := h.crm.owners["dd2@acme.example"]
			o.TimeZone = tc.crmZone
			h.crm.owners["dd2@acme.example"] = o
			// dd1 is not away on 2026-12-04; take its turn first so dd2
			// gets the handoff under test.
			h.clock.t = newYork(t, "2026-12-04 17:00")
			if _, err := h.p.SetAway(t.Context(), "dd1@acme.example", h.clock.Now().Add(time.Hour), "out"); err != nil {
				t.Fatal(err)
			}
			if err := h.deliver(t, agentEvent("t1", "conv-filetz", "what is your pricing?")); err != nil {
				t.Fatal(err)
			}
			if err := h.runPending(t); err != nil {
				t.Fatal(err)
			}
			if s := h.crm.specs; len(s) != 1 || s[0].Owner.ID != "102" || !s[0].Due.Equal(tc.due) || s[0].DueZone != tc.wantZone {
				t.Fatalf("specs = %+v, want one for 102 due %s in %s", s, tc.due, tc.wantZone)
			}
			hid := HandoffID("62515", "conv-filetz", "pricing", "agent:t1")
			if rec, _ := h.p.loadRecord(t.Context(), hid); rec["owner_tz"] != tc.wantZone {
				t.Errorf("record owner_tz %q, want %q", rec["owner_tz"], tc.wantZone)
			}
		})
	}
}
