package jobs

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/internal/worktime"
)

// Calendars looks up the working-time calendars routes name
// (Route.Calendar); *ladder.Ladder is one. Without it every SLA runs on
// wall time.
type Calendars interface {
	Calendar(name string) (*worktime.Calendar, bool)
}

// slaCalendar is the name of the calendar a decision's SLA counts, or ""
// for wall time: the route's calendar unless the rung asked for wall time.
func (p *Pipeline) slaCalendar(d handoff.Decision) string {
	if d.Route == nil || d.SLAClock == handoff.SLAClockWall {
		return ""
	}
	return d.Route.Calendar
}

// calendar returns the named calendar, or nil (wall time) when the name is
// empty or the ladder no longer has it.
func (p *Pipeline) calendar(ctx context.Context, name string) *worktime.Calendar {
	if name == "" || p.calendars == nil {
		return nil
	}
	cal, ok := p.calendars.Calendar(name)
	if !ok {
		p.log.WarnContext(ctx, "the handoff's calendar is not in the ladder; its SLA counts wall time", "calendar", name)
		return nil
	}
	return cal
}

// ownerCalendar is cal on the owner's own clock when the owner has a time
// zone (from the CRM) that differs from the calendar's, else cal.
func (p *Pipeline) ownerCalendar(cal *worktime.Calendar, zone string) *worktime.Calendar {
	if cal == nil || zone == "" || zone == cal.Location().String() {
		return cal
	}
	key := zonedCalendar{cal, zone}
	if in, ok := p.zones.Load(key); ok {
		return in.(*worktime.Calendar)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return cal // an unknown zone: the calendar's
	}
	in := cal.In(loc)
	p.zones.Store(key, in)
	return in
}

// zonedCalendar keys Pipeline.zones: a calendar read in an owner's zone.
type zonedCalendar struct {
	cal  *worktime.Calendar
	zone string
}

// dueZone is the zone a due date is read in: the owner's, else the SLA
// calendar's, else "" (UTC).
func dueZone(cal *worktime.Calendar, owner handoff.Owner) string {
	if owner.TimeZone != "" {
		return owner.TimeZone
	}
	if cal != nil {
		return cal.Location().String()
	}
	return ""
}

// slaAt is when d has passed since from on the calendar's clock: d of
// working time (so it is never outside working hours), or with no
// calendar d of wall time.
func slaAt(cal *worktime.Calendar, from time.Time, d time.Duration) time.Time {
	if cal == nil {
		return from.Add(d)
	}
	if at := cal.Add(from, d); !at.IsZero() {
		return at
	}
	return from.Add(d) // a calendar without working time ahead: wall time
}

// dueAt is when a decision's SLA, started at from, is due for an owner
// in the given time zone ("": the calendar's).
func (p *Pipeline) dueAt(ctx context.Context, d handoff.Decision, from time.Time, zone string) time.Time {
	return slaAt(p.ownerCalendar(p.calendar(ctx, p.slaCalendar(d)), zone), from, p.sla(d))
}

// checkAt is when the SLA check of a recorded handoff at n times its SLA
// runs: created + n×SLA on the handoff's clock.
func (p *Pipeline) checkAt(ctx context.Context, rec record, n int) time.Time {
	sla := time.Duration(rec.int("sla_ms")) * time.Millisecond
	if sla <= 0 {
		sla = p.cfg.DefaultSLA
	}
	return slaAt(p.ownerCalendar(p.calendar(ctx, rec["calendar"]), rec["owner_tz"]), rec.time("created_at"), time.Duration(n)*sla)
}

// sampleWorkingTTH records a handoff's time to human on its SLA clock,
// beside the wall-clock sample: a Friday-evening handoff started on Monday
// morning took minutes of working time, not a weekend.
func (p *Pipeline) sampleWorkingTTH(ctx context.Context, pipe redis.Pipeliner, rec record, created, at time.Time) {
	tth := at.Sub(created)
	if cal := p.ownerCalendar(p.calendar(ctx, rec["calendar"]), rec["owner_tz"]); cal != nil {
		tth = cal.Between(created, at)
	}
	p.sample(ctx, pipe, keyTTHWorking, tth.Seconds())
}
