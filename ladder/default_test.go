package ladder

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/handoff-dev/handoff"
)

func mustDefault(t testing.TB) *Ladder {
	t.Helper()
	l, err := Default()
	if err != nil {
		t.Fatalf("default ladder: %v", err)
	}
	return l
}

// Context builders for the table.
func ctx(text string, opts ...func(*handoff.Context)) handoff.Context {
	c := handoff.Context{
		Event:   handoff.EventFacts{Source: "agent", Kind: "agent_turn", Channel: "web", Text: text},
		Contact: handoff.ContactFacts{Name: "Ana", Known: true},
		Agent:   handoff.AgentFacts{Confidence: 1},
	}
	for _, o := range opts {
		o(&c)
	}
	return c
}

func tier(t string) func(*handoff.Context) {
	return func(c *handoff.Context) { c.Account.Tier, c.Account.Known, c.Account.Name = t, true, "Acme" }
}
func knownAccount(c *handoff.Context) { c.Account.Known, c.Account.Name = true, "Acme" }
func industry(i string) func(*handoff.Context) {
	return func(c *handoff.Context) {
		c.Account.Industry, c.Account.Known = i, true
		c.Normalize() // as the enricher does
	}
}
func lateDeal(c *handoff.Context) {
	c.Deal = handoff.DealFacts{Name: "Acme 2027", IsOpen: true, Probability: 0.7, Amount: 30000, Known: true}
}
func openDeal(c *handoff.Context) {
	c.Deal = handoff.DealFacts{Name: "Acme 2027", IsOpen: true, Probability: 0.2, Amount: 20000, Known: true}
}
func student(c *handoff.Context) {
	c.Contact = handoff.ContactFacts{Name: "Sam", Seniority: "student", Known: false}
	c.Account = handoff.AccountFacts{}
}
func seniority(s string) func(*handoff.Context) {
	return func(c *handoff.Context) { c.Contact.Seniority, c.Contact.Title = s, "Chief Revenue Officer" }
}
func channel(ch string) func(*handoff.Context) {
	return func(c *handoff.Context) { c.Event.Channel = ch }
}
func confidence(v float64) func(*handoff.Context) {
	return func(c *handoff.Context) { c.Agent.Confidence, c.Agent.HasConfidence = v, true }
}
func noProgress(n int64) func(*handoff.Context) {
	return func(c *handoff.Context) { c.Conversation.TurnsWithoutProgress, c.Conversation.Turns = n, n+1 }
}
func toolFailures(n int64) func(*handoff.Context) {
	return func(c *handoff.Context) { c.Agent.ToolFailures = n }
}
func trend(v float64, turns int64) func(*handoff.Context) {
	return func(c *handoff.Context) { c.Conversation.SentimentTrend, c.Conversation.Turns = v, turns }
}

type want struct {
	action    handoff.Action
	matched   string // rung or exception id, "" for none
	exception bool
	routeTo   string // Route.To or "team:<id>"
	priority  handoff.Priority
	sla       time.Duration
}

