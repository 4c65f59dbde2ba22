package ladder

import (
	"maps"
	"slices"
	"strings"
	"time"

	// Zones must resolve the same on every machine: lint on a laptop, run
	// in a container image without a zoneinfo directory.
	_ "time/tzdata"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/internal/worktime"
)

// fileCalendar is one entry of the top-level calendars: map.
//
//	calendars:
//	  ny:
//	    zone: America/New_York
//	    hours: {mon-fri: ["09:00-17:30"]}
//	    holidays: ["2026-12-24", "12-31"]
//	    country: US
type fileCalendar struct {
	Zone     string              `yaml:"zone"`
	Hours    map[string][]string `yaml:"hours"`
	Holidays []string            `yaml:"holidays"`
	Country  string              `yaml:"country"`
}

var validSLAClocks = []string{handoff.SLAClockWorking, handoff.SLAClockWall}

// Calendar returns the compiled calendar of that name (a Route's Calendar).
func (l *Ladder) Calendar(name string) (*worktime.Calendar, bool) {
	c, ok := l.calendars[name]
	return c, ok
}

// CalendarNames lists the ladder's calendars, sorted.
func (l *Ladder) CalendarNames() []string { return slices.Sorted(maps.Keys(l.calendars)) }

// SLADue is when an SLA of d started at created is due on the decision's
// clock: d of working time on the route's calendar, or d of wall time.
func (l *Ladder) SLADue(dec handoff.Decision, created time.Time, d time.Duration) time.Time {
	if cal := l.SLACalendar(dec); cal != nil {
		return cal.Add(created, d)
	}
	return created.Add(d)
}

// SLACalendar is the calendar whose working time a decision's SLA counts,
// or nil for wall time. A decision without SLAClock is read by its rung's
// sla_clock.
func (l *Ladder) SLACalendar(dec handoff.Decision) *worktime.Calendar {
	if dec.Route == nil {
		return nil
	}
	clock := dec.SLAClock
	if clock == "" {
		for _, r := range slices.Concat(l.exceptions, l.rungs) {
			if r.id == dec.Matched() {
				clock = l.slaClock(r, dec.Route)
			}
		}
	}
	if clock == handoff.SLAClockWall {
		return nil
	}
	return l.calendars[dec.Route.Calendar]
}

// slaClock is the clock a decision's SLA runs on: the rung's sla_clock,
// else working time when the route has a calendar, else wall time.
// Decide sets it as Decision.SLAClock.
func (l *Ladder) slaClock(r *rung, route *handoff.Route) string {
	switch {
	case r.slaClock != "":
		return r.slaClock
	case route != nil && route.Calendar != "":
		return handoff.SLAClockWorking
	}
	return handoff.SLAClockWall
}

// calendars compiles the calendars: map. Every problem is reported at the
// line of the value at fault.
func (c *compiler) calendars() map[string]*worktime.Calendar {
	out := map[string]*worktime.Calendar{}
	for _, name := range c.f.calendarOrder {
		if cal := c.calendar(name, c.f.Calendars[name]); cal != nil {
			out[name] = cal
		}
	}
	if d := c.f.Defaults.Calendar; d != "" {
		c.calendarRef("$.defaults.calendar", "", "", d)
	}
	return out
}

