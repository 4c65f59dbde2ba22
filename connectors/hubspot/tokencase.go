package hubspot

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
)

// camelTokenFields maps the camelCase names the 2026-03 token endpoint's
// reference page shows to the OAuth-standard names x/oauth2 reads. Which
// casing that endpoint really returns is UNCONFIRMED (docs/crm/hubspot.md); v1 and v3 use
// snake_case. Both are accepted, whatever HUBSPOT_TOKEN_URL names.
var camelTokenFields = map[string]string{
	"accessToken": "access_token", "refreshToken": "refresh_token", "expiresIn": "expires_in",
	"tokenType": "token_type", "hubId": "hub_id", "idToken": "id_token",
}

// tokenCaseTransport rewrites a successful JSON token response that has
// camelCase fields (and no access_token) into snake_case.
type tokenCaseTransport struct{ base http.RoundTripper }

func (t tokenCaseTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		return resp, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return resp, nil
	}
	if _, ok := m["access_token"]; ok {
		return resp, nil
	}
	if _, ok := m["accessToken"]; !ok {
		return resp, nil
	}
	for camel, snake := range camelTokenFields {
		if v, ok := m[camel]; ok {
			if _, dup := m[snake]; !dup {
				m[snake] = v
			}
			delete(m, camel)
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return resp, nil
	}
	resp.Body = io.NopCloser(bytes.NewReader(out))
	resp.ContentLength = int64(len(out))
	resp.Header.Set("Content-Length", strconv.Itoa(len(out)))
	return resp, nil
}
