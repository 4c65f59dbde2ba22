package main

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/callbacks"
	"github.com/handoff-dev/handoff/connectors/hubspot"
	"github.com/handoff-dev/handoff/connectors/marketo"
	"github.com/handoff-dev/handoff/connectors/ratelimit"
	"github.com/handoff-dev/handoff/connectors/salesforce"
	"github.com/handoff-dev/handoff/connectors/tokenstore"
	"github.com/handoff-dev/handoff/console"
	"github.com/handoff-dev/handoff/enrich"
	"github.com/handoff-dev/handoff/internal/httpserver"
	"github.com/handoff-dev/handoff/internal/redisconn"
	"github.com/handoff-dev/handoff/jobs"
	"github.com/handoff-dev/handoff/ladder"
)

// LadderConfig names the policy files.
type LadderConfig struct {
	File       string `env:"LADDER_FILE"`        // unset: the embedded default ladder
	ShadowFile string `env:"SHADOW_LADDER_FILE"` // optional: evaluated beside the active one, never acted on
}

// TokenConfig holds the key that encrypts OAuth tokens at rest.
type TokenConfig struct {
	EncryptionKey string `env:"TOKEN_ENCRYPTION_KEY"`
}

// crms are the connectors this process was configured with.
type crms struct {
	hubspot    *hubspot.Client
	salesforce *salesforce.Client
	marketo    *marketo.Client
}

// The connectors that can mirror the owner state into the CRM (opt-in
// by their configuration).
var (
	_ jobs.OwnerStateWriter = (*hubspot.Client)(nil)
	_ jobs.OwnerStateWriter = (*salesforce.Client)(nil)
)

func (c crms) enabled() map[handoff.Source]jobs.CRM {
	m := map[handoff.Source]jobs.CRM{}
	if c.hubspot != nil {
		m[handoff.SourceHubSpot] = c.hubspot
	}
	if c.salesforce != nil {
		m[handoff.SourceSalesforce] = c.salesforce
	}
	if c.marketo != nil {
		m[handoff.SourceMarketo] = c.marketo
	}
	return m
}

func (c crms) profiles() map[handoff.Source]enrich.ProfileReader {
	m := map[handoff.Source]enrich.ProfileReader{}
	for k, v := range c.enabled() {
		m[k] = v
	}
	return m
}

// soleCRMTenant returns the CRM and tenant agent turns default to when they
// name none (AGENT_DEFAULT_CRM unset): the only CRM configured, when its
// configuration names exactly one tenant (a HubSpot private app's portal,
// the one Salesforce org, the Marketo instance). OAuth-installed portals
// and orgs are only known at run time, so they give no default.
func soleCRMTenant(cfg Config) (handoff.Source, string, bool) {
	var crm handoff.Source
	n := 0
	if hubspotEnabled(cfg.HubSpot) {
		crm, n = handoff.SourceHubSpot, n+1
	}
	if salesforceEnabled(cfg.Salesforce) {
		crm, n = handoff.SourceSalesforce, n+1
	}
	if marketoEnabled(cfg.Marketo) {
		crm, n = handoff.SourceMarketo, n+1
	}
	if n != 1 {
		return "", "", false
	}
	var tenant string
	switch crm {
	case handoff.SourceHubSpot:
		tenant = cfg.HubSpot.PortalID
	case handoff.SourceSalesforce:
		tenant = cfg.Salesforce.OrgID
		if ids := cfg.Webhooks.SalesforceOrgIDs; tenant == "" && len(ids) == 1 {
			tenant = ids[0]
		}
	case handoff.SourceMarketo:
		tenant = strings.ToUpper(strings.TrimSpace(cfg.Marketo.MunchkinID))
		if tenant == "" {
			tenant, _ = marketo.MunchkinFromURL(cfg.Marketo.BaseURL)
		}
	}
	tenant = strings.TrimSpace(tenant)
	return crm, tenant, tenant != ""
}

func hubspotEnabled(c hubspot.Config) bool { return c.ClientID != "" || c.PrivateAppToken != "" }
func salesforceEnabled(c salesforce.Config) bool {
	return c.ClientID != "" || c.RefreshToken != "" || c.JWTUsername != ""
}
func marketoEnabled(c marketo.Config) bool { return c.BaseURL != "" && c.ClientID != "" }

