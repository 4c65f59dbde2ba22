package ladder

import (
	"strings"
	"testing"

	"github.com/handoff-dev/handoff"
)

// message200 is a realistic 200-word buyer message.
func message200() string {
	base := `Hi, thanks for the quick answers so far. We are evaluating tools for our revenue team and your product came up
in a review of tools for our team. Honestly the onboarding docs were confusing and I'm a bit frustrated that the
SSO setup guide skipped a step. Could you tell me what the price would be for about 120 seats on the annual plan, and
whether there is a discount for a longer commitment? Our procurement team will also want to see your SOC 2 report
before we go further. We don't need a contract yet, we just want a rough quote so I can take it to my VP next week.
If it's easier, I'm happy to talk to a real person on a call. Our current tool keeps timing out and the team is not
happy with it, so we would like to move quickly if the numbers work. `
	words := strings.Fields(base)
	for len(words) < 200 {
		words = append(words, words...)
	}
	return strings.Join(words[:200], " ")
}

func realisticContext(l *Ladder) handoff.Context {
	c := handoff.Context{
		Event:        handoff.EventFacts{Source: "agent", Kind: "agent_turn", Channel: "chat", Text: message200(), Tenant: "62515"},
		Contact:      handoff.ContactFacts{ID: "123", Email: "ana@acme.example", Name: "Ana Ruiz", Title: "Head of RevOps", Seniority: "director", Lifecycle: "sql", OwnerEmail: "rep@acme.example", Known: true},
		Account:      handoff.AccountFacts{ID: "9", Name: "Acme", Domain: "acme.example", Tier: "tier_2", Industry: "Software", Employees: 800, Revenue: 9e7, OwnerEmail: "ae@acme.example", Known: true},
		Deal:         handoff.DealFacts{ID: "77", Name: "Acme expansion", Stage: "presentationscheduled", Probability: 0.4, IsOpen: true, Amount: 42000, Known: true},
		Conversation: handoff.ConversationFacts{ID: "conv_42", Turns: 5, TurnsWithoutProgress: 2, OwnerState: handoff.OwnerAgent, SentimentTrend: -0.2},
		Agent:        handoff.AgentFacts{Confidence: 0.7, HasConfidence: true, ToolFailures: 1, Sources: []string{"https://docs.acme.example/pricing"}, Turn: 5},
		History:      handoff.HistoryFacts{Total: 12, ByChannel: map[string]int64{"chat": 5, "email": 4, "web": 3}, ByKind: map[string]int64{"agent_turn": 5}},
	}
	c.Signals = l.Signals(c.Event.Text)
	return c
}

func BenchmarkDecide(b *testing.B) {
	l, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	c := realisticContext(l)
	b.ReportAllocs()
	for b.Loop() {
		l.Decide(c)
	}
}

func BenchmarkSignals200Words(b *testing.B) {
	l, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	msg := message200()
	b.ReportAllocs()
	for b.Loop() {
		l.Signals(msg)
	}
}

// TestBenchmarkContextIsWorstCase keeps the benchmark honest: no exception
// matches, so every exception and every rung is evaluated.
func TestBenchmarkContextIsWorstCase(t *testing.T) {
	l := mustDefault(t)
	d := l.Decide(realisticContext(l))
	if d.ExceptionID != "" || d.RungID == "" {
		t.Fatalf("benchmark context decided %q", d.Matched())
	}
	for _, s := range d.Trace {
		if s.Skipped != "" {
			t.Errorf("step %s skipped", s.ID)
		}
	}
	if n := len(strings.Fields(message200())); n != 200 {
		t.Errorf("message has %d words", n)
	}
}
