package ladder

import (
	"math"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/jonreiter/govader"

	"github.com/handoff-dev/handoff"
)

// textAnalyzer turns a buyer message into Signals: topics from the ladder's
// topic map, topics mentioned only in negation, VADER sentiment and whether
// the buyer asked for a person.
type textAnalyzer struct {
	topicOrder  []string
	phrases     []phrase
	byFirst     map[string][]int // first-word form -> phrase indexes
	prefixFirst []int            // phrases whose first word is a wildcard
	negations   map[string]bool
	vader       *vader
	tokens      sync.Pool // *[]token scratch
}

type phrase struct {
	topic     string // "" for the built-in human-request phrases
	human     bool
	text      string
	words     []wordPat
	negatable bool
}

// wordPat matches one token: one of a few inflected forms, a prefix
// ("indemnif*") or any word ("*").
type wordPat struct {
	forms  []string
	prefix string
	any    bool
}

func (w *wordPat) match(tok string) bool {
	switch {
	case w.any:
		return true
	case w.prefix != "":
		return strings.HasPrefix(tok, w.prefix)
	}
	for _, f := range w.forms {
		if f == tok {
			return true
		}
	}
	return false
}

// builtinHuman are the human-request phrases every ladder gets; a ladder
// adds its own under human_request.phrases or as a topic named
// "human_request".
var builtinHuman = []string{
	"talk to a human", "talk to a person", "talk to someone", "talk to a real person", "talk to sales",
	"talk with a human", "talk with someone", "speak to a human", "speak to a person", "speak to someone",
	"speak with a human", "speak with someone", "speak to sales", "real person", "actual person",
	"human being", "live agent", "live person", "sales rep", "a representative", "call me", "give me a call",
	"connect me with", "get me a human", "are you a bot", "are you a robot", "stop the bot",
}

// builtinNegations are the cues that make a following topic mention a
// negation ("we don't need a contract yet").
var builtinNegations = []string{
	"not", "no", "never", "without", "don't", "dont", "doesn't", "doesnt", "didn't", "didnt",
	"isn't", "isnt", "aren't", "arent", "won't", "wont", "wouldn't", "shouldn't", "needn't",
	"neither", "nor", "none",
}

// pseudoNegation: a cue followed by one of these does not negate what comes
// after ("I don't know the price", "not only pricing").
var pseudoNegation = map[string]bool{
	"know": true, "sure": true, "only": true, "just": true, "understand": true, "mind": true,
	"matter": true, "hesitate": true, "see": true, "find": true, "doubt": true, "yet": false,
}

const negationWindow = 4 // tokens a cue reaches forward

func newTextAnalyzer(f *fileLadder) *textAnalyzer {
	t := &textAnalyzer{
		topicOrder: f.topicOrder,
		byFirst:    map[string][]int{},
		negations:  map[string]bool{},
		vader:      newVader(govader.NewSentimentIntensityAnalyzer()),
	}
	for _, n := range builtinNegations {
		t.negations[n] = true
	}
	for _, n := range f.Negations {
		t.negations[strings.ToLower(strings.TrimSpace(n))] = true
	}
	for _, id := range f.topicOrder {
		tp := f.Topics[id]
		neg := tp.Negation == nil || *tp.Negation
		for _, ph := range tp.Phrases {
			t.add(phrase{topic: id, human: id == "human_request", text: ph, negatable: neg})
		}
	}
	human := builtinHuman
	if f.Human != nil {
		human = append(append([]string{}, builtinHuman...), f.Human.Phrases...)
	}
	for _, ph := range human {
		t.add(phrase{human: true, text: ph, negatable: true})
	}
	return t
}