// needsTokenKey reports whether a configured connector keeps tokens in
// Redis (a HubSpot private-app token does not).
func needsTokenKey(c Config) bool {
	return hubspotEnabled(c.HubSpot) && c.HubSpot.PrivateAppToken == "" || salesforceEnabled(c.Salesforce) || marketoEnabled(c.Marketo)
}

// tokenStore builds the encrypted token store. Config validation already
// requires TOKEN_ENCRYPTION_KEY with a real Redis once a connector keeps
// tokens; without it (embedded Redis, or nothing to store) a random key
// serves this run.
func tokenStore(cfg Config, rdb redis.UniversalClient, log *slog.Logger) (*tokenstore.Store, error) {
	if cfg.Tokens.EncryptionKey != "" {
		key, err := tokenstore.ParseKey(cfg.Tokens.EncryptionKey)
		if err != nil {
			return nil, fmt.Errorf("TOKEN_ENCRYPTION_KEY: %w", err)
		}
		return tokenstore.New(rdb, key)
	}
	if needsTokenKey(cfg) {
		log.Warn("TOKEN_ENCRYPTION_KEY is not set: CRM tokens are encrypted with a random key for this run only (fine with the embedded Redis, which forgets them anyway)")
	}
	key := make([]byte, tokenstore.KeySize)
	_, _ = rand.Read(key)
	return tokenstore.New(rdb, key)
}

// buildCRMs constructs the configured connectors.
func buildCRMs(cfg Config, store *tokenstore.Store, rdb redis.UniversalClient, httpc *http.Client, log *slog.Logger) (crms, error) {
	var c crms
	limiter := ratelimit.New(rdb)
	if hubspotEnabled(cfg.HubSpot) {
		cl, err := hubspot.New(cfg.HubSpot, hubspot.Deps{Tokens: store, Limiter: limiter, HTTPClient: httpc, Logger: log.With("crm", "hubspot")})
		if err != nil {
			return c, fmt.Errorf("hubspot: %w", err)
		}
		c.hubspot = cl
	}
	if salesforceEnabled(cfg.Salesforce) {
		cl, err := salesforce.New(cfg.Salesforce, salesforce.Deps{Tokens: store, Limiter: limiter, HTTPClient: httpc, Logger: log.With("crm", "salesforce")})
		if err != nil {
			return c, fmt.Errorf("salesforce: %w", err)
		}
		c.salesforce = cl
	}
	if marketoEnabled(cfg.Marketo) {
		cl, err := marketo.New(cfg.Marketo, marketo.Deps{Tokens: store, Redis: rdb, Limiter: limiter, HTTPClient: httpc, Logger: log.With("crm", "marketo")})
		if err != nil {
			return c, err // marketo.New names itself ("marketo config: ...")
		}
		c.marketo = cl
	}
	return c, nil
}

// pipeline is everything behind the queue: ladders, enrichment, connectors
// and the job handlers.
type pipeline struct {
	crms   crms
	active *ladder.Ladder
	shadow *ladder.Ladder
	jobs   *jobs.Pipeline
	// callbacks delivers notices to AGENT_CALLBACK_URL (when set) and chat
	// notifications to the ladder's notify targets.
	callbacks *callbacks.Sender
}

