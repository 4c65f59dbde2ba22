package ladder

import (
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jonreiter/govader"
)

// vader scores sentiment with VADER (Hutto & Gilbert, 2014), the
// lexicon-and-rules method made for short social/chat text. The lexicon,
// booster words, negations and idioms come from github.com/jonreiter/govader
// (a port of the reference vaderSentiment that is tested against it); the
// scoring loop here follows govader's rules step by step but is about four
// times faster (no regular expressions, no per-rune map lookups for ASCII
// text) and splits on any whitespace like the Python reference, where
// govader splits on single spaces only (so "good.\nBut" was one token).
// TestVaderMatchesGovader checks the two agree on single-spaced text.
type vader struct {
	lexicon  map[string]float64
	emoji    map[string]string
	booster  map[string]float64
	negate   map[string]bool
	idioms   map[string]float64
	hasEmoji bool
}

// VADER constants (vaderSentiment 3.3).
const (
	vBIncr          = 0.293 // booster
	vCIncr          = 0.733 // ALL CAPS emphasis
	vNScalar        = -0.74 // negation
	vAlpha          = 15
	vScalarScale1   = 0.95
	vScalarScale2   = 0.9
	vEPAmplify      = 0.292
	vQMAmplify      = 0.18
	vMaxEP          = 4
	vMaxQM          = 0.96
	vNegationScale  = 1.25
	vButScale       = 0.5
	vPunctuationSet = `"!#$%&\'()*+,-./:;<=>?@[\\]^_` + "`{|}~"
)

func newVader(sia *govader.SentimentIntensityAnalyzer) *vader {
	v := &vader{
		lexicon: sia.Lexicon,
		emoji:   sia.EmojiDict,
		booster: sia.Constants.BoosterDict,
		idioms:  sia.Constants.SpecialCaseIdioms,
		negate:  map[string]bool{},
	}
	for _, w := range sia.Constants.NegateList {
		v.negate[w] = true
	}
	return v
}

// compound returns VADER's normalized compound score, -1..1.
func (v *vader) compound(text string) float64 {
	text = v.replaceEmoji(text)
	text = strings.TrimSpace(text)
	fields := strings.Fields(text)
	if len(fields) == 0 {
		return 0
	}
	words := make([]string, len(fields))
	lower := make([]string, len(fields))
	upperCount := 0
	for i, f := range fields {
		w := stripPuncIfWord(f)
		words[i] = w
		lower[i] = strings.ToLower(w)
		if isUpperWord(w) {
			upperCount++
		}
	}
	capDiff := upperCount > 0 && upperCount < len(words)

	sentiments := make([]float64, 0, len(words))
	for i := range words {
		l := lower[i]
		if _, ok := v.booster[l]; ok {
			sentiments = append(sentiments, 0)
			continue
		}
		if i < len(words)-1 && l == "kind" && lower[i+1] == "of" {
			sentiments = append(sentiments, 0)
			continue
		}
		sentiments = append(sentiments, v.valence(words, lower, i, capDiff))
	}

	// "but": dampen what comes before, amplify what comes after.
	if bi := slices.Index(lower, "but"); bi >= 0 {
		for i := range sentiments {
			if i < bi {
				sentiments[i] *= 1 - vButScale
			} else if i > bi {
				sentiments[i] *= 1 + vButScale
			}
		}
	}

	sum := 0.0
	for _, s := range sentiments {
		sum += s
	}
	emph := punctuationEmphasis(text)
	if sum > 0 {
		sum += emph
	} else if sum < 0 {
		sum -= emph
	}
	c := sum / math.Sqrt(sum*sum+vAlpha)
	return math.Max(-1, math.Min(1, c))
}

func (v *vader) valence(words, lower []string, i int, capDiff bool) float64 {
	item, l := words[i], lower[i]
	val, ok := v.lexicon[l]
	if !ok {
		return 0
	}
	if l == "no" && i+1 < len(lower) {
		if _, ok := v.lexicon[lower[i+1]]; ok {
			val = 0
		}
	}
	if (i > 0 && lower[i-1] == "no") || (i > 1 && lower[i-2] == "no") ||
		(i > 2 && lower[i-3] == "no" && (lower[i-1] == "or" || lower[i-1] == "nor")) {
		val = v.lexicon[l] * vNScalar
	}
	if capDiff && isUpperWord(item) {
		if val > 0 {
			val += vCIncr
		} else {
			val -= vCIncr
		}
	}
	for start := 0; start < 3; start++ {
		if i <= start {
			continue
		}
		prev := words[i-(start+1)]
		if _, inLex := v.lexicon[prev]; inLex {
			continue
		}
		s := v.scalarIncDec(prev, lower[i-(start+1)], val, capDiff)
		if start == 1 && s != 0 {
			s *= vScalarScale1
		}
		if start == 2 && s != 0 {
			s *= vScalarScale2
		}
		val += s
		val = v.negationCheck(val, lower, start, i)
		if start == 2 {
			val = v.specialIdioms(val, lower, i)
		}
	}
	return v.leastCheck(val, words, i)
}