func (t *textAnalyzer) add(p phrase) {
	toks := tokenizeOpt(nil, strings.ToLower(p.text), true)
	if len(toks) == 0 {
		return
	}
	for _, tk := range toks {
		p.words = append(p.words, compileWord(tk.s))
	}
	idx := len(t.phrases)
	t.phrases = append(t.phrases, p)
	first := p.words[0]
	if first.any || first.prefix != "" {
		t.prefixFirst = append(t.prefixFirst, idx)
		return
	}
	for _, f := range first.forms {
		t.byFirst[f] = append(t.byFirst[f], idx)
	}
}

// checkPhrase validates a topic phrase at load.
func checkPhrase(p string) string {
	toks := tokenizeOpt(nil, strings.ToLower(p), true)
	if len(toks) == 0 {
		return "no words to match"
	}
	if strings.Count(p, "*") > 0 {
		for _, tk := range toks {
			if strings.Contains(strings.TrimSuffix(tk.s, "*"), "*") {
				return "a wildcard is allowed only at the end of a word (indemnif*) or as a whole word"
			}
		}
		if len(toks) == 1 && toks[0].s == "*" {
			return "a phrase cannot be only a wildcard"
		}
		if len(toks) == 1 && len(toks[0].s) < 4 {
			return "a wildcard needs at least three letters before it"
		}
	}
	return ""
}

// compileWord expands a phrase word into the inflected forms it matches:
// plural, -ed, -ing and possessive, with the usual spelling changes
// (price -> pricing, priced; policy -> policies). Short words, numbers and
// words with an apostrophe match only themselves.
func compileWord(w string) wordPat {
	if w == "*" {
		return wordPat{any: true}
	}
	if p, ok := strings.CutSuffix(w, "*"); ok {
		return wordPat{prefix: p}
	}
	forms := []string{w}
	if len(w) < 3 || strings.ContainsAny(w, "'0123456789") {
		return wordPat{forms: forms}
	}
	add := func(s ...string) {
		for _, x := range s {
			if x != w {
				forms = append(forms, x)
			}
		}
	}
	last := w[len(w)-1]
	switch {
	case last == 'e':
		add(w+"s", w+"d", w[:len(w)-1]+"ing", w+"'s")
	case last == 'y' && len(w) > 3 && !isVowel(w[len(w)-2]):
		add(w[:len(w)-1]+"ies", w[:len(w)-1]+"ied", w+"ing", w+"'s")
	case last == 's' || last == 'x' || last == 'h' || last == 'z':
		add(w+"es", w+"ed", w+"ing", w+"'s")
		if last == 's' && len(w) > 3 && w[len(w)-2] != 's' {
			add(w[:len(w)-1]) // "terms" also matches "term"
		}
	default:
		add(w+"s", w+"ed", w+"ing", w+"'s")
	}
	return wordPat{forms: forms}
}

func isVowel(b byte) bool { return strings.IndexByte("aeiou", b) >= 0 }

type token struct {
	s   string
	brk bool // a clause boundary (punctuation, newline) comes before it
}

// tokenize splits lower-cased text into words: letters and digits, with
// inner apostrophes kept ("don't"); curly apostrophes are normalized.
// Punctuation that ends a clause marks the next token.
func tokenize(s string) []token { return tokenizeOpt(nil, s, false) }

func tokenizeOpt(toks []token, s string, wildcards bool) []token {
	if toks == nil {
		toks = make([]token, 0, len(s)/5+1)
	}
	brk := false
	i := 0
	for i < len(s) {
		r, n := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		if !isWordRune(r) && !(wildcards && r == '*') {
			switch r {
			case '.', ',', ';', ':', '!', '?', '\n', '(', ')', '"', '—', '–':
				brk = true
			}
			i += n
			continue
		}
		start := i
		curly := false
		for i < len(s) {
			r, n = rune(s[i]), 1
			if r >= utf8.RuneSelf {
				r, n = utf8.DecodeRuneInString(s[i:])
			}
			if isWordRune(r) {
				i += n
				continue
			}
			if (r == '\'' || r == '’') && i+n < len(s) && isWordByteStart(s[i+n:]) {
				if r == '’' {
					curly = true
				}
				i += n
				continue
			}
			if r == '*' && wildcards { // wildcards in phrases
				i += n
				continue
			}
			break
		}
		w := s[start:i]
		if curly {
			w = strings.ReplaceAll(w, "’", "'")
		}
		if w == "but" || w == "however" || w == "although" || w == "though" {
			brk = true
		}
		toks = append(toks, token{s: w, brk: brk})
		brk = false
		if w == "but" || w == "however" || w == "although" || w == "though" {
			brk = true
		}
	}
	return toks
}

