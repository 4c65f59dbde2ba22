package ladder

import (
	"math"
	"os"
	"testing"

	"github.com/handoff-dev/handoff"
)

// FuzzParse: any input either loads or returns LintErrors with a file and
// a line; it never panics, and a ladder that loads can decide.
func FuzzParse(f *testing.F) {
	f.Add([]byte(base))
	f.Add(defaultYAML)
	f.Add([]byte(calendarsBase))
	for _, p := range []string{"../fixtures/ladders/gtm-basic.yaml", "../fixtures/ladders/gtm-basic-v2.yaml", "../fixtures/ladders/working-hours.yaml"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("version: x\nrungs:\n  - id: a\n    when: account.tier == 1\n    action: assist\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Parse("f.yaml", data)
		if err != nil {
			les, ok := err.(LintErrors)
			if !ok || len(les) == 0 {
				t.Fatalf("error %T %v", err, err)
			}
			for _, e := range les {
				if e.File != "f.yaml" || e.Msg == "" {
					t.Fatalf("bad lint error %+v", e)
				}
			}
			return
		}
		c := handoff.Context{Event: handoff.EventFacts{Text: "what is the price of the contract?"}}
		c.Signals = l.Signals(c.Event.Text)
		d := l.Decide(c)
		if d.LadderVersion != l.Version() || len(d.Trace) == 0 {
			t.Fatalf("decision %+v", d)
		}
	})
}

// FuzzSignals: any text gives signals within range, deterministically.
func FuzzSignals(f *testing.F) {
	l, err := Default()
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"We don't need a contract yet.", "What's the price?", "talk to a human!!! 😡", "", "don’t", "no, no, no"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, b := l.Signals(s), l.Signals(s)
		if a.Sentiment < -1 || a.Sentiment > 1 || a.Sentiment != a.Sentiment {
			t.Fatalf("sentiment %v", a.Sentiment)
		}
		if want := math.Round(l.text.vader.compound(prepareText(s).newWords)*10000) / 10000; a.Language == "en" && a.Sentiment != want {
			t.Fatalf("Signals sentiment %v, compound %v", a.Sentiment, want)
		}
		if len(a.Topics) != len(b.Topics) || a.Sentiment != b.Sentiment || a.HumanRequest != b.HumanRequest {
			t.Fatalf("not deterministic: %+v %+v", a, b)
		}
		for _, t1 := range a.Topics {
			for _, t2 := range a.Negated {
				if t1 == t2 {
					t.Fatalf("topic %s both found and negated", t1)
				}
			}
		}
	})
}
