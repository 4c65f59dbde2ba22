package redislock

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/handoff-dev/handoff/internal/testredis"
)

func TestTryAcquireExcludesAndReleases(t *testing.T) {
	ctx := context.Background()
	rdb := testredis.New(t).Client(t)
	rel, ok, err := TryAcquire(ctx, rdb, "lock:a", time.Minute)
	if err != nil || !ok {
		t.Fatalf("first: ok=%v err=%v", ok, err)
	}
	if _, ok, err := TryAcquire(ctx, rdb, "lock:a", time.Minute); err != nil || ok {
		t.Fatalf("second while held: ok=%v err=%v, want not ok", ok, err)
	}
	rel()
	rel() // twice is harmless
	rel2, ok, err := TryAcquire(ctx, rdb, "lock:a", time.Minute)
	if err != nil || !ok {
		t.Fatalf("after release: ok=%v err=%v", ok, err)
	}
	defer rel2()
}

// A holder that outlived its TTL must not delete the next holder's lock.
func TestReleaseAfterExpiryKeepsTheNextHoldersLock(t *testing.T) {
	ctx := context.Background()
	rdb := testredis.New(t).Client(t)
	old, ok, _ := TryAcquire(ctx, rdb, "lock:b", 50*time.Millisecond)
	if !ok {
		t.Fatal("not taken")
	}
	time.Sleep(120 * time.Millisecond)
	_, ok, err := TryAcquire(ctx, rdb, "lock:b", time.Minute)
	if err != nil || !ok {
		t.Fatalf("after expiry: ok=%v err=%v", ok, err)
	}
	old()
	if n, _ := rdb.Exists(ctx, "lock:b").Result(); n != 1 {
		t.Fatal("the expired holder's release deleted the new holder's lock")
	}
}

func TestAcquireWaitsForReleaseAndTimesOut(t *testing.T) {
	ctx := context.Background()
	rdb := testredis.New(t).Client(t)
	rel, _, _ := TryAcquire(ctx, rdb, "lock:c", time.Minute)
	go func() { time.Sleep(80 * time.Millisecond); rel() }()
	start := time.Now()
	rel2, err := Acquire(ctx, rdb, "lock:c", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 70*time.Millisecond {
		t.Fatalf("acquired after %s while the lock was held for 80ms", d)
	}
	tctx, cancel := context.WithTimeout(ctx, 60*time.Millisecond)
	defer cancel()
	if _, err := Acquire(tctx, rdb, "lock:c", time.Minute); !errors.Is(err, ErrTimeout) {
		t.Fatalf("held lock: err=%v, want ErrTimeout", err)
	}
	rel2()
}