func buildPipeline(cfg Config, conn *redisconn.Conn, client *asynq.Client, reg prometheus.Registerer, log *slog.Logger, httpc *http.Client, clock func() time.Time) (*pipeline, error) {
	active, err := ladder.LoadOrDefault(cfg.Ladder.File)
	if err != nil {
		return nil, fmt.Errorf("LADDER_FILE: %w", err)
	}
	p := &pipeline{active: active}
	var shadow jobs.ShadowDecider
	if cfg.Ladder.ShadowFile != "" {
		if p.shadow, err = ladder.LoadShadow(cfg.Ladder.ShadowFile); err != nil {
			return nil, fmt.Errorf("SHADOW_LADDER_FILE: %w", err)
		}
		shadow = p.shadow
	}
	store, err := tokenStore(cfg, conn.Client, log)
	if err != nil {
		return nil, err
	}
	if p.crms, err = buildCRMs(cfg, store, conn.Client, httpc, log); err != nil {
		return nil, err
	}
	if len(p.crms.enabled()) == 0 {
		log.Warn("no CRM is configured: events are decided and audited, but an escalation has nowhere to create its task and is archived; connect a CRM (see the README's 'Connecting a CRM'), then run the archived tasks again from /admin/queues/")
	}
	en, err := enrich.New(cfg.Enrich, enrich.Deps{Redis: conn.Client, Profiles: p.crms.profiles(), Signaler: active, Logger: log, Metrics: reg})
	if err != nil {
		return nil, fmt.Errorf("enrich: %w", err)
	}
	// The sender delivers callbacks (with AGENT_CALLBACK_URL) and the
	// ladder's chat notifications (always: teams may name notify targets).
	var notifier jobs.Notifier
	secrets, err := webhookSecrets(cfg, active)
	if err != nil {
		return nil, err
	}
	if p.callbacks, err = callbacks.New(cfg.Callbacks, callbacks.Deps{Redis: conn.Client, Enqueuer: client, Logger: log, WebhookSecrets: secrets}); err != nil {
		return nil, err
	}
	if cfg.Callbacks.Enabled() {
		notifier = p.callbacks
	}
	p.jobs, err = jobs.New(cfg.Jobs, jobs.Deps{Redis: conn.Client, CRMs: p.crms.enabled(), Enricher: en, Decider: active,
		Shadow: shadow, Enqueuer: client, Logger: log, Metrics: reg, Notifier: notifier, People: p.callbacks, Clock: clock})
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	log.Info("escalation ladder loaded", "version", active.Version(), "file", active.File(), "shadow", cfg.Ladder.ShadowFile != "")
	return p, nil
}

// webhookSecrets reads the signing secret of every webhook notify target
// of the ladder from the variable the target names, so a missing one
// stops start-up instead of archiving the team's notifications later.
func webhookSecrets(cfg Config, l *ladder.Ladder) (map[string]string, error) {
	out := map[string]string{}
	for _, t := range l.NotifyTargets() {
		if t.Format != ladder.FormatWebhook {
			continue
		}
		name := t.SecretEnv
		v := cfg.Callbacks.NotifyWebhookSecret
		if name != ladder.DefaultWebhookSecretEnv {
			v = ""
			if cfg.env != nil {
				v, _ = cfg.env.Lookup(name)
			}
		}
		if v == "" {
			host := ""
			if u, err := url.Parse(t.URL); err == nil {
				host = u.Host
			}
			return nil, fmt.Errorf("LADDER_FILE: the webhook notify target at %s is signed with the secret in %s, which is not set (whsec_ + base64 of 24 to 64 random bytes)", host, name)
		}
		if err := callbacks.CheckSecret(name, v); err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, nil
}

// mountConsole serves the RevOps console at /console/ (with ADMIN_TOKEN or
// CONSOLE_TOKEN set).
func mountConsole(cfg Config, pl *pipeline, srv *httpserver.Server, log *slog.Logger) error {
	// The decision page shows a handoff's task with the function its
	// connector writes it with.
	tasks := map[handoff.Source]console.TaskRenderer{
		handoff.SourceHubSpot:    {Render: hubspot.RenderBody, HTML: true},
		handoff.SourceSalesforce: {Render: salesforce.RenderDescription},
		handoff.SourceMarketo:    {Render: marketo.RenderBody},
	}
	c, err := console.New(cfg.Console, console.Deps{AdminToken: cfg.HTTP.AdminToken, Board: pl.jobs,
		Records: pl.jobs.Outcomes(), Tasks: tasks, Live: pl.active, Shadow: pl.shadow, Log: log.With("component", "console")})
	if err != nil {
		return err
	}
	c.Register(srv.Echo)
	return nil
}

// defaultHTTPClient is the base client for CRM calls (OAuth transports wrap it).
func defaultHTTPClient() *http.Client { return &http.Client{Timeout: 30 * time.Second} }
