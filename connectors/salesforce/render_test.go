package salesforce_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/salesforce"
	"github.com/handoff-dev/handoff/connectors/salesforce/salesforcetest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func sampleSpec() handoff.TaskSpec {
	at := time.Date(2026, 11, 23, 13, 5, 0, 0, time.UTC)
	return handoff.TaskSpec{
		HandoffID: "hf_01JD3N4Q2X7S",
		Tenant:    salesforcetest.OrgID,
		Contact:   handoff.ContactRef{CRM: handoff.SourceSalesforce, ID: salesforcetest.ContactJane, Type: "contact", Email: "jane.doe@globex.example"},
		CompanyID: salesforcetest.AccountGlobex,
		DealID:    salesforcetest.OppGlobexEnterprise,
		Owner:     handoff.Owner{ID: salesforcetest.UserAE1, Email: "ae1@acme.example"},
		Subject:   "Pricing question from Globex (tier 1)",
		Due:       time.Date(2026, 11, 24, 0, 30, 0, 0, time.UTC),
		Priority:  handoff.PriorityHigh,
		Bundle: handoff.Bundle{
			HandoffID: "hf_01JD3N4Q2X7S",
			Goal:      "Answer Jane's pricing question and keep the Enterprise Expansion on track",
			Summary:   "Jane Doe (VP Finance, Globex) asked the website agent for volume pricing for 2,000 seats.\nThe agent could not quote and the buyer sounded impatient.",
			Timeline: []handoff.HistoryItem{
				{At: at, Source: handoff.SourceAgent, Kind: handoff.KindChatMessage, Channel: "web_chat", Summary: "Asked about volume pricing"},
				{At: at.Add(-26 * time.Hour), Source: handoff.SourceHubSpot, Kind: handoff.KindWebsiteVisit, Channel: "web", Summary: "Viewed /pricing three times"},
			},
			BuyerAsked:   "What would 2,000 seats cost per year, and can you match Initech's discount?",
			AgentReplied: "I can't quote volume pricing, but I'll get your account executive to reply today.",
			Why: handoff.Why{Action: handoff.Action("handoff"), Rung: "pricing", Reasons: []string{"topic pricing in buyer text", "account.tier = tier_1", "deal.probability = 0.9"}, LadderVersion: "2026-11-gtm-1", Score: 0.82,
				AlsoNeeds: []string{"security review (team security)", "legal review (team legal)"}},
			TranscriptURL: "https://handoff.example/t/hf_01JD3N4Q2X7S",
			Sources:       []string{"https://acme.example/pricing", "kb://discount-policy"},
			Constraints:   []string{"No discount above 10% without deal desk approval"},
			NextSteps:     []string{"Confirm budget and timeline", "Send the approved price sheet", "Offer a call within 24h"},
			Contact:       handoff.ContactFacts{Name: "Jane Doe", Title: "VP Finance", Email: "jane.doe@globex.example"},
			Account:       handoff.AccountFacts{Name: "Globex Corporation", Tier: "tier_1", Industry: "Technology", Employees: 12000, Revenue: 2500000000, OwnerEmail: "ae1@acme.example"},
			Deal:          handoff.DealFacts{Name: "Globex - Enterprise Expansion", Stage: "Negotiation/Review", Probability: 0.9, IsOpen: true, Amount: 250000, CloseDate: "2026-12-15", Known: true},
			Completeness:  1,
		},
	}
}

func sparseSpec() handoff.TaskSpec {
	return handoff.TaskSpec{
		HandoffID: "hf_sparse",
		Contact:   handoff.ContactRef{ID: salesforcetest.LeadNewCo, Type: "lead"},
		CompanyID: salesforcetest.AccountGlobex,
		Priority:  handoff.PriorityLow,
		Bundle: handoff.Bundle{
			Goal:         "Qualify\nthe lead",
			Why:          handoff.Why{Action: handoff.Action("assist"), Rung: "regulated-industry", IsException: true, LadderVersion: "v2", Score: 0.4},
			Missing:      []string{"account.tier", "deal.stage"},
			Completeness: 0.666,
		},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs from the golden file (run go test -update to accept):\n%s", name, got)
	}
}

func TestRenderTaskGolden(t *testing.T) {
	for name, spec := range map[string]handoff.TaskSpec{"task_full": sampleSpec(), "task_sparse": sparseSpec()} {
		t.Run(name, func(t *testing.T) {
			f := salesforce.RenderTask(spec)
			b, err := json.MarshalIndent(f, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name+".json", append(b, '\n'))
			golden(t, name+".txt", []byte(f.Description+"\n"))
		})
	}
}

