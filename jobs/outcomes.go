package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Outcomes reads the outcome counters and samples the pipeline keeps in
// Redis (see docs/outcomes.md for how each number is derived).
type Outcomes struct {
	rdb redis.UniversalClient
}

// NewOutcomes returns a reader over rdb.
func NewOutcomes(rdb redis.UniversalClient) *Outcomes { return &Outcomes{rdb: rdb} }

// Report is the JSON outcome report (GET /api/outcomes).
type Report struct {
	Decisions          Counts       `json:"decisions"`
	Handoffs           HandoffStats `json:"handoffs"`
	TimeToHuman        Percentiles  `json:"time_to_human_seconds"`
	TimeToHumanWorking Percentiles  `json:"time_to_human_working_seconds"`
	SLA                SLAStats     `json:"sla"`
	Resolution         Resolution   `json:"resolution"`
	Completeness       Percentiles  `json:"context_completeness"`
	EscalationAccuracy Ratio        `json:"escalation_accuracy"`
	HandoffPrecision   Ratio        `json:"handoff_precision"`
	ShadowAgreement    Ratio        `json:"shadow_agreement"`
	Reassignments      int64        `json:"reassignments"`
	// ReassignmentsCapped counts reassign steps skipped because the
	// handoff had had its max_reassignments.
	ReassignmentsCapped int64 `json:"reassignments_capped"`
	FollowUps           int64 `json:"follow_ups"`
}

// Counts is a total with a breakdown.
type Counts struct {
	Total    int64            `json:"total"`
	ByAction map[string]int64 `json:"by_action"`
}

// HandoffStats counts handoffs started.
type HandoffStats struct {
	Total        int64 `json:"total"`
	TasksCreated int64 `json:"tasks_created"`
	TasksFailed  int64 `json:"tasks_failed"` // create-task archived; the conversation went back to the agent
	// CatchAll counts tasks given to a team's catch-all because the whole
	// route chain was exhausted.
	CatchAll  int64            `json:"catch_all"`
	ByRung    map[string]int64 `json:"by_rung"`
	BySource  map[string]int64 `json:"by_source"`
	ByChannel map[string]int64 `json:"by_channel"`
	ByAction  map[string]int64 `json:"by_action"`
	// WithAlsoNeeds counts handoffs that named second reviewers; AlsoNeeds
	// counts them by the reviewing rung or exception id.
	WithAlsoNeeds int64            `json:"with_also_needs"`
	AlsoNeeds     map[string]int64 `json:"also_needs"`
}

// Percentiles summarise samples.
type Percentiles struct {
	Samples int     `json:"samples"`
	Mean    float64 `json:"mean"`
	P50     float64 `json:"p50"`
	P90     float64 `json:"p90"`
}

// SLAStats counts SLA lapses.
type SLAStats struct {
	Breaches         int64   `json:"breaches"`          // every check that found the task not started
	BreachedHandoffs int64   `json:"breached_handoffs"` // handoffs whose first check found it not started
	BreachRate       float64 `json:"breach_rate"`       // breached handoffs / tasks created
}

// Resolution says how handoffs finished.
type Resolution struct {
	Finished      int64            `json:"finished"`
	Completed     int64            `json:"completed"`
	Released      int64            `json:"released"`
	Untracked     int64            `json:"untracked"` // the CRM cannot report task state
	Rate          float64          `json:"rate"`      // completed / tasks created
	ByResolution  map[string]int64 `json:"by_resolution"`
	ByDisposition map[string]int64 `json:"by_disposition"`
}

// Ratio is Numerator/Denominator (0 when the denominator is 0).
type Ratio struct {
	Numerator   int64   `json:"numerator"`
	Denominator int64   `json:"denominator"`
	Ratio       float64 `json:"ratio"`
}

func ratio(n, d int64) Ratio {
	r := Ratio{Numerator: n, Denominator: d}
	if d > 0 {
		r.Ratio = float64(n) / float64(d)
	}
	return r
}

// Report computes the all-time outcome report.
func (o *Outcomes) Report(ctx context.Context) (Report, error) {
	h, err := o.rdb.HGetAll(ctx, keyOutcomes).Result()
	if err != nil {
		return Report{}, fmt.Errorf("read outcome counters: %w", err)
	}
	var s samples
	for i, key := range sampleKeys {
		raw, err := o.rdb.LRange(ctx, key, 0, -1).Result()
		if err != nil {
			return Report{}, fmt.Errorf("read samples %s: %w", key, err)
		}
		s[i] = parseSamples(raw)
	}
	return reportFrom(h, s), nil
}

// sampleKeys are the all-time sample lists, in the order of samples.
var sampleKeys = [3]string{keyTTH, keyTTHWorking, keyComplete}

// samples holds time to human, working time to human and completeness.
type samples [3][]float64

