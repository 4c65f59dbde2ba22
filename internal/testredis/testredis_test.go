package testredis

import (
	"context"
	"testing"
)

func TestNewGivesIsolatedDatabases(t *testing.T) {
	a, b := New(t), New(t)
	if a.Addr == b.Addr && a.DB == b.DB {
		t.Fatalf("two tests share database %d", a.DB)
	}
	ctx := context.Background()
	if err := a.Client(t).Set(ctx, "k", "a", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, _ := b.Client(t).Exists(ctx, "k").Result(); n != 0 {
		t.Fatal("key leaked across databases")
	}
}

func TestServerStopAndRestart(t *testing.T) {
	s := StartServer(t)
	if err := ping(s.Addr); err != nil {
		t.Fatalf("fresh server: %v", err)
	}
	s.Stop()
	if err := ping(s.Addr); err == nil {
		t.Fatal("server still answers after Stop")
	}
	s.Restart(t)
	if err := ping(s.Addr); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}
