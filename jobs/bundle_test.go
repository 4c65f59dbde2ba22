package jobs

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/handoff-dev/handoff"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func sampleBundleInput() (handoff.Decision, handoff.Context, EventRef) {
	d := ruleDecider{version: "2026-11-gtm-1", sla: 30 * time.Minute}.Decide(handoff.Context{Signals: handoff.Signals{Topics: []string{"pricing"}}})
	c := handoff.Context{
		Event:        handoff.EventFacts{Source: "agent", Kind: "agent_turn", Channel: "chat", Text: "What would 200 seats cost per year?"},
		Contact:      handoff.ContactFacts{ID: "123", Email: "ana@acme.example", Name: "Ana Ruiz", Title: "VP Finance", Seniority: "vp", Known: true},
		Account:      handoff.AccountFacts{ID: "c1", Name: "Acme", Tier: "tier_1", Industry: "Software", Employees: 1200, OwnerID: "100", Known: true},
		Deal:         handoff.DealFacts{ID: "d1", Name: "Acme 2027", Stage: "contractsent", StageLabel: "Contract sent", Probability: 0.8, IsOpen: true, Amount: 120000, Known: true},
		Conversation: handoff.ConversationFacts{ID: "conv_42", Turns: 4, TurnsWithoutProgress: 1, OwnerState: "agent"},
		Agent:        handoff.AgentFacts{Confidence: 0.42, HasConfidence: true, Reply: "Pricing depends on volume; let me connect you with your account manager.", Sources: []string{"https://acme.example/pricing"}, Turn: 4},
		Signals:      handoff.Signals{Topics: []string{"pricing"}, Sentiment: 0.1},
		History: handoff.HistoryFacts{Total: 3, ByChannel: map[string]int64{"chat": 1, "web": 1, "webinar": 1}, Recent: []handoff.HistoryItem{
			{At: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), Source: "agent", Kind: "agent_turn", Channel: "chat", Summary: `agent turn: "What would 200 seats cost per year?"`},
			{At: time.Date(2026, 11, 21, 16, 0, 0, 0, time.UTC), Source: "marketo", Kind: "webinar_attended", Channel: "webinar", Summary: "webinar attended: Scaling RevOps"},
			{At: time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC), Source: "hubspot", Kind: "website_visit", Channel: "web", Summary: "website visit: /pricing"},
		}},
	}
	ev := EventRef{Source: "agent", Tenant: "acme", DedupeKey: "agent:turn_123", Kind: "agent_turn", Channel: "chat",
		Conversation: "conv_42", TranscriptURL: "https://agent.example/t/conv_42"}
	return d, c, ev
}

func TestBuildBundleGolden(t *testing.T) {
	d, c, ev := sampleBundleInput()
	b := BuildBundle("ho_abc", d, c, ev)
	got, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "bundle_pricing.golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./jobs -run Golden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("bundle differs from %s (run with -update after checking):\n%s", path, got)
	}
	// Drop the transcript and the deal: both show up as missing.
	ev.TranscriptURL, c.Deal = "", handoff.DealFacts{}
	b = BuildBundle("ho_abc", d, c, ev)
	if len(b.Missing) != 2 || b.Missing[0] != "deal" || b.Missing[1] != "transcript_url" || b.Completeness != 0.75 {
		t.Fatalf("missing = %v completeness = %v", b.Missing, b.Completeness)
	}
}

func BenchmarkBuildBundle(b *testing.B) {
	d, c, ev := sampleBundleInput()
	b.ReportAllocs()
	for b.Loop() {
		_ = BuildBundle("ho_abc", d, c, ev)
	}
}
