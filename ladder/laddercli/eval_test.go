package laddercli

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The tiny ladder and labelled set in testdata: every case records its
// signals, so the figures below follow from the ladder's conditions alone.
// Worked out by hand, case by case:
//
//	c1  pricing tier_1      → pricing, account_owner      TP right
//	c2  legal               → legal hold, team:legal      TP right (action hold ✓)
//	c3  security            → security, team:security     TP wrong owner (label team:legal hold; action ✗)
//	c4  pricing tier_3      → nothing                     TN (hard negative ✓)
//	c5  legal               → legal hold                  FP (hard negative ✗)
//	c6  es, no topics       → nothing                     FN (should have been pricing)
//	c7  de security         → security                    TP right
//	c8  student pricing     → quiet (continue)            TN
//	c9  student legal       → quiet (continue)            FN (legal matched, outranked; action ✗)
//	c10 Banking legal       → regulated, team:legal hold  TP wrong owner (label team:compliance: no rung; action ✓; also ✗)
//	c11 pricing tier_1      → pricing, account_owner      TP right ([contact_owner, account_owner])
//	c12 legal + security    → legal hold, also security   TP right (action ✓, also ✓)
//
// Pairs: flip-a = c1, c4 (both right); flip-b = c2, c5 (c5 wrong).
const (
	evalLadder = "testdata/eval-ladder.yaml"
	evalSet    = "testdata/eval"
)

func evalJSON(t *testing.T, args ...string) (*EvalReport, map[string]any) {
	t.Helper()
	out, errOut, err := run(t, append([]string{"eval", "--json"}, args...)...)
	if exitCode(err) > 1 {
		t.Fatalf("eval: %v\n%s", err, errOut)
	}
	var r EvalReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("decode: %v\n%s", err, out)
	}
	var raw map[string]any
	json.Unmarshal([]byte(out), &raw)
	return &r, raw
}

