package ladder

import (
	"strings"
	"time"
)

// The owners: section: per-owner facts the CRM may not have, keyed by
// email.
//
//	owners:
//	  eva@acme.example: {time_zone: Europe/Berlin}
//	  dd1@acme.example:
//	    away:
//	      - {from: 2026-12-24, until: 2026-12-28, reason: holidays}
//
// A time_zone is used when the CRM gives the owner none (the CRM's wins).
// An away period's from and until are dates (whole days: until is the last
// day away) read in the owner's time_zone, else the calendar of the first
// team listing the owner, else defaults.calendar, else UTC; or RFC 3339
// times (until is the moment the owner is back).

type fileOwner struct {
	TimeZone string     `yaml:"time_zone"`
	Away     []fileAway `yaml:"away"`
}

type fileAway struct {
	From   string `yaml:"from"`
	Until  string `yaml:"until"`
	Reason string `yaml:"reason"`
}

// ownerFacts is a compiled owners: entry.
type ownerFacts struct {
	zone string
	away []awayPeriod
}

// awayPeriod is [from, until): routing skips the owner in it.
type awayPeriod struct {
	from, until time.Time
	reason      string
}

// OwnerZone is the IANA time zone the ladder file gives the owner with
// this email, or "".
func (l *Ladder) OwnerZone(email string) string {
	return l.owners[normEmail(email)].zone
}

// OwnerAway reports whether the ladder file has the owner with this email
// away at the given time, with the moment the period ends and its reason.
func (l *Ladder) OwnerAway(email string, at time.Time) (until time.Time, reason string, away bool) {
	for _, a := range l.owners[normEmail(email)].away {
		if !at.Before(a.from) && at.Before(a.until) {
			return a.until, a.reason, true
		}
	}
	return time.Time{}, "", false
}

func normEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// owners compiles the owners: section (after calendars and teams, whose
// zones date-only periods may be read in).
func (c *compiler) owners() map[string]ownerFacts {
	if len(c.f.ownerOrder) == 0 {
		return nil
	}
	out := make(map[string]ownerFacts, len(c.f.ownerOrder))
	for _, email := range c.f.ownerOrder {
		fo := c.f.Owners[email]
		p := pathf("$.owners.'%s'", email)
		if !strings.Contains(email, "@") || strings.ContainsAny(email, " \t'") {
			c.errAt(p, "owner", email, "is not an email address (owners: is keyed by the owner's email)")
			continue
		}
		facts := ownerFacts{}
		loc := time.UTC
		if z := strings.TrimSpace(fo.TimeZone); z != "" {
			l, err := time.LoadLocation(z)
			switch {
			case z == "Local":
				c.errAt(p+".time_zone", "owner", email, `time_zone "Local" depends on the machine; name an IANA time zone such as Europe/Berlin`)
			case err != nil:
				c.errAt(p+".time_zone", "owner", email, "unknown time zone %q (want an IANA name such as America/New_York or Europe/Berlin)", fo.TimeZone)
			default:
				facts.zone, loc = z, l
			}
		} else if cal := c.ownerCalendar(email); cal != "" {
			if ct, ok := c.l.calendars[cal]; ok {
				loc = ct.Location()
			}
		}
		for i, fa := range fo.Away {
			ap := pathf("%s.away[%d]", p, i)
			from, ferr := parseAwayTime(fa.From, loc, false)
			if ferr != nil {
				c.errAt(ap+".from", "owner", email, "away from %q: want a date (2026-12-24) or an RFC 3339 time (2026-12-24T09:00:00+01:00)", fa.From)
			}
			until, uerr := parseAwayTime(fa.Until, loc, true)
			if uerr != nil {
				c.errAt(ap+".until", "owner", email, "away until %q: want a date (2026-12-28, the last day away) or an RFC 3339 time (2026-12-28T09:00:00+01:00)", fa.Until)
			}
			if ferr != nil || uerr != nil {
				continue
			}
			if !until.After(from) {
				c.errAt(ap+".until", "owner", email, "away until %s is not after from %s", fa.Until, fa.From)
				continue
			}
			facts.away = append(facts.away, awayPeriod{from: from, until: until, reason: fa.Reason})
		}
		out[normEmail(email)] = facts
	}
	return out
}

// ownerCalendar is the calendar date-only away periods of an owner without
// a time_zone are read in: the first team listing the owner that has one,
// else defaults.calendar.
func (c *compiler) ownerCalendar(email string) string {
	for _, id := range c.f.teamOrder {
		t := c.l.teams[id]
		if t.Calendar == "" {
			continue
		}
		for _, o := range t.Owners {
			if strings.EqualFold(strings.TrimSpace(o), email) {
				return t.Calendar
			}
		}
	}
	return c.f.Defaults.Calendar
}

// parseAwayTime reads an away bound: an RFC 3339 time, or a date in loc
// (the start of the day; for an until, the end of it).
func parseAwayTime(s string, loc *time.Location, until bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseInLocation(time.DateOnly, s, loc)
	if err != nil {
		return time.Time{}, err
	}
	if until {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}
