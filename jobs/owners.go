package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/handoff-dev/handoff"
)

// Route targets.
const (
	ToAccountOwner = "account_owner"
	ToContactOwner = "contact_owner"
	ToDealOwner    = "deal_owner"

	StrategyRoundRobin = "round_robin"
	StrategyLeastOpen  = "least_open"
)

// ownerResolver resolves routes to CRM owners for one CRM tenant.
type ownerResolver struct {
	p      *Pipeline
	crm    CRM
	src    handoff.Source
	tenant string
	c      handoff.Context
	tried  []string        // what was tried, for the error message
	skip   map[string]bool // owner ids a climb must not hand the task back to (guards.go)
}

// resolveOwner walks the route and its fallbacks in order; when all of them
// resolve to nobody it tries the contact, account and deal owners before
// giving up with an error that says what was tried.
//
// tried lists the targets looked at, in order; the last one is the owner's
// (one entry: the route's first choice; more: a fallback).
func (p *Pipeline) resolveOwner(ctx context.Context, crm CRM, src handoff.Source, tenant string, route *handoff.Route, c handoff.Context) (owner handoff.Owner, tried []string, err error) {
	return p.resolveOwnerExcept(ctx, crm, src, tenant, route, c, nil)
}

// resolveOwnerExcept is resolveOwner skipping the owners with these ids.
func (p *Pipeline) resolveOwnerExcept(ctx context.Context, crm CRM, src handoff.Source, tenant string, route *handoff.Route, c handoff.Context, skip []string) (owner handoff.Owner, tried []string, err error) {
	r := &ownerResolver{p: p, crm: crm, src: src, tenant: tenant, c: c, skip: skipSet(skip)}
	for rt := route; rt != nil; rt = rt.Fallback {
		o, ok, err := r.target(ctx, *rt)
		if err != nil || ok {
			return p.withFileZone(o), r.tried, err
		}
	}
	if o, ok, err := r.catchAll(ctx, route); err != nil || ok {
		return p.withFileZone(o), r.tried, err
	}
	for _, to := range []string{ToContactOwner, ToAccountOwner, ToDealOwner} {
		o, ok, err := r.target(ctx, handoff.Route{To: to})
		if err != nil || ok {
			return p.withFileZone(o), r.tried, err
		}
	}
	return handoff.Owner{}, r.tried, &PermanentJobError{Err: fmt.Errorf("no owner could be resolved in %s tenant %s (tried %s); add a fallback route with a team or owner known to the CRM",
		src, tenant, strings.Join(r.tried, ", "))}
}

func (r *ownerResolver) target(ctx context.Context, rt handoff.Route) (handoff.Owner, bool, error) {
	switch {
	case rt.To != "":
		var id, email string
		switch rt.To {
		case ToAccountOwner:
			id, email = r.c.Account.OwnerID, r.c.Account.OwnerEmail
		case ToContactOwner:
			id, email = r.c.Contact.OwnerID, r.c.Contact.OwnerEmail
		case ToDealOwner:
			id = r.c.Deal.OwnerID
		}
		r.tried = append(r.tried, rt.To)
		if away, err := r.away(ctx, email); err != nil || away {
			return handoff.Owner{}, false, err
		}
		if id != "" {
			return r.routable(ctx, handoff.Owner{ID: id, Email: email}, true, nil)
		}
		if email != "" {
			o, ok, err := r.p.ownerByEmail(ctx, r.crm, r.src, r.tenant, email)
			return r.routable(ctx, o, ok, err)
		}
		return handoff.Owner{}, false, nil
	case rt.Team != "":
		r.tried = append(r.tried, "team "+rt.Team)
		if len(rt.Owners) == 0 {
			return handoff.Owner{}, false, nil
		}
		if rt.Strategy == StrategyLeastOpen {
			return r.leastOpen(ctx, rt)
		}
		return r.roundRobin(ctx, rt)
	case rt.Owner != "":
		r.tried = append(r.tried, "owner "+rt.Owner)
		return r.one(ctx, rt.Owner)
	}
	return handoff.Owner{}, false, nil
}

// one resolves an owner named by email (looked up, cached) or by CRM id.
func (r *ownerResolver) one(ctx context.Context, who string) (handoff.Owner, bool, error) {
	if strings.Contains(who, "@") {
		if away, err := r.away(ctx, who); err != nil || away {
			return handoff.Owner{}, false, err
		}
		o, ok, err := r.p.ownerByEmail(ctx, r.crm, r.src, r.tenant, who)
		return r.routable(ctx, o, ok, err)
	}
	return r.routable(ctx, handoff.Owner{ID: who}, true, nil)
}

