package webhooks

import (
	"encoding/base64"
	"fmt"
	"github.com/handoff-dev/handoff"
	"net/url"
	"strings"
	"time"
)

// Config is the webhook front door's configuration, loaded with
// go-envconfig. A source whose secret is unset is disabled: its route
// answers 503 "source_not_configured" (so a sender that was pointed at us
// too early retries later instead of dropping its events) and New logs one
// line about it.
type Config struct {
	// PublicBaseURL is the externally visible base URL, exactly the scheme
	// and host HubSpot calls (its v3 and v2 signatures cover the full URL).
	// Passed in by the caller (PUBLIC_BASE_URL as set, "" when unset), like
	// the other fields without an env tag: each variable is read once, by
	// the package that owns it.
	PublicBaseURL string

	// HubSpotClientSecret is the app's client secret (v3, v2 and v1
	// signatures): HUBSPOT_CLIENT_SECRET, passed in by the caller.
	HubSpotClientSecret string
	// HubSpotAppID (HUBSPOT_APP_ID, passed in), when set, makes events of
	// other apps (several apps sharing one URL) be dropped and counted
	// instead of enqueued.
	HubSpotAppID string
	// SignatureMaxAge is the replay window of timestamped signatures
	// (HubSpot v3 and Standard Webhooks), in both directions.
	SignatureMaxAge time.Duration `env:"HUBSPOT_SIGNATURE_MAX_AGE, default=5m"`

	// SalesforceOrgIDs are the orgs whose Outbound Messages and events are
	// accepted (15- or 18-character ids; compared on the first 15).
	SalesforceOrgIDs []string `env:"SALESFORCE_ORG_IDS"`
	// SalesforceWebhookSecret signs /webhooks/salesforce/events
	// (Standard Webhooks: "whsec_<base64>"; any other string is tried both as
	// raw bytes and, when it is base64, decoded as the reference libraries do).
	SalesforceWebhookSecret string `env:"SALESFORCE_WEBHOOK_SECRET"`

	// MarketoWebhookSecret is the X-Handoff-Secret header value.
	MarketoWebhookSecret string `env:"MARKETO_WEBHOOK_SECRET"`
	// MarketoBaseURL (MARKETO_BASE_URL, passed in:
	// https://<munchkin>.mktorest.com) names the tenant of Marketo events:
	// the munchkin id, the host's first label.
	MarketoBaseURL string
	// MarketoMunchkinID (MARKETO_MUNCHKIN_ID, passed in) overrides the
	// tenant taken from MarketoBaseURL; the connector is given the same
	// value, so both agree.
	MarketoMunchkinID string
	// MarketoTimeZone is the zone of times the Marketo template sends
	// without one: {{system.dateTime}} prints "2026-11-22 10:00:00", which
	// Marketo renders in US Central time (UNCONFIRMED, see
	// docs/crm/marketo.md §1; check one delivery against the lead's activity
	// log and set UTC here if it is UTC). Times with an offset or a Z are
	// read as sent.
	// Empty means DefaultMarketoTimeZone.
	MarketoTimeZone string `env:"MARKETO_TIME_ZONE, default=America/Chicago"`

	// AgentWebhookSecret signs /webhooks/agent (Standard Webhooks).
	AgentWebhookSecret string `env:"AGENT_WEBHOOK_SECRET"`
	// AgentDefaultCRM and AgentDefaultTenant fill contact.crm and
	// contact.tenant of agent turns that name neither (the agent payload
	// does not require them), so their escalations have a CRM to create the
	// task in. Unset, cmd/handoff fills them when exactly one CRM is
	// configured for exactly one tenant.
	AgentDefaultCRM    string `env:"AGENT_DEFAULT_CRM"`
	AgentDefaultTenant string `env:"AGENT_DEFAULT_TENANT"`

	// MaxBody is the largest request body accepted, in bytes (413 above).
	MaxBody int64 `env:"WEBHOOK_MAX_BODY, default=1048576"`
	// IngestTimeout bounds the enqueue of one request, below HubSpot's 5 s
	// answer deadline: past it the sender gets 503 and retries.
	IngestTimeout time.Duration `env:"WEBHOOK_INGEST_TIMEOUT, default=4s"`
}

// Validate checks the configuration without building anything (no I/O),
// so a bad value stops start-up before Redis is opened. The error names
// the variable.
func (c Config) Validate() error {
	_, err := c.settings()
	return err
}

// DefaultMarketoTimeZone is the zone Marketo's {{system.dateTime}} token is
// taken to print in (US Central; UNCONFIRMED, so MARKETO_TIME_ZONE can
// change it).
const DefaultMarketoTimeZone = "America/Chicago"

// settings is Config checked and decoded.
type settings struct {
	baseURL       string // no trailing slash
	hubspotSecret []byte
	hubspotAppID  string
	maxAge        time.Duration
	sfOrgs        []string // configured ids, as given
	sfKey         []byte
	sfKeyB64      []byte // an unprefixed SALESFORCE_WEBHOOK_SECRET read as base64, if it is
	marketoSecret []byte
	marketoTenant string
	marketoZone   *time.Location
	agentKey      []byte
	agentKeyB64   []byte // the same for AGENT_WEBHOOK_SECRET
	agentCRM      handoff.Source
	agentTenant   string
	maxBody       int64
	ingestTimeout time.Duration
}

