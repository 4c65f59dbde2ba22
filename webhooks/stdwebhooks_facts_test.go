package webhooks_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/handoff-dev/handoff/internal/testredis"
	"github.com/handoff-dev/handoff/webhooks"
)

// A secret configured without "whsec_" is read two ways: as raw bytes (our
// documented form) and, like the Standard Webhooks libraries and our Apex
// sample do, as base64. A sender using the reference library with the same
// string must get through; one using other bytes must not.
func TestStandardWebhooksUnprefixedSecret(t *testing.T) {
	const secret = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // the spec's example key, without its prefix
	r := newRig(t, testredis.New(t).Client(t), func(c *webhooks.Config) {
		c.SalesforceWebhookSecret, c.AgentWebhookSecret = secret, secret
	})
	ref, err := standardwebhooks.NewWebhook(secret) // strips an optional prefix, base64-decodes
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := standardwebhooks.NewWebhookRaw([]byte(secret))
	other, _ := standardwebhooks.NewWebhookRaw([]byte("another-secret"))
	sign := func(wh *standardwebhooks.Webhook, id string, body []byte) http.Header {
		now := time.Now()
		sig, err := wh.Sign(id, now, body)
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		h.Set("webhook-id", id)
		h.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		h.Set("webhook-signature", sig)
		h.Set("Content-Type", "application/json")
		return h
	}
	sfBody := fixture(t, "salesforce/events/email_reply.json")
	agBody := fixture(t, "agent/turn.json")
	for _, c := range []struct {
		name, url string
		body      []byte
		wh        *standardwebhooks.Webhook
		status    int
	}{
		{"salesforce, reference library", "/webhooks/salesforce/events", sfBody, ref, 200},
		{"salesforce, raw bytes", "/webhooks/salesforce/events", sfBody, raw, 200},
		{"salesforce, other key", "/webhooks/salesforce/events", sfBody, other, 401},
		{"agent, reference library", "/webhooks/agent", agBody, ref, 200},
		{"agent, other key", "/webhooks/agent", agBody, other, 401},
	} {
		res := post(t, r.base+c.url, c.body, sign(c.wh, "msg_"+c.name, c.body))
		if res.status != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, res.status, res.body, c.status)
		}
	}
}
