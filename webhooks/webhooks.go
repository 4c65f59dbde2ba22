// Package webhooks is Handoff's front door: Echo handlers that verify,
// parse, normalize and durably enqueue the webhooks of HubSpot, Salesforce,
// Marketo and AI agents. A request is acknowledged only after every event
// it carries is stored (or known to be stored already); otherwise the
// sender gets a non-2xx answer and retries.
package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/handoff-dev/handoff"
)

// Ingester durably stores events, each at most once.
type Ingester interface {
	Ingest(ctx context.Context, events []handoff.Event) (handoff.IngestResult, error)
}

// Routes mounted by Register.
const (
	PathHubSpot          = "/webhooks/hubspot"
	PathSalesforce       = "/webhooks/salesforce"
	PathSalesforceEvents = "/webhooks/salesforce/events"
	PathMarketo          = "/webhooks/marketo"
	PathAgent            = "/webhooks/agent"
)

// MaxBatch is the most events one request may carry (HubSpot and
// Salesforce both send at most 100).
const MaxBatch = 100

// Handlers serves the webhook routes.
type Handlers struct {
	s   settings
	ing Ingester
	log *slog.Logger
	now func() time.Time
	m   *metrics

	waiter DecisionWaiter // optional: synchronous agent decisions (agent_wait.go)
}

// minSecretBytes is the length under which a webhook secret is reported as
// short at start.
const minSecretBytes = 16

// New checks cfg and returns the handlers. reg receives the metrics; log
// and now may be nil (discard, time.Now).
func New(cfg Config, ing Ingester, reg prometheus.Registerer, log *slog.Logger, now func() time.Time) (*Handlers, error) {
	if ing == nil {
		return nil, errors.New("webhooks: nil Ingester")
	}
	s, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	h := &Handlers{s: s, ing: ing, log: log, now: now, m: m}
	for _, d := range h.disabled() {
		log.Warn("webhook source disabled: its route answers 503 until configured", "source", d.source, "route", d.route, "missing", d.missing)
	}
	if len(s.hubspotSecret) > 0 && s.hubspotAppID == "" {
		log.Info("HUBSPOT_APP_ID unset: HubSpot events of every app signed with this client secret are accepted")
	}
	if len(s.marketoSecret) > 0 && s.marketoTenant == "" {
		log.Warn("MARKETO_BASE_URL unset: Marketo events get an empty tenant")
	}
	// Standard Webhooks secrets are 24 to 64 random bytes; a short one is
	// accepted (senders may already use it) but guessable.
	for name, k := range map[string][]byte{"AGENT_WEBHOOK_SECRET": s.agentKey, "SALESFORCE_WEBHOOK_SECRET": s.sfKey, "MARKETO_WEBHOOK_SECRET": s.marketoSecret} {
		if n := len(k); n > 0 && n < minSecretBytes {
			log.Warn("webhook secret is short: anyone who guesses it can post events; use at least 24 random bytes (whsec_ + base64)",
				"variable", name, "bytes", n)
		}
	}
	return h, nil
}

type disabledSource struct{ source, route, missing string }

func (h *Handlers) disabled() []disabledSource {
	var out []disabledSource
	if len(h.s.hubspotSecret) == 0 {
		out = append(out, disabledSource{"hubspot", PathHubSpot, "HUBSPOT_CLIENT_SECRET"})
	}
	if len(h.s.sfOrgs) == 0 {
		out = append(out, disabledSource{"salesforce", PathSalesforce, "SALESFORCE_ORG_IDS"})
	}
	if len(h.s.sfOrgs) == 0 || len(h.s.sfKey) == 0 {
		out = append(out, disabledSource{"salesforce", PathSalesforceEvents, "SALESFORCE_ORG_IDS and SALESFORCE_WEBHOOK_SECRET"})
	}
	if len(h.s.marketoSecret) == 0 {
		out = append(out, disabledSource{"marketo", PathMarketo, "MARKETO_WEBHOOK_SECRET"})
	}
	if len(h.s.agentKey) == 0 {
		out = append(out, disabledSource{"agent", PathAgent, "AGENT_WEBHOOK_SECRET"})
	}
	return out
}

