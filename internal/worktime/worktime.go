// Package worktime does working-time arithmetic: when is a 4-hour SLA due
// if the clock only runs during a team's working hours? A Calendar has an
// IANA time zone, weekly working intervals (several a day: split shifts),
// dated and recurring holidays, and optionally a country's national
// holidays (from github.com/rickar/cal/v2). The package is pure: no I/O,
// no clock; a Calendar is immutable and safe for concurrent use.
//
// Working intervals are wall-clock times in the calendar's zone, so a
// 09:00–17:30 day stays 09:00–17:30 across daylight-saving changes; a day
// whose interval spans the change (a night shift) has an hour more or
// less of working time, as the people on it do.
package worktime

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rickar/cal/v2"
)

// Interval is a working interval of one day, as wall-clock offsets from
// local midnight: 0 <= Start < End <= 24h.
type Interval struct {
	Start, End time.Duration
}

func (iv Interval) String() string { return clock(iv.Start) + "-" + clock(iv.End) }

func clock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// ParseInterval reads "09:00-17:30" (24:00 is allowed as an end). An
// interval must end after it starts: split a night shift across two days.
func ParseInterval(s string) (Interval, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return Interval{}, fmt.Errorf("interval %q: want HH:MM-HH:MM such as 09:00-17:30", s)
	}
	start, err := parseClock(a)
	if err != nil {
		return Interval{}, fmt.Errorf("interval %q: start: %w", s, err)
	}
	end, err := parseClock(b)
	if err != nil {
		return Interval{}, fmt.Errorf("interval %q: end: %w", s, err)
	}
	if start == 24*time.Hour {
		return Interval{}, fmt.Errorf("interval %q: a day's interval cannot start at 24:00", s)
	}
	if end <= start {
		return Interval{}, fmt.Errorf("interval %q: must end after it starts (split a night shift: 22:00-24:00 on one day, 00:00-06:00 on the next)", s)
	}
	return Interval{Start: start, End: end}, nil
}

func parseClock(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || len(h) < 1 || len(h) > 2 {
		return 0, fmt.Errorf("bad time %q (want HH:MM)", s)
	}
	if hh < 0 || hh > 24 || mm < 0 || mm > 59 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("time %q is out of range (00:00 to 24:00)", s)
	}
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute, nil
}

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

// ParseDays reads the days a weekly entry applies to: "mon", "mon-fri",
// "sat,sun", "fri-mon" (ranges wrap over the weekend) or "daily".
func ParseDays(s string) ([]time.Weekday, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "daily" {
		return []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}, nil
	}
	day := func(n string) (time.Weekday, error) {
		n = strings.TrimSpace(n)
		d, ok := dayNames[n]
		if !ok {
			return 0, fmt.Errorf("days %q: unknown day %q (want mon, tue, wed, thu, fri, sat, sun, a range such as mon-fri, or daily)", s, n)
		}
		return d, nil
	}
	var out []time.Weekday
	for part := range strings.SplitSeq(s, ",") {
		a, b, isRange := strings.Cut(part, "-")
		from, err := day(a)
		if err != nil {
			return nil, err
		}
		to := from
		if isRange {
			if to, err = day(b); err != nil {
				return nil, err
			}
		}
		for d := from; ; d = (d + 1) % 7 {
			if slices.Contains(out, d) {
				return nil, fmt.Errorf("days %q: %s is listed twice", s, d)
			}
			out = append(out, d)
			if d == to {
				break
			}
		}
	}
	return out, nil
}

// Holiday is a day off: a date, or with Year 0 the same day every year.
type Holiday struct {
	Year  int // 0: every year
	Month time.Month
	Day   int
}

func (h Holiday) String() string {
	if h.Year == 0 {
		return fmt.Sprintf("%02d-%02d", int(h.Month), h.Day)
	}
	return fmt.Sprintf("%04d-%02d-%02d", h.Year, int(h.Month), h.Day)
}