var defaultCases = []struct {
	name string
	c    handoff.Context
	want want
}{
	// Pricing and the context rule.
	{"pricing from a tier-1 account", ctx("What would it cost for 40 seats?", tier("tier_1")),
		want{handoff.ActionHandoff, "pricing", false, "account_owner", "high", 30 * time.Minute}},
	{"pricing on a late-stage deal", ctx("What would it cost for 40 seats?", lateDeal),
		want{handoff.ActionHandoff, "pricing", false, "account_owner", "high", 30 * time.Minute}},
	{"pricing from a student with no account", ctx("What would it cost for 40 seats?", student),
		want{action: handoff.ActionContinue}},
	{"pricing from a tier-3 account with an early deal", ctx("Do you offer a discount?", tier("tier_3"), openDeal),
		want{action: handoff.ActionContinue}},
	{"negated pricing from a tier-1 account", ctx("We don't need pricing yet, just exploring the docs.", tier("tier_1")),
		want{action: handoff.ActionContinue}},
	{"unrelated words that contain topic words", ctx("Our contractor was surprised by the pricey, priceless coffee.", tier("tier_1")),
		want{action: handoff.ActionContinue}},
	// Legal.
	{"legal language from a known account", ctx("Can you send the MSA and your DPA for our redlines?", knownAccount),
		want{handoff.ActionHold, "legal", false, "team:legal", "high", 4 * time.Hour}},
	{"contract mentioned in negation", ctx("We don't need a contract yet.", knownAccount),
		want{action: handoff.ActionContinue}},
	{"legal from an unknown visitor", ctx("Where can I read your contract template?", student),
		want{action: handoff.ActionContinue}},
	// Security.
	{"security questionnaire from a tier-2 account", ctx("Do you have a SOC 2 report? Our security questionnaire is attached.", tier("tier_2")),
		want{handoff.ActionHandoff, "security-review", false, "team:security", "medium", 24 * time.Hour}},
	// Sentiment.
	{"negative sentiment", ctx("This is terrible. I am really angry and disappointed with the awful onboarding."),
		want{handoff.ActionHandoff, "negative-sentiment", false, "account_owner", "high", time.Hour}},
	{"falling sentiment across the conversation", ctx("ok.", trend(-0.9, 5)),
		want{handoff.ActionHandoff, "falling-sentiment", false, "account_owner", "high", 2 * time.Hour}},
	{"stable sentiment", ctx("ok.", trend(-0.2, 5)),
		want{action: handoff.ActionContinue}},
	// Human request.
	{"buyer asks for a human", ctx("Can I talk to a real person please?"),
		want{handoff.ActionHandoff, "human-request", false, "contact_owner", "high", 30 * time.Minute}},
	{"buyer says they do not need a human", ctx("I don't need to talk to a human, just tell me the opening hours."),
		want{action: handoff.ActionContinue}},
	// Late-stage buying signal.
	{"late-stage deal ready to move", ctx("We're ready to move forward, what are the next steps?", lateDeal),
		want{handoff.ActionHandoff, "late-stage-buying-signal", false, "deal_owner", "high", time.Hour}},
	{"early deal with the same words", ctx("We're ready to move forward, what are the next steps?", openDeal),
		want{action: handoff.ActionContinue}},
	// Strategic accounts and executive contacts.
	{"strategic account with a struggling agent", ctx("Hello, can you help with the integration?", tier("tier_1"), seniority("vp"), confidence(0.2), noProgress(3)),
		want{handoff.ActionAssist, "strategic-account", false, "account_owner", "high", 2 * time.Hour}},
	{"same conversation at a tier-3 account", ctx("Hello, can you help with the integration?", tier("tier_3"), seniority("vp"), confidence(0.2), noProgress(3)),
		want{handoff.ActionAssist, "low-confidence", false, "contact_owner", "medium", 4 * time.Hour}},
	// Agent confidence, per workflow.
	{"low confidence", ctx("How does the API paginate?", confidence(0.4)),
		want{handoff.ActionAssist, "low-confidence", false, "contact_owner", "medium", 4 * time.Hour}},
	{"confidence 0.6 on chat is too low", ctx("How does the API paginate?", confidence(0.6), channel("chat")),
		want{handoff.ActionAssist, "low-confidence", false, "contact_owner", "medium", 4 * time.Hour}},
	{"confidence 0.6 on email is fine", ctx("How does the API paginate?", confidence(0.6), channel("email")),
		want{action: handoff.ActionContinue}},
	// Stalls.
	{"stall after six turns", ctx("and what about exports?", noProgress(6)),
		want{handoff.ActionAssist, "stall", false, "contact_owner", "low", 8 * time.Hour}},
	{"stall after four turns on chat", ctx("and what about exports?", noProgress(4), channel("chat")),
		want{handoff.ActionAssist, "stall", false, "contact_owner", "low", 8 * time.Hour}},
	{"six turns on email is not a stall", ctx("and what about exports?", noProgress(6), channel("email")),
		want{action: handoff.ActionContinue}},
	// Tool failures.
	{"repeated tool failures", ctx("Did my export work?", toolFailures(3)),
		want{handoff.ActionHandoff, "tool-failures", false, "team:sdr", "high", time.Hour}},
	{"one tool failure", ctx("Did my export work?", toolFailures(1)),
		want{action: handoff.ActionContinue}},
	// Exceptions.
	{"regulated industry asking about security", ctx("Please fill in our security questionnaire.", industry("Banking")),
		want{handoff.ActionHold, "regulated-industry", true, "team:compliance", "high", 2 * time.Hour}},
	{"regulated industry beats the legal rung", ctx("Send the MSA please.", industry("Insurance"), tier("tier_1")),
		want{handoff.ActionHold, "regulated-industry", true, "team:compliance", "high", 2 * time.Hour}},
	{"regulated industry asking a product question", ctx("How do dashboards work?", industry("Banking")),
		want{action: handoff.ActionContinue}},
	{"exec-to-exec", ctx("Before we sign, can our CEO meet yours?", tier("tier_1"), seniority("c_suite")),
		want{handoff.ActionHandoff, "exec-to-exec", true, "team:executives", "urgent", time.Hour}},
	{"a C-level buyer at a small account asks for a meeting, which is a request for a person", ctx("Before we sign, can our CEO meet yours?", tier("tier_3"), seniority("c_suite")),
		want{handoff.ActionHandoff, "human-request", false, "contact_owner", "high", 30 * time.Minute}},
	{"a C-level buyer at a small account", ctx("Hi, quick question about the roadmap.", tier("tier_3"), seniority("c_suite")),
		want{action: handoff.ActionContinue}},
	{"custom enterprise terms", ctx("We would need this on our paper with net 90 payment terms.", knownAccount),
		want{handoff.ActionHold, "custom-enterprise-terms", true, "team:deal_desk", "high", 4 * time.Hour}},
	{"competitor comparison on an open deal", ctx("How do you compare to Gong? We may switch from them.", openDeal),
		want{handoff.ActionHandoff, "competitor-comparison", true, "account_owner", "high", 2 * time.Hour}},
	{"competitor mention from a student", ctx("How do you compare to Gong?", student),
		want{action: handoff.ActionContinue}},
}

