package worktime

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load zone %s: %v", name, err)
	}
	return loc
}

// week builds a Config.Week from "mon-fri": {"09:00-17:30"} entries.
func week(t testing.TB, spec map[string][]string) map[time.Weekday][]Interval {
	t.Helper()
	out := map[time.Weekday][]Interval{}
	for days, ivs := range spec {
		wds, err := ParseDays(days)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range ivs {
			iv, err := ParseInterval(s)
			if err != nil {
				t.Fatal(err)
			}
			for _, wd := range wds {
				out[wd] = append(out[wd], iv)
			}
		}
	}
	return out
}

func holidays(t testing.TB, list ...string) []Holiday {
	t.Helper()
	var out []Holiday
	for _, s := range list {
		h, err := ParseHoliday(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, h)
	}
	return out
}

func mustNew(t testing.TB, cfg Config) *Calendar {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// local parses "2026-01-16 16:00" in loc.
func local(t testing.TB, loc *time.Location, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func testCalendars(t testing.TB) (cals map[string]*Calendar, ny, chicago, berlin *time.Location) {
	ny, chicago, berlin = zone(t, "America/New_York"), zone(t, "America/Chicago"), zone(t, "Europe/Berlin")
	office := week(t, map[string][]string{"mon-fri": {"09:00-17:30"}})
	cals = map[string]*Calendar{
		// The calendar: New York, 09:00–17:30 Monday to Friday.
		"ny": mustNew(t, Config{Zone: ny, Week: office}),
		// The same with the US national holidays, a dated and a recurring one.
		"ny+us": mustNew(t, Config{Zone: ny, Week: office, Country: "US", Holidays: holidays(t, "2026-12-24", "12-31")}),
		// Dated and recurring holidays only.
		"ny+days": mustNew(t, Config{Zone: ny, Week: office, Holidays: holidays(t, "2026-12-25", "01-01")}),
		// A split shift in Berlin.
		"berlin": mustNew(t, Config{Zone: berlin, Week: week(t, map[string][]string{"mon-fri": {"08:00-12:00", "13:00-17:00"}})}),
		// Round the clock: a night shift feels both DST changes.
		"ny24": mustNew(t, Config{Zone: ny, Week: week(t, map[string][]string{"daily": {"00:00-24:00"}})}),
		// An interval that DST cuts (spring) or doubles (autumn).
		"nyNight": mustNew(t, Config{Zone: ny, Week: week(t, map[string][]string{"sun": {"01:00-04:00"}})}),
	}
	return cals, ny, chicago, berlin
}

func TestAdd(t *testing.T) {
	cals, ny, chicago, berlin := testCalendars(t)
	cases := []struct {
		name, cal string
		start     time.Time
		d         time.Duration
		want      time.Time
	}{
		{"within a day", "ny", local(t, ny, "2026-12-02 10:00"), 4 * time.Hour, local(t, ny, "2026-12-02 14:00")},
		{"ends exactly at close", "ny", local(t, ny, "2026-11-30 13:30"), 4 * time.Hour, local(t, ny, "2026-11-30 17:30")},
		{"before opening", "ny", local(t, ny, "2026-11-30 07:00"), 30 * time.Minute, local(t, ny, "2026-11-30 09:30")},
		{"after closing", "ny", local(t, ny, "2026-11-30 20:00"), time.Hour, local(t, ny, "2026-12-01 10:00")},
		{"saturday", "ny", local(t, ny, "2026-12-05 10:00"), time.Hour, local(t, ny, "2026-12-07 10:00")},
		{"several days", "ny", local(t, ny, "2026-12-02 10:00"), 7*time.Hour + 30*time.Minute + 2*(8*time.Hour+30*time.Minute) + time.Hour, local(t, ny, "2026-12-07 10:00")},
		// Friday 16:00 leaves 1.5 h on Friday, so a 4 h SLA ends Monday 11:30.
		{"friday 16:00, 4h", "ny", local(t, ny, "2026-12-04 16:00"), 4 * time.Hour, local(t, ny, "2026-12-07 11:30")},
		// The example (due Monday 12:30) holds for a handoff at
		// 16:00 in Chicago, half an hour before the New York office closes.
		{"issue: friday 16:00 Chicago, 4h → monday 12:30 NY", "ny", local(t, chicago, "2026-12-04 16:00"), 4 * time.Hour, local(t, ny, "2026-12-07 12:30")},
		{"issue: friday 16:00 Chicago before a monday holiday → tuesday 12:30", "ny+us", local(t, chicago, "2026-09-04 16:00"), 4 * time.Hour, local(t, ny, "2026-09-08 12:30")},
		{"friday 16:00 before Labor Day", "ny+us", local(t, ny, "2026-09-04 16:00"), 4 * time.Hour, local(t, ny, "2026-09-08 11:30")},
		{"friday before MLK day", "ny+us", local(t, ny, "2026-01-16 16:00"), 4 * time.Hour, local(t, ny, "2026-01-20 11:30")},
		{"MLK day counts without the country set", "ny", local(t, ny, "2026-01-16 16:00"), 4 * time.Hour, local(t, ny, "2026-01-19 11:30")},
		{"Independence Day on a Saturday is observed on Friday", "ny+us", local(t, ny, "2026-07-02 16:00"), 4 * time.Hour, local(t, ny, "2026-07-06 11:30")},
		{"dated and recurring holidays: Dec 24 and Dec 31", "ny+us", local(t, ny, "2026-12-23 16:00"), 4 * time.Hour, local(t, ny, "2026-12-28 11:30")},
		{"dated holiday 2026-12-25", "ny+days", local(t, ny, "2026-12-24 16:00"), 4 * time.Hour, local(t, ny, "2026-12-28 11:30")},
		{"recurring 01-01 in 2027", "ny+days", local(t, ny, "2026-12-31 16:00"), 4 * time.Hour, local(t, ny, "2027-01-04 11:30")},
		{"a dated holiday is not every year (2028-12-25 works)", "ny+days", local(t, ny, "2028-12-22 16:00"), 4 * time.Hour, local(t, ny, "2028-12-25 11:30")},
		{"spring forward weekend (NY)", "ny", local(t, ny, "2026-03-06 16:00"), 4 * time.Hour, local(t, ny, "2026-03-09 11:30")},
		{"fall back weekend (NY)", "ny", local(t, ny, "2026-10-30 16:00"), 4 * time.Hour, local(t, ny, "2026-11-02 11:30")},
		{"split shift: over lunch", "berlin", local(t, berlin, "2026-12-02 11:00"), 2 * time.Hour, local(t, berlin, "2026-12-02 14:00")},
		{"split shift: starts in the break", "berlin", local(t, berlin, "2026-12-02 12:15"), 30 * time.Minute, local(t, berlin, "2026-12-02 13:30")},
		{"split shift: spring forward (Berlin)", "berlin", local(t, berlin, "2026-03-27 16:00"), 2 * time.Hour, local(t, berlin, "2026-03-30 09:00")},
		{"split shift: fall back (Berlin)", "berlin", local(t, berlin, "2026-10-23 16:30"), time.Hour, local(t, berlin, "2026-10-26 08:30")},
		{"owner in Berlin, NY calendar", "ny", local(t, berlin, "2026-12-04 22:00"), 4 * time.Hour, local(t, ny, "2026-12-07 11:30")},
		{"Berlin calendar, NY start", "berlin", local(t, ny, "2026-12-02 10:00"), time.Hour, local(t, berlin, "2026-12-02 17:00")},
		{"Berlin calendar, NY start after Berlin closed", "berlin", local(t, ny, "2026-12-02 11:30"), time.Hour, local(t, berlin, "2026-12-03 09:00")},
		// Round the clock, working time is elapsed time: 4 h after 23:00
		// is 04:00 in March (an hour skipped) and 02:00 in November.
		{"round the clock, spring forward", "ny24", local(t, ny, "2026-03-07 23:00"), 4 * time.Hour, local(t, ny, "2026-03-08 04:00")},
		{"round the clock, fall back", "ny24", local(t, ny, "2026-10-31 23:00"), 4 * time.Hour, time.Date(2026, 11, 1, 7, 0, 0, 0, time.UTC)},
		// 01:00–04:00 on the spring-forward Sunday is 2 h long.
		{"interval cut by spring forward", "nyNight", local(t, ny, "2026-03-08 00:00"), 2 * time.Hour, local(t, ny, "2026-03-08 04:00")},
		{"interval cut by spring forward, next week", "nyNight", local(t, ny, "2026-03-08 00:00"), 3 * time.Hour, local(t, ny, "2026-03-15 02:00")},
		{"interval stretched by fall back", "nyNight", local(t, ny, "2026-11-01 00:00"), 4 * time.Hour, local(t, ny, "2026-11-01 04:00")},
		{"zero duration", "ny", local(t, ny, "2026-12-05 10:00"), 0, local(t, ny, "2026-12-05 10:00")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := cals[tc.cal]
			got := c.Add(tc.start, tc.d)
			if !got.Equal(tc.want) {
				t.Fatalf("Add(%s, %s) = %s, want %s", tc.start, tc.d, got.In(c.Location()), tc.want.In(c.Location()))
			}
			if got.Location() != tc.start.Location() {
				t.Errorf("result in %s, want the start's location %s", got.Location(), tc.start.Location())
			}
			if tc.d > 0 {
				if b := c.Between(tc.start, got); b != tc.d {
					t.Errorf("Between(start, due) = %s, want %s", b, tc.d)
				}
			}
		})
	}
}

func TestBetween(t *testing.T) {
	cals, ny, _, berlin := testCalendars(t)
	cases := []struct {
		name, cal string
		a, b      time.Time
		want      time.Duration
	}{
		{"a weekend", "ny", local(t, ny, "2026-12-04 17:30"), local(t, ny, "2026-12-07 09:00"), 0},
		{"friday evening to monday noon", "ny", local(t, ny, "2026-12-04 16:00"), local(t, ny, "2026-12-07 12:00"), 4*time.Hour + 30*time.Minute},
		{"a week", "ny", local(t, ny, "2026-11-30 00:00"), local(t, ny, "2026-12-07 00:00"), 5 * (8*time.Hour + 30*time.Minute)},
		{"a week with Thanksgiving", "ny+us", local(t, ny, "2026-11-23 00:00"), local(t, ny, "2026-11-30 00:00"), 4 * (8*time.Hour + 30*time.Minute)},
		{"reversed", "ny", local(t, ny, "2026-12-02 14:00"), local(t, ny, "2026-12-02 10:00"), -4 * time.Hour},
		{"split shift day", "berlin", local(t, berlin, "2026-12-02 00:00"), local(t, berlin, "2026-12-03 00:00"), 8 * time.Hour},
		{"inside the lunch break", "berlin", local(t, berlin, "2026-12-02 12:10"), local(t, berlin, "2026-12-02 12:50"), 0},
		{"spring forward day, round the clock", "ny24", local(t, ny, "2026-03-08 00:00"), local(t, ny, "2026-03-09 00:00"), 23 * time.Hour},
		{"fall back day, round the clock", "ny24", local(t, ny, "2026-11-01 00:00"), local(t, ny, "2026-11-02 00:00"), 25 * time.Hour},
		{"01:00-04:00 on the spring-forward sunday", "nyNight", local(t, ny, "2026-03-08 00:00"), local(t, ny, "2026-03-08 12:00"), 2 * time.Hour},
		{"01:00-04:00 on the fall-back sunday", "nyNight", local(t, ny, "2026-11-01 00:00"), local(t, ny, "2026-11-01 12:00"), 4 * time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := cals[tc.cal].Between(tc.a, tc.b); got != tc.want {
				t.Fatalf("Between(%s, %s) = %s, want %s", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

func TestNextAndWorking(t *testing.T) {
	cals, ny, _, berlin := testCalendars(t)
	cases := []struct {
		name, cal string
		t, next   time.Time
	}{
		{"during hours", "ny", local(t, ny, "2026-12-02 10:00"), local(t, ny, "2026-12-02 10:00")},
		{"at opening", "ny", local(t, ny, "2026-12-02 09:00"), local(t, ny, "2026-12-02 09:00")},
		{"at closing (the end is not working time)", "ny", local(t, ny, "2026-12-02 17:30"), local(t, ny, "2026-12-03 09:00")},
		{"friday evening", "ny", local(t, ny, "2026-12-04 19:00"), local(t, ny, "2026-12-07 09:00")},
		{"friday before Labor Day", "ny+us", local(t, ny, "2026-09-04 19:00"), local(t, ny, "2026-09-08 09:00")},
		{"lunch break", "berlin", local(t, berlin, "2026-12-02 12:30"), local(t, berlin, "2026-12-02 13:00")},
		{"from another zone, open", "berlin", local(t, ny, "2026-12-02 10:00"), local(t, ny, "2026-12-02 10:00")},
		{"from another zone, closed", "berlin", local(t, ny, "2026-12-02 11:30"), local(t, berlin, "2026-12-03 08:00")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := cals[tc.cal]
			got := c.Next(tc.t)
			if !got.Equal(tc.next) {
				t.Fatalf("Next(%s) = %s, want %s", tc.t, got.In(c.Location()), tc.next.In(c.Location()))
			}
			if w := c.Working(tc.t); w != tc.t.Equal(tc.next) {
				t.Errorf("Working(%s) = %v, want %v", tc.t, w, !w)
			}
			if !c.Working(got) {
				t.Errorf("Next(%s) = %s is not working time", tc.t, got)
			}
		})
	}
}

// TestAddBetweenAgree checks Add and Between against each other on random
// starts and durations over two years, DST changes and holidays included.
func TestAddBetweenAgree(t *testing.T) {
	cals, _, _, _ := testCalendars(t)
	r := rand.New(rand.NewPCG(13, 13))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, c := range cals {
		for range 500 {
			start := base.Add(time.Duration(r.Int64N(int64(2 * 365 * 24 * time.Hour)))).Truncate(time.Minute)
			d := time.Duration(1+r.Int64N(int64(60*time.Hour/time.Minute))) * time.Minute
			due := c.Add(start, d)
			if b := c.Between(start, due); b != d {
				t.Fatalf("%s: Between(%s, Add(%s, %s) = %s) = %s", name, start, start, d, due, b)
			}
			if !c.Working(due.Add(-time.Nanosecond)) {
				t.Fatalf("%s: Add(%s, %s) = %s does not end in working time", name, start, d, due)
			}
		}
	}
}

func TestParse(t *testing.T) {
	for _, s := range []string{"9-17", "09:00", "17:00-09:00", "09:00-09:00", "09:60-10:00", "24:00-24:00", "09:00-24:30", "x9:00-10:00"} {
		if _, err := ParseInterval(s); err == nil {
			t.Errorf("ParseInterval(%q) accepted", s)
		}
	}
	if iv, err := ParseInterval(" 9:05 - 24:00 "); err != nil || iv != (Interval{9*time.Hour + 5*time.Minute, 24 * time.Hour}) {
		t.Errorf("ParseInterval(9:05-24:00) = %v, %v", iv, err)
	}
	days := map[string][]time.Weekday{
		"mon-fri": {1, 2, 3, 4, 5},
		"sat,sun": {6, 0},
		"fri-mon": {5, 6, 0, 1},
		"Monday":  {1},
		"daily":   {0, 1, 2, 3, 4, 5, 6},
	}
	for s, want := range days {
		got, err := ParseDays(s)
		if err != nil || len(got) != len(want) {
			t.Errorf("ParseDays(%q) = %v, %v; want %v", s, got, err, want)
			continue
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("ParseDays(%q) = %v, want %v", s, got, want)
			}
		}
	}
	for _, s := range []string{"mo-fr", "weekdays", "mon,mon", "mon-fri,fri", ""} {
		if _, err := ParseDays(s); err == nil {
			t.Errorf("ParseDays(%q) accepted", s)
		}
	}
	for s, want := range map[string]Holiday{"2026-12-25": {2026, 12, 25}, "12-25": {0, 12, 25}, "02-29": {0, 2, 29}} {
		if got, err := ParseHoliday(s); err != nil || got != want || got.String() != s {
			t.Errorf("ParseHoliday(%q) = %v (%s), %v; want %v", s, got, got, err, want)
		}
	}
	for s, msg := range map[string]string{"2026-02-29": "no such day", "13-01": "no such day", "04-31": "no such day", "2026/12/25": "want a date", "25.12.": "want a date", "12-5": "want a date"} {
		if _, err := ParseHoliday(s); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseHoliday(%q) = %v, want an error with %q", s, err, msg)
		}
	}
}

func TestNewErrors(t *testing.T) {
	ny := zone(t, "America/New_York")
	cases := map[string]struct {
		cfg  Config
		want string
	}{
		"overlap":  {Config{Zone: ny, Week: week(t, map[string][]string{"mon-fri": {"09:00-17:00"}, "mon": {"16:00-18:00"}})}, "Monday: intervals 09:00-17:00 and 16:00-18:00 overlap"},
		"no hours": {Config{Zone: ny}, "no working hours"},
		"country":  {Config{Zone: ny, Week: week(t, map[string][]string{"mon": {"09:00-17:00"}}), Country: "XX"}, `unknown country "XX"`},
		"holiday":  {Config{Zone: ny, Week: week(t, map[string][]string{"mon": {"09:00-17:00"}}), Holidays: []Holiday{{Month: 13, Day: 1}}}, "no such day"},
	}
	for name, tc := range cases {
		if _, err := New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: New = %v, want an error with %q", name, err, tc.want)
		}
	}
	// Adjacent intervals are fine.
	if _, err := New(Config{Zone: ny, Week: week(t, map[string][]string{"mon": {"09:00-12:00", "12:00-17:00"}})}); err != nil {
		t.Errorf("adjacent intervals: %v", err)
	}
}

func TestCountryHolidaysOutsidePrecomputedYears(t *testing.T) {
	ny := zone(t, "America/New_York")
	c := mustNew(t, Config{Zone: ny, Week: week(t, map[string][]string{"mon-fri": {"09:00-17:00"}}), Country: "us"})
	for _, d := range []time.Time{time.Date(1999, 12, 31, 12, 0, 0, 0, ny), time.Date(2101, 12, 26, 12, 0, 0, 0, ny), time.Date(2050, 12, 26, 12, 0, 0, 0, ny), time.Date(2100, 12, 31, 12, 0, 0, 0, ny)} {
		// Dec 31 1999 was the observed New Year's Day 2000 (a Saturday), as is Dec 31 2100 for 2101;
		// Dec 25 of 2050 and 2101 fall on a Sunday and are observed on Monday.
		if c.Working(d) {
			t.Errorf("%s is a US holiday, but Working says yes", d.Format(time.DateOnly))
		}
	}
	if !c.Working(time.Date(2101, 12, 27, 12, 0, 0, 0, ny)) {
		t.Error("2101-12-27 is a working Tuesday")
	}
}

func BenchmarkAdd(b *testing.B) {
	cals, ny, _, _ := testCalendars(b)
	c := cals["ny+us"]
	for _, bc := range []struct {
		name  string
		start time.Time
		d     time.Duration
	}{
		{"4h_friday_evening_before_holiday", local(b, ny, "2026-09-04 16:00"), 4 * time.Hour},
		{"30m_weekday", local(b, ny, "2026-12-02 10:00"), 30 * time.Minute},
		{"2d_over_christmas", local(b, ny, "2026-12-22 16:00"), 48 * time.Hour},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				c.Add(bc.start, bc.d)
			}
		})
	}
}

