package webhooks

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoff-dev/handoff"
)

// MaxPreferWait is the longest "Prefer: wait=N" an agent turn is held for.
const MaxPreferWait = 10 * time.Second

// DecisionWaiter waits for the pipeline's decision on one event (by its
// dedupe key) and returns it as JSON; ok is false when it is not recorded
// within wait. *jobs.TurnWaiter implements it.
type DecisionWaiter interface {
	WaitDecision(ctx context.Context, dedupeKey string, wait time.Duration) (decision json.RawMessage, ok bool, err error)
}

// SetDecisionWaiter turns on synchronous answers to agent turns that ask
// for one with "Prefer: wait=N" (RFC 7240). Without it (or without the
// header) the agent route answers as soon as the turn is stored.
func (h *Handlers) SetDecisionWaiter(w DecisionWaiter) { h.waiter = w }

// preferWait reads the wait preference (RFC 7240 section 4.3) from the
// Prefer header(s): "Prefer: wait=5", also inside a list such as
// "respond-async, wait=5". It returns 0 when there is none or it is not a
// positive whole number of seconds; longer waits are cut to MaxPreferWait.
func preferWait(h http.Header) time.Duration {
	for _, v := range h.Values("Prefer") {
		for _, pref := range strings.Split(v, ",") {
			tok, _, _ := strings.Cut(pref, ";")
			name, val, ok := strings.Cut(strings.TrimSpace(tok), "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(name), "wait") {
				continue
			}
			n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(val), `"`))
			if err != nil || n <= 0 {
				return 0
			}
			return min(time.Duration(n)*time.Second, MaxPreferWait)
		}
	}
	return 0
}

// agentWaitAnswer is the answer to a turn that waited for its decision:
// the usual acknowledgement plus the decision (null while pending).
type agentWaitAnswer struct {
	ackBody
	Decision json.RawMessage `json:"decision"`
}

// answer writes the acknowledgement of a stored request. An agent turn
// with "Prefer: wait=N" waits for its decision first: 200 with it, or 202
// with "decision":null and "status":"pending" when it is not ready in
// time; either carries Preference-Applied. A redelivered turn finds the
// decision recorded for its webhook-id at once.
func (h *Handlers) answer(c echo.Context, src handoff.Source, events []handoff.Event, ack ackBody) error {
	if src != handoff.SourceAgent || h.waiter == nil || len(events) != 1 {
		return c.JSON(http.StatusOK, ack)
	}
	wait := preferWait(c.Request().Header)
	if wait <= 0 {
		return c.JSON(http.StatusOK, ack)
	}
	d, ok, err := h.waiter.WaitDecision(c.Request().Context(), events[0].DedupeKey, wait)
	if err != nil {
		// The turn is stored; only the synchronous answer failed.
		h.log.WarnContext(c.Request().Context(), "wait for an agent turn's decision", "error", err.Error())
	}
	c.Response().Header().Set("Preference-Applied", "wait="+strconv.Itoa(int(wait/time.Second)))
	if !ok {
		ack.Status = "pending"
		return c.JSON(http.StatusAccepted, agentWaitAnswer{ackBody: ack, Decision: json.RawMessage("null")})
	}
	return c.JSON(http.StatusOK, agentWaitAnswer{ackBody: ack, Decision: d})
}
