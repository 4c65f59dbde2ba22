package jobs

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/handoff-dev/handoff"
)

// API serves the pipeline's read and release endpoints. The lead mounts
// the group at /api behind ADMIN_TOKEN.
type API struct {
	p *Pipeline
	o *Outcomes
}

// NewAPI returns the handlers over p.
func NewAPI(p *Pipeline) *API { return &API{p: p, o: NewOutcomes(p.rdb)} }

// Register mounts:
//
//	GET  /decisions?contact=&conversation=&rung=&action=&tenant=&crm=&limit=
//	GET  /conversations/:id
//	POST /conversations/:id/release
//	GET  /outcomes?window=24h|7d|30d or ?from=&to= (RFC 3339; none: all time)
//	GET|PUT|DELETE /owners/:email/availability (availability.go)
func (a *API) Register(g *echo.Group) {
	g.GET("/decisions", a.decisions)
	g.GET("/conversations/:id", a.conversation)
	g.POST("/conversations/:id/release", a.release)
	g.GET("/outcomes", a.outcomes)
	a.registerAvailability(g)
}

type apiError struct {
	Error apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func fail(c echo.Context, status int, code, msg string) error {
	return c.JSON(status, apiError{Error: apiErrorBody{Code: code, Message: msg}})
}

func (a *API) internal(c echo.Context, what string, err error) error {
	a.p.log.ErrorContext(c.Request().Context(), "api: "+what, "error", err)
	return fail(c, http.StatusServiceUnavailable, "unavailable", what+" failed; try again")
}

func (a *API) decisions(c echo.Context) error {
	f := DecisionQuery{Contact: c.QueryParam("contact"), Conversation: c.QueryParam("conversation"), Rung: c.QueryParam("rung"),
		Action: c.QueryParam("action"), Tenant: c.QueryParam("tenant"), CRM: c.QueryParam("crm")}
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 500 {
			return fail(c, http.StatusBadRequest, "bad_limit", "limit must be a number from 1 to 500")
		}
		f.Limit = n
	}
	switch handoff.Action(f.Action) {
	case "", handoff.ActionContinue, handoff.ActionAssist, handoff.ActionHandoff, handoff.ActionHold:
	default:
		return fail(c, http.StatusBadRequest, "bad_action", "action must be one of continue, assist, handoff, hold")
	}
	ds, err := a.o.FindDecisions(c.Request().Context(), f)
	if err != nil {
		return a.internal(c, "reading decisions", err)
	}
	if ds == nil {
		ds = []DecisionRecord{}
	}
	return c.JSON(http.StatusOK, map[string]any{"decisions": ds})
}

// convID reads the :id path parameter, unescaped (conversation keys may
// hold "@" or ":", e.g. "hubspot:62515:ana@acme.example").
func convID(c echo.Context) string {
	id := c.Param("id")
	if u, err := url.PathUnescape(id); err == nil {
		return u
	}
	return id
}

func (a *API) conversation(c echo.Context) error {
	id := convID(c)
	if id == "" {
		return fail(c, http.StatusBadRequest, "bad_id", "conversation id is required")
	}
	conv, err := a.p.Conversation(c.Request().Context(), id)
	if err != nil {
		return a.internal(c, "reading the conversation", err)
	}
	if len(conv.History) == 0 && conv.Owner.Since.IsZero() {
		return fail(c, http.StatusNotFound, "not_found", "no ownership recorded for conversation "+id)
	}
	return c.JSON(http.StatusOK, conv)
}

func (a *API) release(c echo.Context) error {
	id := convID(c)
	var body struct {
		Reason string `json:"reason"`
	}
	if c.Request().ContentLength > 0 {
		if err := c.Bind(&body); err != nil {
			return fail(c, http.StatusBadRequest, "bad_body", "body must be JSON like {\"reason\":\"...\"}")
		}
	}
	if len(body.Reason) > 500 {
		return fail(c, http.StatusBadRequest, "bad_reason", "reason must be at most 500 characters")
	}
	l, err := a.p.Release(c.Request().Context(), id, body.Reason)
	if errors.Is(err, ErrNotOwned) {
		return fail(c, http.StatusConflict, "not_owned", "conversation "+id+" is not owned by a human (state "+l.State+")")
	}
	if err != nil {
		return a.internal(c, "releasing the conversation", err)
	}
	a.p.log.InfoContext(c.Request().Context(), "conversation released", slog.String("conversation", id), slog.String("handoff_id", l.HandoffID))
	return c.JSON(http.StatusOK, map[string]any{"owner": l})
}

func (a *API) outcomes(c echo.Context) error {
	w, windowed, err := ParseWindow(c.QueryParam("window"), c.QueryParam("from"), c.QueryParam("to"), a.p.now())
	if err != nil {
		return fail(c, http.StatusBadRequest, "bad_window", err.Error())
	}
	var r Report
	if windowed {
		r, err = a.o.ReportWindow(c.Request().Context(), w)
	} else {
		r, err = a.o.Report(c.Request().Context())
	}
	if err != nil {
		return a.internal(c, "reading outcomes", err)
	}
	return c.JSON(http.StatusOK, r)
}