// reportFrom computes a report from counters (the fields of
// handoff:outcomes) and samples: the all-time report and a window's use it.
func reportFrom(h map[string]string, s samples) Report {
	var r Report
	n := func(f string) int64 { v, _ := strconv.ParseInt(h[f], 10, 64); return v }
	by := func(prefix string) map[string]int64 {
		m := map[string]int64{}
		for k, v := range h {
			if rest, ok := strings.CutPrefix(k, prefix); ok {
				m[rest], _ = strconv.ParseInt(v, 10, 64)
			}
		}
		return m
	}
	r.Decisions = Counts{Total: n("decisions"), ByAction: by("decisions_action:")}
	r.Handoffs = HandoffStats{Total: n("handoffs"), TasksCreated: n("tasks_created"), TasksFailed: n("tasks_failed"), CatchAll: n("catch_all"), ByRung: by("handoffs_rung:"),
		BySource: by("handoffs_source:"), ByChannel: by("handoffs_channel:"), ByAction: by("handoffs_action:"),
		WithAlsoNeeds: n("handoffs_with_also_needs"), AlsoNeeds: by("also_needs:")}
	r.SLA = SLAStats{Breaches: n("sla_breaches"), BreachedHandoffs: n("sla_breached_handoffs")}
	if c := n("tasks_created"); c > 0 {
		r.SLA.BreachRate = float64(r.SLA.BreachedHandoffs) / float64(c)
	}
	r.Resolution = Resolution{Finished: n("finished"), Completed: n("completed"), Released: n("released"), Untracked: n("untracked"),
		ByResolution: by("resolution:"), ByDisposition: by("disposition:")}
	if c := n("tasks_created"); c > 0 {
		r.Resolution.Rate = float64(r.Resolution.Completed) / float64(c)
	}
	r.EscalationAccuracy = ratio(n("completed_by_first_assignee"), n("completed"))
	r.HandoffPrecision = ratio(n("warranted"), n("with_disposition"))
	r.ShadowAgreement = ratio(n("shadow_agreed"), n("shadow_decisions"))
	r.Reassignments = n("reassignments")
	r.ReassignmentsCapped = n("reassignments_capped")
	r.FollowUps = n("followups")
	r.TimeToHuman = percentiles(s[0])
	r.TimeToHumanWorking = percentiles(s[1])
	r.Completeness = percentiles(s[2])
	return r
}

func parseSamples(raw []string) []float64 {
	xs := make([]float64, 0, len(raw))
	for _, s := range raw {
		if v, err := strconv.ParseFloat(s, 64); err == nil {
			xs = append(xs, v)
		}
	}
	return xs
}

func percentiles(in []float64) Percentiles {
	if len(in) == 0 {
		return Percentiles{}
	}
	xs := slices.Clone(in)
	sum := 0.0
	for _, v := range xs {
		sum += v
	}
	slices.Sort(xs)
	return Percentiles{Samples: len(xs), Mean: sum / float64(len(xs)), P50: quantile(xs, 0.5), P90: quantile(xs, 0.9)}
}

// quantile uses the nearest-rank method on sorted xs.
func quantile(xs []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(xs)))) - 1
	return xs[max(0, min(i, len(xs)-1))]
}

// Conversation is a conversation's ownership and its history.
type Conversation struct {
	ID      string            `json:"id"`
	Owner   Lease             `json:"owner"`
	History []OwnershipChange `json:"history"` // newest first
}

// Conversation reads a conversation's lease and its last 100 changes.
func (p *Pipeline) Conversation(ctx context.Context, conv string) (Conversation, error) {
	c := Conversation{ID: conv, History: []OwnershipChange{}}
	l, err := p.lease(ctx, conv)
	if err != nil {
		return c, err
	}
	c.Owner = l
	raw, err := p.rdb.LRange(ctx, keyLeaseLog(conv), 0, -1).Result()
	if err != nil {
		return c, fmt.Errorf("read ownership history of %s: %w", conv, err)
	}
	for _, s := range raw {
		var ch OwnershipChange
		if json.Unmarshal([]byte(s), &ch) == nil {
			c.History = append(c.History, ch)
		}
	}
	return c, nil
}

// HandoffOwner is who got a handoff's task and how the route got there.
type HandoffOwner struct {
	TaskID     string `json:"task_id,omitempty"`
	OwnerID    string `json:"owner_id,omitempty"`
	OwnerEmail string `json:"owner_email,omitempty"`
	// Route lists the targets the owner resolution looked at, in order
	// ("account_owner", "team deal_desk", ...); the last one is the
	// owner's. More than one means the route fell back.
	Route []string `json:"route,omitempty"`
}

// FellBack reports whether the owner is not the route's first choice.
func (o HandoffOwner) FellBack() bool { return len(o.Route) > 1 }

// HandoffOwner reads who got handoff id's task (the first owner; an SLA
// climb may have reassigned it since).
func (p *Pipeline) HandoffOwner(ctx context.Context, id string) (HandoffOwner, error) {
	rec, err := p.loadRecord(ctx, id)
	if err != nil {
		return HandoffOwner{}, err
	}
	o := HandoffOwner{TaskID: rec["task_id"], OwnerID: rec["first_owner_id"], OwnerEmail: rec["owner_email"]}
	if o.OwnerID == "" {
		o.OwnerID = rec["owner_id"]
	}
	if r := rec["owner_route"]; r != "" {
		o.Route = strings.Split(r, ",")
	}
	return o, nil
}
