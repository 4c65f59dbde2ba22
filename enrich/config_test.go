package enrich

import (
	"context"
	"testing"

	"github.com/sethvargo/go-envconfig"
)

func TestConfigDefaultsMatchEnvTags(t *testing.T) {
	var cfg Config
	if err := envconfig.ProcessWith(context.Background(), &envconfig.Config{Target: &cfg, Lookuper: envconfig.MapLookuper(nil)}); err != nil {
		t.Fatal(err)
	}
	if cfg != Defaults() {
		t.Fatalf("env defaults %+v != Defaults() %+v", cfg, Defaults())
	}
}
