package jobs

import (
	"slices"
	"testing"

	"github.com/handoff-dev/handoff"
)

// The ladder file documents `activity, asked, agent_reply, transcript,
// snapshot` for `required` (docs/ladder.md, ladder/default.yaml); they must
// be measured like the bundle's own names, not reported as missing.
func TestCompletenessAcceptsLadderFieldNames(t *testing.T) {
	d, c, ev := sampleBundleInput()
	b := BuildBundle("ho_abc", d, c, ev)
	missing, got := Completeness(b, []string{"goal", "summary", "asked", "why", "next_steps", "activity", "agent_reply", "transcript", "snapshot"})
	if len(missing) != 0 || got != 1 {
		t.Fatalf("complete bundle: missing %v, completeness %v", missing, got)
	}
	// An alias and its canonical name count once.
	if _, got := Completeness(b, []string{"asked", "buyer_asked"}); got != 1 {
		t.Fatalf("alias + name: completeness %v", got)
	}
	empty := handoff.Bundle{Goal: "g"}
	missing, got = Completeness(empty, []string{"goal", "asked", "transcript", "snapshot", "activity", "agent_reply"})
	want := []string{FieldAgentReplied, FieldBuyerAsked, FieldSnapshot, FieldTimeline, FieldTranscriptURL}
	if !slices.Equal(missing, want) || got != 1.0/6 {
		t.Fatalf("empty bundle: missing %v (want %v), completeness %v", missing, want, got)
	}
	// A typo still counts as missing.
	if missing, _ := Completeness(b, []string{"askd"}); !slices.Equal(missing, []string{"askd"}) {
		t.Fatalf("typo: missing %v", missing)
	}
}
