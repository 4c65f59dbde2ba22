package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/handoff-dev/handoff/internal/testredis"
)

func TestAllowSharedAcrossLimiters(t *testing.T) {
	db := testredis.New(t)
	a, b := New(db.Client(t)), New(db.Client(t)) // two processes
	ctx := context.Background()
	lim := Limit{Rate: 5, Period: 10 * time.Second}
	allowed := 0
	var wait time.Duration
	for i := 0; i < 10; i++ {
		l := a
		if i%2 == 1 {
			l = b
		}
		w, err := l.Allow(ctx, "hubspot:1", lim)
		if err != nil {
			t.Fatal(err)
		}
		if w == 0 {
			allowed++
		} else {
			wait = w
		}
	}
	if allowed != 5 {
		t.Fatalf("allowed %d of 10, want 5", allowed)
	}
	if wait <= 0 || wait > 2*time.Second+100*time.Millisecond {
		t.Fatalf("retry after %s, want about 2s (10s/5)", wait)
	}
	// Another tenant has its own budget.
	if w, _ := a.Allow(ctx, "hubspot:2", lim); w != 0 {
		t.Fatal("tenant 2 limited by tenant 1's calls")
	}
	// Zero limit means unlimited.
	if w, _ := a.Allow(ctx, "x", Limit{}); w != 0 {
		t.Fatal("zero limit refused a call")
	}
}

func TestParseLimit(t *testing.T) {
	good := map[string]Limit{
		"110/10s": {Rate: 110, Period: 10 * time.Second}, "5/s": {Rate: 5, Period: time.Second},
		" 100 / 20s ": {Rate: 100, Period: 20 * time.Second}, "": {}, "0": {}, "off": {},
		"190/10s": {Rate: 190, Period: 10 * time.Second}, "25/1s": {Rate: 25, Period: time.Second},
		"1000/m": {Rate: 1000, Period: time.Minute},
	}
	for in, want := range good {
		if got, err := ParseLimit(in); err != nil || got != want {
			t.Errorf("ParseLimit(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"110", "x/10s", "-1/10s", "5/-1s", "5/soon", "0/10s", "10/abc", "x/y"} {
		if _, err := ParseLimit(bad); err == nil {
			t.Errorf("ParseLimit(%q) accepted", bad)
		}
	}
}

func FuzzParseLimit(f *testing.F) {
	for _, s := range []string{"110/10s", "5/s", "off", "0", "1/1h", "x/y", "9999999999999/1ns"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLimit(s)
		if err == nil && (l.Rate < 0 || l.Period < 0 || (l.Rate > 0) != (l.Period > 0)) {
			t.Fatalf("ParseLimit(%q) = %+v", s, l)
		}
	})
}
