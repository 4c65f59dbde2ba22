package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"github.com/handoff-dev/handoff"
)

// Away is an owner's out-of-office period: routing skips the owner until
// AwayUntil (a team's next member, else the route's fallback).
type Away struct {
	Email     string    `json:"email"`
	AwayUntil time.Time `json:"away_until"`
	Reason    string    `json:"reason,omitempty"`
	SetAt     time.Time `json:"set_at"`
}

// maxAway bounds an away period, so a typo in the year does not take an
// owner out of routing for a decade.
const maxAway = 366 * 24 * time.Hour

// ErrBadAvailability: an away period that cannot be recorded (not an
// email, not in the future, more than a year ahead).
var ErrBadAvailability = errors.New("bad availability")

// SetAway records that the owner with this email is away until the given
// time (in the future, within a year).
func (p *Pipeline) SetAway(ctx context.Context, email string, until time.Time, reason string) (Away, error) {
	now := p.now()
	switch {
	case !strings.Contains(email, "@"):
		return Away{}, fmt.Errorf("%w: owner %q is not an email address", ErrBadAvailability, email)
	case !until.After(now):
		return Away{}, fmt.Errorf("%w: away_until %s is not in the future", ErrBadAvailability, until.Format(time.RFC3339))
	case until.Sub(now) > maxAway:
		return Away{}, fmt.Errorf("%w: away_until %s is more than a year ahead", ErrBadAvailability, until.Format(time.RFC3339))
	}
	a := Away{Email: strings.ToLower(strings.TrimSpace(email)), AwayUntil: until, Reason: reason, SetAt: now}
	b, _ := json.Marshal(a)
	// The key expires when the period ends (the pipeline's clock may be a
	// test clock: the expiry is relative to it).
	if err := p.rdb.Set(ctx, keyAway(email), b, until.Sub(now)).Err(); err != nil {
		return Away{}, fmt.Errorf("record away period of %s: %w", email, err)
	}
	return a, nil
}

// ClearAway ends an owner's away period; ok is false if there was none.
func (p *Pipeline) ClearAway(ctx context.Context, email string) (bool, error) {
	n, err := p.rdb.Del(ctx, keyAway(email)).Result()
	if err != nil {
		return false, fmt.Errorf("clear away period of %s: %w", email, err)
	}
	return n > 0, nil
}

// AwayOf returns the owner's away period, if one is current.
func (p *Pipeline) AwayOf(ctx context.Context, email string) (Away, bool, error) {
	b, err := p.rdb.Get(ctx, keyAway(email)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Away{}, false, nil
	}
	if err != nil {
		return Away{}, false, fmt.Errorf("read away period of %s: %w", email, err)
	}
	var a Away
	if err := json.Unmarshal(b, &a); err != nil {
		return Away{}, false, fmt.Errorf("decode away period of %s: %w", email, err)
	}
	if !a.AwayUntil.After(p.now()) {
		return Away{}, false, nil
	}
	return a, true, nil
}

// away reports whether routing must skip an owner named by email; the
// reason goes into what the resolver tried.
func (r *ownerResolver) away(ctx context.Context, email string) (bool, error) {
	if email == "" {
		return false, nil
	}
	a, ok, err := r.p.ownerAway(ctx, email)
	if err != nil || !ok {
		return false, err
	}
	r.tried = append(r.tried, fmt.Sprintf("%s (away until %s)", email, a.AwayUntil.UTC().Format(time.RFC3339)))
	return true, nil
}

// OwnerFile is what the ladder file says of owners (its owners: section);
// *ladder.Ladder is one.
type OwnerFile interface {
	OwnerZone(email string) string
	OwnerAway(email string, at time.Time) (until time.Time, reason string, away bool)
}

// ownerAway is the one rule for "is this owner away now": a period set
// through the API, else one in the ladder file.
func (p *Pipeline) ownerAway(ctx context.Context, email string) (Away, bool, error) {
	a, ok, err := p.AwayOf(ctx, email)
	if err != nil || ok || p.ownerFile == nil {
		return a, ok, err
	}
	until, reason, away := p.ownerFile.OwnerAway(email, p.now())
	if !away {
		return Away{}, false, nil
	}
	return Away{Email: strings.ToLower(strings.TrimSpace(email)), AwayUntil: until, Reason: reason}, true, nil
}