func (c *compiler) calendar(name string, fc fileCalendar) *worktime.Calendar {
	p := pathf("$.calendars.%s", name)
	ok := true
	fail := func(path, format string, args ...any) {
		c.errAt(path, "calendar", name, format, args...)
		ok = false
	}
	cfg := worktime.Config{Week: map[time.Weekday][]worktime.Interval{}, Country: fc.Country}
	switch z := strings.TrimSpace(fc.Zone); {
	case z == "":
		fail(p, "zone is required (an IANA time zone such as America/New_York)")
	case z == "Local":
		fail(p+".zone", `zone "Local" depends on the machine; name an IANA time zone such as America/New_York`)
	default:
		loc, err := time.LoadLocation(z)
		if err != nil {
			fail(p+".zone", "unknown time zone %q (want an IANA name such as America/New_York or Europe/Berlin)", fc.Zone)
		}
		cfg.Zone = loc
	}

	// Hours: each interval remembers where it came from, so an overlap is
	// reported at the second interval's line.
	type placed struct {
		iv   worktime.Interval
		path string
	}
	byDay := map[time.Weekday][]placed{}
	if len(fc.Hours) == 0 {
		fail(p, "has no hours (e.g. hours: {mon-fri: [\"09:00-17:30\"]})")
	}
	for _, key := range mapKeysInOrder(c.src, p+".hours") {
		kp := pathf("%s.hours.%s", p, key)
		days, err := worktime.ParseDays(key)
		if err != nil {
			fail(kp, "%v", err)
			continue
		}
		for i, s := range fc.Hours[key] {
			ip := pathf("%s[%d]", kp, i)
			iv, err := worktime.ParseInterval(s)
			if err != nil {
				fail(ip, "%v", err)
				continue
			}
			for _, d := range days {
				byDay[d] = append(byDay[d], placed{iv, ip})
			}
		}
	}
	// An overlap is reported once, with the days it happens on.
	type overlap struct {
		path     string
		iv, prev worktime.Interval
	}
	var overlaps []overlap
	overlapDays := map[overlap][]string{}
	for _, d := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday} {
		list := byDay[d]
		slices.SortStableFunc(list, func(a, b placed) int { return int(a.iv.Start - b.iv.Start) })
		var last worktime.Interval
		for _, pl := range list {
			if len(cfg.Week[d]) > 0 && pl.iv.Start < last.End {
				o := overlap{pl.path, pl.iv, last}
				if overlapDays[o] == nil {
					overlaps = append(overlaps, o)
				}
				overlapDays[o] = append(overlapDays[o], d.String()[:3])
				continue
			}
			cfg.Week[d] = append(cfg.Week[d], pl.iv)
			last = pl.iv
		}
	}
	for _, o := range overlaps {
		fail(o.path, "interval %s overlaps %s on %s", o.iv, o.prev, strings.Join(overlapDays[o], ", "))
	}

	for i, s := range fc.Holidays {
		h, err := worktime.ParseHoliday(s)
		if err != nil {
			fail(pathf("%s.holidays[%d]", p, i), "%v", err)
			continue
		}
		cfg.Holidays = append(cfg.Holidays, h)
	}
	if fc.Country != "" && !slices.Contains(worktime.Countries(), strings.ToUpper(fc.Country)) {
		fail(p+".country", "no holiday set for country %q (known: %s)", fc.Country, strings.Join(worktime.Countries(), ", "))
		cfg.Country = ""
	}
	if !ok {
		return nil
	}
	cal, err := worktime.New(cfg)
	if err != nil {
		// Everything New checks was checked above; this is a safety net.
		c.errAt(p, "calendar", name, "%v", err)
		return nil
	}
	return cal
}

// calendarRef checks a reference to a calendar and returns it ("" when
// none or unknown).
func (c *compiler) calendarRef(path, kind, id, name string) string {
	if name == "" {
		return ""
	}
	if _, ok := c.f.Calendars[name]; !ok {
		if len(c.f.calendarOrder) == 0 {
			c.errAt(path, kind, id, "unknown calendar %q (the file has no calendars: section)", name)
		} else {
			c.errAt(path, kind, id, "unknown calendar %q (calendars: %s)", name, strings.Join(c.f.calendarOrder, ", "))
		}
		return ""
	}
	return name
}

// routeCalendar is the calendar of a route: its own calendar:, else its
// team's, else defaults.calendar.
func (c *compiler) routeCalendar(path, kind, id string, fr *fileRoute, team Team) string {
	switch {
	case fr.Calendar != "":
		return c.calendarRef(path+".calendar", kind, id, fr.Calendar)
	case team.Calendar != "":
		return team.Calendar
	case c.f.Defaults.Calendar != "":
		if _, ok := c.f.Calendars[c.f.Defaults.Calendar]; ok {
			return c.f.Defaults.Calendar
		}
	}
	return ""
}

// rungSLAClock checks a rung's sla_clock: working time needs a calendar on
// the rung's route (or the default route).
func (c *compiler) rungSLAClock(p, kind, id string, fr *fileRung, route *handoff.Route) string {
	switch fr.SLAClock {
	case "", handoff.SLAClockWall:
	case handoff.SLAClockWorking:
		if route == nil {
			route = c.l.defaults.route
		}
		if route == nil || route.Calendar == "" {
			c.errAt(p+".sla_clock", kind, id, "sla_clock: working needs a calendar: set calendar: on the route's team or the route, or defaults.calendar")
		}
	default:
		c.errAt(p+".sla_clock", kind, id, "unknown sla_clock %q (want %s)", fr.SLAClock, strings.Join(validSLAClocks, " or "))
	}
	return fr.SLAClock
}