func TestEvalMetrics(t *testing.T) {
	r, _ := evalJSON(t, evalLadder, evalSet)
	if r.Cases != 12 || r.LadderVersion != "eval-test-1" || len(r.Files) != 2 {
		t.Fatalf("cases %d, version %q, files %v", r.Cases, r.LadderVersion, r.Files)
	}
	if want := (EvalCounts{TP: 7, FP: 1, FN: 2, TN: 2}); r.Counts != want {
		t.Errorf("counts %+v, want %+v", r.Counts, want)
	}
	m := r.Metrics
	for _, c := range []struct {
		name  string
		got   Metric
		n, of int
	}{
		{"precision", m.Precision, 7, 8},
		{"recall", m.Recall, 7, 9},
		{"right reviewer", m.RightReviewer, 5, 7},
		{"hard negatives", m.HardNegatives, 1, 2},
		{"flips", m.Flips, 1, 2},
		{"non-English", m.NonEnglish, 1, 2},
		{"action", m.ActionAgreement, 3, 5},
		{"also", m.AlsoAgreement, 1, 2},
		{"accuracy", m.Accuracy, 7, 12},
	} {
		if c.got.N != c.n || c.got.Of != c.of || c.got.Value == nil || *c.got.Value != float64(c.n)/float64(c.of) {
			t.Errorf("%s: %d of %d (%v), want %d of %d", c.name, c.got.N, c.got.Of, c.got.Value, c.n, c.of)
		}
		if c.got.Threshold != nil || c.got.Pass != nil {
			t.Errorf("%s: threshold without a flag", c.name)
		}
	}
	if !r.Pass || len(r.Failed) != 0 {
		t.Errorf("pass %v failed %v without thresholds", r.Pass, r.Failed)
	}

	type row struct {
		decided, right, falseEsc, wrongOwn, keptBack, missed int
	}
	steps := map[string]row{}
	for _, s := range r.Steps {
		steps[s.Kind+" "+s.ID] = row{s.Decided, s.Right, s.FalseEscalations, s.WrongReviewer, s.KeptBack, s.Missed}
	}
	wantSteps := map[string]row{
		"exception regulated":            {1, 0, 0, 1, 0, 0},
		"rung quiet":                     {2, 1, 0, 0, 1, 0},
		"rung legal":                     {3, 2, 1, 0, 0, 1},
		"rung security":                  {2, 1, 0, 1, 0, 0},
		"rung pricing":                   {2, 2, 0, 0, 0, 1},
		"none (nothing matched)":         {2, 1, 0, 0, 1, 0},
		"either regulated|legal":         {0, 0, 0, 0, 0, 1},
		"unowned team:compliance (hold)": {0, 0, 0, 0, 0, 1},
	}
	if !reflect.DeepEqual(steps, wantSteps) {
		t.Errorf("steps:\n%v\nwant\n%v", steps, wantSteps)
	}
	var ids []string
	for _, s := range r.Steps {
		ids = append(ids, s.ID)
	}
	// Evaluation order: exceptions, rungs from the top, then no match.
	if want := []string{"regulated", "quiet", "legal", "security", "pricing", "(nothing matched)"}; !slices.Equal(ids[:6], want) {
		t.Errorf("step order %v", ids)
	}
	for _, s := range r.Steps {
		if s.ID == "legal" && (s.Recall == nil || *s.Recall != 2.0/3 || *s.Precision != 2.0/3) {
			t.Errorf("legal precision/recall %v %v, want 2/3 2/3", s.Precision, s.Recall)
		}
		if s.ID == "quiet" && s.Recall != nil {
			t.Errorf("a continue rung has no recall: %v", *s.Recall)
		}
	}

	wantConf := map[string]map[string]int{
		"none":            {"none": 2, "team:legal": 1},
		"account_owner":   {"account_owner": 2, "none": 1},
		"team:legal":      {"team:legal": 2, "team:security": 1, "none": 1},
		"team:security":   {"team:security": 1},
		"team:compliance": {"team:legal": 1},
	}
	if !reflect.DeepEqual(r.Confusion, wantConf) {
		t.Errorf("confusion %v\nwant %v", r.Confusion, wantConf)
	}

	var worst []string
	for _, w := range r.Worst {
		worst = append(worst, w.ID+" "+w.Problem)
	}
	// Misses first (c6 and c9 would both have been high), then the false
	// escalation, then wrong owners: c3's candidates include an urgent
	// exception, c10's owner has no rung at all.
	if want := []string{"c6 missed_escalation", "c9 missed_escalation", "c5 false_escalation", "c3 wrong_reviewer", "c10 wrong_reviewer"}; !slices.Equal(worst, want) {
		t.Errorf("worst %v\nwant %v", worst, want)
	}
	byID := map[string]CaseResult{}
	for _, c := range r.Results {
		byID[c.ID] = c
	}
	if c := byID["c9"]; c.ShouldHave != "legal" || c.Got.Matched != "quiet" || c.Line != 56 || c.File != filepath.Join(evalSet, "a.yaml") {
		t.Errorf("c9: %+v", c)
	}
	if c := byID["c2"]; c.Text != "Please send the MSA redline. / > earlier: thanks for the call" {
		t.Errorf("c2 preview %q", c.Text)
	}
	if c := byID["c12"]; !slices.Equal(c.Got.Also, []string{"team:security"}) || !c.Right {
		t.Errorf("c12: %+v", c)
	}
	if len(r.Languages) != 3 || r.Languages[0] != (GroupStats{Key: "en", Cases: 10, Right: 6, Escalate: 7, Missed: 1, FalseEscalations: 1, WrongReviewer: 2}) {
		t.Errorf("languages %+v", r.Languages)
	}
	if len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "team:compliance") {
		t.Errorf("notes %v", r.Notes)
	}
}

// The JSON report's field names are an interface for CI scripts.
func TestEvalJSONShape(t *testing.T) {
	_, raw := evalJSON(t, evalLadder, evalSet, "--min-recall", "0.5")
	keys := slices.Sorted(maps.Keys(raw))
	want := []string{"cases", "confusion", "counts", "failed", "files", "ladder", "ladder_version", "languages", "metrics", "notes", "pass", "results", "steps", "tags", "worst"}
	if !slices.Equal(keys, want) {
		t.Errorf("top-level keys %v\nwant %v", keys, want)
	}
	metrics := raw["metrics"].(map[string]any)
	if got := slices.Sorted(maps.Keys(metrics)); !slices.Equal(got, []string{"accuracy", "action_agreement", "also_agreement", "flips", "hard_negatives", "non_english", "precision", "recall", "right_reviewer"}) {
		t.Errorf("metric keys %v", got)
	}
	recall := metrics["recall"].(map[string]any)
	if got := slices.Sorted(maps.Keys(recall)); !slices.Equal(got, []string{"n", "of", "pass", "threshold", "value"}) {
		t.Errorf("recall keys %v", got)
	}
	res := raw["results"].([]any)[0].(map[string]any)
	for _, k := range []string{"id", "file", "line", "lang", "text", "outcome", "right", "expected", "got", "reasons"} {
		if _, ok := res[k]; !ok {
			t.Errorf("result has no %q: %v", k, res)
		}
	}
	got := res["got"].(map[string]any)
	for _, k := range []string{"escalates", "action", "reviewer", "matched", "kind", "priority"} {
		if _, ok := got[k]; !ok {
			t.Errorf("result.got has no %q: %v", k, got)
		}
	}
}