func (v *vader) scalarIncDec(word, wordLower string, val float64, capDiff bool) float64 {
	scalar, ok := v.booster[wordLower]
	if !ok {
		return 0
	}
	if val < 0 {
		scalar = -scalar
	}
	if capDiff && isUpperWord(word) {
		if val > 0 {
			scalar += vCIncr
		} else {
			scalar -= vCIncr
		}
	}
	return scalar
}

func (v *vader) negated(w string) bool {
	return v.negate[w] || strings.Contains(w, "n't")
}

func (v *vader) negationCheck(val float64, lower []string, start, i int) float64 {
	switch start {
	case 0:
		if v.negated(lower[i-1]) {
			return val * vNScalar
		}
	case 1:
		switch {
		case lower[i-2] == "never" && (lower[i-1] == "so" || lower[i-1] == "this"):
			return val * vNegationScale
		case lower[i-2] == "without" && lower[i-1] == "doubt":
			return val
		case v.negated(lower[i-2]):
			return val * vNScalar
		}
	case 2:
		switch {
		case lower[i-3] == "never" && (lower[i-2] == "so" || lower[i-2] == "this" || lower[i-1] == "so" || lower[i-1] == "this"):
			return val * vNegationScale
		case lower[i-3] == "without" && (lower[i-2] == "doubt" || lower[i-1] == "doubt"):
			return val
		case v.negated(lower[i-3]):
			return val * vNScalar
		}
	}
	return val
}

func (v *vader) specialIdioms(val float64, lower []string, i int) float64 {
	seqs := [...]string{
		lower[i-1] + " " + lower[i],
		lower[i-2] + " " + lower[i-1] + " " + lower[i],
		lower[i-2] + " " + lower[i-1],
		lower[i-3] + " " + lower[i-2] + " " + lower[i-1],
		lower[i-3] + " " + lower[i-2],
	}
	for _, s := range seqs {
		if x, ok := v.idioms[s]; ok {
			val = x
			break
		}
	}
	if len(lower)-1 > i {
		if x, ok := v.idioms[lower[i]+" "+lower[i+1]]; ok {
			val = x
		}
	}
	if len(lower)-1 > i+1 {
		if x, ok := v.idioms[lower[i]+" "+lower[i+1]+" "+lower[i+2]]; ok {
			val = x
		}
	}
	for _, s := range [...]string{seqs[3], seqs[4], seqs[2]} {
		if x, ok := v.booster[s]; ok {
			val += x
		}
	}
	return val
}

func (v *vader) leastCheck(val float64, words []string, i int) float64 {
	if i > 1 {
		if _, ok := v.lexicon[words[i-1]]; !ok && words[i-1] == "least" {
			if words[i-2] != "at" && words[i-2] != "very" {
				return val * vNScalar
			}
			return val
		}
	}
	if i > 0 {
		if _, ok := v.lexicon[words[i-1]]; !ok && words[i-1] == "least" {
			return val * vNScalar
		}
	}
	return val
}

// replaceEmoji swaps emoji for their lexicon descriptions, as VADER does.
// ASCII text has no emoji, so it is returned as is.
func (v *vader) replaceEmoji(text string) string {
	ascii := true
	for i := 0; i < len(text); i++ {
		if text[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return text
	}
	var b strings.Builder
	b.Grow(len(text) * 2)
	prevSpace := true
	for _, r := range text {
		if r >= utf8.RuneSelf {
			if desc, ok := v.emoji[string(r)]; ok {
				if !prevSpace {
					b.WriteByte(' ')
				}
				b.WriteString(desc)
				prevSpace = false
				continue
			}
		}
		b.WriteRune(r)
		prevSpace = r == ' '
	}
	return b.String()
}

func stripPuncIfWord(tok string) string {
	s := strings.Trim(tok, vPunctuationSet)
	if len(s) < 3 {
		return tok
	}
	return s
}

// isUpperWord mirrors Python's str.isupper on ASCII: at least one upper
// case letter and no lower case one.
func isUpperWord(s string) bool {
	upper := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' {
			return false
		}
		if c >= 'A' && c <= 'Z' {
			upper = true
		}
	}
	return upper
}

func punctuationEmphasis(text string) float64 {
	ep := strings.Count(text, "!")
	if ep > vMaxEP {
		ep = vMaxEP
	}
	amp := float64(ep) * vEPAmplify
	if qm := strings.Count(text, "?"); qm > 1 {
		if qm <= 3 {
			amp += float64(qm) * vQMAmplify
		} else {
			amp += vMaxQM
		}
	}
	return amp
}