// withFileZone gives an owner the ladder file's time zone when the CRM
// gave none: the CRM's zone, else the file's, else (later) the calendar's.
func (p *Pipeline) withFileZone(o handoff.Owner) handoff.Owner {
	if o.TimeZone == "" && o.Email != "" && p.ownerFile != nil {
		o.TimeZone = p.ownerFile.OwnerZone(o.Email)
	}
	return o
}

// registerAvailability mounts, under the API group:
//
//	GET    /owners/:email/availability
//	PUT    /owners/:email/availability   {"away_until": "2026-12-28T09:00:00-05:00", "reason": "vacation"}
//	DELETE /owners/:email/availability
func (a *API) registerAvailability(g *echo.Group) {
	g.GET("/owners/:email/availability", a.getAvailability)
	g.PUT("/owners/:email/availability", a.putAvailability)
	g.DELETE("/owners/:email/availability", a.deleteAvailability)
}

func ownerEmail(c echo.Context) (string, bool) {
	e := c.Param("email")
	if u, err := url.PathUnescape(e); err == nil {
		e = u
	}
	e = strings.ToLower(strings.TrimSpace(e))
	return e, strings.Contains(e, "@") && len(e) <= 254
}

type availability struct {
	Email     string     `json:"email"`
	Away      bool       `json:"away"`
	AwayUntil *time.Time `json:"away_until,omitempty"`
	Reason    string     `json:"reason,omitempty"`
	SetAt     *time.Time `json:"set_at,omitempty"`
}

func availabilityOf(email string, aw Away, away bool) availability {
	if !away {
		return availability{Email: email}
	}
	return availability{Email: email, Away: true, AwayUntil: &aw.AwayUntil, Reason: aw.Reason, SetAt: &aw.SetAt}
}

func (a *API) getAvailability(c echo.Context) error {
	email, ok := ownerEmail(c)
	if !ok {
		return fail(c, http.StatusBadRequest, "bad_email", "the owner must be an email address")
	}
	aw, away, err := a.p.AwayOf(c.Request().Context(), email)
	if err != nil {
		return a.internal(c, "reading the availability", err)
	}
	return c.JSON(http.StatusOK, availabilityOf(email, aw, away))
}

func (a *API) putAvailability(c echo.Context) error {
	email, ok := ownerEmail(c)
	if !ok {
		return fail(c, http.StatusBadRequest, "bad_email", "the owner must be an email address")
	}
	var body struct {
		AwayUntil string `json:"away_until"`
		Reason    string `json:"reason"`
	}
	if err := c.Bind(&body); err != nil {
		return fail(c, http.StatusBadRequest, "bad_body", `body must be JSON like {"away_until": "2026-12-28T09:00:00-05:00", "reason": "vacation"}`)
	}
	until, err := time.Parse(time.RFC3339, body.AwayUntil)
	if err != nil {
		return fail(c, http.StatusBadRequest, "bad_away_until", fmt.Sprintf("away_until %q must be an RFC 3339 time with an offset, such as 2026-12-28T09:00:00-05:00", body.AwayUntil))
	}
	if len(body.Reason) > 200 {
		return fail(c, http.StatusBadRequest, "bad_reason", "reason must be at most 200 characters")
	}
	aw, err := a.p.SetAway(c.Request().Context(), email, until, body.Reason)
	if errors.Is(err, ErrBadAvailability) {
		return fail(c, http.StatusBadRequest, "bad_away_until", strings.TrimPrefix(err.Error(), ErrBadAvailability.Error()+": "))
	}
	if err != nil {
		return a.internal(c, "recording the availability", err)
	}
	a.p.log.InfoContext(c.Request().Context(), "owner away", "owner", email, "away_until", aw.AwayUntil)
	return c.JSON(http.StatusOK, availabilityOf(email, aw, true))
}

func (a *API) deleteAvailability(c echo.Context) error {
	email, ok := ownerEmail(c)
	if !ok {
		return fail(c, http.StatusBadRequest, "bad_email", "the owner must be an email address")
	}
	if _, err := a.p.ClearAway(c.Request().Context(), email); err != nil {
		return a.internal(c, "clearing the availability", err)
	}
	a.p.log.InfoContext(c.Request().Context(), "owner back", "owner", email)
	return c.JSON(http.StatusOK, availabilityOf(email, Away{}, false))
}
