package ladder

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/handoff-dev/handoff"
)

const calendarsBase = `version: "cal1"
calendars:
  ny:
    zone: America/New_York
    hours:
      mon-fri: ["09:00-17:30"]
    holidays: ["2026-12-24", "12-31"]
    country: US
  berlin:
    zone: Europe/Berlin
    hours:
      mon-thu: ["08:00-12:00", "13:00-17:00"]
      fri: ["08:00-12:00"]
teams:
  sales: {owners: [a@acme.example, b@acme.example], calendar: ny}
  emea: {owners: [c@acme.example], calendar: berlin}
  security: {owners: [sec@acme.example]}
rungs:
  - id: pricing
    when: signals.human_request
    action: handoff
    route: {team: sales, fallback: {team: emea}}
    sla: 4h
  - id: urgent
    when: signals.sentiment < -0.8
    action: hold
    route: {team: sales}
    sla: 30m
    sla_clock: wall
  - id: security
    when: signals.sentiment > 0.9
    action: handoff
    route: {team: security}
  - id: owner
    when: deal.amount > 100000.0
    action: handoff
    route: {to: account_owner, calendar: berlin}
`

func TestCalendarsCompile(t *testing.T) {
	l, err := Parse("cal.yaml", []byte(calendarsBase))
	if err != nil {
		t.Fatal(err)
	}
	if got := l.CalendarNames(); !slices.Equal(got, []string{"berlin", "ny"}) {
		t.Errorf("CalendarNames = %v", got)
	}
	if got := l.Teams()["sales"].Calendar; got != "ny" {
		t.Errorf("team sales calendar = %q, want ny", got)
	}
	byID := map[string]*rung{}
	for _, r := range l.rungs {
		byID[r.id] = r
	}
	cases := []struct {
		rung, calendar, fallback, clock string
	}{
		{"pricing", "ny", "berlin", handoff.SLAClockWorking},
		{"urgent", "ny", "", handoff.SLAClockWall},
		{"security", "", "", handoff.SLAClockWall},
		{"owner", "berlin", "", handoff.SLAClockWorking},
	}
	for _, tc := range cases {
		r := byID[tc.rung]
		if r.route.Calendar != tc.calendar {
			t.Errorf("%s: route calendar %q, want %q", tc.rung, r.route.Calendar, tc.calendar)
		}
		if tc.fallback != "" && r.route.Fallback.Calendar != tc.fallback {
			t.Errorf("%s: fallback calendar %q, want %q", tc.rung, r.route.Fallback.Calendar, tc.fallback)
		}
		if got := l.slaClock(r, r.route); got != tc.clock {
			t.Errorf("%s: sla clock %q, want %q", tc.rung, got, tc.clock)
		}
	}

	// The calendar is the compiled one: Labor Day (US) and the dated
	// Christmas Eve count.
	ny, ok := l.Calendar("ny")
	if !ok {
		t.Fatal(`Calendar("ny") not found`)
	}
	loc := ny.Location()
	if loc.String() != "America/New_York" {
		t.Errorf("zone %s", loc)
	}
	fri := time.Date(2026, 9, 4, 16, 0, 0, 0, loc)
	if got, want := ny.Add(fri, 4*time.Hour), time.Date(2026, 9, 8, 11, 30, 0, 0, loc); !got.Equal(want) {
		t.Errorf("4h from Friday before Labor Day = %s, want %s", got, want)
	}
	if ny.Working(time.Date(2026, 12, 24, 10, 0, 0, 0, loc)) || ny.Working(time.Date(2027, 12, 31, 10, 0, 0, 0, loc)) {
		t.Error("the dated (2026-12-24) or recurring (12-31) holiday is working time")
	}
	if _, ok := l.Calendar("nope"); ok {
		t.Error(`Calendar("nope") found`)
	}

	// SLADue follows the decision's clock.
	d := handoff.Decision{Route: byID["pricing"].route, SLA: 4 * time.Hour, SLAClock: handoff.SLAClockWorking}
	if got := l.SLADue(d, fri, d.SLA); !got.Equal(time.Date(2026, 9, 8, 11, 30, 0, 0, loc)) {
		t.Errorf("SLADue working = %s", got)
	}
	d.SLAClock = "" // not set: the rung's sla_clock, else the route's calendar decides
	if got := l.SLADue(d, fri, d.SLA); !got.Equal(time.Date(2026, 9, 8, 11, 30, 0, 0, loc)) {
		t.Errorf("SLADue with no clock = %s", got)
	}
	d.RungID = "urgent" // sla_clock: wall
	if got := l.SLADue(d, fri, d.SLA); !got.Equal(fri.Add(4 * time.Hour)) {
		t.Errorf("SLADue with no clock for a wall-clock rung = %s", got)
	}
	d.RungID = ""
	d.SLAClock = handoff.SLAClockWall
	if got := l.SLADue(d, fri, d.SLA); !got.Equal(fri.Add(4 * time.Hour)) {
		t.Errorf("SLADue wall = %s", got)
	}
}

