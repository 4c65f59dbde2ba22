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
	start := processCPU()
	for b.Loop() {
		l.Decide(c)
	}
	reportCPU(b, start)
}

func BenchmarkSignals200Words(b *testing.B) {
	l, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	msg := message200()
	b.ReportAllocs()
	start := processCPU()
	for b.Loop() {
		l.Signals(msg)
	}
	reportCPU(b, start)
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

// email2KB is a realistic 2 KB email: a top-posted reply with a signature,
// a confidentiality footer and the quoted thread below it.
func email2KB() string {
	return `Hi Sam,

Thanks for sending this over. We reviewed it internally and the team is broadly happy with the scope. Before we go
further, could you tell me what 180 seats would cost on the annual plan, and whether a three-year term changes that?
Our security team will also ask for the latest SOC 2 Type II report and your pen test summary, so please include
those if you can. We don't need the MSA yet.

Best regards,
Dana Whitfield
Contracts Manager | Globex Corporation
+1 (555) 010-2234 | dana.whitfield@globex.example
1200 Industrial Way, Springfield

CONFIDENTIALITY NOTICE: This email and any attachments are confidential and may be legally privileged. If you are
not the intended recipient, please notify the sender immediately and delete this message. Nothing in this email
constitutes a binding contract or an offer to enter into one.

On Tue, Mar 3, 2026 at 10:14 AM Sam Seller <sam@vendor.example> wrote:
> Hi Dana,
>
> As promised, attached are our pricing sheet, the MSA and the DPA, plus the SOC 2 bridge letter. Happy to discuss
> a discount for a multi-year commitment, and our legal team can walk your procurement team through the redlines.
> Let me know if a call this week works for you.
>
> Best,
> Sam
>
> On Mon, Mar 2, 2026 at 4:02 PM Dana Whitfield <dana.whitfield@globex.example> wrote:
>> Hi Sam, could you send over the pricing and the contract documents so we can review them with procurement?
>> We're comparing a couple of vendors this quarter and want to move quickly if the numbers work.
>> Thanks, Dana
`
}

func BenchmarkSignalsEmail2KB(b *testing.B) {
	l, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	msg := email2KB()
	b.ReportAllocs()
	start := processCPU()
	for b.Loop() {
		l.Signals(msg)
	}
	reportCPU(b, start)
}