// Register mounts the five webhook routes on e (HubSpot's for POST and GET).
func (h *Handlers) Register(e *echo.Echo) {
	e.POST(PathHubSpot, h.HubSpot)
	e.GET(PathHubSpot, h.HubSpot) // workflow "Send a webhook" may use GET (docs/crm/hubspot.md §3.1)
	e.POST(PathSalesforce, h.Salesforce)
	e.POST(PathSalesforceEvents, h.SalesforceEvents)
	e.POST(PathMarketo, h.Marketo)
	e.POST(PathAgent, h.Agent)
}

// reqError is a refusal: HTTP status, a stable code, a message for the
// sender, and the metric reason.
type reqError struct {
	status  int
	code    string
	message string
}

func (e *reqError) Error() string { return e.code + ": " + e.message }

func badRequest(format string, args ...any) *reqError {
	return &reqError{http.StatusBadRequest, "malformed", fmt.Sprintf(format, args...)}
}

func unauthorized(code, format string, args ...any) *reqError {
	return &reqError{http.StatusUnauthorized, code, fmt.Sprintf(format, args...)}
}

var (
	errNotConfigured = func(missing string) *reqError {
		return &reqError{http.StatusServiceUnavailable, "source_not_configured", "this webhook source is not configured on the server (" + missing + " unset)"}
	}
	errUnavailable = &reqError{http.StatusServiceUnavailable, "unavailable", "the event queue is unavailable; nothing was stored, retry later"}
)

// readBody reads the whole body, refusing more than max bytes.
func readBody(r *http.Request, max int64) ([]byte, *reqError) {
	tooLarge := &reqError{http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("request body exceeds %d bytes", max)}
	if r.ContentLength > max {
		return nil, tooLarge
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return nil, &reqError{http.StatusBadRequest, "malformed", "could not read the request body"}
	}
	if int64(len(b)) > max {
		return nil, tooLarge
	}
	return b, nil
}

// MaxJSONDepth is the deepest nesting of arrays and objects a JSON webhook
// body may have. Real payloads nest 3 or 4 levels; encoding/json allows
// 10000, and a body near that limit parses but cannot be re-encoded inside
// the job payload (which adds levels), so the enqueue failed with a 503
// that made the sender retry the same poison body forever.
const MaxJSONDepth = 64