// ParseHoliday reads "2026-12-25" (that day) or "12-25" (every year).
func ParseHoliday(s string) (Holiday, error) {
	s = strings.TrimSpace(s)
	parts := strings.Split(s, "-")
	bad := fmt.Errorf("holiday %q: want a date such as 2026-12-25, or 12-25 for every year", s)
	var h Holiday
	switch len(parts) {
	case 2:
		m, err1 := strconv.Atoi(parts[0])
		d, err2 := strconv.Atoi(parts[1])
		if err1 != nil || err2 != nil || len(parts[0]) != 2 || len(parts[1]) != 2 {
			return Holiday{}, bad
		}
		h = Holiday{Month: time.Month(m), Day: d}
		// 2024 is a leap year: 02-29 is a valid recurring holiday.
		if t := time.Date(2024, h.Month, h.Day, 0, 0, 0, 0, time.UTC); m < 1 || m > 12 || t.Month() != h.Month || t.Day() != h.Day {
			return Holiday{}, fmt.Errorf("holiday %q: there is no such day", s)
		}
	case 3:
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			if len(parts[0]) == 4 && len(parts[1]) == 2 && len(parts[2]) == 2 {
				return Holiday{}, fmt.Errorf("holiday %q: there is no such day", s)
			}
			return Holiday{}, bad
		}
		h = Holiday{Year: t.Year(), Month: t.Month(), Day: t.Day()}
	default:
		return Holiday{}, bad
	}
	return h, nil
}

// Countries lists the country codes with a national holiday set.
func Countries() []string { return slices.Sorted(maps.Keys(countries)) }

// Config describes a calendar.
type Config struct {
	Zone     *time.Location              // nil: UTC
	Week     map[time.Weekday][]Interval // working intervals by weekday
	Holidays []Holiday                   // dated and recurring days off
	Country  string                      // ISO 3166-1 alpha-2 code of a national holiday set, or ""
}

// Calendar answers working-time questions for one Config.
type Calendar struct {
	loc       *time.Location
	week      [7][]Interval
	weekTotal time.Duration
	recurring [13][32]bool
	days      map[int32]struct{} // dated holidays and the country's, for the precomputed years
	country   []*cal.Holiday
}

// The years for which a country's holidays are computed up front; outside
// them they are computed when asked.
const fromYear, toYear = 2000, 2100

func dayKey(y int, m time.Month, d int) int32 { return int32(y)<<9 | int32(m)<<5 | int32(d) }

