package laddercli

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/ladder"
)

// nowHelp documents the -now flag and the now: key of a case.
const nowHelp = `when the handoff happens, to show its due time and climb times
(RFC 3339 with the offset, e.g. 2026-12-04T17:00:00-05:00)`

// parseNow reads a -now flag or a case's now: value.
func parseNow(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad time %q: want RFC 3339 with an offset, such as 2026-12-04T17:00:00-05:00", s)
}

// slaClockText says what a decision's SLA counts: " of working time
// (calendar ny, America/New_York)" or "" for wall time.
func slaClockText(l *ladder.Ladder, d handoff.Decision) string {
	cal := l.SLACalendar(d)
	if cal == nil {
		return ""
	}
	return fmt.Sprintf(" of working time (calendar %s, %s)", d.Route.Calendar, cal.Location())
}

// dueAt is when n times the decision's SLA has passed since now, on the
// decision's clock.
func dueAt(l *ladder.Ladder, d handoff.Decision, now time.Time, n float64) time.Time {
	return l.SLADue(d, now, time.Duration(n*float64(d.SLA)))
}

// whenText prints an instant in the calendar's zone (else as given):
// "Mon 2026-12-07 09:30 EST".
func whenText(l *ladder.Ladder, d handoff.Decision, t time.Time) string {
	if cal := l.SLACalendar(d); cal != nil {
		t = t.In(cal.Location())
	}
	return t.Format("Mon 2006-01-02 15:04 MST")
}

// climbAtText is when a climb step runs for a handoff made at now: the SLA
// checks run at whole multiples of the SLA, so a 1.5x step runs at the
// second check.
func climbAtText(l *ladder.Ladder, d handoff.Decision, now time.Time, after float64) string {
	if now.IsZero() {
		return ""
	}
	return ", at " + whenText(l, d, dueAt(l, d, now, math.Ceil(after)))
}

// checkDue compares a case's expect.due with the due time of a handoff
// made at the case's now (or the -now default).
func checkDue(l *ladder.Ladder, tc TestCase, defaultNow time.Time, d handoff.Decision) [][3]string {
	if tc.Expect.Due == "" {
		return nil
	}
	want, err := parseNow(tc.Expect.Due)
	if err != nil {
		return [][3]string{{"due", tc.Expect.Due + " (bad time)", "-"}}
	}
	now := defaultNow
	if tc.Now != "" {
		if now, err = parseNow(tc.Now); err != nil {
			return [][3]string{{"due", tc.Expect.Due, "- (now: " + err.Error() + ")"}}
		}
	}
	if now.IsZero() {
		return [][3]string{{"due", tc.Expect.Due, "- (set now: on the case or -now)"}}
	}
	if d.Route == nil {
		return [][3]string{{"due", tc.Expect.Due, "(no task)"}}
	}
	got := dueAt(l, d, now, 1)
	if got.Equal(want) {
		return nil
	}
	return [][3]string{{"due", want.Format(time.RFC3339), got.In(want.Location()).Format(time.RFC3339) + clockNote(l, d)}}
}

func clockNote(l *ladder.Ladder, d handoff.Decision) string {
	if cal := l.SLACalendar(d); cal != nil {
		return " (working time, calendar " + d.Route.Calendar + ")"
	}
	return " (wall time)"
}