func TestDefaultLadder(t *testing.T) {
	l := mustDefault(t)
	for _, tc := range defaultCases {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			c.Signals = l.Signals(c.Event.Text)
			d := l.Decide(c)
			w := tc.want
			if d.Action != w.action || d.Matched() != w.matched {
				t.Fatalf("got %s by %q, want %s by %q\nsignals: %+v\nreasons: %v\ntrace:\n%s",
					d.Action, d.Matched(), w.action, w.matched, d.Signals, d.Reasons, traceText(d))
			}
			if w.matched == "" {
				if d.Route != nil || d.Reasons != nil {
					t.Errorf("continue carries route %+v / reasons %v", d.Route, d.Reasons)
				}
				return
			}
			if (d.ExceptionID != "") != w.exception {
				t.Errorf("exception id %q, rung id %q", d.ExceptionID, d.RungID)
			}
			if got := routeTarget(d.Route); got != w.routeTo {
				t.Errorf("route %s, want %s", got, w.routeTo)
			}
			if d.Priority != w.priority || d.SLA != w.sla {
				t.Errorf("priority %s sla %s, want %s %s", d.Priority, d.SLA, w.priority, w.sla)
			}
			if len(d.Reasons) == 0 || !strings.Contains(d.Reasons[0], w.matched) {
				t.Errorf("reasons %v do not name %s", d.Reasons, w.matched)
			}
			if len(d.NextSteps) == 0 {
				t.Errorf("no next steps")
			}
			for _, s := range d.NextSteps {
				if strings.Contains(s, "{{") {
					t.Errorf("unrendered next step %q", s)
				}
			}
		})
	}
}

// Every rung and exception of the default ladder is the expected outcome of
// at least one case above.
func TestDefaultCasesCoverEveryRung(t *testing.T) {
	l := mustDefault(t)
	covered := map[string]bool{}
	for _, tc := range defaultCases {
		covered[tc.want.matched] = true
	}
	for _, id := range append(l.ExceptionIDs(), l.RungIDs()...) {
		if !covered[id] {
			t.Errorf("no table case ends in %q", id)
		}
	}
}

func routeTarget(r *handoff.Route) string {
	switch {
	case r == nil:
		return ""
	case r.Team != "":
		return "team:" + r.Team
	case r.Owner != "":
		return "owner:" + r.Owner
	}
	return r.To
}

