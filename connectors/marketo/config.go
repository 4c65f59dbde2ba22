package marketo

import (
	"errors"
	"fmt"
	"github.com/handoff-dev/handoff/connectors/ratelimit"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is the Marketo connector's configuration (variable names as in the README).
type Config struct {
	// BaseURL is the REST endpoint, https://<munchkin>.mktorest.com (the
	// Admin → Web Services form ending in /rest is accepted too).
	BaseURL string `env:"MARKETO_BASE_URL"`
	// IdentityURL is the Identity URL shown in Admin → Web Services
	// (https://<munchkin>.mktorest.com/identity; /oauth/token is appended) or
	// the token endpoint itself; empty = <BaseURL>/identity/oauth/token.
	IdentityURL  string `env:"MARKETO_IDENTITY_URL"`
	ClientID     string `env:"MARKETO_CLIENT_ID"`
	ClientSecret string `env:"MARKETO_CLIENT_SECRET"`
	// MunchkinID overrides the tenant id; empty = the first label of BaseURL's host.
	MunchkinID string `env:"MARKETO_MUNCHKIN_ID"`
	// TaskTarget says how a handoff becomes a task: "campaign:<campaignId>"
	// (request that smart campaign with the handoff tokens; its flow runs
	// "Create Task" in the synced CRM) or "activity" (only log the custom
	// activity; the pipeline creates the task in the synced CRM itself).
	TaskTarget string `env:"MARKETO_TASK_TARGET"`
	// ActivityTypeID is the id of the approved custom activity type that
	// records handoffs (primary attribute: the handoff id). See doc.go.
	ActivityTypeID int `env:"MARKETO_ACTIVITY_TYPE_ID"`
	// TierField is where the account tier lives: "namedaccount:<field>"
	// (a Named Account field, looked up by the lead's company name) or
	// "lead:<field>" (a lead/company field read with the lead). A bare
	// field name means namedaccount. "none" disables the tier.
	TierField string `env:"MARKETO_TIER_FIELD, default=namedaccount:tier"`
	// OwnerEmailField is a lead field holding the sales owner's email (the
	// standard "Lead Owner Email Address" has no REST API name, so this is a
	// custom field or empty).
	OwnerEmailField string `env:"MARKETO_OWNER_EMAIL_FIELD"`
	// CRMSynced: the instance syncs with Salesforce/Dynamics, so
	// opportunities are read in the CRM, not here (Marketo's copy is
	// read-only and partial). When false, Profile reads opportunity roles.
	CRMSynced bool `env:"MARKETO_CRM_SYNCED, default=true"`
	// RateLimit is Marketo's per-instance budget, "<calls>/<period>".
	RateLimit string `env:"MARKETO_RATE_LIMIT, default=100/20s"`
	// Concurrency caps requests in flight across every process.
	Concurrency int `env:"MARKETO_CONCURRENCY, default=10"`
	// ConcurrencyWait is how long a call waits for a free slot before
	// giving up with a RateLimitError.
	ConcurrencyWait time.Duration `env:"MARKETO_CONCURRENCY_WAIT, default=5s"`
	// HTTPTimeout bounds one HTTP request (also the slot lease, plus 5 s).
	HTTPTimeout time.Duration `env:"MARKETO_HTTP_TIMEOUT, default=30s"`
	// FindLookback is how far back FindTask scans activities when it has
	// no hint of the lead (the hint is kept in Redis at creation).
	FindLookback time.Duration `env:"MARKETO_FIND_LOOKBACK, default=72h"`
	// FindMaxPages bounds the activity pages one lookup reads.
	FindMaxPages int `env:"MARKETO_FIND_MAX_PAGES, default=50"`
}

// Rate is a parsed "<calls>/<period>" limit.
type Rate struct {
	Calls  int
	Period time.Duration
}

// ParseRate parses "100/20s" (also "100/s", "5000/24h").
func ParseRate(s string) (Rate, error) {
	l, err := ratelimit.ParseLimit(s)
	if err != nil {
		return Rate{}, err
	}
	if l.Rate == 0 {
		return Rate{}, fmt.Errorf("rate %q: Marketo needs its budget, want <calls>/<period>, e.g. 100/20s", s)
	}
	return Rate{Calls: l.Rate, Period: l.Period}, nil
}

// TaskTarget is a parsed MARKETO_TASK_TARGET.
type TaskTarget struct {
	CampaignID int // 0: activity only
}

// ParseTaskTarget parses "campaign:<id>" or "activity".
func ParseTaskTarget(s string) (TaskTarget, error) {
	s = strings.TrimSpace(s)
	if s == "activity" {
		return TaskTarget{}, nil
	}
	kind, id, ok := strings.Cut(s, ":")
	if !ok || kind != "campaign" {
		return TaskTarget{}, fmt.Errorf("task target %q: want campaign:<campaignId> or activity", s)
	}
	n, err := strconv.Atoi(id)
	if err != nil || n <= 0 {
		return TaskTarget{}, fmt.Errorf("task target %q: campaign id must be a positive integer", s)
	}
	return TaskTarget{CampaignID: n}, nil
}

// tierSource is a parsed MARKETO_TIER_FIELD.
type tierSource struct {
	namedAccount bool
	field        string
}

func parseTierField(s string) (tierSource, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return tierSource{}, nil
	}
	src, field, ok := strings.Cut(s, ":")
	if !ok {
		return tierSource{namedAccount: true, field: s}, nil
	}
	if field == "" || strings.ContainsAny(field, ", ") {
		return tierSource{}, fmt.Errorf("tier field %q: bad field name", s)
	}
	switch src {
	case "namedaccount":
		return tierSource{namedAccount: true, field: field}, nil
	case "lead":
		return tierSource{field: field}, nil
	}
	return tierSource{}, fmt.Errorf("tier field %q: want namedaccount:<field> or lead:<field>", s)
}