func TestEvalThresholds(t *testing.T) {
	for _, c := range []struct {
		name   string
		args   []string
		code   int
		failed []string
	}{
		// 7/8 = 0.875 and 7/9 = 0.777...; a figure equal to its target passes.
		{"met", []string{"--min-precision", "0.875", "--min-recall", "0.75", "--min-flips", "0.5"}, 0, nil},
		{"recall below", []string{"--min-precision", "0.8", "--min-recall", "0.78"}, 1, []string{"recall"}},
		{"several below", []string{"--min-reviewer", "0.95", "--min-hard-negatives", "0.9", "--min-non-english", "0.51", "--min-flips", "0.5"}, 1, []string{"right_reviewer", "hard_negatives", "non_english"}},
		{"flags before the arguments", []string{"--min-recall=0.9"}, 1, []string{"recall"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"eval", evalLadder, evalSet}, c.args...)
			if c.name == "flags before the arguments" {
				args = append([]string{"eval"}, append(c.args, evalLadder, evalSet)...)
			}
			out, errOut, err := run(t, args...)
			if exitCode(err) != c.code {
				t.Fatalf("exit %d (%v), want %d\n%s%s", exitCode(err), err, c.code, out, errOut)
			}
			if c.code == 0 {
				if !strings.Contains(out, "Result: PASS") {
					t.Errorf("no PASS line:\n%s", out)
				}
				return
			}
			for _, f := range c.failed {
				if !strings.Contains(out, strings.ReplaceAll(f, "_", " ")+" ") || !strings.Contains(err.Error(), "--min-") {
					t.Errorf("failure %s not named:\n%s\nerr %v", f, out, err)
				}
			}
			if n := strings.Count(out, " FAIL\n"); n != len(c.failed) {
				t.Errorf("%d FAIL marks, want %d:\n%s", n, len(c.failed), out)
			}
		})
	}
}

// A target on a figure with no cases fails, unless it is 0.
func TestEvalThresholdWithoutCases(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "one.yaml")
	os.WriteFile(f, []byte("cases:\n  - id: x\n    text: hi\n    context: {signals: {topics: []}}\n    label: {escalate: false}\n"), 0o600)
	out, _, err := run(t, "eval", evalLadder, f, "--min-flips", "0.5")
	if exitCode(err) != 1 || !strings.Contains(out, "flips n/a is below 50.0%") {
		t.Errorf("exit %d:\n%s", exitCode(err), out)
	}
	if _, _, err := run(t, "eval", evalLadder, f, "--min-flips", "0", "--min-precision", "0"); err != nil {
		t.Errorf("0 targets: %v", err)
	}
}

func TestEvalText(t *testing.T) {
	out, _, err := run(t, "eval", "-n", "2", evalLadder, evalSet)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"12 labelled cases from 2 file(s)",
		"  Escalation precision                       87.5%  7 of 8",
		"Result: no targets given",
		"  missed, regulated or legal could have taken it: 1",
		"  missed, no rung or exception routes to team:compliance (hold): 1",
		"Worst cases (2 of 5 wrong; missed escalations first, by priority):",
		"  1. MISSED ESCALATION  c6  testdata/eval/a.yaml:40",
		"     got:      continue (rung quiet); should have been legal",
		"     because:  rung \"quiet\": contact.seniority == \"student\"",
		"... and 3 more",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Every case:") {
		t.Error("case list without -v")
	}
	out, _, _ = run(t, "eval", "-v", "-n", "0", evalLadder, evalSet)
	if !strings.Contains(out, "Every case:") || strings.Count(out, "\n  ok    ") != 7 || strings.Count(out, "\n  WRONG ") != 5 {
		t.Errorf("-v:\n%s", out)
	}
}

