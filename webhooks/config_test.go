package webhooks

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"
)

// loadConfig reads env as the program does: the variables this package
// owns through its env tags, the shared ones handed in by the caller.
func loadConfig(t *testing.T, env map[string]string) (Config, error) {
	t.Helper()
	var c Config
	err := envconfig.ProcessWith(context.Background(), &envconfig.Config{Target: &c, Lookuper: envconfig.MapLookuper(env)})
	c.PublicBaseURL = env["PUBLIC_BASE_URL"]
	c.HubSpotClientSecret = env["HUBSPOT_CLIENT_SECRET"]
	c.HubSpotAppID = env["HUBSPOT_APP_ID"]
	c.MarketoBaseURL = env["MARKETO_BASE_URL"]
	c.MarketoMunchkinID = env["MARKETO_MUNCHKIN_ID"]
	return c, err
}

func TestConfigFromEnvironment(t *testing.T) {
	c, err := loadConfig(t, map[string]string{
		"PUBLIC_BASE_URL":       "https://handoff.example.com/",
		"HUBSPOT_CLIENT_SECRET": "s",
		"SALESFORCE_ORG_IDS":    "00Dxx0000000001EAA, 00Dxx0000000002",
		"MARKETO_BASE_URL":      "https://123-abc-456.mktorest.com",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxBody != 1<<20 || c.SignatureMaxAge != 5*time.Minute {
		t.Errorf("defaults: max body %d, max age %s", c.MaxBody, c.SignatureMaxAge)
	}
	s, err := c.settings()
	if err != nil {
		t.Fatal(err)
	}
	if s.baseURL != "https://handoff.example.com" || len(s.sfOrgs) != 2 || s.sfOrgs[1] != "00Dxx0000000002" || s.marketoTenant != "123-ABC-456" {
		t.Errorf("settings %+v", s)
	}
	if matchOrg(s.sfOrgs, "00Dxx0000000002EAA") != "00Dxx0000000002EAA" || matchOrg(s.sfOrgs, "00Dxx0000000001") != "00Dxx0000000001EAA" || matchOrg(s.sfOrgs, "00Dxx0000000003EAA") != "" {
		t.Error("org matching on 15 characters is wrong")
	}
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"HUBSPOT_CLIENT_SECRET": "s"}, "PUBLIC_BASE_URL is required"},
		{map[string]string{"PUBLIC_BASE_URL": "handoff.example.com"}, "PUBLIC_BASE_URL"},
		{map[string]string{"SALESFORCE_ORG_IDS": "00D123"}, "SALESFORCE_ORG_IDS"},
		{map[string]string{"AGENT_WEBHOOK_SECRET": "whsec_%%%"}, "AGENT_WEBHOOK_SECRET"},
		{map[string]string{"SALESFORCE_WEBHOOK_SECRET": "whsec_"}, "SALESFORCE_WEBHOOK_SECRET"},
		{map[string]string{"HUBSPOT_APP_ID": "abc"}, "HUBSPOT_APP_ID"},
	}
	for _, c := range cases {
		cfg, err := loadConfig(t, c.env)
		if err == nil {
			_, err = cfg.settings()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error naming %s", c.env, err, c.want)
		}
	}
}
