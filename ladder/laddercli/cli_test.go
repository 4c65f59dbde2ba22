package laddercli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/handoff-dev/handoff"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

const fixtures = "../../fixtures/ladders"

func run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	err = Run(context.Background(), args, &o, &e)
	return o.String(), e.String(), err
}

func exitCode(err error) int {
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	if err != nil {
		return -1
	}
	return 0
}

// Every case file in fixtures/ladders passes against the ladder it names.
func TestFixtureCaseFiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(fixtures, "*.cases.yaml"))
	if err != nil || len(files) < 3 {
		t.Fatalf("case files: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			out, errOut, err := run(t, "test", f)
			if err != nil {
				t.Fatalf("ladder test %s: %v\n%s%s", f, err, out, errOut)
			}
			if !strings.Contains(out, " passed, 0 failed") {
				t.Errorf("output: %s", out)
			}
		})
	}
}

// Every ladder in fixtures/ladders lints clean.
func TestFixtureLaddersLint(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(fixtures, "*.yaml"))
	var ladders []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".cases.yaml") {
			ladders = append(ladders, f)
		}
	}
	if len(ladders) < 2 {
		t.Fatalf("ladders: %v", ladders)
	}
	out, _, err := run(t, append([]string{"lint", "../default.yaml", BuiltinDefault}, ladders...)...)
	if err != nil {
		t.Fatalf("lint: %v\n%s", err, out)
	}
	if n := strings.Count(out, ": ok ("); n != len(ladders)+2 {
		t.Errorf("%d ok lines:\n%s", n, out)
	}
}

func TestLintReportsProblems(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("version: x\nteams:\n  sdr: {owners: [a@x.example]}\nrungs:\n  - id: a\n    when: account.teir == 'tier_1'\n    action: handoff\n    route: {team: sales}\n    sla: 2 hours\n"), 0o600)
	out, _, err := run(t, "lint", bad)
	if exitCode(err) != 1 {
		t.Fatalf("exit %d (%v)", exitCode(err), err)
	}
	want := []string{
		bad + `:6: rung "a": when: undefined field 'teir' (column 8)`,
		bad + `:8: rung "a": unknown team "sales" (teams: sdr)`,
		bad + `:9: rung "a": bad duration "2 hours": want a duration such as 30m, 4h or 2d`,
	}
	if got := strings.TrimSpace(out); got != strings.Join(want, "\n") {
		t.Errorf("lint output:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

func TestTestReportsFailures(t *testing.T) {
	out, _, err := run(t, "test", "testdata/failing.cases.yaml")
	if exitCode(err) != 1 {
		t.Fatalf("exit %d (%v)", exitCode(err), err)
	}
	golden(t, "testdata/failing.golden", out)
}

func TestExplainGolden(t *testing.T) {
	out, _, err := run(t, "explain", BuiltinDefault, filepath.Join(fixtures, "events", "pricing-tier1.json"), filepath.Join(fixtures, "events", "student-pricing.json"))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "testdata/explain.golden", out)
	jsonOut, _, err := run(t, "explain", "-json", BuiltinDefault, filepath.Join(fixtures, "events", "pricing-tier1.json"))
	if err != nil || !strings.Contains(jsonOut, `"rung_id": "pricing"`) {
		t.Errorf("explain -json: %v\n%s", err, jsonOut)
	}
}

func TestDiffGolden(t *testing.T) {
	out, _, err := run(t, "diff", filepath.Join(fixtures, "gtm-basic.yaml"), filepath.Join(fixtures, "gtm-basic-v2.yaml"), filepath.Join(fixtures, "events"))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "testdata/diff.golden", out)
}

func TestDiffResignal(t *testing.T) {
	dir := t.TempDir()
	ev := filepath.Join(dir, "e.json")
	// Recorded with the old topic map: "cost" was not a pricing phrase.
	os.WriteFile(ev, []byte(`{"event": {"text": "what's the cost?"}, "deal": {"is_open": true, "probability": 0.5, "known": true}, "signals": {"topics": []}}`), 0o600)
	old, newer := filepath.Join(fixtures, "gtm-basic.yaml"), filepath.Join(fixtures, "gtm-basic-v2.yaml")
	out, _, err := run(t, "diff", old, newer, ev)
	if err != nil || !strings.Contains(out, "Unchanged:           1") {
		t.Errorf("recorded signals: %v\n%s", err, out)
	}
	out, _, err = run(t, "diff", "-resignal", old, newer, ev)
	if err != nil || !strings.Contains(out, "Escalations added:   1") {
		t.Errorf("-resignal: %v\n%s", err, out)
	}
}

