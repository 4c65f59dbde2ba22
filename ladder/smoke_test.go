package ladder

import (
	"encoding/json"
	"testing"

	"github.com/handoff-dev/handoff"
)

func TestSmoke(t *testing.T) {
	l, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	c := handoff.Context{Event: handoff.EventFacts{Channel: "chat", Text: "What's the price for 50 seats? We don't need a contract yet."},
		Account: handoff.AccountFacts{Tier: "tier_1", Known: true, Name: "Acme"}, Contact: handoff.ContactFacts{Name: "Ana"}}
	c.Signals = l.Signals(c.Event.Text)
	d := l.Decide(c)
	b, _ := json.MarshalIndent(d, "", "  ")
	t.Log(string(b))
}
