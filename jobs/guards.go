package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/handoff-dev/handoff"
)

// Guards on who gets a task: a team's capacity (open handoffs per member),
// a climb's exclude_last (never hand the task back to who let it lapse)
// and max_reassignments (enforced in climb, sla.go).

func skipSet(ids []string) map[string]bool {
	if len(ids) == 0 {
		return nil
	}
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// unlessSkipped drops an owner a climb must not hand the task back to.
func (r *ownerResolver) unlessSkipped(o handoff.Owner, ok bool, err error) (handoff.Owner, bool, error) {
	if err != nil || !ok || !r.skip[o.ID] {
		return o, ok, err
	}
	r.tried = append(r.tried, nonEmptyOwner(o)+" (had the task)")
	return handoff.Owner{}, false, nil
}

// full reports whether a team member has the team's capacity of open
// handoffs.
func (r *ownerResolver) full(ctx context.Context, rt handoff.Route, o handoff.Owner) (bool, error) {
	if rt.Capacity <= 0 {
		return false, nil
	}
	n, err := r.p.rdb.ZScore(ctx, keyOpen(r.src, r.tenant), o.ID).Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read open handoffs of %s: %w", nonEmptyOwner(o), err)
	}
	if n < float64(rt.Capacity) {
		return false, nil
	}
	r.tried = append(r.tried, fmt.Sprintf("%s (full: %d open)", nonEmptyOwner(o), int(n)))
	return true, nil
}

func nonEmptyOwner(o handoff.Owner) string {
	if o.Email != "" {
		return o.Email
	}
	return "owner " + o.ID
}

// ownerHistory is the ids of a handoff's owners so far, oldest first.
func ownerHistory(rec record) []string {
	if h := rec["owner_history"]; h != "" {
		return strings.Split(h, ",")
	}
	if id := rec["owner_id"]; id != "" {
		return []string{id}
	}
	return nil
}

// lastOwners is the last n owners of a handoff (n <= 0: none).
func lastOwners(rec record, n int) []string {
	h := ownerHistory(rec)
	if n <= 0 {
		return nil
	}
	return slices.Clone(h[max(0, len(h)-n):])
}

// withOwner is the owner history after a reassignment to id.
func withOwner(rec record, id string) string {
	return strings.Join(append(ownerHistory(rec), id), ",")
}
