package ladder

import (
	"iter"
	"math"
	"slices"
	"strings"
	"sync"
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
	lexicon map[string]float64
	emoji   map[string]string
	booster map[string]float64
	negate  map[string]bool
	idioms  map[string]float64
	// idiomWords holds every word of a multi-word idiom or booster, so the
	// idiom check is skipped (without changing results) when none is near.
	idiomWords map[string]bool
	pool       sync.Pool // *vaderScratch
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
	v.idiomWords = map[string]bool{}
	for k := range v.idioms {
		for _, w := range strings.Fields(k) {
			v.idiomWords[w] = true
		}
	}
	for k := range v.booster {
		if strings.Contains(k, " ") {
			for _, w := range strings.Fields(k) {
				v.idiomWords[w] = true
			}
		}
	}
	return v
}

// wordInfo is what the lexicon and the booster list say about one
// lower-case word, looked up once per token.
type wordInfo struct {
	val, boost     float64
	inLex, inBoost bool
}

// vaderScratch holds the per-call buffers, reused through a pool.
type vaderScratch struct {
	words, lower []string
	info         []wordInfo
	origInLex    []bool
	sent         []float64
}

func (v *vader) info(w string) wordInfo {
	var wi wordInfo
	wi.val, wi.inLex = v.lexicon[w]
	wi.boost, wi.inBoost = v.booster[w]
	return wi
}

// compound returns VADER's normalized compound score, -1..1.
func (v *vader) compound(text string) float64 {
	sc, _ := v.pool.Get().(*vaderScratch)
	if sc == nil {
		sc = &vaderScratch{}
	}
	defer v.pool.Put(sc)
	text, ascii := v.replaceEmoji(text)
	text = strings.TrimSpace(text)
	words, lower := sc.words[:0], sc.lower[:0]
	info, origInLex := sc.info[:0], sc.origInLex[:0]
	upperCount := 0
	// ASCII text is lower-cased once; each word's lower-case form is then
	// the same byte range of the lower-cased text.
	lowerText := ""
	if ascii {
		lowerText = strings.ToLower(text)
	}
	for f, off := range fields(text, ascii) {
		w := stripPuncIfWord(f)
		var lw string
		if ascii {
			start := off + strings.Index(f, w)
			lw = lowerText[start : start+len(w)]
		} else {
			lw = strings.ToLower(w)
		}
		wi := v.info(lw)
		inOrig := wi.inLex
		if lw != w {
			_, inOrig = v.lexicon[w] // govader looks neighbours up with their case
		}
		words, lower, info, origInLex = append(words, w), append(lower, lw), append(info, wi), append(origInLex, inOrig)
		if isUpperWord(w) {
			upperCount++
		}
	}
	sc.words, sc.lower, sc.info, sc.origInLex = words, lower, info, origInLex
	if len(words) == 0 {
		return 0
	}
	capDiff := upperCount > 0 && upperCount < len(words)

	sentiments := sc.sent[:0]
	for i := range words {
		if info[i].inBoost {
			sentiments = append(sentiments, 0)
			continue
		}
		if i < len(words)-1 && lower[i] == "kind" && lower[i+1] == "of" {
			sentiments = append(sentiments, 0)
			continue
		}
		sentiments = append(sentiments, v.valence(sc, i, capDiff))
	}
	sc.sent = sentiments

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

func (v *vader) valence(sc *vaderScratch, i int, capDiff bool) float64 {
	words, lower, info := sc.words, sc.lower, sc.info
	if !info[i].inLex {
		return 0
	}
	item, l := words[i], lower[i]
	val := info[i].val
	if l == "no" && i+1 < len(lower) && info[i+1].inLex {
		val = 0
	}
	if (i > 0 && lower[i-1] == "no") || (i > 1 && lower[i-2] == "no") ||
		(i > 2 && lower[i-3] == "no" && (lower[i-1] == "or" || lower[i-1] == "nor")) {
		val = info[i].val * vNScalar
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
		p := i - (start + 1)
		if sc.origInLex[p] {
			continue
		}
		s := v.scalarIncDec(words[p], info[p], val, capDiff)
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
	return v.leastCheck(val, sc, i)
}

func (v *vader) scalarIncDec(word string, wi wordInfo, val float64, capDiff bool) float64 {
	if !wi.inBoost {
		return 0
	}
	scalar := wi.boost
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
	near := false
	for j := i - 3; j <= i+2 && j < len(lower); j++ {
		if v.idiomWords[lower[j]] {
			near = true
			break
		}
	}
	if !near {
		return val
	}
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

func (v *vader) leastCheck(val float64, sc *vaderScratch, i int) float64 {
	words := sc.words
	if i > 1 && !sc.origInLex[i-1] && words[i-1] == "least" {
		if words[i-2] != "at" && words[i-2] != "very" {
			return val * vNScalar
		}
		return val
	}
	if i > 0 && !sc.origInLex[i-1] && words[i-1] == "least" {
		return val * vNScalar
	}
	return val
}

// replaceEmoji swaps emoji for their lexicon descriptions, as VADER does.
// ASCII text has no emoji, so it is returned as is (and reported ASCII).
func (v *vader) replaceEmoji(text string) (string, bool) {
	ascii := true
	for i := 0; i < len(text); i++ {
		if text[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return text, true
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
	return b.String(), false
}

// fields yields the whitespace-separated words of text with their byte
// offsets (Python's str.split()).
func fields(text string, ascii bool) iter.Seq2[string, int] {
	return func(yield func(string, int) bool) {
		if !ascii {
			off := 0
			for f := range strings.FieldsSeq(text) {
				if !yield(f, off) {
					return
				}
			}
			return
		}
		i := 0
		for i < len(text) {
			for i < len(text) && asciiSpace[text[i]] {
				i++
			}
			start := i
			for i < len(text) && !asciiSpace[text[i]] {
				i++
			}
			if i > start && !yield(text[start:i], start) {
				return
			}
		}
	}
}

var asciiSpace = [256]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true, 0x1c: true, 0x1d: true, 0x1e: true, 0x1f: true}

func stripPuncIfWord(tok string) string {
	i, j := 0, len(tok)
	for i < j && punctSet[tok[i]] {
		i++
	}
	for j > i && punctSet[tok[j-1]] {
		j--
	}
	s := tok[i:j]
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

// punctSet is Python's string.punctuation as a lookup table.
var punctSet = func() (t [256]bool) {
	for i := 0; i < len(vPunctuationSet); i++ {
		t[vPunctuationSet[i]] = true
	}
	return t
}()
