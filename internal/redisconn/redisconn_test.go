package redisconn

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/handoff-dev/handoff/internal/testredis"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestOpenModes(t *testing.T) {
	ctx := context.Background()
	// Embedded.
	c, err := Open(ctx, Config{}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if c.Mode != ModeEmbedded || c.Ping(ctx) != nil {
		t.Fatalf("embedded: mode %s", c.Mode)
	}
	c.Close()
	// Plain URL with a db: asynq and go-redis both target it.
	db := testredis.New(t)
	c, err = Open(ctx, Config{URL: db.URL()}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	opt, ok := c.Opt.(asynq.RedisClientOpt)
	if !ok || opt.Addr != db.Addr || opt.DB != db.DB || c.Mode != ModeURL {
		t.Fatalf("url opt = %#v", c.Opt)
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Client.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if v, _ := db.Client(t).Get(ctx, "k").Result(); v != "v" {
		t.Fatal("client does not write to the configured db")
	}
	// Sentinel maps to asynq's failover options.
	s, _ := Open(ctx, Config{SentinelAddrs: []string{"127.0.0.1:1"}, SentinelMaster: "mymaster", Password: "pw", DB: 3}, quiet())
	if o, ok := s.Opt.(asynq.RedisFailoverClientOpt); !ok || o.MasterName != "mymaster" || o.DB != 3 || o.Password != "pw" {
		t.Fatalf("sentinel opt = %#v", s.Opt)
	}
	s.Close()
}

// Our own transactions span hash slots (CROSSSLOT on a Cluster), so a
// Cluster configuration is refused at start-up with a line naming the
// variable, instead of acknowledging webhooks no worker can process.
func TestClusterIsRefused(t *testing.T) {
	cl, err := Open(context.Background(), Config{ClusterAddrs: []string{"127.0.0.1:1", "127.0.0.1:2"}}, quiet())
	if err == nil {
		cl.Close()
		t.Fatal("a Redis Cluster configuration was accepted")
	}
	if !strings.HasPrefix(err.Error(), "REDIS_CLUSTER_ADDRS: ") || !strings.Contains(err.Error(), "CROSSSLOT") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %q", err)
	}
}

func TestValidateNeverEchoesPassword(t *testing.T) {
	err := Config{URL: "postgres://u:hunter2@h:1/0"}.Validate()
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.HasPrefix(err.Error(), "REDIS_URL:") {
		t.Fatalf("err = %v", err)
	}
}

func TestPingDownNamesRedis(t *testing.T) {
	srv := testredis.StartServer(t)
	srv.Stop()
	c, err := Open(context.Background(), Config{URL: srv.URL()}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Ping(context.Background())
	if err == nil || !strings.Contains(err.Error(), "redis (url "+srv.Addr) || !IsConnError(err) {
		t.Fatalf("ping err = %v", err)
	}
	if IsConnError(errors.New("asynq: task ID conflicts with another task")) {
		t.Fatal("a command error classed as a connection error")
	}
}

// miniredis only runs TTLs down when told to (FastForward). The embedded
// Redis must expire keys like a real one, or locks, cooldowns, OAuth states
// and dedupe windows that rely on a TTL would last forever.
func TestEmbeddedExpiresKeys(t *testing.T) {
	ctx := context.Background()
	c, err := Open(ctx, Config{}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Client.Set(ctx, "lock", "1", 300*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := c.Client.Exists(ctx, "lock").Result()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a key with a 300ms TTL still exists after 5s in the embedded Redis")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
