package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/handoff-dev/handoff"
)

// indexDecision files a decision's audit entry id under the indexes the
// console searches by, trimmed like the stream (length and age). It runs
// after the audit entry is written; an entry whose indexing failed is
// logged and stays readable through the stream only.
func (p *Pipeline) indexDecision(ctx context.Context, entryID string, crm handoff.Source, tenant string, ev handoff.Event, rec DecisionRecord) {
	if entryID == "" {
		return
	}
	pipe := p.rdb.Pipeline()
	p.indexEntry(ctx, pipe, entryID, rec.At, indexKeys(string(rec.Action), tenant, string(crm), rec.Rung, ev.Contact.ID, ev.Contact.Email,
		rec.Event.Conversation, rec.Shadow != nil && !rec.Shadow.Agree))
	if _, err := pipe.Exec(ctx); err != nil {
		p.log.WarnContext(ctx, "index decision for the console", "entry", entryID, "error", err)
	}
}

// indexKeys names the indexes (suffixes of keyDecisionIndex) a decision
// is filed under.
func indexKeys(action, tenant, crm, rung, contactID, contactEmail, conv string, disagree bool) []string {
	keys := []string{"", "action:" + action, "tenant:" + tenant, "crm:" + crm}
	if rung != "" {
		keys = append(keys, "rung:"+rung)
	}
	if contactID != "" {
		keys = append(keys, "contact:"+strings.ToLower(contactID))
	}
	if e := strings.ToLower(contactEmail); e != "" {
		keys = append(keys, "contact:"+e)
	}
	if conv != "" {
		keys = append(keys, "conv:"+conv)
	}
	if disagree {
		keys = append(keys, "disagree")
	}
	return keys
}

// indexEntry adds entry id (at) to the indexes keys in pipe, trimmed like
// the stream.
func (p *Pipeline) indexEntry(ctx context.Context, pipe redis.Pipeliner, entryID string, at time.Time, keys []string) {
	score := float64(at.UnixMilli())
	minScore := "-inf"
	if p.cfg.AuditMaxAge > 0 {
		minScore = "(" + msString(p.now().Add(-p.cfg.AuditMaxAge))
	}
	for _, k := range keys {
		key := keyDecisionIndex + k
		pipe.ZAdd(ctx, key, redis.Z{Score: score, Member: entryID})
		if p.cfg.AuditMaxLen > 0 {
			pipe.ZRemRangeByRank(ctx, key, 0, -p.cfg.AuditMaxLen-1)
		}
		pipe.ZRemRangeByScore(ctx, key, "-inf", minScore)
		if p.cfg.AuditMaxAge > 0 {
			pipe.Expire(ctx, key, p.cfg.AuditMaxAge)
		}
	}
}

