package salesforce

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"testing"

	"golang.org/x/oauth2"
)

// The token response's signature is Base64 HMAC-SHA256 of id + issued_at.
// issued_at is documented as a string of epoch milliseconds; an
// implementation that sends it as a JSON number must still verify (x/oauth2
// decodes it as float64, which fmt.Sprint used to print as 1.7639028e+12).
func TestTokenSignatureWithNumericIssuedAt(t *testing.T) {
	const secret = "consumer-secret"
	const id = "https://login.salesforce.com/id/00D5e000000AbCdEAK/0055e00000ADMN1AAA"
	sign := func(issued string) string {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(id + issued))
		return base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	c := &Client{cfg: Config{ClientSecret: secret}}
	for name, issued := range map[string]any{
		"string":       "1763902800000",
		"json number":  float64(1763902800000),
		"form-encoded": int64(1763902800000),
	} {
		tok := (&oauth2.Token{AccessToken: "00D!x"}).WithExtra(map[string]any{
			"instance_url": "https://acme.my.salesforce.com",
			"id":           id,
			"issued_at":    issued,
			"signature":    sign("1763902800000"),
		})
		_, org, err := c.stored(tok, nil)
		if err != nil {
			t.Errorf("%s issued_at: %v", name, err)
			continue
		}
		if org != "00D5e000000AbCdEAK" {
			t.Errorf("%s issued_at: org %q", name, org)
		}
	}
	// A wrong signature is still refused.
	tok := (&oauth2.Token{AccessToken: "00D!x"}).WithExtra(map[string]any{
		"instance_url": "https://acme.my.salesforce.com", "id": id,
		"issued_at": float64(1763902800000), "signature": sign("1763902800001"),
	})
	if _, _, err := c.stored(tok, nil); err == nil {
		t.Error("a signature over other digits was accepted")
	}
}
