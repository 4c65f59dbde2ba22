package ladder

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestOwnersSection(t *testing.T) {
	yml := base + `calendars:
  ny: {zone: America/New_York, hours: {mon-fri: ["09:00-17:00"]}}
owners:
  Eva@Acme.example: {time_zone: Europe/Berlin}
  dd@acme.example:
    away:
      - {from: 2026-12-24, until: 2026-12-28, reason: holidays}
      - {from: "2027-01-05T13:00:00Z", until: "2027-01-05T15:00:00Z"}
  bo@acme.example:
    time_zone: Asia/Tokyo
    away: [{from: 2026-12-24, until: 2026-12-24}]
`
	l, err := Parse("x.yaml", []byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	if z := l.OwnerZone("eva@acme.example"); z != "Europe/Berlin" {
		t.Errorf("OwnerZone(eva) = %q, want Europe/Berlin (emails match case-insensitively)", z)
	}
	if z := l.OwnerZone("nobody@acme.example"); z != "" {
		t.Errorf("OwnerZone(nobody) = %q, want none", z)
	}
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	cases := []struct {
		who    string
		at     string
		away   bool
		until  string
		reason string
	}{
		// dd has no zone and no calendared team: dates are UTC days, until inclusive.
		{"dd@acme.example", "2026-12-23T23:59:59Z", false, "", ""},
		{"dd@acme.example", "2026-12-24T00:00:00Z", true, "2026-12-29T00:00:00Z", "holidays"},
		{"dd@acme.example", "2026-12-28T23:59:59Z", true, "2026-12-29T00:00:00Z", "holidays"},
		{"dd@acme.example", "2026-12-29T00:00:00Z", false, "", ""},
		{"dd@acme.example", "2027-01-05T14:00:00Z", true, "2027-01-05T15:00:00Z", ""},
		{"dd@acme.example", "2027-01-05T15:00:00Z", false, "", ""},
		// bo's one day is a Tokyo day.
		{"bo@acme.example", "2026-12-23T15:00:00Z", true, time.Date(2026, 12, 25, 0, 0, 0, 0, tokyo).UTC().Format(time.RFC3339), ""},
		{"bo@acme.example", "2026-12-23T14:59:59Z", false, "", ""},
		{"eva@acme.example", "2026-12-24T12:00:00Z", false, "", ""},
	}
	for _, c := range cases {
		at, _ := time.Parse(time.RFC3339, c.at)
		until, reason, away := l.OwnerAway(c.who, at)
		if away != c.away || reason != c.reason || (away && until.UTC().Format(time.RFC3339) != c.until) {
			t.Errorf("OwnerAway(%s, %s) = %v %q %v, want %s %q %v", c.who, c.at, until.UTC().Format(time.RFC3339), reason, away, c.until, c.reason, c.away)
		}
	}
}

// A date-only period of an owner without time_zone is read in the zone of
// the calendar of the owner's team.
func TestOwnerAwayDatesInTeamCalendarZone(t *testing.T) {
	yml := `version: "t1"
calendars:
  ny: {zone: America/New_York, hours: {mon-fri: ["09:00-17:00"]}}
teams:
  deal_desk: {owners: [dd@acme.example], calendar: ny}
rungs:
  - {id: all, when: "true", action: handoff, route: {team: deal_desk}}
owners:
  dd@acme.example: {away: [{from: 2026-12-24, until: 2026-12-24}]}
`
	l, err := Parse("x.yaml", []byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	for at, want := range map[string]bool{"2026-12-24T04:59:59Z": false, "2026-12-24T05:00:00Z": true, "2026-12-25T04:59:59Z": true, "2026-12-25T05:00:00Z": false} {
		tm, _ := time.Parse(time.RFC3339, at)
		if _, _, away := l.OwnerAway("dd@acme.example", tm); away != want {
			t.Errorf("away at %s = %v, want %v (New York days)", at, away, want)
		}
	}
}

func TestOwnersLint(t *testing.T) {
	cases := []struct {
		name, owners string
		want         []string
	}{
		{"bad zone", "owners:\n  eva@acme.example: {time_zone: Europe/Berlim}\n",
			[]string{`x.yaml:15: owner "eva@acme.example": unknown time zone "Europe/Berlim" (want an IANA name such as America/New_York or Europe/Berlin)`}},
		{"until before from", "owners:\n  dd@acme.example:\n    away:\n      - {from: 2026-12-28, until: 2026-12-24}\n",
			[]string{`x.yaml:17: owner "dd@acme.example": away until 2026-12-24 is not after from 2026-12-28`}},
		{"until equal to from as times", "owners:\n  dd@acme.example:\n    away:\n      - {from: \"2026-12-28T09:00:00Z\", until: \"2026-12-28T09:00:00Z\"}\n",
			[]string{`x.yaml:17: owner "dd@acme.example": away until 2026-12-28T09:00:00Z is not after from 2026-12-28T09:00:00Z`}},
		{"unparseable dates", "owners:\n  dd@acme.example:\n    away:\n      - from: 24.12.2026\n        until: next week\n",
			[]string{`x.yaml:17: owner "dd@acme.example": away from "24.12.2026": want a date (2026-12-24) or an RFC 3339 time (2026-12-24T09:00:00+01:00)`,
				`x.yaml:18: owner "dd@acme.example": away until "next week": want a date (2026-12-28, the last day away) or an RFC 3339 time (2026-12-28T09:00:00+01:00)`}},
		{"not an email", "owners:\n  eva: {time_zone: Europe/Berlin}\n",
			[]string{`x.yaml:15: owner "eva": is not an email address (owners: is keyed by the owner's email)`}},
		{"unknown field", "owners:\n  eva@acme.example: {timezone: Europe/Berlin}\n",
			[]string{`x.yaml:15: unknown field "timezone"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(base+c.owners))
			var le LintErrors
			if !errors.As(err, &le) {
				t.Fatalf("Parse: %v, want lint errors", err)
			}
			var got []string
			for _, e := range le {
				got = append(got, e.Error())
			}
			for _, w := range c.want {
				if !slices.Contains(got, w) {
					t.Errorf("missing %q in\n%v", w, err)
				}
			}
			if len(got) != len(c.want) {
				t.Errorf("got %d errors, want %d:\n%v", len(got), len(c.want), err)
			}
		})
	}
}
