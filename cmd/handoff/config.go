package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"regexp"
	"strings"

	"github.com/sethvargo/go-envconfig"

	"github.com/handoff-dev/handoff/callbacks"
	"github.com/handoff-dev/handoff/connectors/hubspot"
	"github.com/handoff-dev/handoff/connectors/marketo"
	"github.com/handoff-dev/handoff/connectors/salesforce"
	"github.com/handoff-dev/handoff/console"
	"github.com/handoff-dev/handoff/enrich"
	"github.com/handoff-dev/handoff/internal/httpserver"
	"github.com/handoff-dev/handoff/internal/redisconn"
	"github.com/handoff-dev/handoff/jobs"
	"github.com/handoff-dev/handoff/webhooks"
)

// Config is the whole program's configuration: each package's own Config,
// composed here. The README's configuration table documents every variable
// (TestREADMEDocumentsEveryVariable keeps them in step).
type Config struct {
	HTTP   httpserver.Config
	Redis  redisconn.Config
	Log    LogConfig
	Tokens TokenConfig
	Ladder LadderConfig

	Webhooks webhooks.Config
	Ingest   jobs.IngestConfig
	Jobs     jobs.Config
	Enrich   enrich.Config

	Callbacks callbacks.Config
	Console   console.Config

	HubSpot    hubspot.Config
	Salesforce salesforce.Config
	Marketo    marketo.Config

	// env is the environment the configuration was read from: the
	// ladder's webhook notify targets name the variables that hold their
	// secrets, looked up once the ladder is loaded (webhookSecrets).
	env envconfig.Lookuper
}

// LogConfig selects the log level and format.
type LogConfig struct {
	Level  string `env:"LOG_LEVEL, default=info"`  // debug, info, warn, error
	Format string `env:"LOG_FORMAT, default=json"` // json or text
}

func (c Config) validate() error {
	if err := c.HTTP.Validate(); err != nil {
		return err
	}
	if err := c.Redis.Validate(); err != nil {
		return err
	}
	if err := c.Callbacks.Validate(); err != nil {
		return err
	}
	if err := c.Console.Validate(c.HTTP.AdminToken); err != nil {
		return err
	}
	if _, err := parseLevel(c.Log.Level); err != nil {
		return err
	}
	if c.Log.Format != "json" && c.Log.Format != "text" {
		return fmt.Errorf("LOG_FORMAT: %q is not json or text", c.Log.Format)
	}
	if c.Tokens.EncryptionKey == "" && (c.Redis.URL != "" || len(c.Redis.SentinelAddrs) > 0 || len(c.Redis.ClusterAddrs) > 0) && needsTokenKey(c) {
		return errors.New("TOKEN_ENCRYPTION_KEY: required to store CRM tokens in Redis; generate one with: openssl rand -base64 32")
	}
	// Checked here, not when the webhook handlers are built: every
	// configuration error stops start-up before Redis is opened.
	if err := c.Webhooks.Validate(); err != nil {
		return err
	}
	if c.Jobs.Concurrency < 1 || c.Jobs.Concurrency > 1000 {
		return fmt.Errorf("WORKER_CONCURRENCY: must be between 1 and 1000, got %d", c.Jobs.Concurrency)
	}
	return nil
}

// loadConfig reads the environment. Any error is one line that names the
// variable and the problem.
func loadConfig(ctx context.Context, env envconfig.Lookuper) (Config, error) {
	var cfg Config
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &cfg, Lookuper: env}); err != nil {
		return cfg, &exitError{code: 2, msg: "configuration: " + envErrorLine(reflect.TypeOf(cfg), err)}
	}
	cfg.share()
	if err := cfg.validate(); err != nil {
		return cfg, &exitError{code: 2, msg: "configuration: " + err.Error()}
	}
	cfg.env = env
	return cfg, nil
}

// share hands the variables that several packages need to each of them.
// Every variable is read by exactly one package's Config (the env tags say
// which; TestEveryVariableIsReadOnce keeps it so); the others have an
// untagged field that is filled here, so two parts of the program can
// never see two values of one variable.
func (c *Config) share() {
	base := c.HTTP.BaseURL()
	c.HubSpot.PublicBaseURL = base
	c.Salesforce.PublicBaseURL = base
	c.Jobs.PublicBaseURL = base
	// As set, not defaulted: the webhook checks refuse HubSpot signatures
	// without an explicit PUBLIC_BASE_URL (HubSpot signs the full URL).
	c.Webhooks.PublicBaseURL = c.HTTP.PublicBaseURL
	c.Webhooks.HubSpotClientSecret = c.HubSpot.ClientSecret
	c.Webhooks.HubSpotAppID = c.HubSpot.AppID
	c.Webhooks.MarketoBaseURL = c.Marketo.BaseURL
	c.Webhooks.MarketoMunchkinID = c.Marketo.MunchkinID
	c.Ingest.Timeout = c.Jobs.EventTimeout
}

// envErrorLine rewrites go-envconfig's "Field: Sub: problem" into
// "ENV_VAR: problem" by walking the struct along the field names.
func envErrorLine(t reflect.Type, err error) string {
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	rest := msg
	for t.Kind() == reflect.Struct {
		name, tail, ok := strings.Cut(rest, ": ")
		if !ok {
			break
		}
		f, found := t.FieldByName(name)
		if !found {
			break
		}
		if tag := f.Tag.Get("env"); tag != "" {
			key, _, _ := strings.Cut(tag, ",")
			problem := tail
			if strings.HasPrefix(problem, "missing required value") {
				problem = "required but not set"
			}
			return strings.TrimSpace(key) + ": " + plainProblem(problem)
		}
		t, rest = f.Type, tail
	}
	return msg
}

// parseProblem matches the errors of strconv and time.ParseDuration, which
// name the function but not what was expected.
var parseProblem = regexp.MustCompile(`^(?:strconv\.Parse(Int|Uint|Float|Bool): parsing |time: (?:invalid|missing unit in|unknown unit .* in) duration )("(?:[^"\\]|\\.)*")`)

// plainProblem rewrites a parse error into what was wrong and what is
// wanted: `"2MB" is not a whole number of bytes` rather than
// `strconv.ParseInt: parsing "2MB": invalid syntax`.
func plainProblem(problem string) string {
	m := parseProblem.FindStringSubmatch(problem)
	if m == nil {
		return problem
	}
	switch m[1] {
	case "Int", "Uint":
		return m[2] + " is not a whole number"
	case "Float":
		return m[2] + " is not a number"
	case "Bool":
		return m[2] + " is not true or false"
	}
	return m[2] + " is not a duration (examples: 750ms, 30s, 4h)"
}

// envVars lists every environment variable the configuration reads, with
// its default ("" if none).
func envVars(t reflect.Type) map[string]string {
	out := map[string]string{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("env")
			if tag == "" {
				if f.Type.Kind() == reflect.Struct {
					walk(f.Type)
				}
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			def := ""
			// go-envconfig: default= takes the rest of the tag, commas included.
			if _, v, ok := strings.Cut(opts, "default="); ok {
				def = v
			}
			out[strings.TrimSpace(name)] = def
		}
	}
	walk(t)
	return out
}

func validLog(c LogConfig) bool {
	_, err := parseLevel(c.Level)
	return err == nil && (c.Format == "json" || c.Format == "text")
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, errors.New("LOG_LEVEL: " + fmt.Sprintf("%q is not debug, info, warn or error", s))
	}
	return l, nil
}
