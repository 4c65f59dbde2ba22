package laddercli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const pricingEvent = `{"event": {"text": "What does the pricing look like for 40 seats?", "source": "agent", "channel": "chat", "kind": "agent_turn"}}`

// A Friday-evening handoff: explain -now shows the Monday due time and
// when the climb steps run.
func TestExplainNow(t *testing.T) {
	ev := writeFile(t, "friday.json", pricingEvent)
	out, errOut, err := run(t, "explain", "-now", "2026-12-04T17:00:00-05:00", filepath.Join(fixtures, "working-hours.yaml"), ev)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	for _, want := range []string{
		"SLA:      4h of working time (calendar ny, America/New_York), priority medium",
		"Due:      Mon 2026-12-07 12:30 EST (handoff at Fri 2026-12-04 17:00 EST)",
		"  after 4h: reassign to team managers (round robin: mgr@acme.example) (priority urgent), at Mon 2026-12-07 12:30 EST",
		"  after 8h: notify the owner, at Mon 2026-12-07 16:30 EST",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("missing line %q in:\n%s", want, out)
		}
	}
	// Without -now: the clock, but no times.
	out, _, err = run(t, "explain", filepath.Join(fixtures, "working-hours.yaml"), ev)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "of working time (calendar ny") || strings.Contains(out, "Due:") || strings.Contains(out, ", at ") {
		t.Errorf("explain without -now:\n%s", out)
	}
	if _, errOut, err := run(t, "explain", "-now", "friday 5pm", filepath.Join(fixtures, "working-hours.yaml"), ev); exitCode(err) != 2 || !strings.Contains(errOut, `bad time "friday 5pm"`) {
		t.Errorf("bad -now: exit %d, %s", exitCode(err), errOut)
	}
}

func TestTestDue(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(fixtures, "working-hours.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cases := writeFile(t, "due.cases.yaml", `ladder: working-hours.yaml
cases:
  - name: wrong due
    text: "pricing please"
    now: "2026-12-04T16:00:00-05:00"
    expect: {due: "2026-12-04T20:00:00-05:00"}
  - name: no now
    text: "pricing please"
    expect: {due: "2026-12-07T11:30:00-05:00"}
  - name: now from the flag
    text: "pricing please"
    expect: {due: "2026-12-07T13:00:00-05:00"}
`)
	if err := os.WriteFile(filepath.Join(filepath.Dir(cases), "working-hours.yaml"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := run(t, "test", cases)
	if exitCode(err) != 1 {
		t.Fatalf("exit %d:\n%s%s", exitCode(err), out, errOut)
	}
	for _, want := range []string{
		"        due           want 2026-12-04T20:00:00-05:00 got 2026-12-07T11:30:00-05:00 (working time, calendar ny)",
		"        due           want 2026-12-07T11:30:00-05:00 got - (set now: on the case or -now)",
		"3 failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	// -now is the default for cases without now: (a Saturday: a 4 h SLA is due Monday 13:00).
	out, _, _ = run(t, "test", "-now", "2026-12-05T12:00:00-05:00", cases)
	if !strings.Contains(out, "1 passed, 2 failed") {
		t.Errorf("with -now:\n%s", out)
	}
}
