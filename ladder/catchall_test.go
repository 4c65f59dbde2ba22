package ladder

import (
	"strings"
	"testing"
)

func TestCatchAllCompile(t *testing.T) {
	y := strings.Replace(calendarsBase, "  security: {owners: [sec@acme.example]}", "  security: {owners: [sec@acme.example], catch_all: desk@acme.example}", 1)
	y = strings.Replace(y, "    sla: 30m\n", "    sla: 30m\n    climb:\n      - {after: 1x, do: reassign, to: {team: security}}\n", 1)
	l, err := Parse("c.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Teams()["security"].CatchAll; got != "desk@acme.example" {
		t.Errorf("team catch_all = %q", got)
	}
	found := false
	for _, r := range l.rungs {
		if r.id == "urgent" {
			found = true
			if got := r.climb[0].To.CatchAll; got != "desk@acme.example" {
				t.Errorf("route catch_all = %q, want the team's", got)
			}
		}
	}
	if !found {
		t.Fatal("no urgent rung in the base ladder")
	}
	_, err = Parse("x.yaml", []byte(strings.Replace(calendarsBase, "{owners: [sec@acme.example]}", `{owners: [sec@acme.example], catch_all: "a@x.example, b@x.example"}`, 1)))
	want := `x.yaml:17: team "security": catch_all "a@x.example, b@x.example" must be one owner's email or CRM owner id`
	if err == nil || err.Error() != want {
		t.Errorf("lint = %v\nwant %s", err, want)
	}
}
