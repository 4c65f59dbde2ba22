package main

import (
	"testing"
	"time"
)

// A Friday-afternoon Marketo handoff through the real server, worker and
// Marketo fake, on a controlled clock: the {{my.handoff_due}} token the
// task campaign receives is the working-time due time (a 4 h SLA of New
// York 09:00-17:30 made at 16:00 on Friday is due Monday 11:30 New York),
// not created + 4 h (Friday 20:00).
func TestE2EMarketoDueTokenIsWorkingTime(t *testing.T) {
	t.Parallel()
	clock := newTestClock(t, "America/New_York", "2026-12-04 16:00") // a Friday
	y := `version: "e2e-worktime-marketo-1"
calendars:
  ny: {zone: America/New_York, hours: {mon-fri: ["09:00-17:30"]}}
topics:
  quote: {phrases: ["get a quote"]}
teams:
  desk: {owners: [dd1@acme.example], calendar: ny}
rungs:
  - id: quote
    when: "'quote' in signals.topics"
    action: handoff
    route: {team: desk}
    sla: 4h
`
	file := writeLadder(t, y)
	d, ctx := newE2E(t, e2eOptions{RealRedis: true, Extra: map[string]string{"LADDER_FILE": file},
		Clock: clock.Now})
	tag := runTag()
	mustPost(t, ctx, d, d.marketoDelivery("mkto quote", marketoQuote(tag)))
	mustDrain(t, ctx, d, 30*time.Second)
	if arch := d.archived(); len(arch) != 0 {
		t.Fatalf("archived: %s", arch[0].LastErr)
	}
	tasks := d.Marketo.Tasks()
	if len(tasks) != 1 {
		t.Fatalf("%d Marketo tasks, want 1", len(tasks))
	}
	want := clock.At("2026-12-07 11:30").UTC().Format(time.RFC3339)
	if tasks[0].Due != want {
		t.Fatalf("{{my.handoff_due}} = %q, want %s (Monday 11:30 New York; wall time would say Friday 20:00)", tasks[0].Due, want)
	}
	if tasks[0].OwnerEmail != "dd1@acme.example" {
		t.Fatalf("owner %q, want dd1@acme.example", tasks[0].OwnerEmail)
	}
}
