package main

// Signing, written independently of the server's verifiers in webhooks/:
// a second implementation of each scheme, so that a shared misreading of
// the spec cannot make both sides agree on a wrong signature.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// hubspotURIEscapes are the 12 encodings HubSpot decodes in the request
// URI before signing (docs/crm/hubspot.md §2.3), upper and lower case.
var hubspotURIDecoder = func() *strings.Replacer {
	pairs := []string{"%3A", ":", "%2F", "/", "%3F", "?", "%40", "@", "%21", "!", "%24", "$",
		"%27", "'", "%28", "(", "%29", ")", "%2A", "*", "%2C", ",", "%3B", ";"}
	all := make([]string, 0, 2*len(pairs))
	for i := 0; i < len(pairs); i += 2 {
		all = append(all, pairs[i], pairs[i+1])
		if lower := strings.ToLower(pairs[i]); lower != pairs[i] {
			all = append(all, lower, pairs[i+1])
		}
	}
	return strings.NewReplacer(all...)
}()

// hubspotV3 is base64(HMAC-SHA256(secret, method + uri + body + timestamp)),
// where uri is the full URL HubSpot called with the 12 escapes decoded and
// timestamp is the exact header string (epoch milliseconds).
func hubspotV3(secret, method, fullURL string, body []byte, timestamp string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(method))
	m.Write([]byte(hubspotURIDecoder.Replace(fullURL)))
	m.Write(body)
	m.Write([]byte(timestamp))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// hubspotV1 is hex(SHA-256(secret + body)); hubspotV2 is
// hex(SHA-256(secret + method + uri + body)). The tool sends v3 only; these
// exist so the official vectors of all three versions check this file.
func hubspotV1(secret string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(secret))
	h.Write(body)
	return fmt.Sprintf("%x", h.Sum(nil))
}

func hubspotV2(secret, method, fullURL string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(secret + method + fullURL))
	h.Write(body)
	return fmt.Sprintf("%x", h.Sum(nil))
}

// standardWebhookKey decodes "whsec_<base64>"; any other non-empty string
// is used as raw key bytes (as the server accepts).
func standardWebhookKey(secret string) ([]byte, error) {
	rest, ok := strings.CutPrefix(secret, "whsec_")
	if !ok {
		if secret == "" {
			return nil, fmt.Errorf("empty secret")
		}
		return []byte(secret), nil
	}
	k, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(k) == 0 {
		return nil, fmt.Errorf("the part after whsec_ is not valid base64")
	}
	return k, nil
}

// standardWebhookSignature is the webhook-signature header value:
// "v1," + base64(HMAC-SHA256(key, id + "." + unixSeconds + "." + body)).
func standardWebhookSignature(key []byte, id string, unixSeconds int64, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(strconv.FormatInt(unixSeconds, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}
