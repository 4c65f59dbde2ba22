package jobs

import (
	"context"
	"reflect"
	"testing"

	"github.com/sethvargo/go-envconfig"
)

func TestConfigDefaultsMatchEnvTags(t *testing.T) {
	var cfg Config
	if err := envconfig.ProcessWith(context.Background(), &envconfig.Config{Target: &cfg, Lookuper: envconfig.MapLookuper(nil)}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, Defaults()) {
		t.Fatalf("env defaults:\n%+v\nDefaults():\n%+v", cfg, Defaults())
	}
	var bad Config
	err := envconfig.ProcessWith(context.Background(), &envconfig.Config{Target: &bad,
		Lookuper: envconfig.MapLookuper(map[string]string{"AUDIT_MAX_AGE": "forever"})})
	if err == nil {
		t.Fatal("a bad AUDIT_MAX_AGE must be rejected")
	}
}

func TestServerConfigQueues(t *testing.T) {
	h := newHarness(t)
	sc := h.p.ServerConfig()
	q := sc.Queues
	if !(q[QueueHandoff] > q[QueueEvents] && q[QueueEvents] > q[QueueBackground] && q[QueueBackground] > 0) {
		t.Fatalf("queue priorities = %v", q)
	}
	if sc.Concurrency != 20 || !sc.StrictPriority || sc.IsFailure == nil || sc.RetryDelayFunc == nil || sc.ErrorHandler == nil {
		t.Fatalf("server config = %+v", sc)
	}
}
