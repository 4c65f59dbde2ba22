package jobs

import (
	"testing"
	"time"

	"github.com/handoff-dev/handoff/ladder"
)

// The due time of a handoff for an owner in another zone than the
// calendar's: the zone look-up and the working-time arithmetic together.
func BenchmarkOwnerZoneDue(b *testing.B) {
	l, err := ladder.Parse("wt.yaml", []byte(workingTimeLadder))
	if err != nil {
		b.Fatal(err)
	}
	cal, _ := l.Calendar("ny")
	from := time.Date(2026, 12, 4, 22, 0, 0, 0, time.UTC)
	p := &Pipeline{}
	for b.Loop() {
		if slaAt(p.ownerCalendar(cal, "America/Los_Angeles"), from, 4*time.Hour).IsZero() {
			b.Fatal("no due time")
		}
	}
}