func (c Config) settings() (settings, error) {
	s := settings{
		hubspotSecret: []byte(c.HubSpotClientSecret),
		hubspotAppID:  strings.TrimSpace(c.HubSpotAppID),
		maxAge:        c.SignatureMaxAge,
		marketoSecret: []byte(c.MarketoWebhookSecret),
		maxBody:       c.MaxBody,
		ingestTimeout: c.IngestTimeout,
	}
	if s.ingestTimeout <= 0 {
		s.ingestTimeout = 4 * time.Second
	}
	if s.maxAge <= 0 {
		s.maxAge = 5 * time.Minute
	}
	if s.maxBody <= 0 {
		s.maxBody = 1 << 20
	}
	if c.PublicBaseURL != "" {
		u, err := url.Parse(c.PublicBaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return s, fmt.Errorf("PUBLIC_BASE_URL %q: want an absolute http(s) URL without query, like https://handoff.example.com", c.PublicBaseURL)
		}
		s.baseURL = strings.TrimRight(c.PublicBaseURL, "/")
	}
	if c.HubSpotClientSecret != "" && s.baseURL == "" {
		return s, fmt.Errorf("PUBLIC_BASE_URL is required when HUBSPOT_CLIENT_SECRET is set: HubSpot signs the full URL it calls")
	}
	if s.hubspotAppID != "" {
		for _, r := range s.hubspotAppID {
			if r < '0' || r > '9' {
				return s, fmt.Errorf("HUBSPOT_APP_ID %q: want a number", c.HubSpotAppID)
			}
		}
	}
	for _, id := range c.SalesforceOrgIDs {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if len(id) != 15 && len(id) != 18 {
			return s, fmt.Errorf("SALESFORCE_ORG_IDS: %q is not a 15- or 18-character org id", id)
		}
		s.sfOrgs = append(s.sfOrgs, id)
	}
	var err error
	if s.sfKey, err = webhookKey(c.SalesforceWebhookSecret); err != nil {
		return s, fmt.Errorf("SALESFORCE_WEBHOOK_SECRET: %w", err)
	}
	if s.agentKey, err = webhookKey(c.AgentWebhookSecret); err != nil {
		return s, fmt.Errorf("AGENT_WEBHOOK_SECRET: %w", err)
	}
	s.sfKeyB64, s.agentKeyB64 = webhookKeyB64(c.SalesforceWebhookSecret), webhookKeyB64(c.AgentWebhookSecret)
	if c.MarketoBaseURL != "" {
		u, err := url.Parse(c.MarketoBaseURL)
		if err != nil || u.Hostname() == "" {
			return s, fmt.Errorf("MARKETO_BASE_URL %q: want https://<munchkin>.mktorest.com", c.MarketoBaseURL)
		}
		s.marketoTenant = strings.ToUpper(strings.SplitN(u.Hostname(), ".", 2)[0])
	}
	if id := strings.TrimSpace(c.MarketoMunchkinID); id != "" {
		s.marketoTenant = strings.ToUpper(id)
	}
	s.agentCRM = handoff.Source(strings.ToLower(strings.TrimSpace(c.AgentDefaultCRM)))
	s.agentTenant = strings.TrimSpace(c.AgentDefaultTenant)
	switch s.agentCRM {
	case "", handoff.SourceHubSpot, handoff.SourceSalesforce, handoff.SourceMarketo:
	default:
		return s, fmt.Errorf("AGENT_DEFAULT_CRM %q: want hubspot, salesforce or marketo", c.AgentDefaultCRM)
	}
	if (s.agentCRM == "") != (s.agentTenant == "") {
		return s, fmt.Errorf("AGENT_DEFAULT_CRM and AGENT_DEFAULT_TENANT go together: set both (the CRM and the portal, org or munchkin id in it) or neither")
	}
	if s.agentCRM == handoff.SourceSalesforce {
		s.agentTenant = handoff.SalesforceID18(s.agentTenant)
	}
	zone := strings.TrimSpace(c.MarketoTimeZone)
	if zone == "" {
		zone = DefaultMarketoTimeZone
	}
	if s.marketoZone, err = time.LoadLocation(zone); err != nil {
		return s, fmt.Errorf("MARKETO_TIME_ZONE %q: not a time zone name (want an IANA name such as America/Chicago, or UTC)", c.MarketoTimeZone)
	}
	return s, nil
}

// webhookKey decodes a Standard Webhooks secret: "whsec_" + base64 is the
// standard form; any other non-empty string is used as raw key bytes.
func webhookKey(secret string) ([]byte, error) {
	if secret == "" {
		return nil, nil
	}
	if rest, ok := strings.CutPrefix(secret, "whsec_"); ok {
		k, err := base64.StdEncoding.DecodeString(rest)
		if err != nil || len(k) == 0 {
			return nil, fmt.Errorf("the part after whsec_ is not valid base64")
		}
		return k, nil
	}
	return []byte(secret), nil
}

// webhookKeyB64 is the other reading of a secret given without "whsec_":
// the Standard Webhooks libraries (and our Apex sample) strip an optional
// prefix and base64-decode the rest, so a sender configured with the bare
// base64 part signs with the decoded bytes. nil when the secret has the
// prefix or is not base64.
func webhookKeyB64(secret string) []byte {
	if secret == "" || strings.HasPrefix(secret, "whsec_") {
		return nil
	}
	k, err := base64.StdEncoding.DecodeString(secret)
	if err != nil || len(k) == 0 {
		return nil
	}
	return k
}