func TestCompareCounts(t *testing.T) {
	events, err := ReadEvents(filepath.Join(fixtures, "events"))
	if err != nil {
		t.Fatal(err)
	}
	oldL, err := loadLadder(filepath.Join(fixtures, "gtm-basic.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	newL, err := loadLadder(filepath.Join(fixtures, "gtm-basic-v2.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	same := Compare(oldL, oldL, events)
	if len(same.Changes) != 0 || same.Events != len(events) {
		t.Errorf("a ladder differs from itself: %+v", same.Changes)
	}
	r := Compare(oldL, newL, events)
	if r.Count(EscalationAdded) != 3 || r.Count(OwnerChanged) != 1 || r.Count(EscalationRemoved) != 0 {
		t.Errorf("changes: %+v", r.Changes)
	}
	back := Compare(newL, oldL, events)
	if back.Count(EscalationRemoved) != 3 {
		t.Errorf("reverse diff removed %d", back.Count(EscalationRemoved))
	}
	total := 0
	for _, n := range r.NewRate {
		total += n
	}
	if total != len(events) {
		t.Errorf("rates sum to %d, want %d", total, len(events))
	}
}

func TestHelp(t *testing.T) {
	for _, verb := range []string{"lint", "explain", "test", "diff"} {
		out, errOut, err := run(t, verb, "--help")
		if err != nil || !strings.HasPrefix(out, "Usage: handoff ladder "+verb) || errOut != "" {
			t.Errorf("%s --help: err %v, stdout %q, stderr %q", verb, err, out, errOut)
		}
		if _, errOut, err := run(t, verb); exitCode(err) != 2 || !strings.HasPrefix(errOut, "handoff ladder "+verb+": wrong number of arguments") {
			t.Errorf("%s without arguments: %v, stderr %q", verb, err, errOut)
		}
	}
	if out, _, err := run(t, "help"); err != nil || !strings.Contains(out, "explain FILE") {
		t.Errorf("help: %v %q", err, out)
	}
	if _, _, err := run(t, "frobnicate"); exitCode(err) != 2 {
		t.Errorf("unknown verb: %v", err)
	}
}

func TestParseEvents(t *testing.T) {
	bare := `{"event": {"text": "hi"}, "account": {"tier": "tier_1"}}`
	wrapped := `{"id": "e1", "context": {"account": {"tier": "tier_2"}}, "event": {"source": "agent", "kind": "agent_turn", "channel": "chat", "message": {"text": "price?", "direction": "inbound"}, "agent": {"confidence": 0.4}, "conversation_id": "c9"}}`
	cases := []struct {
		name, data string
		n          int
		check      func(t *testing.T, evs []Event)
	}{
		{"bare context", bare, 1, func(t *testing.T, evs []Event) {
			if evs[0].Context.Account.Tier != "tier_1" || evs[0].Context.Event.Text != "hi" || evs[0].Name != "f.json" {
				t.Errorf("%+v", evs[0])
			}
		}},
		{"wrapper fills event facts", wrapped, 1, func(t *testing.T, evs []Event) {
			c := evs[0].Context
			if evs[0].Name != "e1" || c.Event.Text != "price?" || c.Event.Channel != "chat" || c.Event.Kind != "agent_turn" ||
				!c.Agent.HasConfidence || c.Agent.Confidence != 0.4 || c.Conversation.ID != "c9" || c.Account.Tier != "tier_2" {
				t.Errorf("%+v", evs[0])
			}
		}},
		{"array", "[" + bare + "," + wrapped + "]", 2, func(t *testing.T, evs []Event) {
			if evs[0].Name != "f.json#1" || evs[1].Name != "e1" {
				t.Errorf("names %q %q", evs[0].Name, evs[1].Name)
			}
		}},
		{"json lines", bare + "\n" + bare + "\n", 2, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := ParseEvents("f.json", []byte(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != tc.n {
				t.Fatalf("%d events", len(evs))
			}
			if tc.check != nil {
				tc.check(t, evs)
			}
		})
	}
	for _, bad := range []string{`[]`, `{"acount": {}}`, `{"context": {"deal": {"amout": 1}}}`, `[1, 2]`, `{`, ``} {
		if _, err := ParseEvents("f.json", []byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestWithSignalsOnlyWhenMissing(t *testing.T) {
	l, err := loadLadder(BuiltinDefault)
	if err != nil {
		t.Fatal(err)
	}
	c := handoff.Context{Event: handoff.EventFacts{Text: "what is the price?"}}
	if got := withSignals(l, c); len(got.Signals.Topics) != 1 {
		t.Errorf("signals not computed: %+v", got.Signals)
	}
	c.Signals.Topics = []string{}
	if got := withSignals(l, c); len(got.Signals.Topics) != 0 {
		t.Errorf("recorded signals replaced: %+v", got.Signals)
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("output differs from %s (run with -update after checking):\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

// A hand-written context that does not mention the agent's confidence
// decides as the live pipeline would: the enricher reads an unreported
// confidence as 1, so `agent.confidence < x` must not match it here either.
func TestUnreportedConfidenceIsOneAsLive(t *testing.T) {
	dir := t.TempDir()
	lad := filepath.Join(dir, "l.yaml")
	os.WriteFile(lad, []byte("version: x\ndefaults: {route: {owner: a@x.example}}\nrungs:\n  - id: unsure\n    when: agent.confidence < 0.5\n    action: assist\n"), 0o600)
	cases := filepath.Join(dir, "c.cases.yaml")
	os.WriteFile(cases, []byte("ladder: l.yaml\ncases:\n"+
		"  - {name: no agent block, text: hello, expect: {action: continue, rung: \"\"}}\n"+
		"  - {name: agent without confidence, text: hello, context: {agent: {tool_failures: 1}}, expect: {action: continue}}\n"+
		"  - {name: reported low confidence, text: hello, context: {agent: {confidence: 0.2, has_confidence: true}}, expect: {action: assist, rung: unsure}}\n"), 0o600)
	if out, _, err := run(t, "test", cases); err != nil {
		t.Fatalf("test: %v\n%s", err, out)
	}
	for _, data := range []string{`{"event": {"text": "hello"}}`, `{"context": {"agent": {"tool_failures": 1}}, "event": {"source": "agent"}}`} {
		evs, err := ParseEvents("e.json", []byte(data))
		if err != nil {
			t.Fatal(err)
		}
		if c := evs[0].Context.Agent; c.Confidence != 1 || c.HasConfidence {
			t.Errorf("%s: agent facts %+v, want confidence 1 (not reported)", data, c)
		}
	}
}

// Case contexts get the fields the enricher derives live (the industry
// class from account.industry), and may set them explicitly; ladder
// conditions read the agent-reported signals (agent.intents, ...).
func TestCaseContextsAreNormalized(t *testing.T) {
	out, errOut, err := run(t, "test", "-v", "testdata/context.cases.yaml")
	if err != nil {
		t.Fatalf("ladder test: %v\n%s%s", err, out, errOut)
	}
	if !strings.Contains(out, "12 passed, 0 failed") {
		t.Errorf("output: %s", out)
	}
}

// Explained and diffed events get them too.
func TestEventContextsAreNormalized(t *testing.T) {
	evs, err := ParseEvents("e.json", []byte(`{"account": {"industry": "BANKING"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if a := evs[0].Context.Account; a.IndustryClass != handoff.IndustryBanking || !a.Regulated {
		t.Errorf("account %+v, want class banking, regulated", a)
	}
}

// A recorded {"context", "event"} pair whose context lacks the agent's
// signals takes them from the event's agent turn.
func TestEventAgentSignals(t *testing.T) {
	evs, err := ParseEvents("e.json", []byte(`{"context": {"event": {"text": "hi"}}, "event": {"source": "agent", "agent": {"signals": {"intents": ["pricing"], "sentiment": -0.3, "language": "de", "human_request": true}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	a := evs[0].Context.Agent
	if len(a.Intents) != 1 || a.Intents[0] != "pricing" || !a.HasSentiment || a.Sentiment != -0.3 || a.Language != "de" || !a.HumanRequest {
		t.Errorf("agent facts %+v", a)
	}
}
