package ladder

import (
	"testing"

	"github.com/handoff-dev/handoff"
)

func TestSteps(t *testing.T) {
	l, err := Parse("s.yaml", []byte(`version: s
defaults: {priority: low, route: {to: account_owner}}
teams:
  legal: {owners: [counsel@acme.example]}
exceptions:
  - id: vip
    when: contact.is_vip
    action: hold
    route: {team: legal}
    priority: urgent
rungs:
  - id: bottom
    when: conversation.turns > 10
    action: assist
  - id: quiet
    when: contact.seniority == "student"
    action: continue
`))
	if err != nil {
		t.Fatal(err)
	}
	got := l.Steps()
	if len(got) != 3 {
		t.Fatalf("steps %+v", got)
	}
	// Evaluation order: exceptions, then rungs from the top (file order is
	// bottom to top).
	if got[0].ID != "vip" || got[0].Kind != StepException || got[1].ID != "quiet" || got[2].ID != "bottom" || got[2].Kind != StepRung {
		t.Errorf("order %+v", got)
	}
	if r := got[0].Route; r == nil || r.Team != "legal" || got[0].Priority != handoff.PriorityUrgent || got[0].Action != handoff.ActionHold {
		t.Errorf("vip %+v", got[0])
	}
	// A continue rung has no owner; a rung without a route or priority
	// gets the defaults, as its decisions do.
	if got[1].Route != nil || got[1].Priority != "" {
		t.Errorf("quiet %+v", got[1])
	}
	if r := got[2].Route; r == nil || r.To != "account_owner" || got[2].Priority != handoff.PriorityLow {
		t.Errorf("bottom %+v", got[2])
	}
	d := l.Decide(handoff.Context{Conversation: handoff.ConversationFacts{Turns: 11}})
	if d.RungID != "bottom" || d.Route.To != got[2].Route.To || d.Priority != got[2].Priority {
		t.Errorf("decision %+v disagrees with Steps %+v", d, got[2])
	}
	// Steps hands out copies.
	got[0].Route.Team = "changed"
	if l.Steps()[0].Route.Team != "legal" {
		t.Error("Steps shares the ladder's route")
	}
}
