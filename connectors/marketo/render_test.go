package marketo_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/marketo"
)

var update = flag.Bool("update", false, "rewrite golden files")

func fullSpec() handoff.TaskSpec {
	at := time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)
	return handoff.TaskSpec{
		HandoffID: "hnd_01JD8Y7K2Q",
		Tenant:    "123-ABC-456",
		Contact:   handoff.ContactRef{CRM: handoff.SourceMarketo, ID: "1001", Email: "dana.whitfield@globex.example"},
		Owner:     handoff.Owner{ID: "dd1@acme.example", Email: "dd1@acme.example"},
		Subject:   "Pricing question from Dana Whitfield (Globex)",
		Due:       at.Add(30 * time.Minute),
		Priority:  handoff.PriorityHigh,
		Bundle: handoff.Bundle{
			HandoffID: "hnd_01JD8Y7K2Q",
			Goal:      "Reply with the approved price sheet and book a call within 24h",
			Summary:   "Dana (VP Operations, Globex, tier 1) asked what 400 seats would cost after two pricing-page visits; the agent could not quote.",
			Timeline: []handoff.HistoryItem{
				{At: at.Add(-5 * time.Minute), Source: handoff.SourceAgent, Kind: handoff.KindChatMessage, Channel: "chat", Summary: "Asked for a 400-seat quote"},
				{At: at.Add(-2 * time.Hour), Source: handoff.SourceMarketo, Kind: handoff.KindFormSubmission, Channel: "web", Summary: "Contact Sales form"},
				{At: at.Add(-3 * time.Hour), Source: handoff.SourceMarketo, Kind: handoff.KindWebsiteVisit, Channel: "web", Summary: "/pricing"},
			},
			BuyerAsked:   "What would 400 seats cost on the annual plan? We need SSO.",
			AgentReplied: "I can't quote custom volumes, so I'm bringing in our team.",
			Why: handoff.Why{Action: handoff.ActionHandoff, Rung: "pricing", Reasons: []string{"'pricing' in signals.topics (topics=[pricing security])", "account.tier == tier_1"}, LadderVersion: "2026-11-gtm-1", Score: 0.82,
				AlsoNeeds: []string{"security review (team security)", "legal review (team legal)"}},
			TranscriptURL: "https://handoff.example/t/conv_42",
			Sources:       []string{"https://acme.example/pricing", "https://acme.example/security/sso"},
			Constraints:   []string{"No discount above 10% without deal desk approval"},
			NextSteps:     []string{"Confirm budget and timeline", "Send the approved price sheet", "Offer a call within 24h"},
			Contact:       handoff.ContactFacts{ID: "1001", Email: "dana.whitfield@globex.example", Name: "Dana Whitfield", Title: "VP Operations", Seniority: "vp", Known: true},
			Account:       handoff.AccountFacts{Name: "Globex Corporation", Tier: "tier_1", Industry: "Manufacturing", Employees: 4200, Revenue: 880e6, IsTarget: true, OwnerEmail: "ae1@acme.example", Known: true},
			Deal:          handoff.DealFacts{ID: "OPP-2026-0042", Name: "Globex - Platform Expansion", Stage: "Negotiation/Review", Probability: 0.8, IsOpen: true, Amount: 240000, CloseDate: "2026-12-15", Known: true},
			Missing:       []string{"deal.owner_id"},
			Completeness:  0.875,
		},
	}
}

func golden(t *testing.T, name string, ts marketo.TaskTokens) {
	t.Helper()
	var b strings.Builder
	for _, tok := range ts {
		b.WriteString("== " + tok.Name + " ==\n" + tok.Value + "\n")
	}
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if b.String() != string(want) {
		t.Errorf("%s differs from golden (run with -update to accept):\n%s", name, b.String())
	}
}

func TestRenderTaskGolden(t *testing.T) {
	golden(t, "render_full", marketo.RenderTask(fullSpec()))

	minimal := handoff.TaskSpec{
		HandoffID: "hnd_min", Owner: handoff.Owner{ID: "sdr1@acme.example"}, Priority: handoff.PriorityLow,
		Bundle: handoff.Bundle{
			Goal: "Qualify the student's request", Summary: "A student asked for a free licence.",
			Why:     handoff.Why{Action: handoff.ActionAssist, Rung: "regulated-industry", IsException: true, LadderVersion: "v1"},
			Contact: handoff.ContactFacts{Email: "sam.student@university.example"},
		},
	}
	golden(t, "render_minimal", marketo.RenderTask(minimal))
}

func TestRenderTaskOrderAndMissing(t *testing.T) {
	body := marketo.RenderTask(fullSpec()).Get("handoff_body")
	order := []string{"GOAL", "SUMMARY", "WHAT THE BUYER DID", "WHAT THEY ASKED", "WHAT THE AGENT REPLIED", "WHY IT ESCALATED",
		"TRANSCRIPT", "CITED SOURCES", "CONSTRAINTS", "NEXT STEPS", "ACCOUNT AND DEAL", "Missing context: deal.owner_id (completeness 88%)"}
	last := -1
	for _, s := range order {
		i := strings.Index(body, s)
		if i < 0 || i < last {
			t.Errorf("section %q at %d (previous at %d)", s, i, last)
		}
		last = i
	}
	// The body token is RenderBody's, which the console shows as the owner
	// saw it.
	if full := fullSpec(); marketo.RenderBody(full.Bundle, full.HandoffID) != body {
		t.Error("the body token is not RenderBody's rendering of the bundle")
	}
	spec := fullSpec()
	spec.Bundle.Missing = nil
	if strings.Contains(marketo.RenderTask(spec).Get("handoff_body"), "Missing context") {
		t.Error("Missing context line without missing fields")
	}
}

func TestRenderTaskLimits(t *testing.T) {
	spec := fullSpec()
	spec.Subject = strings.Repeat("Ünïcödé 🚀 ", 60)
	spec.Bundle.BuyerAsked = strings.Repeat("Long question with emoji 😀 and {{lead.Email Address}} tokens. ", 2000)
	spec.Bundle.AgentReplied = "bell\a and NUL\x00 and CRLF\r\nend"
	ts := marketo.RenderTask(spec)
	subj, body := ts.Get("handoff_subject"), ts.Get("handoff_body")
	if n := len(utf16.Encode([]rune(subj))); n > marketo.MaxSubject || n < marketo.MaxSubject-2 {
		t.Errorf("subject length %d, want <= %d and close to it", n, marketo.MaxSubject)
	}
	if n := len(utf16.Encode([]rune(body))); n > marketo.MaxBody {
		t.Errorf("body length %d > %d", n, marketo.MaxBody)
	}
	if !utf8.ValidString(subj) || !utf8.ValidString(body) {
		t.Error("cut inside a rune")
	}
	if !strings.Contains(body, "truncated") || !strings.Contains(body, "Missing context: deal.owner_id") || !strings.HasSuffix(body, "Handoff ID: hnd_01JD8Y7K2Q\n") {
		t.Error("truncation lost the marker or the footer")
	}
	if strings.Contains(body, "{{") || strings.ContainsAny(body, "\a\x00\r") {
		t.Error("body carries token braces or control characters")
	}
}

func BenchmarkRenderTask(b *testing.B) {
	spec := fullSpec()
	b.ReportAllocs()
	for b.Loop() {
		_ = marketo.RenderTask(spec)
	}
}
