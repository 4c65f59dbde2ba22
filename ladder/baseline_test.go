package ladder

import (
	"slices"
	"testing"
	"time"

	"github.com/handoff-dev/handoff"
)

// handWritten is the default ladder (ladder/default.yaml) written by hand
// in Go: the same exceptions, rungs, workflow thresholds, routes, SLAs and
// priorities, with no trace and no reasons. It is the baseline that
// BenchmarkDecide is compared with (docs/BENCHMARKS.md): what the rules
// cost without a policy file, CEL or explanations. The score comes from
// the ladder's own function, since the score is part of the input here.
func handWritten(l *Ladder, c handoff.Context) handoff.Decision {
	c.Score, _ = l.computeScore(&c)
	minConf, stall, maxTools, neg := 0.5, int64(6), int64(3), -0.5
	switch c.Event.Channel {
	case "chat":
		minConf, stall, maxTools, neg = 0.65, 4, 2, -0.35
	case "email":
		minConf, stall = 0.45, 8
	}
	has := func(t string) bool { return slices.Contains(c.Signals.Topics, t) }
	tierIn := func(ts ...string) bool { return slices.Contains(ts, c.Account.Tier) }
	d := handoff.Decision{LadderVersion: l.Version(), Score: c.Score, Signals: c.Signals, Action: handoff.ActionContinue}
	set := func(a handoff.Action, id string, exception bool, r *handoff.Route, sla time.Duration, p handoff.Priority) handoff.Decision {
		d.Action, d.Route, d.SLA, d.Priority = a, r, sla, p
		if exception {
			d.ExceptionID = id
		} else {
			d.RungID = id
		}
		return d
	}
	team := func(name string, fb *handoff.Route) *handoff.Route {
		t := l.teams[name]
		return &handoff.Route{Team: name, Owners: t.Owners, Strategy: t.Strategy, Fallback: fb}
	}
	to := func(who string, fb *handoff.Route) *handoff.Route { return &handoff.Route{To: who, Fallback: fb} }
	defRoute := to("account_owner", to("contact_owner", team("sdr", nil)))

	// Exceptions, first match wins.
	switch {
	case c.Account.Regulated && (has("legal") || has("security") || has("custom_terms")):
		return set(handoff.ActionHold, "regulated-industry", true, team("compliance", team("legal", nil)), 2*time.Hour, handoff.PriorityHigh)
	case (c.Account.Tier == "tier_1" || c.Account.IsTarget) &&
		(has("exec_meeting") && (c.Contact.Seniority == "c_suite" || c.Contact.Seniority == "vp") ||
			c.Contact.Seniority == "c_suite" && (c.Signals.HumanRequest || has("pricing") || has("legal") || has("security") ||
				has("custom_terms") || has("competitor"))):
		return set(handoff.ActionHandoff, "exec-to-exec", true, team("executives", to("account_owner", nil)), time.Hour, handoff.PriorityUrgent)
	case has("custom_terms") && (c.Account.Known || c.Deal.IsOpen):
		return set(handoff.ActionHold, "custom-enterprise-terms", true, team("deal_desk", to("account_owner", nil)), 4*time.Hour, handoff.PriorityHigh)
	case has("competitor") && (c.Deal.IsOpen || tierIn("tier_1", "tier_2")):
		return set(handoff.ActionHandoff, "competitor-comparison", true, to("account_owner", team("sdr", nil)), 2*time.Hour, handoff.PriorityHigh)
	}
	// Rungs, the highest match wins: check from the top down.
	switch {
	case c.Deal.IsOpen && c.Deal.Probability >= 0.6 && (has("buying_intent") || c.Event.Kind == "form_submission"):
		return set(handoff.ActionHandoff, "late-stage-buying-signal", false, to("deal_owner", to("account_owner", nil)), time.Hour, handoff.PriorityHigh)
	case has("legal") && (c.Account.Known || c.Deal.IsOpen):
		return set(handoff.ActionHold, "legal", false, team("legal", to("account_owner", nil)), 4*time.Hour, handoff.PriorityHigh)
	case c.Signals.HumanRequest || has("exec_meeting"):
		return set(handoff.ActionHandoff, "human-request", false, to("contact_owner", to("account_owner", team("sdr", nil))), 30*time.Minute, handoff.PriorityHigh)
	case has("security") && (tierIn("tier_1", "tier_2") || c.Deal.IsOpen || c.Account.Employees >= 200):
		return set(handoff.ActionHandoff, "security-review", false, team("security", to("account_owner", nil)), 24*time.Hour, handoff.PriorityMedium)
	case has("pricing") && (tierIn("tier_1", "tier_2") || c.Account.IsTarget || (c.Deal.IsOpen && c.Deal.Probability >= 0.6) || c.Deal.Amount >= 50000):
		return set(handoff.ActionHandoff, "pricing", false, to("account_owner", team("deal_desk", nil)), 30*time.Minute, handoff.PriorityHigh)
	case c.Signals.SentimentKnown && c.Signals.Sentiment <= neg:
		return set(handoff.ActionHandoff, "negative-sentiment", false, defRoute, time.Hour, handoff.PriorityHigh)
	case c.Conversation.Turns >= 3 && c.Conversation.SentimentTrend <= -0.6:
		return set(handoff.ActionHandoff, "falling-sentiment", false, defRoute, 2*time.Hour, handoff.PriorityHigh)
	case c.Event.Text != "" && c.Score >= 0.45 && (c.Account.IsTarget || c.Account.Tier == "tier_1" || c.Contact.IsVIP || slices.Contains([]string{"c_suite", "vp"}, c.Contact.Seniority)):
		return set(handoff.ActionAssist, "strategic-account", false, to("account_owner", team("managers", nil)), 2*time.Hour, handoff.PriorityHigh)
	case c.Agent.ToolFailures >= maxTools:
		return set(handoff.ActionHandoff, "tool-failures", false, team("sdr", nil), time.Hour, handoff.PriorityHigh)
	case c.Conversation.TurnsWithoutProgress >= stall:
		return set(handoff.ActionAssist, "stall", false, to("contact_owner", team("sdr", nil)), 8*time.Hour, handoff.PriorityLow)
	case c.Agent.HasConfidence && c.Agent.Confidence < minConf:
		return set(handoff.ActionAssist, "low-confidence", false, to("contact_owner", team("sdr", nil)), 4*time.Hour, handoff.PriorityMedium)
	}
	return d
}

// The baseline is only a baseline if it decides like the ladder: it must
// agree on action and rung for every case of the default ladder's table
// and for the benchmark's context.
func TestHandWrittenAgreesWithDecide(t *testing.T) {
	l := mustDefault(t)
	check := func(name string, c handoff.Context) {
		t.Helper()
		want, got := l.Decide(c), handWritten(l, c)
		if got.Action != want.Action || got.Matched() != want.Matched() || got.SLA != want.SLA || got.Priority != want.Priority {
			t.Errorf("%s: hand-written %s/%s/%s/%s, ladder %s/%s/%s/%s", name, got.Action, got.Matched(), got.SLA, got.Priority,
				want.Action, want.Matched(), want.SLA, want.Priority)
		}
	}
	for _, tc := range defaultCases {
		c := tc.c
		c.Signals = l.Signals(c.Event.Text)
		check(tc.name, c)
	}
	check("benchmark context", realisticContext(l))
}

// BenchmarkHandWritten is BenchmarkDecide's baseline (same context).
func BenchmarkHandWritten(b *testing.B) {
	l, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	c := realisticContext(l)
	b.ReportAllocs()
	for b.Loop() {
		handWritten(l, c)
	}
}
