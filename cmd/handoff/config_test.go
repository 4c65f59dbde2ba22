package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/handoff-dev/handoff"

	"github.com/sethvargo/go-envconfig"
)

func TestConfigErrorsNameTheVariable(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"HTTP_READ_TIMEOUT": "soon"}, `HTTP_READ_TIMEOUT: "soon" is not a duration (examples: 750ms, 30s, 4h)`},
		{map[string]string{"HTTP_READ_TIMEOUT": "5"}, `HTTP_READ_TIMEOUT: "5" is not a duration`},
		{map[string]string{"WORKER_CONCURRENCY": "many"}, `WORKER_CONCURRENCY: "many" is not a whole number`},
		{map[string]string{"WEBHOOK_MAX_BODY": "2MB"}, `WEBHOOK_MAX_BODY: "2MB" is not a whole number`},
		{map[string]string{"REDIS_TLS": "yes please"}, `REDIS_TLS: "yes please" is not true or false`},
		{map[string]string{"SALESFORCE_API_USAGE_BACKOFF": "most"}, `SALESFORCE_API_USAGE_BACKOFF: "most" is not a number`},
		{map[string]string{"WORKER_CONCURRENCY": "0"}, "WORKER_CONCURRENCY: must be between 1 and 1000"},
		{map[string]string{"HTTP_MAX_BODY": "lots"}, `HTTP_MAX_BODY: "lots" is not a size`},
		{map[string]string{"HTTP_ADDR": "8080"}, `HTTP_ADDR: "8080" is not host:port`},
		{map[string]string{"PUBLIC_BASE_URL": "example.com"}, "PUBLIC_BASE_URL: "},
		{map[string]string{"ADMIN_TOKEN": "short"}, "ADMIN_TOKEN: too short"},
		{map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL: "},
		{map[string]string{"LOG_FORMAT": "xml"}, "LOG_FORMAT: "},
		{map[string]string{"REDIS_URL": "http://x:secretpw@host:1"}, "REDIS_URL: invalid Redis URL"},
		{map[string]string{"REDIS_SENTINEL_ADDRS": "a:1,b:2"}, "REDIS_SENTINEL_MASTER: required"},
		{map[string]string{"REDIS_URL": "redis://a:1", "REDIS_CLUSTER_ADDRS": "b:1"}, "alternatives: set only one"},
		{map[string]string{"REDIS_CLUSTER_ADDRS": "nohostport"}, `"nohostport" is not host:port`},
		{map[string]string{"REDIS_CLUSTER_ADDRS": "a:7000,b:7001"}, "REDIS_CLUSTER_ADDRS: Redis Cluster is not supported yet"},
	}
	for _, c := range cases {
		var stderr bytes.Buffer
		err := run(context.Background(), []string{"serve"}, envconfig.MapLookuper(c.env), io.Discard, &stderr)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 2 {
			t.Fatalf("%v: err = %v, want exit 2", c.env, err)
		}
		if !strings.Contains(ee.msg, c.want) || strings.Contains(ee.msg, "\n") {
			t.Errorf("%v: message %q does not contain %q on one line", c.env, ee.msg, c.want)
		}
		if strings.Contains(ee.msg, "secretpw") {
			t.Errorf("%v: message leaks the password: %q", c.env, ee.msg)
		}
	}
}

func TestCLIUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, envconfig.MapLookuper(nil), &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "serve") || !strings.Contains(out.String(), "version") {
		t.Fatalf("root help: %s", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"serve", "--help"}, envconfig.MapLookuper(nil), &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "--role") && !strings.Contains(out.String(), "-role") {
		t.Fatalf("serve help lacks --role: %s", out.String())
	}
	err := run(context.Background(), []string{"serve", "--role", "both"}, envconfig.MapLookuper(nil), io.Discard, io.Discard)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(ee.msg, "--role") {
		t.Fatalf("bad role: %v", err)
	}
	if err := run(context.Background(), []string{"frobnicate"}, envconfig.MapLookuper(nil), io.Discard, io.Discard); !errors.As(err, &ee) || ee.code != 2 {
		t.Fatalf("unknown command: %v", err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"version"}, envconfig.MapLookuper(nil), &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "handoff ") {
		t.Fatalf("version: %v %q", err, out.String())
	}
	for _, verb := range []string{"version", "report", "serve", "demo"} {
		if err := run(context.Background(), []string{verb, "extra"}, envconfig.MapLookuper(nil), io.Discard, io.Discard); !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), "extra") {
			t.Errorf("%s with an extra argument: %v", verb, err)
		}
	}
}