// roundRobin takes the next member from a per-team counter in Redis
// (shared by every worker), skipping members the CRM does not know. With
// weights a member of weight w starts w of every sum(weights) turns.
func (r *ownerResolver) roundRobin(ctx context.Context, rt handoff.Route) (handoff.Owner, bool, error) {
	n, err := r.p.rdb.Incr(ctx, keyRoundRobin(r.src, r.tenant, rt.Team)).Result()
	if err != nil {
		return handoff.Owner{}, false, fmt.Errorf("advance round robin of team %s: %w", rt.Team, err)
	}
	start := rrStart(n, len(rt.Owners), rt.Weights)
	for i := range rt.Owners {
		o, ok, err := r.one(ctx, rt.Owners[(start+i)%len(rt.Owners)])
		if err == nil && ok {
			var full bool
			if full, err = r.full(ctx, rt, o); full {
				continue
			}
		}
		if err != nil || ok {
			return o, ok, err
		}
	}
	return handoff.Owner{}, false, nil
}

// rrStart is the member the n-th turn (from 1) of a round robin starts
// at. Without weights members take turns; with weights the turns of one
// cycle are spread out by smooth weighted round robin (weights 3 and 1 give
// a a b a, not a a a b), so a heavier member is not handed a burst.
func rrStart(n int64, members int, weights []int) int {
	if len(weights) != members {
		return int((n - 1) % int64(members))
	}
	total := 0
	for _, w := range weights {
		total += max(w, 0)
	}
	if total == 0 {
		return int((n - 1) % int64(members))
	}
	turn := int((n - 1) % int64(total))
	cur := make([]int, members)
	pick := 0
	for range turn + 1 {
		pick = 0
		for i, w := range weights {
			cur[i] += max(w, 0)
			if cur[i] > cur[pick] {
				pick = i
			}
		}
		cur[pick] -= total
	}
	return pick
}

// leastOpen picks the member with the fewest open handoffs (counted in
// Redis per CRM tenant and owner id); ties go to the earlier member.
func (r *ownerResolver) leastOpen(ctx context.Context, rt handoff.Route) (handoff.Owner, bool, error) {
	var owners []handoff.Owner
	for _, who := range rt.Owners {
		o, ok, err := r.one(ctx, who)
		if err != nil {
			return o, false, err
		}
		if ok {
			owners = append(owners, o)
		}
	}
	if len(owners) == 0 {
		return handoff.Owner{}, false, nil
	}
	ids := make([]string, len(owners))
	for i, o := range owners {
		ids[i] = o.ID
	}
	scores, err := r.p.rdb.ZMScore(ctx, keyOpen(r.src, r.tenant), ids...).Result()
	if err != nil {
		return handoff.Owner{}, false, fmt.Errorf("read open handoffs of team %s: %w", rt.Team, err)
	}
	best := -1
	for i := range scores {
		if rt.Capacity > 0 && scores[i] >= float64(rt.Capacity) {
			r.tried = append(r.tried, fmt.Sprintf("%s (full: %d open)", nonEmptyOwner(owners[i]), int(scores[i])))
			continue
		}
		if best < 0 || scores[i] < scores[best] {
			best = i
		}
	}
	if best < 0 {
		return handoff.Owner{}, false, nil
	}
	return owners[best], true, nil
}

// ownerByEmail resolves an owner email to the CRM owner, cached for
// OwnerCacheTTL (unknown emails for a tenth of it). ok is false when the
// CRM has no such owner.
func (p *Pipeline) ownerByEmail(ctx context.Context, crm CRM, src handoff.Source, tenant, email string) (handoff.Owner, bool, error) {
	key := keyOwnerByEmail(src, tenant, email)
	b, err := p.rdb.Get(ctx, key).Bytes()
	if err == nil {
		var o handoff.Owner
		if json.Unmarshal(b, &o) == nil {
			return o, o.ID != "", nil
		}
	} else if !errors.Is(err, redis.Nil) {
		return handoff.Owner{}, false, fmt.Errorf("read owner cache: %w", err)
	}
	o, err := crm.OwnerByEmail(ctx, tenant, email)
	ttl := p.cfg.OwnerCacheTTL
	switch {
	case errors.Is(err, handoff.ErrNotFound):
		o, ttl = handoff.Owner{}, max(p.cfg.OwnerCacheTTL/10, 1)
	case err != nil:
		return handoff.Owner{}, false, p.notInstalled(src, tenant, fmt.Errorf("look up %s owner by email: %w", src, err))
	}
	if o.Email == "" && o.ID != "" {
		o.Email = email
	}
	nb, _ := json.Marshal(o)
	if err := p.rdb.Set(ctx, key, nb, ttl).Err(); err != nil {
		return handoff.Owner{}, false, fmt.Errorf("write owner cache: %w", err)
	}
	return o, o.ID != "", nil
}