// asciiWord marks the ASCII bytes that belong to words.
var asciiWord = func() (t [utf8.RuneSelf]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	return t
}()

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiWord[r]
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

func isWordByteStart(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return isWordRune(r)
}

// Signals analyzes one buyer message. Topic ids come out in the order of
// the ladder's topic map.
func (l *Ladder) Signals(text string) handoff.Signals { return l.text.analyze(text) }

func (t *textAnalyzer) analyze(text string) handoff.Signals {
	sig := handoff.Signals{Topics: []string{}}
	if strings.TrimSpace(text) == "" {
		return sig
	}
	buf, _ := t.tokens.Get().(*[]token)
	if buf == nil {
		buf = new([]token)
	}
	toks := tokenizeOpt((*buf)[:0], strings.ToLower(text), false)
	defer func() {
		clear(toks) // drop the string references before pooling
		*buf = toks[:0]
		t.tokens.Put(buf)
	}()
	type hit struct{ pos, neg int } // counts of positive and negated matches
	var hits map[string]*hit
	humanPos := false
	for i := range toks {
		cands := t.byFirst[toks[i].s]
		for k, n := 0, len(cands)+len(t.prefixFirst); k < n; k++ {
			var p *phrase
			if k < len(cands) {
				p = &t.phrases[cands[k]]
			} else {
				p = &t.phrases[t.prefixFirst[k-len(cands)]]
			}
			if !t.matchAt(p, toks, i) {
				continue
			}
			negated := p.negatable && t.negatedAt(toks, i)
			if p.human && !negated {
				humanPos = true
			}
			if p.topic == "" {
				continue
			}
			h := hits[p.topic]
			if h == nil {
				if hits == nil {
					hits = map[string]*hit{}
				}
				h = &hit{}
				hits[p.topic] = h
			}
			if negated {
				h.neg++
				continue
			}
			h.pos++
			if sig.Matches == nil {
				sig.Matches = map[string][]string{}
			}
			if !containsStr(sig.Matches[p.topic], p.text) {
				sig.Matches[p.topic] = append(sig.Matches[p.topic], p.text)
			}
		}
	}
	for _, id := range t.topicOrder {
		h := hits[id]
		switch {
		case h == nil:
		case h.pos > 0:
			sig.Topics = append(sig.Topics, id)
		default:
			sig.Negated = append(sig.Negated, id)
		}
	}
	sig.HumanRequest = humanPos
	sig.Sentiment = math.Round(t.vader.compound(text)*10000) / 10000
	return sig
}

func (t *textAnalyzer) matchAt(p *phrase, toks []token, i int) bool {
	if i+len(p.words) > len(toks) {
		return false
	}
	for j := range p.words {
		if j > 0 && toks[i+j].brk {
			return false
		}
		if !p.words[j].match(toks[i+j].s) {
			return false
		}
	}
	return true
}

// negatedAt reports whether a negation cue governs the match starting at
// token i: a cue within negationWindow tokens before it, in the same
// clause, not followed by a pseudo-negation ("don't know").
func (t *textAnalyzer) negatedAt(toks []token, i int) bool {
	for j := i - 1; j >= 0 && j >= i-negationWindow; j-- {
		if t.negations[toks[j].s] && !pseudoNegation[toks[j+1].s] {
			return true
		}
		if toks[j].brk {
			break
		}
	}
	return false
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