func BenchmarkBetween(b *testing.B) {
	cals, ny, _, _ := testCalendars(b)
	c := cals["ny+us"]
	a, z := local(b, ny, "2026-09-04 16:00"), local(b, ny, "2026-09-08 12:30")
	for b.Loop() {
		c.Between(a, z)
	}
}

// FuzzCalendar: any parsed week and holidays either build a calendar or an
// error; on a calendar, Add and Between agree and the due time is working
// time (or the end of an interval).
func FuzzCalendar(f *testing.F) {
	f.Add("mon-fri", "09:00-17:30", "sat", "10:00-12:00", "12-25", "US", int64(1764950400), int64(4*3600))
	f.Add("daily", "00:00-24:00", "sun", "01:00-04:00", "2026-03-08", "", int64(1772949600), int64(7200))
	f.Add("fri-mon", "22:00-24:00", "tue", "00:00-06:00", "02-29", "DE", int64(1791000000), int64(100000))
	ny := zone(f, "America/New_York")
	f.Fuzz(func(t *testing.T, days1, iv1, days2, iv2, hol, country string, start, d int64) {
		cfg := Config{Zone: ny, Week: map[time.Weekday][]Interval{}, Country: country}
		for _, e := range [][2]string{{days1, iv1}, {days2, iv2}} {
			wds, err := ParseDays(e[0])
			if err != nil {
				continue
			}
			iv, err := ParseInterval(e[1])
			if err != nil {
				continue
			}
			for _, wd := range wds {
				cfg.Week[wd] = append(cfg.Week[wd], iv)
			}
		}
		if h, err := ParseHoliday(hol); err == nil {
			cfg.Holidays = []Holiday{h}
		}
		c, err := New(cfg)
		if err != nil {
			return
		}
		from := time.Unix(start%(200*365*86400), 0) // 1970 to 2170
		dur := time.Duration(d%(500*3600)) * time.Second
		if dur <= 0 {
			return
		}
		due := c.Add(from, dur)
		if due.IsZero() {
			t.Fatalf("Add(%s, %s) found no working time", from, dur)
		}
		if b := c.Between(from, due); b != dur {
			t.Fatalf("Between(%s, Add = %s) = %s, want %s", from, due, b, dur)
		}
		if !c.Working(due.Add(-time.Nanosecond)) {
			t.Fatalf("Add(%s, %s) = %s: the instant before is not working time", from, dur, due)
		}
		if n := c.Next(from); !c.Working(n) || n.Before(from) {
			t.Fatalf("Next(%s) = %s", from, n)
		}
	})
}