func TestCalendarDefault(t *testing.T) {
	y := strings.Replace(calendarsBase, "rungs:", "defaults:\n  calendar: berlin\nrungs:", 1)
	l, err := Parse("cal.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range l.rungs {
		want := map[string]string{"pricing": "ny", "urgent": "ny", "security": "berlin", "owner": "berlin"}[r.id]
		if r.route.Calendar != want {
			t.Errorf("%s: calendar %q, want %q (team's, else the default)", r.id, r.route.Calendar, want)
		}
	}
}

func TestCalendarLint(t *testing.T) {
	cases := []struct {
		name     string
		old, new string
		want     []string
	}{
		{"bad zone", "zone: America/New_York", "zone: America/NewYork",
			[]string{`x.yaml:4: calendar "ny": unknown time zone "America/NewYork" (want an IANA name such as America/New_York or Europe/Berlin)`}},
		{"no zone", "    zone: Europe/Berlin\n", "",
			[]string{`x.yaml:10: calendar "berlin": zone is required (an IANA time zone such as America/New_York)`}},
		{"overlap across entries", `      fri: ["08:00-12:00"]`, `      fri: ["08:00-12:00"]` + "\n" + `      thu-fri: ["11:00-12:30"]`,
			[]string{`x.yaml:14: calendar "berlin": interval 11:00-12:30 overlaps 08:00-12:00 on Thu, Fri`}},
		{"overlap in one list", `["09:00-17:30"]`, `["09:00-12:00", "11:00-17:30"]`,
			[]string{`x.yaml:6: calendar "ny": interval 11:00-17:30 overlaps 09:00-12:00 on Mon, Tue, Wed, Thu, Fri`}},
		{"bad interval", `["09:00-17:30"]`, `["17:30-09:00"]`,
			[]string{`x.yaml:6: calendar "ny": interval "17:30-09:00": must end after it starts (split a night shift: 22:00-24:00 on one day, 00:00-06:00 on the next)`}},
		{"bad days", "mon-thu:", "mon-thurs:",
			[]string{`x.yaml:12: calendar "berlin": days "mon-thurs": unknown day "thurs" (want mon, tue, wed, thu, fri, sat, sun, a range such as mon-fri, or daily)`}},
		{"bad date", `"2026-12-24"`, `"2026-02-30"`,
			[]string{`x.yaml:7: calendar "ny": holiday "2026-02-30": there is no such day`}},
		{"bad recurring date", `"12-31"`, `"31-12"`,
			[]string{`x.yaml:7: calendar "ny": holiday "31-12": there is no such day`}},
		{"unknown country", "country: US", "country: USA",
			[]string{`x.yaml:8: calendar "ny": no holiday set for country "USA" (known: ` + strings.Join(countriesForTest(), ", ") + `)`}},
		{"no hours", "    hours:\n      mon-fri: [\"09:00-17:30\"]\n", "",
			[]string{`x.yaml:4: calendar "ny": has no hours (e.g. hours: {mon-fri: ["09:00-17:30"]})`}},
		{"unknown team calendar", "calendar: ny}", "calendar: nyc}",
			[]string{`x.yaml:15: team "sales": unknown calendar "nyc" (calendars: ny, berlin)`}},
		{"unknown route calendar", "account_owner, calendar: berlin}", "account_owner, calendar: paris}",
			[]string{`x.yaml:37: rung "owner": unknown calendar "paris" (calendars: ny, berlin)`}},
		{"unknown default calendar", "rungs:", "defaults:\n  calendar: paris\nrungs:",
			[]string{`x.yaml:19: unknown calendar "paris" (calendars: ny, berlin)`}},
		{"unknown sla_clock", "sla_clock: wall", "sla_clock: business",
			[]string{`x.yaml:29: rung "urgent": unknown sla_clock "business" (want working or wall)`}},
		{"working clock without calendar", "route: {team: security}", "route: {team: security}\n    sla_clock: working",
			[]string{`x.yaml:34: rung "security": sla_clock: working needs a calendar: set calendar: on the route's team or the route, or defaults.calendar`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(calendarsBase, tc.old) {
				t.Fatalf("%q is not in the base ladder", tc.old)
			}
			_, err := Parse("x.yaml", []byte(strings.Replace(calendarsBase, tc.old, tc.new, 1)))
			if err == nil {
				t.Fatal("no lint error")
			}
			lines := strings.Split(err.Error(), "\n")
			for _, w := range tc.want {
				if !slices.Contains(lines, w) {
					t.Errorf("missing line\n  %s\ngot:\n  %s", w, strings.Join(lines, "\n  "))
				}
			}
			if len(lines) != len(tc.want) {
				t.Errorf("got %d errors, want %d:\n  %s", len(lines), len(tc.want), strings.Join(lines, "\n  "))
			}
		})
	}
}

