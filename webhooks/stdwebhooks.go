package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks headers (https://www.standardwebhooks.com).
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// SignStandardWebhook returns the "v1,<base64>" signature of a message:
// HMAC-SHA256(key, id + "." + timestamp + "." + body).
func SignStandardWebhook(key []byte, id string, timestamp int64, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(stdMAC(key, id, strconv.FormatInt(timestamp, 10), body))
}

func stdMAC(key []byte, id, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// VerifyStandardWebhook checks the webhook-id, webhook-timestamp (Unix
// seconds, within maxAge of now either way) and webhook-signature headers
// (space-separated "v1,<base64>" entries; any matching entry passes, which
// allows key rotation). Comparisons are constant-time.
func VerifyStandardWebhook(key []byte, h http.Header, body []byte, now time.Time, maxAge time.Duration) error {
	id := h.Get(HeaderWebhookID)
	ts := h.Get(HeaderWebhookTimestamp)
	sigs := h.Get(HeaderWebhookSignature)
	if id == "" {
		return errIDMissing
	}
	if sigs == "" {
		return errSigMissing
	}
	if ts == "" {
		return errTSMissing
	}
	if len(id) > 256 {
		return errIDTooLong
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errTSMalformed
	}
	age := now.Sub(time.Unix(sec, 0))
	if age > maxAge || age < -maxAge {
		return errTSStale
	}
	// The reference implementation signs the canonical decimal form.
	want := stdMAC(key, id, strconv.FormatInt(sec, 10), body)
	seen := false
	for _, s := range strings.Fields(sigs) {
		ver, b64, ok := strings.Cut(s, ",")
		if !ok || ver != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(got) != sha256.Size {
			continue
		}
		seen = true
		if hmac.Equal(got, want) {
			return nil
		}
	}
	if !seen {
		return errSigMalformed
	}
	return errSigMismatch
}

// verifyStandardWebhookKeys is VerifyStandardWebhook with a second key
// (nil: none), tried only when the first does not match.
func verifyStandardWebhookKeys(key, alt []byte, h http.Header, body []byte, now time.Time, maxAge time.Duration) error {
	err := VerifyStandardWebhook(key, h, body, now, maxAge)
	if errors.Is(err, errSigMismatch) && len(alt) > 0 {
		return VerifyStandardWebhook(alt, h, body, now, maxAge)
	}
	return err
}

var (
	errIDMissing = errors.New("webhook-id header missing")
	errIDTooLong = errors.New("webhook-id header longer than 256 characters")
)