// Every variable the code reads is in the README's configuration table, and
// every variable in the table is read by the code.
func TestREADMEDocumentsEveryVariable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]string{}
	row := regexp.MustCompile("(?m)^\\|\\s*`([A-Z][A-Z0-9_]+)`\\s*\\|\\s*([^|]*)\\|")
	for _, m := range row.FindAllStringSubmatch(string(readme), -1) {
		documented[m[1]] = strings.Trim(strings.TrimSpace(m[2]), "`")
	}
	code := envVars(reflect.TypeOf(Config{}))
	var missing, stale, wrongDefault []string
	for k, def := range code {
		d, ok := documented[k]
		switch {
		case !ok:
			missing = append(missing, k)
		case def != "" && d != def:
			wrongDefault = append(wrongDefault, k+" (code "+def+", README "+d+")")
		}
	}
	for k := range documented {
		if _, ok := code[k]; !ok {
			stale = append(stale, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing)+len(stale)+len(wrongDefault) > 0 {
		t.Fatalf("README configuration table out of step with the code:\n  undocumented: %v\n  documented but not read: %v\n  wrong default: %v", missing, stale, wrongDefault)
	}
}

func TestTokenKeyRequiredWithRealRedisAndACRM(t *testing.T) {
	env := map[string]string{"REDIS_URL": "redis://127.0.0.1:1/0", "SALESFORCE_CLIENT_ID": "x"}
	err := run(context.Background(), []string{"serve"}, envconfig.MapLookuper(env), io.Discard, io.Discard)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 2 || !strings.HasPrefix(ee.msg, "configuration: TOKEN_ENCRYPTION_KEY: required") {
		t.Fatalf("err = %v", err)
	}
	env["TOKEN_ENCRYPTION_KEY"] = "c2hvcnQ="
	err = run(context.Background(), []string{"serve"}, envconfig.MapLookuper(env), io.Discard, io.Discard)
	if !errors.As(err, &ee) || !strings.Contains(ee.msg, "TOKEN_ENCRYPTION_KEY: key decodes to 5 bytes") {
		t.Fatalf("short key: %v", err)
	}
}

func TestSoleCRMTenant(t *testing.T) {
	base := func() Config { return Config{} }
	cases := []struct {
		name   string
		set    func(*Config)
		crm    handoff.Source
		tenant string
	}{
		{"none", func(*Config) {}, "", ""},
		{"hubspot private app", func(c *Config) { c.HubSpot.PrivateAppToken, c.HubSpot.PortalID = "pat-x", "62515" }, handoff.SourceHubSpot, "62515"},
		{"hubspot oauth: portals known only at run time", func(c *Config) { c.HubSpot.ClientID = "id" }, "", ""},
		{"salesforce one org", func(c *Config) {
			c.Salesforce.ClientID, c.Webhooks.SalesforceOrgIDs = "id", []string{"00D5e000000AbCd"}
		}, handoff.SourceSalesforce, "00D5e000000AbCd"},
		{"salesforce two orgs", func(c *Config) {
			c.Salesforce.ClientID, c.Webhooks.SalesforceOrgIDs = "id", []string{"00D5e000000AbCd", "00D5e000000XyZw"}
		}, "", ""},
		{"marketo", func(c *Config) { c.Marketo.ClientID, c.Marketo.BaseURL = "id", "https://123-abc-456.mktorest.com" }, handoff.SourceMarketo, "123-ABC-456"},
		{"two CRMs", func(c *Config) {
			c.HubSpot.PrivateAppToken, c.HubSpot.PortalID = "pat-x", "62515"
			c.Marketo.ClientID, c.Marketo.BaseURL = "id", "https://123-abc-456.mktorest.com"
		}, "", ""},
	}
	for _, c := range cases {
		cfg := base()
		c.set(&cfg)
		crm, tenant, ok := soleCRMTenant(cfg)
		if crm != c.crm && ok || tenant != c.tenant || ok != (c.crm != "") {
			t.Errorf("%s: %q %q %v, want %q %q", c.name, crm, tenant, ok, c.crm, c.tenant)
		}
	}
}

// Every configuration error stops start-up before any I/O: with REDIS_URL
// pointing at a listener that counts connections, a bad value exits 2,
// names the variable, and nothing ever dialed the listener. (Bad values
// found only when the webhook handlers, the connectors or the ladder are
// built count too.)
func TestConfigErrorsBeforeAnyIO(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var dials atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			dials.Add(1)
			c.Close()
		}
	}()
	base := map[string]string{
		"REDIS_URL":            "redis://" + l.Addr().String() + "/0",
		"TOKEN_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(make([]byte, 32)),
	}
	marketo := map[string]string{"MARKETO_BASE_URL": "https://123-abc-456.mktorest.com", "MARKETO_CLIENT_ID": "id", "MARKETO_CLIENT_SECRET": "s"}
	hookLadder := filepath.Join(t.TempDir(), "hooks.yaml")
	if err := os.WriteFile(hookLadder, []byte("version: t\nteams:\n  ops:\n    owners: [a@example.com]\n"+
		"    notify: [\"webhook:OPS_HOOK_SECRET:https://ops.example/h\", \"webhook:https://audit.example/h\"]\n"+
		"rungs:\n  - id: r\n    when: \"true\"\n    action: handoff\n    route: {team: ops}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	okSecret := "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 32))
	cases := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"AGENT_DEFAULT_CRM": "pipedrive", "AGENT_DEFAULT_TENANT": "1"}, `AGENT_DEFAULT_CRM "pipedrive": want hubspot, salesforce or marketo`},
		{map[string]string{"AGENT_DEFAULT_CRM": "hubspot"}, "AGENT_DEFAULT_CRM and AGENT_DEFAULT_TENANT go together"},
		{map[string]string{"MARKETO_TIME_ZONE": "Central"}, `MARKETO_TIME_ZONE "Central": not a time zone name`},
		{map[string]string{"SALESFORCE_ORG_IDS": "00Dshort"}, "SALESFORCE_ORG_IDS"},
		{map[string]string{"LADDER_FILE": filepath.Join(t.TempDir(), "missing.yaml")}, "LADDER_FILE"},
		{marketo, "MARKETO_TASK_TARGET"}, // the Marketo connector's own check
		// The ladder's webhook notify targets name the variables of their secrets.
		{map[string]string{"LADDER_FILE": hookLadder, "NOTIFY_WEBHOOK_SECRET": okSecret}, "ops.example is signed with the secret in OPS_HOOK_SECRET, which is not set"},
		{map[string]string{"LADDER_FILE": hookLadder, "OPS_HOOK_SECRET": okSecret}, "secret in NOTIFY_WEBHOOK_SECRET, which is not set"},
		{map[string]string{"LADDER_FILE": hookLadder, "OPS_HOOK_SECRET": "plaintext-secret-123", "NOTIFY_WEBHOOK_SECRET": okSecret}, "OPS_HOOK_SECRET: must start with whsec_"},
		{map[string]string{"NOTIFY_WEBHOOK_SECRET": "whsec_c2hvcnQ="}, "NOTIFY_WEBHOOK_SECRET: 5 bytes is too short"},
	}
	for _, c := range cases {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		for k, v := range c.env {
			env[k] = v
		}
		err := run(context.Background(), []string{"serve"}, envconfig.MapLookuper(env), io.Discard, io.Discard)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(ee.msg, c.want) {
			t.Errorf("%v: err = %v, want exit 2 naming %q", c.env, err, c.want)
		}
	}
	if n := dials.Load(); n != 0 {
		t.Fatalf("Redis was dialed %d time(s) before the configuration error stopped start-up", n)
	}
}

