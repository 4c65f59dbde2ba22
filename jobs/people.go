package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/handoff-dev/handoff"
)

// Alert kinds.
const (
	AlertHandoff = "handoff" // a handoff's task was created
	AlertSLA     = "sla"     // a climb notify step: the task's SLA lapsed
	// AlertCatchAll: the whole route chain was exhausted (away, full or
	// inactive) and the task went to the team's catch-all.
	AlertCatchAll = "catch_all"
)

// Alert is a notification to people: a chat message at each of Targets
// (the ladder's notify: entries, "FORMAT:URL", or a signed webhook). ID is stable per
// happening, so a retried job queues each message once.
type Alert struct {
	ID           string
	Kind         string // AlertHandoff | AlertSLA | AlertCatchAll
	Targets      []string
	HandoffID    string
	Conversation string
	Action       string
	Rung         string
	Why          string // the conditions of the rung that held, in words
	Owner        handoff.Owner
	SLA          time.Duration
	Due          time.Time
	TaskURL      string
	TaskID       string
	CRM          string
	Tenant       string
	Step         int // for AlertSLA: the SLA multiple that lapsed
}

// PeopleNotifier sends alerts (*callbacks.Sender queues one durable
// delivery per target). It must be idempotent per Alert.ID and target.
type PeopleNotifier interface {
	NotifyPeople(ctx context.Context, a Alert) error
}

// ownerTeamTargets are the notify targets of the team that gave the
// handoff its owner: the last team the route resolution tried.
func ownerTeamTargets(route *handoff.Route, ownerRoute string) []string {
	tried := strings.Split(ownerRoute, ",")
	for i := len(tried) - 1; i >= 0; i-- {
		team, ok := strings.CutPrefix(tried[i], "team ")
		if !ok {
			continue
		}
		for rt := route; rt != nil; rt = rt.Fallback {
			if rt.Team == team {
				return rt.Notify
			}
		}
	}
	return nil
}

func why(d handoff.Decision) string {
	if len(d.Reasons) == 0 {
		return "rung " + d.Matched() + " matched"
	}
	return strings.Join(d.Reasons, "; ")
}

// alertTaskCreated tells the owner's team that a handoff is theirs.
func (p *Pipeline) alertTaskCreated(ctx context.Context, pl CreateTaskPayload, rec record, task handoff.Task) error {
	targets := ownerTeamTargets(pl.Decision.Route, rec["owner_route"])
	if p.people == nil || len(targets) == 0 {
		return nil
	}
	kind, reason := AlertHandoff, why(pl.Decision)
	if viaCatchAll(rec["owner_route"]) {
		// Said as such: the team hears that nobody on its route could take it.
		kind, reason = AlertCatchAll, catchAllReason(rec["owner_route"])+" ("+reason+")"
	}
	a := Alert{ID: noticeID("alert", pl.HandoffID, task.ID), Kind: kind, Targets: targets, HandoffID: pl.HandoffID,
		Conversation: pl.Event.Conversation, Action: string(pl.Decision.Action), Rung: pl.Decision.Matched(), Why: reason,
		Owner: handoff.Owner{ID: rec["owner_id"], Email: rec["owner_email"], Name: rec["owner_name"]},
		SLA:   p.sla(pl.Decision), Due: rec.time("due"), TaskURL: p.taskURL(ctx, pl.CRM, pl.Tenant, task.ID),
		TaskID: task.ID, CRM: string(pl.CRM), Tenant: pl.Tenant}
	if err := p.people.NotifyPeople(ctx, a); err != nil {
		return fmt.Errorf("queue the team notification of handoff %s: %w", pl.HandoffID, err)
	}
	return nil
}

// alertClimb is a climb notify step: the step's to: team and the owner's
// team hear that the SLA lapsed.
func (p *Pipeline) alertClimb(ctx context.Context, id string, rec record, step int, cs handoff.ClimbStep) error {
	if p.people == nil {
		return nil
	}
	var targets []string
	for rt := cs.To; rt != nil; rt = rt.Fallback {
		targets = append(targets, rt.Notify...)
	}
	var own []string
	_ = json.Unmarshal([]byte(rec["notify"]), &own)
	for _, t := range own {
		if !slices.Contains(targets, t) {
			targets = append(targets, t)
		}
	}
	if len(targets) == 0 {
		return nil
	}
	sla := time.Duration(rec.int("sla_ms")) * time.Millisecond
	a := Alert{ID: noticeID("alert", id, "sla", strconv.Itoa(step)), Kind: AlertSLA, Targets: targets, HandoffID: id,
		Conversation: rec["conversation"], Action: rec["action"], Rung: rec["rung"], Why: rec["why"],
		Owner: handoff.Owner{ID: rec["owner_id"], Email: rec["owner_email"], Name: rec["owner_name"]},
		SLA:   sla, Due: rec.time("due"), TaskURL: p.taskURL(ctx, handoff.Source(rec["crm"]), rec["tenant"], rec["task_id"]),
		TaskID: rec["task_id"], CRM: rec["crm"], Tenant: rec["tenant"], Step: step}
	if err := p.people.NotifyPeople(ctx, a); err != nil {
		return fmt.Errorf("queue the SLA notification of handoff %s: %w", id, err)
	}
	return nil
}