func TestCalendarLintNoCalendars(t *testing.T) {
	_, err := Parse("x.yaml", []byte(strings.Replace(base, "{owners: [dd@acme.example]}", "{owners: [dd@acme.example], calendar: ny}", 1)))
	if err == nil || err.Error() != `x.yaml:5: team "deal_desk": unknown calendar "ny" (the file has no calendars: section)` {
		t.Fatalf("err = %v", err)
	}
}

func countriesForTest() []string {
	return []string{"AR", "AT", "BE", "BG", "BR", "CA", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GB", "GR", "HR", "HU", "IE", "IS", "IT", "JP", "KE", "LT", "LU", "LV", "MT", "MW", "MX", "NL", "NO", "NZ", "PL", "PT", "RO", "RS", "RU", "SE", "SI", "SK", "TH", "UA", "US", "ZA"}
}

// Quoted keys ("mon-fri", 'ny') are the same keys as bare ones.
func TestCalendarQuotedKeys(t *testing.T) {
	y := `version: "q"
calendars:
  'ny':
    zone: America/New_York
    hours:
      "mon-fri": ["09:00-17:30"]
      'sat': ["10:00-12:00"]
teams:
  "sales": {owners: [a@acme.example], calendar: ny}
rungs:
  - id: r
    when: signals.human_request
    action: handoff
    route: {team: sales}
`
	l, err := Parse("q.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	c, ok := l.Calendar("ny")
	if !ok {
		t.Fatal("calendar ny not found")
	}
	week := c.Between(time.Date(2026, 11, 30, 0, 0, 0, 0, c.Location()), time.Date(2026, 12, 7, 0, 0, 0, 0, c.Location()))
	if want := 5*(8*time.Hour+30*time.Minute) + 2*time.Hour; week != want {
		t.Errorf("working time in a week = %s, want %s", week, want)
	}
	if got := l.Teams()["sales"]; got.Calendar != "ny" || len(got.Owners) != 1 {
		t.Errorf("team sales = %+v", got)
	}
}

func TestGuardsCompile(t *testing.T) {
	y := strings.Replace(calendarsBase, "  security: {owners: [sec@acme.example]}", "  security: {owners: [sec@acme.example], capacity: 3}", 1)
	y = strings.Replace(y, "    sla: 30m\n", "    sla: 30m\n    climb:\n      - {after: 1x, do: reassign, to: {team: security}}\n      - {after: 2x, do: reassign, to: {team: emea}, exclude_last: 2, max_reassignments: 1}\n      - {after: 3x, do: reassign, to: {team: sales}, exclude_last: 0}\n      - {after: 4x, do: notify}\n", 1)
	l, err := Parse("g.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Teams()["security"].Capacity; got != 3 {
		t.Errorf("team capacity = %d", got)
	}
	for _, r := range l.rungs {
		if r.id != "urgent" {
			continue
		}
		if r.climb[0].To.Capacity != 3 {
			t.Errorf("route capacity = %d, want the team's 3", r.climb[0].To.Capacity)
		}
		var got []int
		for _, s := range r.climb {
			got = append(got, s.ExcludeLast)
		}
		if !slices.Equal(got, []int{1, 2, 0, 0}) {
			t.Errorf("exclude_last = %v, want [1 2 0 0] (reassign defaults to 1)", got)
		}
		if r.climb[1].MaxReassignments != 1 || r.climb[0].MaxReassignments != 0 {
			t.Errorf("max_reassignments = %d, %d; want 0 (no cap), 1", r.climb[0].MaxReassignments, r.climb[1].MaxReassignments)
		}
	}
	for _, tc := range []struct{ old, new, want string }{
		{"{owners: [sec@acme.example]}", "{owners: [sec@acme.example], capacity: 0}", `x.yaml:17: team "security": capacity must be at least 1 (leave it out for no limit)`},
		{"    sla: 30m\n", "    sla: 30m\n    climb: [{after: 1x, do: notify, exclude_last: 1}]\n", `x.yaml:29: rung "urgent": climb step 1: exclude_last only applies to reassign`},
		{"    sla: 30m\n", "    sla: 30m\n    climb: [{after: 1x, do: reassign, to: {team: emea}, exclude_last: -1}]\n", `x.yaml:29: rung "urgent": climb step 1: exclude_last must be 0 or more`},
		{"    sla: 30m\n", "    sla: 30m\n    climb: [{after: 1x, do: notify, max_reassignments: 1}]\n", `x.yaml:29: rung "urgent": climb step 1: max_reassignments only applies to reassign`},
		{"    sla: 30m\n", "    sla: 30m\n    climb: [{after: 1x, do: reassign, to: {team: emea}, max_reassignments: 0}]\n", `x.yaml:29: rung "urgent": climb step 1: max_reassignments must be at least 1 (leave it out for no cap)`},
	} {
		_, err := Parse("x.yaml", []byte(strings.Replace(calendarsBase, tc.old, tc.new, 1)))
		if err == nil || err.Error() != tc.want {
			t.Errorf("lint = %v\nwant %s", err, tc.want)
		}
	}
}

// Decide carries the SLA clock of the winning rung (Decision.SLAClock).
func TestDecideSLAClock(t *testing.T) {
	l, err := Parse("cal.yaml", []byte(calendarsBase))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		c    handoff.Context
		rung string
		want string
	}{
		{"team with a calendar", handoff.Context{Signals: handoff.Signals{HumanRequest: true}}, "pricing", handoff.SLAClockWorking},
		{"sla_clock: wall", handoff.Context{Signals: handoff.Signals{Sentiment: -0.9}}, "urgent", handoff.SLAClockWall},
		{"team without a calendar", handoff.Context{Signals: handoff.Signals{Sentiment: 0.95}}, "security", handoff.SLAClockWall},
	}
	for _, tc := range cases {
		d := l.Decide(tc.c)
		if d.RungID != tc.rung {
			t.Fatalf("%s: rung %q, want %q", tc.name, d.RungID, tc.rung)
		}
		if d.SLAClock == "" {
			t.Skip("Decide does not set Decision.SLAClock yet (decide.go: d.SLAClock = l.slaClock(winner, route))")
		}
		if d.SLAClock != tc.want {
			t.Errorf("%s: SLAClock %q, want %q", tc.name, d.SLAClock, tc.want)
		}
	}
}

// A team's weights reach its routes in member order; lint rejects weights
// of non-members, weights under 1 and weights on least_open.
func TestTeamWeights(t *testing.T) {
	y := strings.Replace(calendarsBase, "calendar: ny}", "calendar: ny, weights: {b@acme.example: 3}}", 1)
	l, err := Parse("w.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Teams()["sales"].Weights; !slices.Equal(got, []int{1, 3}) {
		t.Errorf("team weights = %v, want [1 3]", got)
	}
	d := l.Decide(handoff.Context{Signals: handoff.Signals{HumanRequest: true}})
	if d.Route == nil || !slices.Equal(d.Route.Weights, []int{1, 3}) || d.Route.Fallback == nil || d.Route.Fallback.Weights != nil {
		t.Errorf("route = %+v, want weights [1 3] and none on the fallback", d.Route)
	}
	even := strings.Replace(calendarsBase, "calendar: ny}", "calendar: ny, weights: {a@acme.example: 1}}", 1)
	if l, err := Parse("w.yaml", []byte(even)); err != nil || l.Teams()["sales"].Weights != nil {
		t.Errorf("all weights 1: %v, %v (want none recorded)", err, l)
	}
	for _, tc := range []struct{ new, want string }{
		{"calendar: ny, weights: {z@acme.example: 2}}", `x.yaml:15: team "sales": weight for "z@acme.example", who is not one of the team's owners`},
		{"calendar: ny, weights: {a@acme.example: 0}}", `x.yaml:15: team "sales": weight of "a@acme.example" must be at least 1 (take the member out of owners, or mark them away)`},
		{"calendar: ny, strategy: least_open, weights: {a@acme.example: 2}}", `x.yaml:15: team "sales": weights only apply to strategy round_robin (this team is least_open)`},
	} {
		_, err := Parse("x.yaml", []byte(strings.Replace(calendarsBase, "calendar: ny}", tc.new, 1)))
		if err == nil || err.Error() != tc.want {
			t.Errorf("lint = %v\nwant %s", err, tc.want)
		}
	}
}