func TestRenderTaskContent(t *testing.T) {
	f := salesforce.RenderTask(sampleSpec())
	order := []string{"GOAL: ", "SUMMARY", "WHAT THE BUYER DID", "WHAT THEY ASKED", "WHAT THE AGENT REPLIED",
		"WHY IT ESCALATED", "TRANSCRIPT", "CITED SOURCES", "CONSTRAINTS", "NEXT STEPS", "ACCOUNT AND DEAL", "Handoff ID: "}
	last := -1
	for _, s := range order {
		i := strings.Index(f.Description, s)
		if i < 0 || i < last {
			t.Fatalf("section %q missing or out of order", s)
		}
		last = i
	}
	if strings.ContainsAny(f.Description, "<>") && strings.Contains(f.Description, "<p>") {
		t.Fatal("description must be plain text")
	}
	// The Description is RenderDescription's, which the console shows as
	// the owner saw it.
	if spec := sampleSpec(); salesforce.RenderDescription(spec.Bundle, spec.HandoffID) != f.Description {
		t.Fatal("the Description is not RenderDescription's rendering of the bundle")
	}
	if f.WhatID != salesforcetest.OppGlobexEnterprise || f.ActivityDate != "2026-11-24" || f.Priority != "High" || f.Status != "Not Started" {
		t.Fatalf("fields %+v", f)
	}
	s := salesforce.RenderTask(sparseSpec())
	if s.WhatID != "" {
		t.Fatal("a lead task must not have a WhatId")
	}
	if !strings.Contains(s.Description, "Missing context: account.tier, deal.stage (completeness 67%)") {
		t.Fatalf("missing line absent:\n%s", s.Description)
	}
	if s.Subject != "Handoff: Qualify the lead" || s.Priority != "Low" || s.ActivityDate != "" {
		t.Fatalf("sparse %+v", s)
	}
}

// The due date is the owner's calendar day, beside the exact instant as a
// reminder: 00:30 UTC on the 24th is still the 23rd in New York, and a
// 30-minute SLA is not "today" without a time.
func TestRenderTaskDueInOwnerZone(t *testing.T) {
	cases := []struct {
		zone, date string
	}{
		{"", "2026-11-24"},
		{"America/New_York", "2026-11-23"},
		{"Asia/Tokyo", "2026-11-24"},
		{"Not/AZone", "2026-11-24"}, // an unknown zone: UTC
	}
	for _, tc := range cases {
		spec := sampleSpec()
		spec.DueZone = tc.zone
		f := salesforce.RenderTask(spec)
		if f.ActivityDate != tc.date || f.ReminderDateTime != "2026-11-24T00:30:00.000Z" || !f.IsReminderSet {
			t.Errorf("zone %q: ActivityDate %s ReminderDateTime %s IsReminderSet %v; want %s, 2026-11-24T00:30:00.000Z, true",
				tc.zone, f.ActivityDate, f.ReminderDateTime, f.IsReminderSet, tc.date)
		}
	}
	if s := salesforce.RenderTask(sparseSpec()); s.ReminderDateTime != "" || s.IsReminderSet {
		t.Errorf("no due time: reminder %q %v", s.ReminderDateTime, s.IsReminderSet)
	}
}

func TestRenderTaskLimits(t *testing.T) {
	spec := sampleSpec()
	spec.Subject = strings.Repeat("é", 250) + "😀😀😀😀" + strings.Repeat("x", 50)
	huge := strings.Repeat("Ωmega 😀 ", 8000)
	spec.Bundle.Summary, spec.Bundle.BuyerAsked, spec.Bundle.AgentReplied = huge, huge, huge
	for range 100 {
		spec.Bundle.Sources = append(spec.Bundle.Sources, huge[:900])
		spec.Bundle.Constraints = append(spec.Bundle.Constraints, huge[:900])
		spec.Bundle.Why.Reasons = append(spec.Bundle.Why.Reasons, huge[:900])
		spec.Bundle.Timeline = append(spec.Bundle.Timeline, handoff.HistoryItem{Summary: huge[:900]})
	}
	spec.Bundle.Missing = []string{"deal.amount"}
	f := salesforce.RenderTask(spec)
	if n := len(utf16.Encode([]rune(f.Subject))); n > salesforce.SubjectMax || !utf8.ValidString(f.Subject) || !strings.HasSuffix(f.Subject, "…") {
		t.Fatalf("subject: %d UTF-16 units, valid %v", n, utf8.ValidString(f.Subject))
	}
	if n := len(utf16.Encode([]rune(f.Description))); n > salesforce.DescriptionMax || !utf8.ValidString(f.Description) {
		t.Fatalf("description: %d UTF-16 units", n)
	}
	if !strings.Contains(f.Description, "Missing context: deal.amount") || !strings.HasSuffix(f.Description, "Handoff ID: hf_01JD3N4Q2X7S") {
		t.Fatal("the missing-context line and handoff id must survive truncation")
	}
	if strings.Contains(f.Subject, "\n") {
		t.Fatal("subject must be one line")
	}
}

func TestTruncateUTF16(t *testing.T) {
	if got := salesforce.TruncateUTF16("ab😀cd", 3, ""); got != "ab" {
		t.Fatalf("got %q: a surrogate pair must not be split", got)
	}
	if got := salesforce.TruncateUTF16("ab😀cd", 4, ""); got != "ab😀" {
		t.Fatalf("got %q", got)
	}
	if got := salesforce.TruncateUTF16("short", 10, "…"); got != "short" {
		t.Fatalf("got %q", got)
	}
}

func BenchmarkRenderTask(b *testing.B) {
	spec := sampleSpec()
	b.ReportAllocs()
	for b.Loop() {
		_ = salesforce.RenderTask(spec)
	}
}