// BackfillDecisionIndex files the audit stream's decisions under the
// indexes once per deployment (keyIndexBackfilled, SET NX): a deployment
// that ran a release without the indexes keeps its history readable, in
// the console and /api/decisions, which read the indexes only. It walks
// the stream oldest first in pages; entries already indexed are added
// again harmlessly (same member, same score). Returns how many it filed.
func (p *Pipeline) BackfillDecisionIndex(ctx context.Context) (int, error) {
	first, err := p.rdb.SetNX(ctx, keyIndexBackfilled, p.now().UTC().Format(time.RFC3339), 0).Result()
	if err != nil {
		return 0, fmt.Errorf("mark the decision index backfill: %w", err)
	}
	if !first {
		return 0, nil
	}
	n, start := 0, "-"
	for {
		msgs, err := p.rdb.XRangeN(ctx, keyAudit, start, "+", 1000).Result()
		if err != nil {
			_ = p.rdb.Del(ctx, keyIndexBackfilled).Err() // try again at the next start
			return n, fmt.Errorf("read the audit stream to backfill the decision index: %w", err)
		}
		pipe := p.rdb.Pipeline()
		for _, m := range msgs {
			if m.Values["type"] != "decision" {
				continue
			}
			var d struct {
				At     time.Time     `json:"at"`
				Shadow *ShadowResult `json:"shadow"`
			}
			data, _ := m.Values["data"].(string)
			if json.Unmarshal([]byte(data), &d) != nil || d.At.IsZero() {
				continue
			}
			str := func(k string) string { s, _ := m.Values[k].(string); return s }
			p.indexEntry(ctx, pipe, m.ID, d.At, indexKeys(str("action"), str("tenant"), str("crm"), str("rung"),
				str("contact_id"), str("contact_email"), str("conversation"), d.Shadow != nil && !d.Shadow.Agree))
			n++
		}
		if pipe.Len() > 0 {
			if _, err := pipe.Exec(ctx); err != nil {
				_ = p.rdb.Del(ctx, keyIndexBackfilled).Err()
				return n, fmt.Errorf("backfill the decision index: %w", err)
			}
		}
		if len(msgs) < 1000 {
			return n, nil
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
}

// DecisionQuery selects decisions through the indexes.
type DecisionQuery struct {
	Contact, Conversation, Rung, Action, Tenant, CRM string
	Disagree                                         bool // only where the shadow ladder disagreed
	From, To                                         time.Time
	Limit                                            int // default 50, max 500
	// Brief leaves the decision's trace and the context out (a list of
	// decisions needs neither; decoding them is most of the cost).
	Brief bool
}

// FindDecisions returns the newest decisions matching q: it reads the most
// specific index in the time range and checks the other filters on at
// most 20 pages of it, so a request reads a bounded number of entries
// whatever the stream's size.
func (o *Outcomes) FindDecisions(ctx context.Context, q DecisionQuery) ([]DecisionRecord, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Limit = min(q.Limit, 500)
	filters := map[string]string{}
	add := func(k, v string) {
		if v != "" {
			filters[k] = v
		}
	}
	add("conv", q.Conversation)
	add("contact", strings.ToLower(q.Contact))
	add("rung", q.Rung)
	add("action", q.Action)
	add("tenant", q.Tenant)
	add("crm", q.CRM)
	if q.Disagree {
		filters["disagree"] = ""
	}
	// The index to walk: the most specific filter given.
	key := keyDecisionIndex
	var first string
	for _, k := range []string{"conv", "contact", "disagree", "rung", "action", "tenant", "crm"} {
		if v, ok := filters[k]; ok {
			first = k
			key = keyDecisionIndex + k
			if k != "disagree" {
				key += ":" + v
			}
			break
		}
	}
	max, min := "+inf", "-inf"
	if !q.To.IsZero() {
		max = "(" + msString(q.To)
	}
	if !q.From.IsZero() {
		min = msString(q.From)
	}
	var out []DecisionRecord
	const page = 200
	for offset := 0; offset < 20*page && len(out) < q.Limit; offset += page {
		ids, err := o.rdb.ZRevRangeByScore(ctx, key, &redis.ZRangeBy{Max: max, Min: min, Offset: int64(offset), Count: page}).Result()
		if err != nil {
			return nil, fmt.Errorf("read decision index: %w", err)
		}
		recs, err := o.entries(ctx, ids, q.Brief)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			if matches(r, filters, first) {
				out = append(out, r.DecisionRecord)
				if len(out) == q.Limit {
					break
				}
			}
		}
		if len(ids) < page {
			break
		}
	}
	return out, nil
}

// indexed is a decision with the audit fields the filters look at.
type indexed struct {
	DecisionRecord
	fields map[string]any
}

// entries reads audit entries by id (one pipelined XRANGE each); entries
// trimmed from the stream meanwhile are left out.
func (o *Outcomes) entries(ctx context.Context, ids []string, brief bool) ([]indexed, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	pipe := o.rdb.Pipeline()
	cmds := make([]*redis.XMessageSliceCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.XRangeN(ctx, keyAudit, id, id, 1)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("read audit entries: %w", err)
	}
	out := make([]indexed, 0, len(ids))
	for _, c := range cmds {
		msgs := c.Val()
		if len(msgs) == 0 {
			continue
		}
		var d DecisionRecord
		s, ok := msgs[0].Values["data"].(string)
		if !ok {
			continue
		}
		if brief {
			var b briefRecord
			if json.Unmarshal([]byte(s), &b) != nil {
				continue
			}
			d = DecisionRecord{At: b.At, Event: b.Event, Action: b.Action, Rung: b.Rung, LadderVersion: b.LadderVersion, Score: b.Score,
				OwnerState: b.OwnerState, HandoffID: b.HandoffID, TaskID: b.TaskID, Shadow: b.Shadow}
			d.Context.Event.Text = b.Context.Event.Text
		} else if json.Unmarshal([]byte(s), &d) != nil {
			continue
		}
		d.ID = msgs[0].ID
		out = append(out, indexed{DecisionRecord: d, fields: msgs[0].Values})
	}
	return out, nil
}

func matches(r indexed, filters map[string]string, walked string) bool {
	for k, v := range filters {
		if k == walked {
			continue
		}
		switch k {
		case "conv":
			if r.Event.Conversation != v {
				return false
			}
		case "contact":
			if strings.ToLower(fmt.Sprint(r.fields["contact_id"])) != v && fmt.Sprint(r.fields["contact_email"]) != v {
				return false
			}
		case "rung":
			if r.Rung != v {
				return false
			}
		case "action":
			if string(r.Action) != v {
				return false
			}
		case "tenant":
			if fmt.Sprint(r.fields["tenant"]) != v {
				return false
			}
		case "crm":
			if fmt.Sprint(r.fields["crm"]) != v {
				return false
			}
		case "disagree":
			if r.Shadow == nil || r.Shadow.Agree {
				return false
			}
		}
	}
	return true
}

// DecisionByID reads one decision by its audit entry id.
func (o *Outcomes) DecisionByID(ctx context.Context, id string) (DecisionRecord, bool, error) {
	if _, err := strconv.ParseInt(strings.SplitN(id, "-", 2)[0], 10, 64); err != nil {
		return DecisionRecord{}, false, nil
	}
	recs, err := o.entries(ctx, []string{id}, false)
	if err != nil || len(recs) == 0 {
		return DecisionRecord{}, false, err
	}
	return recs[0].DecisionRecord, true, nil
}

// briefRecord is a DecisionRecord without the trace and the context but
// the buyer's words.
type briefRecord struct {
	At            time.Time      `json:"at"`
	Event         EventRef       `json:"event"`
	Action        handoff.Action `json:"action"`
	Rung          string         `json:"rung,omitempty"`
	LadderVersion string         `json:"ladder_version"`
	Score         float64        `json:"score"`
	OwnerState    string         `json:"owner_state"`
	HandoffID     string         `json:"handoff_id,omitempty"`
	TaskID        string         `json:"task_id,omitempty"`
	Shadow        *ShadowResult  `json:"shadow,omitempty"`
	Context       struct {
		Event struct {
			Text string `json:"text"`
		} `json:"event"`
	} `json:"context"`
}