// checkJSONText refuses JSON text that is not UTF-8 (RFC 8259 §8.1;
// encoding/json would silently replace the bytes with U+FFFD) or nests
// deeper than MaxJSONDepth. It runs after the signature check, before any
// parsing.
func checkJSONText(body []byte) *reqError {
	if !utf8.Valid(body) {
		return badRequest("body is not valid UTF-8 (JSON text must be UTF-8)")
	}
	depth, inString, escaped := 0, false, false
	for i, c := range body {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			if depth++; depth > MaxJSONDepth {
				return badRequest("JSON nested deeper than %d levels at byte %d", MaxJSONDepth, i)
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return nil
}

// ingest stores the events and records the outcome. It returns a reqError
// when the events were not all stored.
func (h *Handlers) ingest(ctx context.Context, src handoff.Source, events []handoff.Event) (handoff.IngestResult, *reqError) {
	if len(events) == 0 {
		return handoff.IngestResult{}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, h.s.ingestTimeout)
	defer cancel()
	res, err := h.ing.Ingest(ctx, events)
	if err != nil {
		h.log.Error("webhook events not stored; answering so the sender retries", "source", src, "tenant", tenantOf(events), "count", len(events), "stored", res.Accepted, "err", err)
		return res, errUnavailable
	}
	h.m.accepted.WithLabelValues(string(src)).Add(float64(res.Accepted))
	h.m.duplicate.WithLabelValues(string(src)).Add(float64(res.Duplicates))
	h.log.Info("webhook events stored", "source", src, "tenant", tenantOf(events), "count", len(events), "accepted", res.Accepted, "duplicates", res.Duplicates)
	return res, nil
}

func tenantOf(events []handoff.Event) string {
	if len(events) == 0 {
		return ""
	}
	t := events[0].Tenant
	for i := range events {
		if events[i].Tenant != t {
			return "(several)"
		}
	}
	return t
}

// reject records a refusal and logs it (never the body).
func (h *Handlers) reject(src handoff.Source, e *reqError) {
	h.m.rejected.WithLabelValues(string(src), e.code).Inc()
	lvl := slog.LevelWarn
	if e.status >= 500 {
		lvl = slog.LevelError
	}
	h.log.Log(context.Background(), lvl, "webhook refused", "source", src, "status", e.status, "reason", e.code)
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeJSONError(c echo.Context, e *reqError) error {
	var b errorBody
	b.Error.Code, b.Error.Message = e.code, e.message
	if e.status == http.StatusServiceUnavailable {
		c.Response().Header().Set("Retry-After", "30")
	}
	return c.JSON(e.status, b)
}

// ackBody is the JSON answer of every JSON route.
type ackBody struct {
	Status     string `json:"status"`
	Received   int    `json:"received"`
	Accepted   int    `json:"accepted"`
	Duplicates int    `json:"duplicates"`
	Ignored    int    `json:"ignored,omitempty"`
	// OutputFields answers a HubSpot custom workflow action, which reads
	// {"outputFields":{...}} from the response: SUCCESS lets the workflow
	// go on (the event is stored; the handoff happens asynchronously).
	OutputFields map[string]string `json:"outputFields,omitempty"`
}

// serveJSON runs the common flow of the JSON routes: size limit, verify
// (before any parsing), parse, ingest, answer.
func (h *Handlers) serveJSON(c echo.Context, src handoff.Source, missing string, enabled bool,
	verify func(r *http.Request, body []byte) *reqError,
	parse func(r *http.Request, body []byte) ([]handoff.Event, int, *reqError),
) error {
	start := time.Now()
	defer func() { h.m.ackSeconds.WithLabelValues(string(src)).Observe(time.Since(start).Seconds()) }()
	h.m.requests.WithLabelValues(string(src)).Inc()
	fail := func(e *reqError) error {
		h.reject(src, e)
		return writeJSONError(c, e)
	}
	if !enabled {
		return fail(errNotConfigured(missing))
	}
	r := c.Request()
	body, rerr := readBody(r, h.s.maxBody)
	if rerr != nil {
		return fail(rerr)
	}
	if rerr := verify(r, body); rerr != nil {
		return fail(rerr)
	}
	if rerr := checkJSONText(body); rerr != nil {
		return fail(rerr)
	}
	events, ignored, rerr := parse(r, body)
	if rerr != nil {
		return fail(rerr)
	}
	h.m.events.WithLabelValues(string(src)).Add(float64(len(events) + ignored))
	res, rerr := h.ingest(r.Context(), src, events)
	if rerr != nil {
		return fail(rerr)
	}
	ack := ackBody{Status: "ok", Received: len(events) + ignored, Accepted: res.Accepted, Duplicates: res.Duplicates, Ignored: ignored}
	if len(events) == 1 && events[0].Source == handoff.SourceHubSpot && events[0].Attributes["origin"] == "workflow_action" {
		ack.OutputFields = map[string]string{"hs_execution_state": "SUCCESS"}
	}
	return h.answer(c, src, events, ack)
}

type metrics struct {
	requests   *prometheus.CounterVec
	rejected   *prometheus.CounterVec
	events     *prometheus.CounterVec
	accepted   *prometheus.CounterVec
	duplicate  *prometheus.CounterVec
	ignored    *prometheus.CounterVec
	ackSeconds *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "handoff_webhook_requests_total", Help: "Webhook requests received, per source.",
		}, []string{"source"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "handoff_webhook_requests_rejected_total", Help: "Webhook requests refused (non-2xx), per source and reason.",
		}, []string{"source", "reason"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "handoff_webhook_events_received_total", Help: "Events parsed from verified webhook requests, per source.",
		}, []string{"source"}),
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "handoff_webhook_events_accepted_total", Help: "Events newly enqueued, per source.",
		}, []string{"source"}),
		duplicate: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "handoff_webhook_events_duplicate_total", Help: "Events already enqueued before (redeliveries), per source.",
		}, []string{"source"}),
		ignored: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "handoff_webhook_events_unrecognized_total", Help: "Events accepted but not understood (unknown subscription type) or dropped (another app's), per source and reason.",
		}, []string{"source", "reason"}),
		ackSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "handoff_webhook_ack_seconds", Help: "Time from request to answer, per source.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"source"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.rejected, m.events, m.accepted, m.duplicate, m.ignored, m.ackSeconds} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register webhook metrics: %w", err)
		}
	}
	return m, nil
}

// itoa is strconv.FormatInt for ids.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// rawJSON returns b as a RawMessage when it is valid JSON, else nil.
func rawJSON(b []byte) json.RawMessage {
	if len(b) == 0 || !json.Valid(b) {
		return nil
	}
	return json.RawMessage(b)
}