// MunchkinFromURL returns the first label of the base URL's host
// ("123-ABC-456" for https://123-abc-456.mktorest.com), upper-cased the way
// Marketo prints munchkin ids.
func MunchkinFromURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("MARKETO_BASE_URL %q is not an absolute URL", base)
	}
	first, _, _ := strings.Cut(u.Hostname(), ".")
	if first == "" {
		return "", fmt.Errorf("MARKETO_BASE_URL %q has no host", base)
	}
	return strings.ToUpper(first), nil
}

// restBase is MARKETO_BASE_URL without a trailing slash and without the
// "/rest" that Admin → Web Services prints after the host (its "Endpoint"
// is https://<munchkin>.mktorest.com/rest; request paths start with /rest).
func restBase(u string) string {
	u = strings.TrimRight(strings.TrimSpace(u), "/")
	return strings.TrimSuffix(u, "/rest")
}

// tokenURL turns MARKETO_IDENTITY_URL into the token endpoint. Admin →
// Web Services prints the Identity URL (https://<munchkin>.mktorest.com/identity);
// the token is requested at <Identity URL>/oauth/token. A value that is
// already the token endpoint (or another custom URL) is kept.
func tokenURL(u string) string {
	u = strings.TrimRight(strings.TrimSpace(u), "/")
	if strings.HasSuffix(u, "/identity") {
		return u + "/oauth/token"
	}
	return u
}

// settings is the validated, parsed Config.
type settings struct {
	base        string
	identityURL string
	munchkin    string
	target      TaskTarget
	tier        tierSource
	rate        Rate
}

// withDefaults fills zero fields with the env defaults, for Configs built in
// code rather than loaded with go-envconfig. (CRMSynced cannot be defaulted
// this way: a zero Config means "not synced".)
func (c Config) withDefaults() Config {
	if c.TierField == "" {
		c.TierField = "namedaccount:tier"
	}
	if c.RateLimit == "" {
		c.RateLimit = "100/20s"
	}
	if c.Concurrency == 0 {
		c.Concurrency = 10
	}
	if c.ConcurrencyWait == 0 {
		c.ConcurrencyWait = 5 * time.Second
	}
	if c.HTTPTimeout == 0 {
		c.HTTPTimeout = 30 * time.Second
	}
	if c.FindLookback == 0 {
		c.FindLookback = 72 * time.Hour
	}
	if c.FindMaxPages == 0 {
		c.FindMaxPages = 50
	}
	return c
}

func (c Config) parse() (settings, error) {
	c = c.withDefaults()
	var s settings
	var errs []error
	if c.BaseURL == "" {
		errs = append(errs, errors.New("MARKETO_BASE_URL is required"))
	}
	s.base = restBase(c.BaseURL)
	s.identityURL = tokenURL(c.IdentityURL)
	if s.identityURL == "" {
		s.identityURL = s.base + "/identity/oauth/token"
	}
	if c.BaseURL != "" {
		s.munchkin = strings.ToUpper(strings.TrimSpace(c.MunchkinID))
		if s.munchkin == "" {
			m, err := MunchkinFromURL(c.BaseURL)
			if err != nil {
				errs = append(errs, err)
			}
			s.munchkin = m
		}
	}
	if c.ClientID == "" || c.ClientSecret == "" {
		errs = append(errs, errors.New("MARKETO_CLIENT_ID and MARKETO_CLIENT_SECRET are required"))
	}
	t, err := ParseTaskTarget(c.TaskTarget)
	if err != nil {
		errs = append(errs, fmt.Errorf("MARKETO_TASK_TARGET: %w", err))
	}
	s.target = t
	if c.ActivityTypeID <= 0 {
		errs = append(errs, errors.New("MARKETO_ACTIVITY_TYPE_ID must be the id of the approved handoff custom activity type"))
	}
	tier, err := parseTierField(c.TierField)
	if err != nil {
		errs = append(errs, fmt.Errorf("MARKETO_TIER_FIELD: %w", err))
	}
	s.tier = tier
	r, err := ParseRate(c.RateLimit)
	if err != nil {
		errs = append(errs, fmt.Errorf("MARKETO_RATE_LIMIT: %w", err))
	}
	s.rate = r
	if c.Concurrency <= 0 {
		errs = append(errs, errors.New("MARKETO_CONCURRENCY must be positive"))
	}
	if c.HTTPTimeout <= 0 || c.FindLookback <= 0 || c.FindMaxPages <= 0 || c.ConcurrencyWait < 0 {
		errs = append(errs, errors.New("MARKETO_HTTP_TIMEOUT, MARKETO_FIND_LOOKBACK and MARKETO_FIND_MAX_PAGES must be positive"))
	}
	return s, errors.Join(errs...)
}
