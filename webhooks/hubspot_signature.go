package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// HubSpot signature headers.
const (
	HeaderHubSpotSignatureV3 = "X-HubSpot-Signature-v3"
	HeaderHubSpotTimestamp   = "X-HubSpot-Request-Timestamp"
	HeaderHubSpotSignature   = "X-HubSpot-Signature"
	HeaderHubSpotSigVersion  = "X-HubSpot-Signature-Version"
)

// Signature check failures. Messages are safe to show the sender.
var (
	errSigMissing   = errors.New("signature header missing")
	errSigMalformed = errors.New("signature header is malformed")
	errSigMismatch  = errors.New("signature does not match")
	errTSMissing    = errors.New("timestamp header missing")
	errTSMalformed  = errors.New("timestamp header is not an integer")
	errTSStale      = errors.New("timestamp is outside the accepted window")
)

// HubSpotV3URI returns the URI HubSpot signs for v3: the configured public
// base URL followed by the raw request URI (path and query as received),
// with the 12 encodings of HubSpot's decoding table (%3A %2F %3F %40 %21
// %24 %27 %28 %29 %2A %2C %3B) decoded. Every other escape (%20, %26,
// %3D...) stays encoded. HubSpot documents upper-case escapes; lower-case
// ones are decoded too, since they denote the same characters (the
// handler also accepts the reading that leaves them encoded, see
// hubspotV3URIAlternate).
func HubSpotV3URI(baseURL, requestURI string) string {
	return hubspotDecodeURI(baseURL + requestURI)
}

// hubspotV3URIAlternate is the other plausible reading of the decoding
// table for a URI with lower-case escapes of its characters (%3a): HubSpot
// shows only upper-case ones, and whether it decodes lower-case ones is
// UNCONFIRMED (docs/crm/hubspot.md §2.3). It returns "" when the URI has none, i.e. when both
// readings agree.
func hubspotV3URIAlternate(baseURL, requestURI string) string {
	s := baseURL + requestURI
	if upperOnly := hubspotDecode(s, true); upperOnly != hubspotDecodeURI(s) {
		return upperOnly
	}
	return ""
}

func hubspotDecodeURI(s string) string { return hubspotDecode(s, false) }

func hubspotDecode(s string, upperOnly bool) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && (!upperOnly || (!isLowerHex(s[i+1]) && !isLowerHex(s[i+2]))) {
			if c, ok := hubspotDecodable(s[i+1], s[i+2]); ok {
				b.WriteByte(c)
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isLowerHex(c byte) bool { return c >= 'a' && c <= 'f' }

func hubspotDecodable(h, l byte) (byte, bool) {
	up := func(c byte) byte {
		if c >= 'a' && c <= 'z' {
			return c - 'a' + 'A'
		}
		return c
	}
	switch string([]byte{up(h), up(l)}) {
	case "3A":
		return ':', true
	case "2F":
		return '/', true
	case "3F":
		return '?', true
	case "40":
		return '@', true
	case "21":
		return '!', true
	case "24":
		return '$', true
	case "27":
		return '\'', true
	case "28":
		return '(', true
	case "29":
		return ')', true
	case "2A":
		return '*', true
	case "2C":
		return ',', true
	case "3B":
		return ';', true
	}
	return 0, false
}

// HubSpotSignV3 computes base64(HMAC-SHA256(secret, method+uri+body+timestamp)).
// uri must already be decoded (see HubSpotV3URI); timestamp is the exact
// header string.
func HubSpotSignV3(secret []byte, method, uri string, body []byte, timestamp string) string {
	return base64.StdEncoding.EncodeToString(hubspotMACv3(secret, method, uri, body, timestamp))
}

func hubspotMACv3(secret []byte, method, uri string, body []byte, timestamp string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(method))
	m.Write([]byte(uri))
	m.Write(body)
	m.Write([]byte(timestamp))
	return m.Sum(nil)
}

// VerifyHubSpotV3 checks a v3 signature and its timestamp (epoch ms, at
// most maxAge away from now in either direction). The comparison is in
// constant time.
func VerifyHubSpotV3(secret []byte, method, uri string, body []byte, timestamp, signature string, now time.Time, maxAge time.Duration) error {
	if signature == "" {
		return errSigMissing
	}
	if timestamp == "" {
		return errTSMissing
	}
	ms, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return errTSMalformed
	}
	age := now.Sub(time.UnixMilli(ms))
	if age > maxAge || age < -maxAge {
		return errTSStale
	}
	got, err := base64.StdEncoding.DecodeString(signature)
	if err != nil || len(got) != sha256.Size {
		return errSigMalformed
	}
	if !hmac.Equal(got, hubspotMACv3(secret, method, uri, body, timestamp)) {
		return errSigMismatch
	}
	return nil
}

// HubSpotSignV1 is hex(SHA-256(secret + body)).
func HubSpotSignV1(secret, body []byte) string {
	h := sha256.New()
	h.Write(secret)
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// HubSpotSignV2 is hex(SHA-256(secret + method + uri + body)); uri is the
// full URL as called (no decoding table for v2).
func HubSpotSignV2(secret []byte, method, uri string, body []byte) string {
	h := sha256.New()
	h.Write(secret)
	h.Write([]byte(method))
	h.Write([]byte(uri))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// VerifyHubSpotV1V2 checks a v1 or v2 signature (version "v1" or "v2";
// empty means v1), in constant time.
func VerifyHubSpotV1V2(secret []byte, version, method, uri string, body []byte, signature string) error {
	if signature == "" {
		return errSigMissing
	}
	var want string
	switch strings.ToLower(version) {
	case "", "v1":
		want = HubSpotSignV1(secret, body)
	case "v2":
		want = HubSpotSignV2(secret, method, uri, body)
	default:
		return errSigMalformed
	}
	if len(signature) != len(want) {
		return errSigMalformed
	}
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(signature)), []byte(want)) != 1 {
		return errSigMismatch
	}
	return nil
}
