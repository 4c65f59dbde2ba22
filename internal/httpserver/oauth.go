package httpserver

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/tokenstore"
)

// Installer is a connector's OAuth install flow.
type Installer interface {
	AuthCodeURL(ctx context.Context) (string, error)
	Callback(ctx context.Context, q url.Values) (tenant string, err error)
}

var oauthPage = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Handoff: {{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}.ok{color:#176f2c}.err{color:#a11}</style></head>
<body><h1 class="{{.Class}}">{{.Title}}</h1><p>{{.Message}}</p>{{if .Retry}}<p><a href="{{.Retry}}">Start the install again</a></p>{{end}}</body></html>`))

type pageData struct {
	Title, Message, Class, Retry string
}

// MountOAuth adds GET /oauth/<crm>/install and /oauth/<crm>/callback.
// label is the CRM's display name; tenantWord names its tenant ("portal", "org").
func (s *Server) MountOAuth(crm handoff.Source, label, tenantWord string, inst Installer) {
	base := "/oauth/" + string(crm)
	page := func(c echo.Context, status int, d pageData) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
		c.Response().WriteHeader(status)
		return oauthPage.Execute(c.Response(), d)
	}
	s.Echo.GET(base+"/install", func(c echo.Context) error {
		u, err := inst.AuthCodeURL(c.Request().Context())
		if err != nil {
			s.log.Error("oauth install could not start", "crm", crm, "err", err.Error())
			return page(c, http.StatusServiceUnavailable, pageData{Title: label + " install could not start", Class: "err",
				Message: "Handoff could not prepare the authorization request. Check that Redis is reachable and that the " + label + " app is configured, then try again.",
				Retry:   base + "/install"})
		}
		return c.Redirect(http.StatusFound, u)
	})
	s.Echo.GET(base+"/callback", func(c echo.Context) error {
		tenant, err := inst.Callback(c.Request().Context(), c.QueryParams())
		var ae *handoff.AuthError
		switch {
		case err == nil:
			s.log.Info("oauth install completed", "crm", crm, "tenant", tenant)
			return page(c, http.StatusOK, pageData{Title: label + " is connected", Class: "ok",
				Message: label + " " + tenantWord + " " + tenant + " is connected to Handoff. Its events are processed from now on, including any that waited for this install."})
		case errors.Is(err, tokenstore.ErrBadState):
			s.log.Warn("oauth callback with an unknown or reused state", "crm", crm)
			return page(c, http.StatusBadRequest, pageData{Title: "This install link is not valid", Class: "err",
				Message: "The authorization answer does not match an install started here, has expired, or was already used. Start the install again.",
				Retry:   base + "/install"})
		case errors.As(err, &ae):
			s.log.Warn("oauth install refused", "crm", crm, "err", err.Error())
			return page(c, http.StatusForbidden, pageData{Title: label + " did not authorize Handoff", Class: "err",
				Message: "The authorization was refused or cancelled. Ask a " + label + " admin to approve the app, then start again.",
				Retry:   base + "/install"})
		default:
			s.log.Error("oauth callback failed", "crm", crm, "err", err.Error())
			return page(c, http.StatusBadGateway, pageData{Title: label + " install failed", Class: "err",
				Message: "Handoff could not complete the token exchange with " + label + ". Nothing was stored. Try again in a minute.",
				Retry:   base + "/install"})
		}
	})
}
