package ladder

import (
	"math"
	"strings"
	"testing"

	"github.com/jonreiter/govader"
)

// vaderSentences exercise every VADER rule: boosters, ALL CAPS, negation
// windows, "never so", "without doubt", "but", "least", "kind of", idioms,
// punctuation emphasis, emoji and emoticons.
var vaderSentences = []string{
	"VADER is smart, handsome, and funny.",
	"VADER is smart, handsome, and funny!",
	"VADER is very smart, handsome, and funny.",
	"VADER is VERY SMART, handsome, and FUNNY.",
	"VADER is VERY SMART, handsome, and FUNNY!!!",
	"VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
	"VADER is not smart, handsome, nor funny.",
	"The book was good.",
	"At least it isn't a horrible book.",
	"The book was only kind of good.",
	"The plot was good, but the characters are uncompelling and the dialog is not great.",
	"Today SUX!",
	"Today only kinda sux! But I'll get by, lol",
	"Make sure you :) or :D today!",
	"Catch utf-8 emoji such as 💘 and 💋 and 😁",
	"Not bad at all",
	"This is never so good, without doubt the best.",
	"The support was the least helpful I have seen",
	"We were not happy with the onboarding and honestly it has been a nightmare.",
	"No problem, the demo was great and I loved it",
	"I am completely frustrated, nobody answered and the tool keeps crashing???",
	"That's the bomb, a real cut above the rest",
	"yeah right, like that would ever work",
	"Why is this so expensive? It's absurd. I want a refund!!!!",
	"",
	"   ",
	"ok",
}

func TestVaderMatchesGovader(t *testing.T) {
	sia := govader.NewSentimentIntensityAnalyzer()
	v := newVader(sia)
	for _, s := range vaderSentences {
		got := v.compound(s)
		want := sia.PolarityScores(s).Compound
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("compound(%q) = %v, govader says %v", s, got, want)
		}
	}
	// Reference values from the Python vaderSentiment README.
	for s, want := range map[string]float64{
		"VADER is smart, handsome, and funny.":     0.8316,
		"VADER is not smart, handsome, nor funny.": -0.7424,
		"The book was good.":                       0.4404,
		"Today SUX!":                               -0.5461,
	} {
		if got := v.compound(s); math.Abs(got-want) > 0.0001 {
			t.Errorf("compound(%q) = %.4f, vaderSentiment says %.4f", s, got, want)
		}
	}
}

func TestVaderSplitsOnAnyWhitespace(t *testing.T) {
	v := newVader(govader.NewSentimentIntensityAnalyzer())
	oneLine := v.compound("The book was good. But the movie was awful")
	twoLines := v.compound("The book was good.\nBut the movie was awful")
	tabs := v.compound("The book  was\tgood.   But the movie was awful")
	if oneLine != twoLines || oneLine != tabs {
		t.Errorf("whitespace changes the score: %v %v %v", oneLine, twoLines, tabs)
	}
	if oneLine >= 0 {
		t.Errorf("good-but-awful scored %v, want negative", oneLine)
	}
}

func FuzzVader(f *testing.F) {
	for _, s := range vaderSentences {
		f.Add(s)
	}
	sia := govader.NewSentimentIntensityAnalyzer()
	v := newVader(sia)
	f.Fuzz(func(t *testing.T, s string) {
		got := v.compound(s)
		if math.IsNaN(got) || got < -1 || got > 1 {
			t.Fatalf("compound(%q) = %v", s, got)
		}
		// On single-spaced printable ASCII the two implementations agree
		// (govader splits on spaces only; this and Python split on all
		// whitespace, including \x1c-\x1f).
		if strings.Join(strings.Fields(s), " ") == s && !strings.ContainsFunc(s, func(r rune) bool { return r > 127 || r < 32 }) {
			if want := sia.PolarityScores(s).Compound; math.Abs(got-want) > 1e-9 {
				t.Fatalf("compound(%q) = %v, govader %v", s, got, want)
			}
		}
	})
}