func traceText(d handoff.Decision) string {
	var b strings.Builder
	for _, s := range d.Trace {
		b.WriteString("  " + s.Kind + " " + s.ID)
		if s.Matched {
			b.WriteString(" MATCHED")
		}
		if s.Skipped != "" {
			b.WriteString(" skipped: " + s.Skipped)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestDecideTeamRouteCarriesOwners(t *testing.T) {
	l := mustDefault(t)
	c := ctx("Do you have a SOC 2 report?", tier("tier_2"))
	c.Signals = l.Signals(c.Event.Text)
	d := l.Decide(c)
	want := &handoff.Route{Team: "security", Strategy: "least_open", Owners: []string{"secreview@acme.example", "trust@acme.example"},
		Fallback: &handoff.Route{To: "account_owner"}}
	if !reflect.DeepEqual(d.Route, want) {
		t.Fatalf("route %+v, want %+v", d.Route, want)
	}
	// The decision owns its slices: changing them does not change the ladder.
	d.Route.Owners[0] = "mallory@evil.example"
	if l.Teams()["security"].Owners[0] != "secreview@acme.example" {
		t.Fatal("decision shares the ladder's owners slice")
	}
	if d.Climb[0].To.Team != "managers" || d.Climb[0].To.Owners[0] != "sales-manager@acme.example" {
		t.Errorf("climb %+v", d.Climb)
	}
	if !slices.Equal(d.Constraints, []string{"Share security documents only under NDA"}) {
		t.Errorf("constraints %v", d.Constraints)
	}
}

func TestDecideTraceAndReasons(t *testing.T) {
	l := mustDefault(t)
	c := ctx("What would it cost for 40 seats?", tier("tier_1"))
	c.Signals = l.Signals(c.Event.Text)
	d := l.Decide(c)
	if d.LadderVersion != "default-2026-12" {
		t.Errorf("version %q", d.LadderVersion)
	}
	// Signals step, score step, every exception, every rung.
	if got, want := len(d.Trace), 2+len(l.exceptions)+len(l.rungs); got != want {
		t.Fatalf("trace has %d steps, want %d", got, want)
	}
	if s := d.Trace[0]; s.Kind != StepSignals || !reflect.DeepEqual(s.Values.Value("topics"), []string{"pricing"}) ||
		!reflect.DeepEqual(s.Values.Value("matches"), map[string][]string{"pricing": {"what would it cost"}}) {
		t.Errorf("signals step %+v", s)
	}
	if d.Trace[1].Kind != StepScore || d.Trace[1].Values.Value("score") != d.Score {
		t.Errorf("score step %+v", d.Trace[1])
	}
	var pricing *handoff.TraceStep
	for i, s := range d.Trace {
		if s.ID == "pricing" {
			pricing = &d.Trace[i]
		}
		if s.Kind != StepScore && s.Kind != StepSignals && s.Skipped == "" && s.Values == nil {
			t.Errorf("step %s has no values", s.ID)
		}
	}
	if pricing == nil || !pricing.Matched {
		t.Fatalf("pricing step %+v", pricing)
	}
	if pricing.Values.Value("account.tier") != "tier_1" || !reflect.DeepEqual(pricing.Values.Value("signals.topics"), []string{"pricing"}) ||
		pricing.Values.Value("thresholds.late_stage_probability") != 0.6 {
		t.Errorf("pricing values %v", pricing.Values)
	}
	if !strings.Contains(d.Reasons[0], "account.tier=tier_1") || !strings.Contains(d.Reasons[0], "signals.topics=[pricing]") {
		t.Errorf("reason %q", d.Reasons[0])
	}
	if d.NextSteps[0] != "Confirm budget and timeline with Ana" {
		t.Errorf("next step %q", d.NextSteps[0])
	}
	if d.Goal != "Take over the conversation with Ana and move it forward" {
		t.Errorf("goal %q", d.Goal)
	}
	if !slices.Equal(d.Required, []string{"goal", "summary", "asked", "why", "next_steps"}) {
		t.Errorf("required %v", d.Required)
	}
}

func TestDecideExceptionSkipsTheRest(t *testing.T) {
	l := mustDefault(t)
	c := ctx("Can our CEO meet yours?", tier("tier_1"), seniority("c_suite"))
	c.Signals = l.Signals(c.Event.Text)
	d := l.Decide(c)
	second := map[string]bool{}
	for _, r := range append(slices.Clone(l.exceptions), l.rungs...) {
		second[r.id] = r.secondReview
	}
	if d.ExceptionID != "exec-to-exec" {
		t.Fatalf("matched %q", d.Matched())
	}
	after := false
	for _, s := range d.Trace {
		if s.ID == "exec-to-exec" {
			after = true
			continue
		}
		if after && second[s.ID] { // checked, to name it in AlsoNeeds
			if s.Skipped != "" {
				t.Errorf("second-review step %s was skipped: %+v", s.ID, s)
			}
			continue
		}
		if after && (s.Skipped != `exception "exec-to-exec" matched first` || s.Values != nil) {
			t.Errorf("step %s after the exception: %+v", s.ID, s)
		}
	}
	if d.Goal != "Take over the conversation with Ana and move it forward" {
		t.Errorf("goal %q", d.Goal)
	}
	if d.NextSteps[0] != "Executive sponsor reaches out to Ana (Chief Revenue Officer)" {
		t.Errorf("next step %q", d.NextSteps[0])
	}
}

func TestDecideTemplateFallback(t *testing.T) {
	l := mustDefault(t)
	c := ctx("What would it cost?", tier("tier_1"))
	c.Contact.Name = ""
	c.Signals = l.Signals(c.Event.Text)
	d := l.Decide(c)
	if d.NextSteps[0] != "Confirm budget and timeline with the buyer" {
		t.Errorf("next step %q", d.NextSteps[0])
	}
}

func TestDecideUsesGivenSignals(t *testing.T) {
	l := mustDefault(t)
	// The text says nothing about pricing, but the enricher's signals do:
	// Decide must trust c.Signals and not re-analyze the text.
	c := ctx("hello", tier("tier_1"))
	c.Signals = handoff.Signals{Topics: []string{"pricing"}}
	if d := l.Decide(c); d.RungID != "pricing" || !slices.Equal(d.Signals.Topics, []string{"pricing"}) {
		t.Fatalf("got %q with signals %+v", d.Matched(), d.Signals)
	}
	c.Signals = handoff.Signals{}
	c.Event.Text = "What would it cost?"
	if d := l.Decide(c); d.Action != handoff.ActionContinue {
		t.Fatalf("signals were recomputed: %s by %q", d.Action, d.Matched())
	}
}

func TestDecideIsDeterministic(t *testing.T) {
	l := mustDefault(t)
	c := realisticContext(l)
	first := l.Decide(c)
	for range 20 {
		if d := l.Decide(c); !reflect.DeepEqual(d, first) {
			t.Fatalf("decision changed:\n%+v\n%+v", first, d)
		}
	}
	if first.Shadow {
		t.Error("active ladder marked its decision shadow")
	}
	sh := l.Shadow()
	if d := sh.Decide(c); !d.Shadow || d.Action != first.Action || d.Matched() != first.Matched() {
		t.Errorf("shadow decision %+v", d)
	}
	if l.IsShadow() || !sh.IsShadow() {
		t.Error("Shadow changed the original ladder")
	}
}

func TestDecideScore(t *testing.T) {
	l := mustDefault(t)
	calm := ctx("Thanks, that helps.", student)
	calm.Signals = l.Signals(calm.Event.Text)
	hot := ctx("This is awful, what does it cost? I want to talk to a human.", tier("tier_1"), confidence(0.2), noProgress(6))
	hot.Signals = l.Signals(hot.Event.Text)
	dc, dh := l.Decide(calm), l.Decide(hot)
	if dc.Score != 0 {
		t.Errorf("calm student score %v, want 0", dc.Score)
	}
	if dh.Score < 0.8 || dh.Score > 1 {
		t.Errorf("hot tier-1 score %v, want >= 0.8", dh.Score)
	}
	// Score is visible to conditions.
	lad, err := Parse("s.yaml", []byte("version: s\nrungs:\n  - id: hot\n    when: score >= 0.7\n    action: assist\n    route: {to: account_owner}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d := lad.Decide(hot); d.RungID != "hot" {
		t.Errorf("score rung did not match: %v", d.Trace)
	}
	if d := lad.Decide(calm); d.Action != handoff.ActionContinue {
		t.Errorf("calm matched %q", d.Matched())
	}
}

func TestLoad(t *testing.T) {
	if _, err := Load("testdata/does-not-exist.yaml"); err == nil || !strings.Contains(err.Error(), "read ladder file") {
		t.Errorf("missing file: %v", err)
	}
	l := mustDefault(t)
	if l.Version() == "" || len(l.Teams()) != 7 {
		t.Errorf("version %q teams %d", l.Version(), len(l.Teams()))
	}
	if got := l.Workflow(handoff.EventFacts{Channel: "chat"}); got != "chat" {
		t.Errorf("workflow %q", got)
	}
}

func TestLoadOrDefaultAndShadow(t *testing.T) {
	l, err := LoadOrDefault("")
	if err != nil || l.Version() != "default-2026-12" {
		t.Fatalf("LoadOrDefault(\"\"): %v", err)
	}
	p := t.TempDir() + "/shadow.yaml"
	if err := os.WriteFile(p, []byte(base), 0o600); err != nil {
		t.Fatal(err)
	}
	sh, err := LoadShadow(p)
	if err != nil {
		t.Fatal(err)
	}
	c := ctx("what is the price?", tier("tier_1"))
	c.Signals = sh.Signals(c.Event.Text)
	if d := sh.Decide(c); !d.Shadow || d.RungID != "pricing" || d.LadderVersion != "t1" {
		t.Errorf("shadow decision %+v", d)
	}
	if l2, err := LoadOrDefault(p); err != nil || l2.IsShadow() || l2.File() != p {
		t.Errorf("LoadOrDefault(file): %v", err)
	}
	// builtin:default works in LADDER_FILE and SHADOW_LADDER_FILE as in
	// the ladder commands (e.g. to shadow the default while a new ladder
	// is active).
	if l3, err := LoadOrDefault(BuiltinDefault); err != nil || l3.Version() != "default-2026-12" {
		t.Errorf("LoadOrDefault(builtin:default): %v", err)
	}
	if sh2, err := LoadShadow(BuiltinDefault); err != nil || !sh2.IsShadow() || sh2.Version() != "default-2026-12" {
		t.Errorf("LoadShadow(builtin:default): %v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	l := mustDefault(t)
	type result struct {
		sig handoff.Signals
		d   handoff.Decision
	}
	want := make([]result, len(defaultCases))
	for i, tc := range defaultCases {
		c := tc.c
		c.Signals = l.Signals(c.Event.Text)
		want[i] = result{c.Signals, l.Decide(c)}
	}
	errs := make(chan string, 8*len(defaultCases))
	done := make(chan struct{})
	for g := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for k := range defaultCases {
				i := (k + g) % len(defaultCases)
				c := defaultCases[i].c
				c.Signals = l.Signals(c.Event.Text)
				if d := l.Decide(c); !reflect.DeepEqual(c.Signals, want[i].sig) || !reflect.DeepEqual(d, want[i].d) {
					errs <- defaultCases[i].name
				}
			}
		}()
	}
	for range 8 {
		<-done
	}
	close(errs)
	for name := range errs {
		t.Errorf("concurrent result differs for %q", name)
	}
}

// TestDecisionSharesNothingWithScratch: Decide reuses its scratch state
// (a pool) and one backing array for the trace values; a decision must not
// change when later decisions run, and appending to one step's values must
// not write into the next step's.
func TestDecisionSharesNothingWithScratch(t *testing.T) {
	l := mustDefault(t)
	first := ctx("What is the price for 50 seats?", tier("tier_1"))
	first.Signals = l.Signals(first.Event.Text)
	d := l.Decide(first)
	before, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range defaultCases {
		c := tc.c
		c.Signals = l.Signals(c.Event.Text)
		l.Decide(c)
	}
	after, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) {
		t.Fatalf("decision changed after later decisions:\nbefore %s\nafter  %s", before, after)
	}
	for i := 2; i+1 < len(d.Trace); i++ {
		s, next := d.Trace[i], d.Trace[i+1]
		if len(s.Values) == 0 || len(next.Values) == 0 {
			continue
		}
		was := next.Values[0].Path
		_ = append(s.Values, handoff.TraceValue{Path: "x", Value: "clobbered"})
		if next.Values[0].Path != was {
			t.Fatalf("appending to step %s's values overwrote step %s's", s.ID, next.ID)
		}
	}
}
