package hubspot

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/handoff-dev/handoff/connectors/ratelimit"
)

// Defaults that come from HubSpot's documentation (see docs/crm/hubspot.md).
const (
	DefaultAPIBaseURL = "https://api.hubapi.com"
	DefaultAuthURL    = "https://app.hubspot.com/oauth/authorize"
	// DefaultTokenURL is the v1 token endpoint: its response is documented
	// in snake_case with hub_id (docs/crm/hubspot.md). The 2026-03 endpoint's field casing
	// is UNCONFIRMED, so it is not the default; set HUBSPOT_TOKEN_URL to move.
	DefaultTokenURL = "https://api.hubapi.com/oauth/v1/token"
	// DefaultScopes are the scopes docs/crm/hubspot.md lists for this service.
	DefaultScopes = "oauth crm.objects.contacts.read crm.objects.contacts.write crm.objects.companies.read crm.objects.deals.read crm.objects.owners.read conversations.read"
)

// Config is the HubSpot connector's configuration (variable names as in the README).
type Config struct {
	ClientID     string `env:"HUBSPOT_CLIENT_ID"`
	ClientSecret string `env:"HUBSPOT_CLIENT_SECRET"`
	AppID        string `env:"HUBSPOT_APP_ID"`
	APIBaseURL   string `env:"HUBSPOT_API_BASE_URL, default=https://api.hubapi.com"`
	AuthURL      string `env:"HUBSPOT_AUTH_URL, default=https://app.hubspot.com/oauth/authorize"`
	TokenURL     string `env:"HUBSPOT_TOKEN_URL, default=https://api.hubapi.com/oauth/v1/token"`
	// Scopes are space- (or comma-) separated.
	Scopes string `env:"HUBSPOT_SCOPES, default=oauth crm.objects.contacts.read crm.objects.contacts.write crm.objects.companies.read crm.objects.deals.read crm.objects.owners.read conversations.read"`
	// PrivateAppToken with PortalID serves that one portal without OAuth.
	PrivateAppToken string `env:"HUBSPOT_PRIVATE_APP_TOKEN"`
	PortalID        string `env:"HUBSPOT_PORTAL_ID"`
	// TierProperty is the company property holding the tier.
	TierProperty string `env:"HUBSPOT_TIER_PROPERTY, default=hs_ideal_customer_profile"`
	// HandoffIDProperty names a custom (ideally unique-value) task property
	// that stores the handoff id. Empty (the default) keeps the id as a
	// searchable "Handoff ID: <id>" line in hs_task_body only, because
	// custom task properties must be created in each portal first (docs/crm/hubspot.md).
	HandoffIDProperty string `env:"HUBSPOT_HANDOFF_ID_PROPERTY"`
	// OwnerStateProperty names a custom contact property that Handoff keeps
	// at agent|pending|human|released on each owner change (empty, the
	// default: off). The property must exist in each portal.
	OwnerStateProperty string `env:"HUBSPOT_OWNER_STATE_PROPERTY"`
	// RateLimit is the per-tenant budget for ordinary calls (docs/crm/hubspot.md: 110 per
	// 10 s per installing account for OAuth apps).
	RateLimit string `env:"HUBSPOT_RATE_LIMIT, default=110/10s"`
	// SearchRateLimit is the separate search budget (docs/crm/hubspot.md: 5 requests/s).
	SearchRateLimit string `env:"HUBSPOT_SEARCH_RATE_LIMIT, default=5/1s"`
	// PipelineCacheTTL is how long deal pipelines are kept per portal.
	PipelineCacheTTL time.Duration `env:"HUBSPOT_PIPELINE_CACHE_TTL, default=10m"`

	// PublicBaseURL is PUBLIC_BASE_URL, passed in by the caller (not read
	// from the environment here): the redirect URI is
	// PublicBaseURL + "/oauth/hubspot/callback".
	PublicBaseURL string
}

// withDefaults fills empty fields with the documented defaults, so a Config
// built in code (tests, demo) behaves like one loaded from the environment.
func (c Config) withDefaults() Config {
	set := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	set(&c.APIBaseURL, DefaultAPIBaseURL)
	set(&c.AuthURL, DefaultAuthURL)
	set(&c.TokenURL, DefaultTokenURL)
	set(&c.Scopes, DefaultScopes)
	set(&c.TierProperty, "hs_ideal_customer_profile")
	set(&c.RateLimit, "110/10s")
	set(&c.SearchRateLimit, "5/1s")
	if c.PipelineCacheTTL == 0 {
		c.PipelineCacheTTL = 10 * time.Minute
	}
	c.APIBaseURL = strings.TrimRight(c.APIBaseURL, "/")
	c.PublicBaseURL = strings.TrimRight(c.PublicBaseURL, "/")
	return c
}

// ScopeList splits Scopes.
func (c Config) ScopeList() []string {
	return strings.FieldsFunc(c.Scopes, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' })
}

// RedirectURL is where HubSpot sends the browser after consent.
func (c Config) RedirectURL() string { return c.PublicBaseURL + "/oauth/hubspot/callback" }

// Validate names the first bad variable.
func (c Config) Validate() error {
	if _, err := ratelimit.ParseLimit(c.RateLimit); err != nil {
		return fmt.Errorf("HUBSPOT_RATE_LIMIT: %w", err)
	}
	if _, err := ratelimit.ParseLimit(c.SearchRateLimit); err != nil {
		return fmt.Errorf("HUBSPOT_SEARCH_RATE_LIMIT: %w", err)
	}
	if (c.PrivateAppToken == "") != (c.PortalID == "") {
		return errors.New("HUBSPOT_PRIVATE_APP_TOKEN and HUBSPOT_PORTAL_ID must be set together")
	}
	if c.ClientID != "" && c.ClientSecret == "" {
		return errors.New("HUBSPOT_CLIENT_SECRET is required with HUBSPOT_CLIENT_ID")
	}
	if c.ClientID != "" && !strings.HasPrefix(c.PublicBaseURL, "http") {
		return errors.New("PUBLIC_BASE_URL is required for the HubSpot OAuth redirect (…/oauth/hubspot/callback)")
	}
	if c.TierProperty == "" {
		return errors.New("HUBSPOT_TIER_PROPERTY must not be empty")
	}
	return nil
}
