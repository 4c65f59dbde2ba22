package hubspottest

import (
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// authorize is the consent page: it approves at once (GET
// /oauth/authorize?client_id&scope&redirect_uri&state) and redirects.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.record(r, nil, http.StatusFound, "")
	if q.Get("client_id") != s.seed.ClientID || q.Get("redirect_uri") == "" || strings.TrimSpace(q.Get("scope")) == "" {
		http.Error(w, "unknown client_id, or missing redirect_uri or scope", http.StatusBadRequest)
		return
	}
	code := s.IssueCode(q.Get("redirect_uri"))
	u, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	rq := u.Query()
	rq.Set("code", code)
	if st := q.Get("state"); st != "" {
		rq.Set("state", st)
	}
	u.RawQuery = rq.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// tokenError writes the refusal in the endpoint's style: v1 answers
// {"status":"BAD_REFRESH_TOKEN","message":…}; v3/2026-03 the OAuth form
// {"error":"invalid_grant",…} (docs/crm/hubspot.md).
func tokenError(w http.ResponseWriter, v1 bool, status int, v1Status, oauthCode, message string) {
	if v1 {
		writeJSON(w, status, map[string]any{"status": v1Status, "message": message, "correlationId": correlationID()})
		return
	}
	writeJSON(w, status, map[string]any{"error": oauthCode, "error_description": message})
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	s.wait(r)
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	sw := &statusWriter{ResponseWriter: w}
	s.serveToken(sw, r, body)
	s.record(r, body, sw.status, "")
}

func (s *Server) serveToken(w *statusWriter, r *http.Request, body []byte) {
	v1 := strings.HasPrefix(r.URL.Path, "/oauth/v1/")
	s.mu.Lock()
	if len(s.tokenFails) > 0 {
		st := s.tokenFails[0]
		s.tokenFails = s.tokenFails[1:]
		s.mu.Unlock()
		writeJSON(w, st, errBody("", "internal error", nil))
		return
	}
	s.mu.Unlock()
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		tokenError(w, v1, http.StatusBadRequest, "BAD_REQUEST", "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
		return
	}
	if r.URL.RawQuery != "" {
		tokenError(w, v1, http.StatusBadRequest, "BAD_REQUEST", "invalid_request", "parameters must be sent in the request body")
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		tokenError(w, v1, http.StatusBadRequest, "BAD_REQUEST", "invalid_request", "malformed body")
		return
	}
	grant := form.Get("grant_type")
	s.mu.Lock()
	defer s.mu.Unlock()
	switch grant {
	case "refresh_token":
		s.refreshGrants++
	case "authorization_code":
		s.codeGrants++
	}
	if form.Get("client_id") != s.seed.ClientID {
		tokenError(w, v1, http.StatusBadRequest, "BAD_CLIENT_ID", "invalid_client", "missing or unknown client id")
		return
	}
	if form.Get("client_secret") != s.seed.ClientSecret {
		tokenError(w, v1, http.StatusBadRequest, "BAD_CLIENT_SECRET", "invalid_client", "missing or invalid client secret")
		return
	}
	portal := s.PortalID()
	var at, rt string
	switch grant {
	case "authorization_code":
		c, ok := s.codes[form.Get("code")]
		if !ok {
			tokenError(w, v1, http.StatusBadRequest, "BAD_AUTH_CODE", "invalid_grant", "missing or unknown auth code")
			return
		}
		delete(s.codes, form.Get("code")) // single use
		if c.redirectURI != form.Get("redirect_uri") {
			tokenError(w, v1, http.StatusBadRequest, "BAD_REDIRECT_URI", "invalid_grant", "redirect_uri does not match the authorization request")
			return
		}
		at, rt = s.issue(portal, s.tokenLifetime)
	case "refresh_token":
		rt = form.Get("refresh_token")
		t, ok := s.refresh[rt]
		if !ok || t.revoked {
			tokenError(w, v1, http.StatusBadRequest, "BAD_REFRESH_TOKEN", "invalid_grant", "missing or invalid refresh token")
			return
		}
		at = "CJ" + randHex(24)
		s.access[at] = &accessToken{portal: t.portal, expiry: s.now().Add(s.tokenLifetime)}
		// By default the same refresh token comes back; whether HubSpot
		// rotates is UNCONFIRMED (docs/crm/hubspot.md), so RotateRefreshTokens switches
		// to a new one each time, the old one revoked.
		if s.rotate {
			t.revoked = true
			rt = "na1-" + randHex(4) + "-" + randHex(4) + "-" + randHex(8)
			s.refresh[rt] = &refreshToken{portal: t.portal}
		}
	default:
		tokenError(w, v1, http.StatusBadRequest, "BAD_GRANT_TYPE", "unsupported_grant_type", "unsupported grant_type")
		return
	}
	resp := map[string]any{
		"token_type": "bearer", "refresh_token": rt, "access_token": at,
		"expires_in": int(s.tokenLifetime / time.Second),
		"scopes":     []string{"oauth", "crm.objects.contacts.read", "crm.objects.contacts.write", "crm.objects.companies.read", "crm.objects.deals.read", "crm.objects.owners.read", "conversations.read"},
	}
	if !s.omitHubID {
		resp["hub_id"] = s.seed.PortalID
	}
	if s.camelTokens && strings.HasPrefix(r.URL.Path, "/oauth/2026-03/") {
		for snake, camel := range map[string]string{"token_type": "tokenType", "refresh_token": "refreshToken", "access_token": "accessToken", "expires_in": "expiresIn", "hub_id": "hubId"} {
			if v, ok := resp[snake]; ok {
				resp[camel] = v
				delete(resp, snake)
			}
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, resp)
}

// tokenInfo is GET /oauth/v1/access-tokens/{token} (docs/crm/hubspot.md).
func (s *Server) tokenInfo(w http.ResponseWriter, r *http.Request) {
	s.wait(r)
	sw := &statusWriter{ResponseWriter: w}
	tok := r.PathValue("token")
	s.mu.Lock()
	t, ok := s.access[tok]
	var resp map[string]any
	if ok && !t.revoked && s.now().Before(t.expiry) {
		resp = map[string]any{
			"token": tok, "user": s.seed.InstallUser, "hub_domain": "acme.example", "scopes": []string{"oauth", "crm.objects.contacts.read"},
			"hub_id": s.seed.PortalID, "app_id": s.seed.AppID, "expires_in": int(t.expiry.Sub(s.now()) / time.Second),
			"user_id": 9100000, "token_type": "access",
		}
	}
	s.mu.Unlock()
	if resp == nil {
		writeJSON(sw, http.StatusNotFound, errBody("OBJECT_NOT_FOUND", "Token not found", nil))
	} else {
		writeJSON(sw, http.StatusOK, resp)
	}
	s.record(r, nil, sw.status, "")
}