// New checks a Config and builds its Calendar: intervals must not overlap
// within a day, the week must have some working time, the country must be
// known.
func New(cfg Config) (*Calendar, error) {
	c := &Calendar{loc: cfg.Zone, days: map[int32]struct{}{}}
	if c.loc == nil {
		c.loc = time.UTC
	}
	var errs []error
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		ivs := slices.Clone(cfg.Week[wd])
		slices.SortFunc(ivs, func(a, b Interval) int { return int(a.Start - b.Start) })
		for i, iv := range ivs {
			if iv.Start < 0 || iv.End > 24*time.Hour || iv.End <= iv.Start {
				errs = append(errs, fmt.Errorf("%s: interval %s is not within one day", wd, iv))
				continue
			}
			if i > 0 && iv.Start < ivs[i-1].End {
				errs = append(errs, fmt.Errorf("%s: intervals %s and %s overlap", wd, ivs[i-1], iv))
			}
			c.weekTotal += iv.End - iv.Start
		}
		c.week[wd] = ivs
	}
	if c.weekTotal == 0 {
		errs = append(errs, errors.New("the week has no working hours"))
	}
	for _, h := range cfg.Holidays {
		switch {
		case h.Month < 1 || h.Month > 12 || h.Day < 1 || h.Day > 31:
			errs = append(errs, fmt.Errorf("holiday %s: there is no such day", h))
		case h.Year == 0:
			c.recurring[h.Month][h.Day] = true
		default:
			c.days[dayKey(h.Year, h.Month, h.Day)] = struct{}{}
		}
	}
	if cfg.Country != "" {
		hs, ok := countries[strings.ToUpper(cfg.Country)]
		if !ok {
			errs = append(errs, fmt.Errorf("unknown country %q (known: %s)", cfg.Country, strings.Join(Countries(), ", ")))
		}
		c.country = hs
		for y := fromYear - 1; y <= toYear+1; y++ { // a neighbouring year's holiday can be observed in this one
			for _, h := range hs {
				addCountryDay(c.days, h, y)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// addCountryDay marks a national holiday of year y: the day itself and the
// day it is observed on (e.g. the Friday before a Saturday holiday).
func addCountryDay(days map[int32]struct{}, h *cal.Holiday, y int) {
	act, obs := h.Calc(y)
	for _, t := range []time.Time{act, obs} {
		if !t.IsZero() {
			days[dayKey(t.Year(), t.Month(), t.Day())] = struct{}{}
		}
	}
}

// In is the calendar read in another time zone: the same weekly hours
// and holidays, on the clock of loc (an owner in another zone keeps the
// team's hours locally). The receiver is not changed.
func (c *Calendar) In(loc *time.Location) *Calendar {
	if loc == nil || loc == c.loc {
		return c
	}
	in := *c
	in.loc = loc
	return &in
}

// Location is the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// Holiday reports whether the local date y-m-d is a day off.
func (c *Calendar) Holiday(y int, m time.Month, d int) bool {
	if c.recurring[m][d] {
		return true
	}
	if _, ok := c.days[dayKey(y, m, d)]; ok {
		return true
	}
	if len(c.country) > 0 && (y < fromYear || y > toYear) {
		// A holiday of the next year can be observed this year (New
		// Year's Day on a Saturday, observed on Friday December 31).
		days := map[int32]struct{}{}
		for _, h := range c.country {
			for yy := y - 1; yy <= y+1; yy++ {
				addCountryDay(days, h, yy)
			}
		}
		_, ok := days[dayKey(y, m, d)]
		return ok
	}
	return false
}

// day is one local calendar day being walked.
type day struct {
	y       int
	m       time.Month
	d       int
	wd      time.Weekday
	mid     time.Time // local midnight (or the first instant of the day)
	next    time.Time // the next day's midnight
	regular bool      // 24 hours long: no zone change within the day
	zoneEnd time.Time // when the zone offset of mid ends (zero: never)
}

func (c *Calendar) dayOf(t time.Time) day {
	y, m, d := t.In(c.loc).Date()
	mid := time.Date(y, m, d, 0, 0, 0, 0, c.loc)
	_, zoneEnd := mid.ZoneBounds()
	dy := day{y: y, m: m, d: d, wd: mid.Weekday(), mid: mid, zoneEnd: zoneEnd}
	c.setNext(&dy)
	return dy
}

// following is the day after dy. Within one zone period (most days) the
// next midnight is 24 hours later; only a day with a zone change needs
// the time zone database.
func (c *Calendar) following(dy day) day {
	y, m, d := dy.y, dy.m, dy.d+1
	if d > daysIn(y, m) {
		d, m = 1, m+1
		if m > time.December {
			y, m = y+1, time.January
		}
	}
	nd := day{y: y, m: m, d: d, wd: (dy.wd + 1) % 7, mid: dy.next, zoneEnd: dy.zoneEnd}
	if !nd.zoneEnd.IsZero() && !nd.mid.Before(nd.zoneEnd) {
		_, nd.zoneEnd = nd.mid.ZoneBounds()
	}
	c.setNext(&nd)
	return nd
}

func (c *Calendar) setNext(dy *day) {
	if next := dy.mid.Add(24 * time.Hour); dy.zoneEnd.IsZero() || next.Before(dy.zoneEnd) {
		dy.next, dy.regular = next, true
		return
	}
	dy.next = time.Date(dy.y, dy.m, dy.d+1, 0, 0, 0, 0, c.loc)
	dy.regular = dy.next.Sub(dy.mid) == 24*time.Hour && !dy.zoneEnd.Before(dy.next)
}

func daysIn(y int, m time.Month) int {
	switch m {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// at is the instant of a wall-clock offset in the day.
func (c *Calendar) at(dy *day, off time.Duration) time.Time {
	if dy.regular {
		return dy.mid.Add(off)
	}
	if off == 24*time.Hour {
		return dy.next
	}
	return time.Date(dy.y, dy.m, dy.d, int(off/time.Hour), int(off%time.Hour/time.Minute), int(off%time.Minute/time.Second), 0, c.loc)
}

// intervals are the working intervals of a day (none on a holiday).
func (c *Calendar) intervals(dy *day) []Interval {
	ivs := c.week[dy.wd]
	if len(ivs) == 0 || c.Holiday(dy.y, dy.m, dy.d) {
		return nil
	}
	return ivs
}

// maxDays bounds a walk: enough days for d of working time plus two years
// of holidays; a calendar whose every day is off gives up there.
func (c *Calendar) maxDays(d time.Duration) int {
	return 2*366 + int(d/c.weekTotal+1)*7
}

// Add returns the instant at which d of working time has passed since
// start: the due time of an SLA of d. Time outside working hours does not
// count; when d ends exactly at the end of an interval, that end is the
// answer. d <= 0 returns start. The result is in start's location; it is
// the zero time only if no working time is left within the search bound
// (a calendar whose every day is a holiday).
func (c *Calendar) Add(start time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return start
	}
	dy := c.dayOf(start)
	for range c.maxDays(d) {
		for _, iv := range c.intervals(&dy) {
			e := c.at(&dy, iv.End)
			if !e.After(start) {
				continue
			}
			s := c.at(&dy, iv.Start)
			if s.Before(start) {
				s = start
			}
			if avail := e.Sub(s); d <= avail {
				return s.Add(d).In(start.Location())
			} else {
				d -= avail
			}
		}
		dy = c.following(dy)
	}
	return time.Time{}
}

// Between returns the working time in [a, b); negative when b is before a.
func (c *Calendar) Between(a, b time.Time) time.Duration {
	if b.Before(a) {
		return -c.Between(b, a)
	}
	var total time.Duration
	for dy := c.dayOf(a); dy.mid.Before(b); dy = c.following(dy) {
		for _, iv := range c.intervals(&dy) {
			s, e := c.at(&dy, iv.Start), c.at(&dy, iv.End)
			if s.Before(a) {
				s = a
			}
			if e.After(b) {
				e = b
			}
			if e.After(s) {
				total += e.Sub(s)
			}
		}
	}
	return total
}

// Next returns the first working instant at or after t: t itself during
// working hours, else the start of the next working interval (in t's
// location). It is the zero time only for a calendar whose every day is a
// holiday.
func (c *Calendar) Next(t time.Time) time.Time {
	dy := c.dayOf(t)
	for range c.maxDays(0) {
		for _, iv := range c.intervals(&dy) {
			e := c.at(&dy, iv.End)
			if !e.After(t) {
				continue
			}
			if s := c.at(&dy, iv.Start); s.After(t) {
				return s.In(t.Location())
			}
			return t
		}
		dy = c.following(dy)
	}
	return time.Time{}
}

// Working reports whether t is within working hours.
func (c *Calendar) Working(t time.Time) bool {
	dy := c.dayOf(t)
	for _, iv := range c.intervals(&dy) {
		if s, e := c.at(&dy, iv.Start), c.at(&dy, iv.End); !t.Before(s) && t.Before(e) {
			return true
		}
	}
	return false
}