func TestEvalErrors(t *testing.T) {
	ok := "    label: {escalate: false}\n"
	for _, c := range []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"bad YAML", map[string]string{"a.yaml": "cases:\n  - id: x\n    text: \"unterminated\n"}, []string{"a.yaml:3: "}},
		{"unknown field", map[string]string{"a.yaml": "cases:\n  - id: x\n    txet: hi\n" + ok}, []string{`a.yaml:3: unknown field "txet"`}},
		{"no escalate", map[string]string{"a.yaml": "cases:\n  - id: x\n    label: {reviewer: team:legal}\n"}, []string{`a.yaml:2: case "x": label.escalate is missing`}},
		{"no reviewer", map[string]string{"a.yaml": "cases:\n  - id: x\n    label: {escalate: true}\n"}, []string{`a.yaml:2: case "x": label.reviewer is missing`}},
		{"unknown reviewer", map[string]string{"a.yaml": "cases:\n  - id: x\n    label: {escalate: true, reviewer: [legal, account_owner]}\n"}, []string{`a.yaml:2: case "x": unknown reviewer "legal": want account_owner`}},
		{"bad action", map[string]string{"a.yaml": "cases:\n  - id: x\n    label: {escalate: true, reviewer: team:legal, action: stop}\n"}, []string{`case "x": label.action "stop": want hold, handoff or assist`}},
		{"hard negative escalates", map[string]string{"a.yaml": "cases:\n  - id: x\n    tags: [hard_negative]\n    label: {escalate: true, reviewer: team:legal}\n"}, []string{`case "x": tagged hard_negative but label.escalate is true`}},
		{"no id", map[string]string{"a.yaml": "cases:\n  - text: hi\n" + ok}, []string{`a.yaml:2: case 1: no id`}},
		{"duplicate ids across files", map[string]string{"a.yaml": "cases:\n  - id: x\n" + ok, "b.yaml": "cases:\n  - id: y\n" + ok + "  - id: x\n" + ok}, []string{`b.yaml:4: case "x": duplicate id (first used at `, `a.yaml:2)`}},
		{"pair with one side", map[string]string{"a.yaml": "cases:\n  - id: x\n    pair: p1\n" + ok + "  - id: y\n    pair: p2\n" + ok + "  - id: z\n    pair: p2\n" + ok}, []string{`a.yaml:2: pair "p1" has only one case`}},
		{"bad context", map[string]string{"a.yaml": "cases:\n  - id: x\n    context: {acount: {tier: tier_1}}\n" + ok}, []string{`a.yaml:2: case "x": context: json: unknown field "acount"`}},
		{"no cases", map[string]string{"a.yaml": "cases: []\n"}, []string{"a.yaml:1: no cases"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range c.files {
				os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600)
			}
			out, errOut, err := run(t, "eval", evalLadder, dir)
			if exitCode(err) != 2 {
				t.Fatalf("exit %d (%v)\n%s%s", exitCode(err), err, out, errOut)
			}
			for _, w := range c.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if c.name == "pair with one side" && strings.Contains(errOut, "p2") {
				t.Errorf("a pair with two sides reported:\n%s", errOut)
			}
		})
	}
}

func TestEvalUsage(t *testing.T) {
	out, _, err := run(t, "eval", "--help")
	if err != nil || !strings.Contains(out, "Usage: handoff ladder eval") || !strings.Contains(out, "TP / (TP + FP)") || !strings.Contains(out, "-min-non-english") {
		t.Errorf("help: %v\n%s", err, out)
	}
	for _, args := range [][]string{
		{"eval", evalLadder},
		{"eval", "--min-recall", "1.5", evalLadder, evalSet},
		{"eval", evalLadder, evalSet, "--min-recall", "x"},
		{"eval", evalLadder, filepath.Join(evalSet, "missing.yaml")},
		{"eval", "testdata/no-such-ladder.yaml", evalSet},
		{"eval", evalLadder, t.TempDir()},
	} {
		if _, _, err := run(t, args...); exitCode(err) != 2 {
			t.Errorf("%v: exit %d (%v), want 2", args, exitCode(err), err)
		}
	}
	_, errOut, _ := run(t, "eval", "--min-recall", "1.5", evalLadder, evalSet)
	if !strings.Contains(errOut, "want a fraction from 0 to 1") {
		t.Errorf("bad threshold message: %s", errOut)
	}
	out, _, _ = run(t, "help")
	if !strings.Contains(out, "eval FILE LABELLED...") {
		t.Errorf("ladder help lacks eval:\n%s", out)
	}
}

// A reviewer written team:legal inside a flow mapping comes out of the YAML
// parser as {team: legal}; it still means team:legal.
func TestEvalReviewerInFlowMapping(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want []string
	}{
		{map[string]any{"team": "sdr"}, []string{"team:sdr"}},
		{[]any{"contact_owner", map[string]any{"team": "sdr"}}, []string{"contact_owner", "team:sdr"}},
		{"team:legal", []string{"team:legal"}},
	} {
		got, err := reviewerList(tc.in)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("reviewerList(%v) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	if _, err := reviewerList(map[string]any{"team": "a", "owner": "b"}); err == nil {
		t.Error("a two-key mapping was taken for a reviewer")
	}
}

func TestPlainYAMLMessage(t *testing.T) {
	for in, want := range map[string]string{
		"cannot unmarshal string into Go struct field evalFile.Cases of type bool": "want true or false, got a string",
		"cannot unmarshal []interface {} into Go struct field x.Y of type string":  "want text, got a []interface",
		"unknown field \"foo\"": "unknown field \"foo\"",
	} {
		if got := plainYAMLMessage(in); got != want {
			t.Errorf("plainYAMLMessage(%q) = %q, want %q", in, got, want)
		}
	}
}
