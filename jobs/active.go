package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/handoff-dev/handoff"
)

// Owners who are really there: a CRM owner deactivated in the CRM is not
// routable, and when a route's whole chain is exhausted the task goes to
// the team's catch-all.

// ownerStatus is implemented by connectors that can tell whether an owner
// id may own records (HubSpot: the owner is not archived; Salesforce:
// User.IsActive).
type ownerStatus interface {
	OwnerActive(ctx context.Context, tenant, id string) (bool, error)
}

// routeCatchAll prefixes the tried entry of an owner that came from a
// team's catch-all.
const routeCatchAll = "catch_all "

// routable is unlessSkipped, then drops an owner the CRM reports inactive.
func (r *ownerResolver) routable(ctx context.Context, o handoff.Owner, ok bool, err error) (handoff.Owner, bool, error) {
	o, ok, err = r.unlessSkipped(o, ok, err)
	if err != nil || !ok {
		return o, ok, err
	}
	active, err := r.p.ownerActive(ctx, r.crm, r.src, r.tenant, o.ID)
	if err != nil || active {
		return o, err == nil, err
	}
	r.tried = append(r.tried, nonEmptyOwner(o)+" (inactive in the CRM)")
	return handoff.Owner{}, false, nil
}

// ownerActive reports whether the CRM lets owner id own records, cached
// for OwnerActiveTTL (so a deactivation is seen within it, whatever
// OwnerCacheTTL says). A CRM that cannot tell reports every owner active.
func (p *Pipeline) ownerActive(ctx context.Context, crm CRM, src handoff.Source, tenant, id string) (bool, error) {
	st, ok := crm.(ownerStatus)
	if !ok || id == "" {
		return true, nil
	}
	key := keyOwnerActive(src, tenant, id)
	v, err := p.rdb.Get(ctx, key).Result()
	switch {
	case err == nil:
		return v == "1", nil
	case !errors.Is(err, redis.Nil):
		return false, fmt.Errorf("read owner %s active flag: %w", id, err)
	}
	active, err := st.OwnerActive(ctx, tenant, id)
	if err != nil {
		return false, p.notInstalled(src, tenant, fmt.Errorf("check %s owner %s is active: %w", src, id, err))
	}
	flag := "0"
	if active {
		flag = "1"
	}
	if err := p.rdb.Set(ctx, key, flag, p.cfg.OwnerActiveTTL).Err(); err != nil {
		return false, fmt.Errorf("write owner %s active flag: %w", id, err)
	}
	return active, nil
}

// markInactive records that the CRM refused owner id as inactive, so the
// next resolutions skip it for OwnerActiveTTL.
func (p *Pipeline) markInactive(ctx context.Context, src handoff.Source, tenant, id string) error {
	if err := p.rdb.Set(ctx, keyOwnerActive(src, tenant, id), "0", p.cfg.OwnerActiveTTL).Err(); err != nil {
		return fmt.Errorf("record owner %s inactive: %w", id, err)
	}
	return nil
}

// catchAll resolves the first catch-all named along the route chain. It
// takes the task whoever else is away or full; only a catch-all the CRM
// does not know or reports inactive is passed over.
func (r *ownerResolver) catchAll(ctx context.Context, route *handoff.Route) (handoff.Owner, bool, error) {
	for rt := route; rt != nil; rt = rt.Fallback {
		if rt.CatchAll == "" {
			continue
		}
		r.tried = append(r.tried, routeCatchAll+rt.CatchAll)
		var o handoff.Owner
		var ok bool
		var err error
		if strings.Contains(rt.CatchAll, "@") {
			o, ok, err = r.p.ownerByEmail(ctx, r.crm, r.src, r.tenant, rt.CatchAll)
		} else {
			o, ok = handoff.Owner{ID: rt.CatchAll}, true
		}
		if err != nil || !ok {
			return o, ok, err
		}
		active, err := r.p.ownerActive(ctx, r.crm, r.src, r.tenant, o.ID)
		if err != nil || active {
			return o, err == nil, err
		}
		r.tried = append(r.tried, nonEmptyOwner(o)+" (inactive in the CRM)")
		return handoff.Owner{}, false, nil
	}
	return handoff.Owner{}, false, nil
}

// viaCatchAll reports whether an owner route (the tried list, comma
// joined) ended at a catch-all.
func viaCatchAll(ownerRoute string) bool {
	i := strings.LastIndex(ownerRoute, ",")
	return strings.HasPrefix(ownerRoute[i+1:], routeCatchAll)
}
