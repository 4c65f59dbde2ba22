package salesforce

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/handoff-dev/handoff/connectors/ratelimit"
)

// DefaultAPIVersion is the REST API version used when SALESFORCE_API_VERSION
// is unset (the version the shared Salesforce notes use in their examples).
const DefaultAPIVersion = "v62.0"

// Config is the Salesforce connector configuration (variable names as in the README).
type Config struct {
	ClientID     string `env:"SALESFORCE_CLIENT_ID"`
	ClientSecret string `env:"SALESFORCE_CLIENT_SECRET"`
	// LoginURL is where the authorize and token endpoints live
	// (login.salesforce.com, test.salesforce.com or a My Domain URL).
	LoginURL string `env:"SALESFORCE_LOGIN_URL, default=https://login.salesforce.com"`
	// AuthURL and TokenURL override LoginURL + /services/oauth2/authorize|token.
	AuthURL  string `env:"SALESFORCE_AUTH_URL"`
	TokenURL string `env:"SALESFORCE_TOKEN_URL"`
	// Scopes asked for in the web-server flow.
	Scopes []string `env:"SALESFORCE_SCOPES, default=api,refresh_token"`

	// JWT bearer flow for one pre-authorized org (no browser install).
	JWTUsername       string `env:"SALESFORCE_JWT_USERNAME"`
	JWTPrivateKey     string `env:"SALESFORCE_JWT_PRIVATE_KEY"` // PEM
	JWTPrivateKeyFile string `env:"SALESFORCE_JWT_PRIVATE_KEY_FILE"`
	JWTAudience       string `env:"SALESFORCE_JWT_AUDIENCE"` // default: LoginURL (login.salesforce.com / test.salesforce.com for My Domain URLs)

	// RefreshToken configures one org without the browser install.
	RefreshToken string `env:"SALESFORCE_REFRESH_TOKEN"`
	// OrgID is the org the JWT / refresh-token configuration belongs to.
	// When empty it is learned from the token response's identity URL.
	OrgID string `env:"SALESFORCE_ORG_ID"`

	APIVersion     string `env:"SALESFORCE_API_VERSION, default=v62.0"`
	TierField      string `env:"SALESFORCE_TIER_FIELD, default=Tier__c"`
	HandoffIDField string `env:"SALESFORCE_HANDOFF_ID_FIELD, default=Handoff_Id__c"`
	// OwnerStateField names a custom Contact and Lead field that Handoff
	// keeps at agent|pending|human|released on each owner change (empty,
	// the default: off).
	OwnerStateField string `env:"SALESFORCE_OWNER_STATE_FIELD"`

	// RateLimit is our own per-org pacing, "N/duration" (e.g. "25/1s").
	// Salesforce publishes a rolling 24 h allocation, not a per-second
	// limit; this keeps one tenant from burning it in a burst. Empty or
	// "0" disables pacing.
	RateLimit string `env:"SALESFORCE_RATE_LIMIT, default=25/1s"`
	// APIUsageBackoff is the fraction of the daily allocation
	// (Sforce-Limit-Info api-usage) at which calls stop with a
	// RateLimitError; 0 disables it.
	APIUsageBackoff float64 `env:"SALESFORCE_API_USAGE_BACKOFF, default=0.95"`
	// APIUsageRetry is the RetryAfter given while backing off, and how
	// long a high usage reading is trusted before a call is tried again.
	APIUsageRetry time.Duration `env:"SALESFORCE_API_USAGE_RETRY, default=15m"`
	// LimitRetry is the RetryAfter for REQUEST_LIMIT_EXCEEDED answers
	// (Salesforce sends no Retry-After).
	LimitRetry time.Duration `env:"SALESFORCE_LIMIT_RETRY, default=1m"`

	// PublicBaseURL is passed in by the caller (PUBLIC_BASE_URL); the
	// redirect URI is PublicBaseURL + "/oauth/salesforce/callback".
	PublicBaseURL string
}

