package ladder

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strings"
)

// Notification target formats: the chat tools whose incoming webhooks a
// team's notify: list (and so a climb notify step's to:) can name.
const (
	FormatSlack      = "slack"       // Slack incoming webhook: {"text": ...}
	FormatMattermost = "mattermost"  // Mattermost incoming webhook: {"text": ...} (Markdown)
	FormatGoogleChat = "google_chat" // Google Chat space webhook: {"text": ...}
	FormatTeams      = "teams"       // Microsoft Teams Workflows webhook: an Adaptive Card message
	// FormatWebhook is any HTTPS endpoint that takes JSON events signed
	// with Standard Webhooks, like the agent's callbacks.
	FormatWebhook = "webhook"
)

// DefaultWebhookSecretEnv names the environment variable holding the
// Standard Webhooks secret of a "webhook:URL" target that names none.
const DefaultWebhookSecretEnv = "NOTIFY_WEBHOOK_SECRET"

var notifyFormats = []string{FormatSlack, FormatTeams, FormatGoogleChat, FormatMattermost, FormatWebhook}

// NotifyTarget is one parsed notify: entry.
type NotifyTarget struct {
	Format string // one of the Format constants
	URL    string // the webhook URL (it holds the webhook's secret: never log it whole)
	// SecretEnv, for FormatWebhook only: the environment variable that
	// holds the signing secret (the secret itself is never in the ladder).
	SecretEnv string
}

// ParseNotifyTarget reads a notify: entry: "FORMAT:URL" where FORMAT is
// slack, teams, google_chat or mattermost, or a bare URL, which is a
// Slack-compatible webhook; or "webhook:URL" / "webhook:SECRET_VAR:URL",
// a generic endpoint sent Standard Webhooks-signed JSON events, signed
// with the secret in the environment variable SECRET_VAR (default
// NOTIFY_WEBHOOK_SECRET). The URL must be https://, or http:// on a
// loopback host (a receiver on the same machine, for tests and demos).
func ParseNotifyTarget(s string) (NotifyTarget, error) {
	s = strings.TrimSpace(s)
	t := NotifyTarget{Format: FormatSlack, URL: s}
	if i := strings.Index(s, ":"); i > 0 && !strings.HasPrefix(s[i:], "://") {
		t.Format, t.URL = s[:i], s[i+1:]
		known := false
		for _, f := range notifyFormats {
			known = known || f == t.Format
		}
		if !known {
			return t, fmt.Errorf("unknown notify format %q (want FORMAT:URL with FORMAT one of %s, or a bare https URL for Slack)", t.Format, strings.Join(notifyFormats, ", "))
		}
	}
	if t.Format == FormatWebhook {
		if strings.HasPrefix(t.URL, "whsec_") {
			return t, errors.New("a webhook target's secret must not be written in the ladder: put it in an environment variable and name the variable (webhook:SECRET_VAR:URL)")
		}
		t.SecretEnv = DefaultWebhookSecretEnv
		if name, rest, ok := strings.Cut(t.URL, ":"); ok && !strings.HasPrefix(rest, "//") {
			if !envName(name) {
				return t, fmt.Errorf("webhook target: %q is not an environment variable name (want webhook:URL or webhook:SECRET_VAR:URL, SECRET_VAR in capitals, digits and _)", name)
			}
			t.SecretEnv, t.URL = name, rest
		}
	}
	u, err := url.Parse(t.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return t, fmt.Errorf("notify target %q is not an absolute https URL", redactTarget(t.URL))
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return t, fmt.Errorf("notify target %q must be https:// (http:// only for a loopback host)", redactTarget(t.URL))
	}
	if u.User != nil {
		return t, fmt.Errorf("notify target %q must not carry user info", redactTarget(t.URL))
	}
	return t, nil
}

// envName: capitals, digits and underscores, not starting with a digit.
func envName(s string) bool {
	for i, r := range s {
		if !(r >= 'A' && r <= 'Z' || r == '_' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

// NotifyTargets are the distinct parsed notify targets of every team (a
// climb step's to: names teams, so this is every target the ladder can
// notify), for checking at start-up that the secrets they name are set.
func (l *Ladder) NotifyTargets() []NotifyTarget {
	var out []NotifyTarget
	seen := map[string]bool{}
	for _, id := range slices.Sorted(maps.Keys(l.teams)) {
		for _, raw := range l.teams[id].Notify {
			t, err := ParseNotifyTarget(raw)
			if err != nil || seen[raw] {
				continue
			}
			seen[raw] = true
			out = append(out, t)
		}
	}
	return out
}

// redactTarget keeps scheme and host: a webhook's path and query are its secret.
func redactTarget(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(unparsable URL)"
	}
	return u.Scheme + "://" + u.Host + "/…"
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// notifyTargets checks a team's notify: list.
func (c *compiler) notifyTargets(p, id string, targets []string) []string {
	var out []string
	for i, s := range targets {
		if _, err := ParseNotifyTarget(s); err != nil {
			c.errAt(pathf("%s[%d]", p, i), "team", id, "%v", err)
			continue
		}
		out = append(out, strings.TrimSpace(s))
	}
	return out
}
