package ladder

import (
	"math"
	"sync"

	"github.com/abadojack/whatlanggo"
)

// Language detection. Most traffic is English, so the commonest function
// words of the six languages are counted first: a clear English majority
// is taken as is. Anything else goes to whatlanggo (trigram profiles,
// restricted to the six languages the lexicon knows), on at most
// detectSample bytes. whatlanggo was chosen over lingua-go, which is more
// accurate on very short texts but is a 124 MB module that holds hundreds
// of MB of models in memory and takes longer per call; the stopword count
// settles the short texts that trigrams get wrong.

// detectSample bounds the text handed to the detector: a longer message
// says nothing a paragraph does not, and the detector's cost grows with it.
const detectSample = 400

var whatlangOptions = whatlanggo.Options{Whitelist: map[whatlanggo.Lang]bool{
	whatlanggo.Eng: true, whatlanggo.Spa: true, whatlanggo.Deu: true,
	whatlanggo.Fra: true, whatlanggo.Por: true, whatlanggo.Ita: true,
}}

// detectLanguage returns the ISO 639-1 code of the message's language, one
// of languages, or "" when it cannot be told (too short, or none of them).
func (t *textAnalyzer) detectLanguage(text string, toks []token) string {
	var counts [6]int
	n := 0
	for i := range toks {
		if n >= 80 {
			break
		}
		n++
		set := t.stopwords[toks[i].s]
		for k := range counts {
			if set&(1<<k) != 0 {
				counts[k]++
			}
		}
	}
	best, second := 0, -1
	for k := 1; k < len(counts); k++ {
		if counts[k] > counts[best] {
			best = k
		}
	}
	for k := range counts {
		if k != best && (second < 0 || counts[k] > counts[second]) {
			second = k
		}
	}
	if counts[best] >= 2 && counts[best] >= 2*counts[second] {
		return languages[best]
	}
	if len(toks) < 3 {
		if counts[best] > 0 && counts[best] > counts[second] {
			return languages[best]
		}
		return ""
	}
	sample := text
	if len(sample) > detectSample {
		cut := detectSample
		for cut > 0 && sample[cut]&0xC0 == 0x80 { // not inside a UTF-8 sequence
			cut--
		}
		sample = sample[:cut]
	}
	info := whatlanggo.DetectWithOptions(sample, whatlangOptions)
	code := info.Lang.Iso6391()
	k := langIndex(code)
	switch {
	case counts[best] > 0 && (k < 0 || counts[k] == 0 || counts[best] > counts[k] && info.Confidence < 0.9):
		// The detector picked a language none of whose function words are
		// there, while another's are: short texts fool trigrams.
		return languages[best]
	case k >= 0:
		return code
	}
	return ""
}

// activeLanguages are the lexicon languages read for a message in lang:
// English always (buyers mix in English terms), and Spanish, Portuguese and
// Italian together, which short messages cannot reliably tell apart.
func activeLanguages(lang string) langSet {
	switch lang {
	case "":
		return allLangs
	case "es", "pt", "it":
		return langEN | langBit("es") | langBit("pt") | langBit("it")
	}
	return langEN | langBit(lang)
}

func langIndex(code string) int {
	for i, l := range languages {
		if l == code {
			return i
		}
	}
	return -1
}

// sentimentLexicon scores the five non-English languages with their own
// word lists (topics.yaml, sentiment:), so that German "die" and "war"
// are never read as English words. The score is normalized like VADER's
// compound: sum / sqrt(sum² + 15).
type sentimentLexicon struct {
	words        map[string]map[string]float64 // lang -> folded word -> valence
	intensifiers map[string]map[string]bool
}

var sharedSentiment = sync.OnceValue(func() *sentimentLexicon {
	b := builtin()
	s := &sentimentLexicon{words: map[string]map[string]float64{}, intensifiers: map[string]map[string]bool{}}
	for l, m := range b.Sentiment.Words {
		s.words[l] = map[string]float64{}
		for w, v := range m {
			s.words[l][foldLower(w)] = v
		}
	}
	for l, ws := range b.Sentiment.Intensifiers {
		s.intensifiers[l] = map[string]bool{}
		for _, w := range ws {
			s.intensifiers[l][foldLower(w)] = true
		}
	}
	return s
})

// score sums the valences of toks in lang: an intensifier just before a
// word multiplies it by 1.3, a negation cue up to three words before it
// flips and damps it (x -0.74, as VADER does).
func (s *sentimentLexicon) score(lang string, toks []token, t *textAnalyzer) float64 {
	words := s.words[lang]
	if words == nil {
		return 0
	}
	active := langBit(lang)
	sum := 0.0
	for i := range toks {
		v, ok := words[toks[i].s]
		if !ok {
			continue
		}
		if i > 0 && s.intensifiers[lang][toks[i-1].s] {
			v *= 1.3
		}
		for j := i - 1; j >= 0 && j >= i-3; j-- {
			if toks[j+1].brk {
				break
			}
			if t.negations.at(toks, j, active) != nil {
				v *= -0.74
				break
			}
		}
		sum += v
	}
	if sum == 0 {
		return 0
	}
	c := sum / math.Sqrt(sum*sum+15)
	return math.Max(-1, math.Min(1, c))
}