// Each variable is read by one field of the configuration; the packages
// that need it too are handed it (Config.share). Two env tags with one name
// could be given two values by a default or a later edit.
func TestEveryVariableIsReadOnce(t *testing.T) {
	seen := map[string]string{}
	var walk func(reflect.Type, string)
	walk = func(t0 reflect.Type, path string) {
		for i := 0; i < t0.NumField(); i++ {
			f := t0.Field(i)
			tag := f.Tag.Get("env")
			if tag == "" {
				if f.Type.Kind() == reflect.Struct {
					walk(f.Type, path+"."+f.Name)
				}
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			name = strings.TrimSpace(name)
			if prev, dup := seen[name]; dup {
				t.Errorf("%s is read by both %s and %s; read it once and hand it to the other in Config.share", name, prev, path+"."+f.Name)
			}
			seen[name] = path + "." + f.Name
		}
	}
	walk(reflect.TypeOf(Config{}), "Config")
	if len(seen) < 50 {
		t.Fatalf("walked only %d variables; the walk is broken", len(seen))
	}
}

func TestSharedVariablesReachEveryPackage(t *testing.T) {
	env := map[string]string{
		"PUBLIC_BASE_URL": "https://handoff.example.com", "EVENT_TIMEOUT": "90s",
		"HUBSPOT_CLIENT_SECRET": "hs-secret", "HUBSPOT_APP_ID": "1234",
		"MARKETO_BASE_URL": "https://123-ABC-456.mktorest.com", "MARKETO_MUNCHKIN_ID": "123-ABC-456",
	}
	cfg, err := loadConfig(context.Background(), envconfig.MapLookuper(env))
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]string{
		"HubSpot.PublicBaseURL": cfg.HubSpot.PublicBaseURL, "Salesforce.PublicBaseURL": cfg.Salesforce.PublicBaseURL,
		"Jobs.PublicBaseURL": cfg.Jobs.PublicBaseURL, "Webhooks.PublicBaseURL": cfg.Webhooks.PublicBaseURL,
	} {
		if got != env["PUBLIC_BASE_URL"] {
			t.Errorf("%s = %q, want %q", name, got, env["PUBLIC_BASE_URL"])
		}
	}
	if cfg.Webhooks.HubSpotClientSecret != "hs-secret" || cfg.Webhooks.HubSpotAppID != "1234" ||
		cfg.Webhooks.MarketoBaseURL != env["MARKETO_BASE_URL"] || cfg.Webhooks.MarketoMunchkinID != "123-ABC-456" {
		t.Errorf("webhooks config %+v", cfg.Webhooks)
	}
	if cfg.Ingest.Timeout != 90*time.Second || cfg.Jobs.EventTimeout != 90*time.Second {
		t.Errorf("EVENT_TIMEOUT: ingest %s, jobs %s, want 90s both", cfg.Ingest.Timeout, cfg.Jobs.EventTimeout)
	}

	// Unset, the connectors get the default and the webhook checks get
	// nothing (so they can refuse HubSpot signatures without it).
	cfg, err = loadConfig(context.Background(), envconfig.MapLookuper(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HubSpot.PublicBaseURL != "http://localhost:8080" || cfg.Jobs.PublicBaseURL != "http://localhost:8080" || cfg.Webhooks.PublicBaseURL != "" {
		t.Errorf("unset PUBLIC_BASE_URL: hubspot %q, jobs %q, webhooks %q", cfg.HubSpot.PublicBaseURL, cfg.Jobs.PublicBaseURL, cfg.Webhooks.PublicBaseURL)
	}
	if _, err := loadConfig(context.Background(), envconfig.MapLookuper(map[string]string{"HUBSPOT_CLIENT_SECRET": "s"})); err == nil || !strings.Contains(err.Error(), "PUBLIC_BASE_URL") {
		t.Errorf("HUBSPOT_CLIENT_SECRET without PUBLIC_BASE_URL: %v, want an error naming PUBLIC_BASE_URL", err)
	}
}
