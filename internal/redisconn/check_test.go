package redisconn

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/handoff-dev/handoff/internal/testredis"
)

// CheckServer warns about the settings that put queued work at risk, and
// says nothing once they are right. It runs against a private server
// because it changes the server's configuration.
func TestCheckServerWarnsAboutRiskySettings(t *testing.T) {
	srv := testredis.StartServer(t)
	ctx := context.Background()
	c, err := Open(ctx, Config{URL: "redis://" + srv.Addr + "/0"}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	set := func(k, v string) {
		t.Helper()
		if err := c.Client.ConfigSet(ctx, k, v).Err(); err != nil {
			t.Fatalf("CONFIG SET %s %s: %v", k, v, err)
		}
	}
	check := func() (ServerFacts, string) {
		var buf bytes.Buffer
		f := c.CheckServer(ctx, slog.New(slog.NewTextHandler(&buf, nil)))
		return f, buf.String()
	}

	set("maxmemory-policy", "allkeys-lru")
	set("appendonly", "no")
	set("save", "")
	f, logs := check()
	if f.Version == "" || f.EvictionPolicy != "allkeys-lru" {
		t.Fatalf("facts %+v", f)
	}
	for _, want := range []string{"maxmemory-policy is allkeys-lru", "set it to noeviction", "a Redis restart loses every queued task"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}

	// Snapshots on (turning AOF on here would fork a rewrite into the
	// test's temporary directory).
	set("maxmemory-policy", "noeviction")
	set("save", "3600 1")
	if _, logs := check(); strings.Contains(logs, "WARN") {
		t.Errorf("warnings with noeviction and snapshots on:\n%s", logs)
	}
}

func TestServerFactsProblems(t *testing.T) {
	cases := []struct {
		f    ServerFacts
		want []string
	}{
		{ServerFacts{Version: "6.0.16", EvictionPolicy: "noeviction", AppendOnly: "yes"}, []string{"older than 6.2"}},
		{ServerFacts{Version: "6.2.0", EvictionPolicy: "noeviction", AppendOnly: "no", Save: "3600 1"}, nil},
		{ServerFacts{Version: "7.0.15", EvictionPolicy: "volatile-lru", AppendOnly: "yes"}, []string{"volatile-lru"}},
		{ServerFacts{Version: "7.2.4"}, nil}, // CONFIG refused (managed Redis): nothing known, nothing said
		{ServerFacts{Version: "10.0.1", EvictionPolicy: "noeviction", AppendOnly: "no"}, []string{"neither AOF"}},
	}
	for i, c := range cases {
		got := c.f.Problems()
		if len(got) != len(c.want) {
			t.Errorf("case %d: problems %q, want %d", i, got, len(c.want))
			continue
		}
		for j, w := range c.want {
			if !strings.Contains(got[j], w) {
				t.Errorf("case %d: problem %q lacks %q", i, got[j], w)
			}
		}
	}
}
