package ladder

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Notification target formats: the chat tools whose incoming webhooks a
// team's notify: list (and so a climb notify step's to:) can name.
const (
	FormatSlack      = "slack"       // Slack incoming webhook: {"text": ...}
	FormatMattermost = "mattermost"  // Mattermost incoming webhook: {"text": ...} (Markdown)
	FormatGoogleChat = "google_chat" // Google Chat space webhook: {"text": ...}
	FormatTeams      = "teams"       // Microsoft Teams Workflows webhook: an Adaptive Card message
)

var notifyFormats = []string{FormatSlack, FormatTeams, FormatGoogleChat, FormatMattermost}

// NotifyTarget is one parsed notify: entry.
type NotifyTarget struct {
	Format string // one of the Format constants
	URL    string // the webhook URL (it holds the webhook's secret: never log it whole)
}

// ParseNotifyTarget reads a notify: entry: "FORMAT:URL" where FORMAT is
// slack, teams, google_chat or mattermost, or a bare URL, which is a
// Slack-compatible webhook. The URL must be https://, or http:// on a
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
