package salesforce_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/salesforce"
	"github.com/handoff-dev/handoff/connectors/salesforce/salesforcetest"
)

func TestConfigDefaults(t *testing.T) {
	var cfg salesforce.Config
	if err := envconfig.ProcessWith(context.Background(), &envconfig.Config{Target: &cfg, Lookuper: envconfig.MapLookuper(map[string]string{
		"SALESFORCE_CLIENT_ID": "id",
	})}); err != nil {
		t.Fatal(err)
	}
	if cfg.LoginURL != "https://login.salesforce.com" || cfg.APIVersion != "v62.0" || cfg.TierField != "Tier__c" ||
		cfg.HandoffIDField != "Handoff_Id__c" || cfg.RateLimit != "25/1s" || cfg.APIUsageBackoff != 0.95 ||
		cfg.APIUsageRetry != 15*time.Minute || strings.Join(cfg.Scopes, " ") != "api refresh_token" {
		t.Fatalf("defaults %+v", cfg)
	}
}

func TestConfigValidation(t *testing.T) {
	e := newEnv(t, nil)
	for name, mod := range map[string]func(*salesforce.Config){
		"api version":    func(c *salesforce.Config) { c.APIVersion = "62" },
		"tier field":     func(c *salesforce.Config) { c.TierField = "Tier__c OR 1" },
		"handoff field":  func(c *salesforce.Config) { c.HandoffIDField = "x/y" },
		"rate":           func(c *salesforce.Config) { c.RateLimit = "lots" },
		"usage fraction": func(c *salesforce.Config) { c.APIUsageBackoff = 1.5 },
		"jwt without key": func(c *salesforce.Config) {
			c.JWTUsername = "u@x"
		},
		"jwt bad key": func(c *salesforce.Config) { c.JWTUsername, c.JWTPrivateKey = "u@x", "not pem" },
	} {
		cfg := e.cfg
		mod(&cfg)
		if _, err := salesforce.New(cfg, e.deps); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	cfg := e.cfg
	cfg.APIVersion = "58.0"
	if _, err := salesforce.New(cfg, e.deps); err != nil {
		t.Errorf("a version without the v prefix should be accepted: %v", err)
	}
}

func TestJWTAudienceDefaults(t *testing.T) {
	for login, want := range map[string]string{
		"https://login.salesforce.com":                "https://login.salesforce.com",
		"https://test.salesforce.com":                 "https://test.salesforce.com",
		"https://acme.my.salesforce.com":              "https://login.salesforce.com",
		"https://acme--uat.sandbox.my.salesforce.com": "https://test.salesforce.com",
		"https://community.acme.example/partners":     "https://community.acme.example/partners",
	} {
		if got := salesforce.DefaultJWTAudience(login); got != want {
			t.Errorf("%s: %s, want %s", login, got, want)
		}
	}
}

func TestFakeEnvConfiguresAClient(t *testing.T) {
	e := newEnv(t, nil)
	var cfg salesforce.Config
	if err := envconfig.ProcessWith(context.Background(), &envconfig.Config{Target: &cfg, Lookuper: envconfig.MapLookuper(e.fake.Env())}); err != nil {
		t.Fatal(err)
	}
	cfg.RateLimit = "0"
	c, err := salesforce.New(cfg, e.deps)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Profile(context.Background(), salesforcetest.OrgID, handoff.ContactRef{Email: "ceo@globex.example"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Account.Tier != "tier_1" || p.Facts.Seniority != "c_suite" {
		t.Fatalf("profile %+v", p)
	}
}
