package hubspot

import (
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/handoff-dev/handoff"
)

func FuzzHandoffMarkerRoundTrip(f *testing.F) {
	for _, s := range []string{"ho_01JDX4Q7ZK", "a&b", `x"y'z`, "ä-ö_ü.1"} {
		f.Add(s, "note <b>x</b>")
	}
	f.Fuzz(func(t *testing.T, id, note string) {
		if id == "" || strings.ContainsFunc(id, func(r rune) bool { return unicode.IsSpace(r) || r == '<' || r == unicode.ReplacementChar }) {
			t.Skip()
		}
		body := RenderBody(handoff.Bundle{Goal: "g", Summary: note}, id)
		if got := handoffIDFrom(body); got != id {
			t.Fatalf("marker round trip: %q → %q", id, got)
		}
		body = AppendUpdate(body, note+" "+HandoffMarker+"fake", time.Unix(0, 0))
		if got := handoffIDFrom(body); got != id {
			t.Fatalf("after an update whose note mimics the marker: %q → %q", id, got)
		}
		if strings.Contains(body, "<b>") {
			t.Fatal("note not escaped")
		}
	})
}