func (c *Config) setDefaults() {
	if c.LoginURL == "" {
		c.LoginURL = "https://login.salesforce.com"
	}
	c.LoginURL = strings.TrimRight(c.LoginURL, "/")
	if c.AuthURL == "" {
		c.AuthURL = c.LoginURL + "/services/oauth2/authorize"
	}
	if c.TokenURL == "" {
		c.TokenURL = c.LoginURL + "/services/oauth2/token"
	}
	if c.JWTAudience == "" {
		c.JWTAudience = defaultAudience(c.LoginURL)
	}
	if c.APIVersion == "" {
		c.APIVersion = DefaultAPIVersion
	}
	if !strings.HasPrefix(c.APIVersion, "v") {
		c.APIVersion = "v" + c.APIVersion
	}
	if c.TierField == "" {
		c.TierField = "Tier__c"
	}
	if c.HandoffIDField == "" {
		c.HandoffIDField = "Handoff_Id__c"
	}
	if len(c.Scopes) == 0 {
		c.Scopes = []string{"api", "refresh_token"}
	}
	if c.APIUsageRetry <= 0 {
		c.APIUsageRetry = 15 * time.Minute
	}
	if c.LimitRetry <= 0 {
		c.LimitRetry = time.Minute
	}
}

// defaultAudience is the JWT `aud` for a login URL. Salesforce accepts
// https://login.salesforce.com, https://test.salesforce.com or a community
// URL, not a My Domain host, so a My Domain login URL maps to the
// production (or, for sandboxes, test) login host.
func defaultAudience(loginURL string) string {
	u, err := url.Parse(loginURL)
	if err != nil {
		return loginURL
	}
	h := strings.ToLower(u.Hostname())
	switch {
	case strings.HasSuffix(h, ".sandbox.my.salesforce.com"):
		return "https://test.salesforce.com"
	case strings.HasSuffix(h, ".my.salesforce.com"):
		return "https://login.salesforce.com"
	}
	return loginURL
}

var (
	apiVersionRe = regexp.MustCompile(`^v\d{2,3}\.\d$`)
	fieldNameRe  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
)

func (c *Config) validate() error {
	if !apiVersionRe.MatchString(c.APIVersion) {
		return fmt.Errorf("SALESFORCE_API_VERSION %q: want vNN.N (e.g. %s)", c.APIVersion, DefaultAPIVersion)
	}
	if !fieldNameRe.MatchString(c.TierField) {
		return fmt.Errorf("SALESFORCE_TIER_FIELD %q is not a field API name", c.TierField)
	}
	if !fieldNameRe.MatchString(c.HandoffIDField) {
		return fmt.Errorf("SALESFORCE_HANDOFF_ID_FIELD %q is not a field API name", c.HandoffIDField)
	}
	if c.APIUsageBackoff < 0 || c.APIUsageBackoff > 1 {
		return fmt.Errorf("SALESFORCE_API_USAGE_BACKOFF %v: want a fraction between 0 and 1", c.APIUsageBackoff)
	}
	if _, err := ratelimit.ParseLimit(c.RateLimit); err != nil {
		return fmt.Errorf("SALESFORCE_RATE_LIMIT: %w", err)
	}
	if c.JWTUsername != "" && c.JWTPrivateKey == "" && c.JWTPrivateKeyFile == "" {
		return errors.New("SALESFORCE_JWT_USERNAME is set but neither SALESFORCE_JWT_PRIVATE_KEY nor SALESFORCE_JWT_PRIVATE_KEY_FILE")
	}
	return nil
}

// jwtKey returns the PEM private key for the JWT bearer flow, or nil.
func (c *Config) jwtKey() ([]byte, error) {
	if c.JWTUsername == "" {
		return nil, nil
	}
	key := []byte(c.JWTPrivateKey)
	if len(key) == 0 {
		b, err := os.ReadFile(c.JWTPrivateKeyFile)
		if err != nil {
			return nil, fmt.Errorf("SALESFORCE_JWT_PRIVATE_KEY_FILE: %w", err)
		}
		key = b
	}
	block, _ := pem.Decode(key)
	if block == nil {
		return nil, errors.New("SALESFORCE_JWT_PRIVATE_KEY: not PEM")
	}
	if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
		if _, err2 := x509.ParsePKCS1PrivateKey(block.Bytes); err2 != nil {
			return nil, errors.New("SALESFORCE_JWT_PRIVATE_KEY: not an RSA private key (PKCS#1 or PKCS#8)")
		}
	}
	return key, nil
}
