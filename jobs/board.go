package jobs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/handoff-dev/handoff"
)

// boardAdd puts a created handoff on the open board (scored by its due
// time) and counts who got it: the owner, the team whose route gave it and
// each route target skipped on the way, with why.
func (p *Pipeline) boardAdd(ctx context.Context, pipe redis.Pipeliner, id string, rec record, ownerID string) {
	due := rec.int("due")
	if due == 0 {
		due = p.now().UnixMilli()
	}
	pipe.ZAdd(ctx, keyBoard, redis.Z{Score: float64(due), Member: id})
	pipe.Expire(ctx, keyBoard, p.cfg.StateTTL)
	counts := []string{"owner_assigned:" + ownerKey(rec["owner_email"], ownerID)}
	route := strings.Split(rec["owner_route"], ",")
	if last := route[len(route)-1]; strings.HasPrefix(last, "team ") {
		counts = append(counts, "team_assigned:"+strings.TrimPrefix(last, "team "))
	}
	for _, t := range route[:len(route)-1] {
		if t = strings.TrimSpace(t); t != "" {
			counts = append(counts, "skipped:"+skipText(t))
		}
	}
	p.count(ctx, pipe, counts...)
}

// skipText says why a route target was passed over, from the target as
// the owner resolution recorded it.
func skipText(target string) string {
	if who, n, ok := strings.Cut(target, " (full: "); ok {
		return who + "|at capacity (" + strings.TrimSuffix(n, ")") + ")"
	}
	return target + "|no routable owner (none in the CRM, away or inactive)"
}

// ownerKey names an owner in counters: the email, else the CRM id.
func ownerKey(email, id string) string {
	if email != "" {
		return strings.ToLower(email)
	}
	if id != "" {
		return id
	}
	return "(nobody)"
}

// OpenHandoff is one row of the open board.
type OpenHandoff struct {
	ID           string         `json:"id"`
	CRM          handoff.Source `json:"crm"`
	Tenant       string         `json:"tenant"`
	Rung         string         `json:"rung"`
	Action       string         `json:"action"`
	Conversation string         `json:"conversation"`
	OwnerID      string         `json:"owner_id"`
	OwnerEmail   string         `json:"owner_email"`
	OwnerName    string         `json:"owner_name"`
	TaskID       string         `json:"task_id"`
	TaskURL      string         `json:"task_url,omitempty"`
	Priority     string         `json:"priority"`
	Created      time.Time      `json:"created"`
	Due          time.Time      `json:"due"`
	SLA          time.Duration  `json:"sla"`
	Reassigned   int64          `json:"reassigned"`
	OwnerState   string         `json:"owner_state"`
}

// BoardFilter narrows the open board.
type BoardFilter struct {
	CRM, Tenant string
	Limit       int // default 200, max 1000
}

// OpenBoard lists open handoffs, the first to breach first. Members whose
// record expired or closed are dropped on the way.
func (p *Pipeline) OpenBoard(ctx context.Context, f BoardFilter) ([]OpenHandoff, error) {
	if f.Limit <= 0 {
		f.Limit = 200
	}
	f.Limit = min(f.Limit, 1000)
	var out []OpenHandoff
	const page = 200
	for offset := int64(0); offset < 10*page && len(out) < f.Limit; offset += page {
		ids, err := p.rdb.ZRange(ctx, keyBoard, offset, offset+page-1).Result()
		if err != nil {
			return nil, fmt.Errorf("read open board: %w", err)
		}
		pipe := p.rdb.Pipeline()
		cmds := make([]*redis.MapStringStringCmd, len(ids))
		for i, id := range ids {
			cmds[i] = pipe.HGetAll(ctx, keyHandoff(id))
		}
		if len(ids) > 0 {
			if _, err := pipe.Exec(ctx); err != nil {
				return nil, fmt.Errorf("read open handoffs: %w", err)
			}
		}
		var gone []any
		var convs []string
		start := len(out)
		for i, c := range cmds {
			rec := record(c.Val())
			if len(rec) == 0 || rec["closed"] != "" {
				gone = append(gone, ids[i])
				continue
			}
			if f.CRM != "" && rec["crm"] != f.CRM || f.Tenant != "" && rec["tenant"] != f.Tenant {
				continue
			}
			out = append(out, OpenHandoff{ID: ids[i], CRM: handoff.Source(rec["crm"]), Tenant: rec["tenant"], Rung: rec["rung"], Action: rec["action"],
				Conversation: rec["conversation"], OwnerID: rec["owner_id"], OwnerEmail: rec["owner_email"], OwnerName: rec["owner_name"],
				TaskID: rec["task_id"], Priority: rec["priority"], Created: rec.time("created_at"), Due: rec.time("due"),
				SLA: time.Duration(rec.int("sla_ms")) * time.Millisecond, Reassigned: rec.int("reassigned")})
			convs = append(convs, rec["conversation"])
			if len(out) == f.Limit {
				break
			}
		}
		if len(gone) > 0 {
			_ = p.rdb.ZRem(ctx, keyBoard, gone...).Err()
		}
		for i, conv := range convs {
			if l, err := p.lease(ctx, conv); err == nil {
				out[start+i].OwnerState = l.State
			}
			o := &out[start+i]
			o.TaskURL = p.taskURL(ctx, o.CRM, o.Tenant, o.TaskID)
		}
		if len(ids) < page {
			break
		}
	}
	return out, nil
}

// Outcomes returns the reader over the pipeline's records.
func (p *Pipeline) Outcomes() *Outcomes { return NewOutcomes(p.rdb) }
