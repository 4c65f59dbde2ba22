package ladder

import (
	_ "embed"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"

	"github.com/handoff-dev/handoff"
)

// The text analyzer turns a buyer message into Signals. In order:
//
//  1. Text preparation: only the buyer's new words are read; quoted
//     replies, forwarded headers, signatures and disclaimers are set aside
//     (prepareText). The bundle keeps the whole text.
//  2. Language: English function words first (cheap, most traffic), the
//     language detector otherwise (detectLanguage).
//  3. Topics: phrases of the ladder's topic map plus the built-in
//     multilingual lexicon (topics.yaml), each match read in its clause:
//     negation before it, dismissal after it ("pricing is fine"), past or
//     hypothetical framing, other word senses, and, for weaker words, whether
//     the sentence asks anything at all.
//  4. Human request: the same, over the human-request phrases.
//  5. Sentiment: VADER for English, the language's own word list for the
//     other five; an unread language is reported as unknown.
type textAnalyzer struct {
	topicOrder   []string
	phrases      []phrase
	byFirst      map[string][]int // first-word form -> phrase indexes
	prefixFirst  []int            // phrases whose first word is a wildcard or a prefix
	negations    cueSet           // single words; plus the ladder's own
	pseudo       map[string]bool
	asks         cueSet
	dismissals   cueSet
	notCurrent   cueSet // past framing
	hypothetical cueSet // conditions and some-day framing
	autoReply    cueSet
	notWith      cueSet // cue.topic is the topic it cancels
	vader        *vader
	sentiment    *sentimentLexicon
	stopwords    map[string]langSet
	scratch      sync.Pool // *analyzeScratch
}

type phrase struct {
	topic     string // "" for the human-request phrases of a ladder without a human_request topic
	human     bool
	text      string
	words     []wordPat
	negatable bool
	weak      bool    // a mention: counts only in a sentence that asks
	yield     bool    // a mention that yields to another topic's phrase in its sentence
	lang      langSet // 0: every language (the ladder's own phrases)
}

// wordPat matches one token: one of a few inflected forms, a prefix
// ("indemnif*") or any word ("*").
type wordPat struct {
	forms  []string
	prefix string
	any    bool
	amount bool // a money amount or a percentage ("$60k", "15%", "60.000 €")
}

// amountPhrase in a topic's phrases or mentions matches a money amount or
// a percentage.
const amountPhrase = "<amount>"

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

// Languages the built-in lexicon knows, as a bit set.
type langSet uint8

var languages = []string{"en", "es", "de", "fr", "pt", "it"}

const langEN langSet = 1

func langBit(code string) langSet {
	for i, l := range languages {
		if l == code {
			return 1 << i
		}
	}
	return 0
}

const allLangs langSet = 1<<6 - 1

//go:embed topics.yaml
var topicsYAML []byte

// builtinLexicon is topics.yaml decoded.
type builtinLexicon struct {
	Ask             map[string][]string `yaml:"ask"`
	Negations       map[string][]string `yaml:"negations"`
	PseudoNegations []string            `yaml:"pseudo_negations"`
	Dismissals      map[string][]string `yaml:"dismissals"`
	NotCurrent      map[string][]string `yaml:"not_current"`
	Hypothetical    map[string][]string `yaml:"hypothetical"`
	AutoReply       map[string][]string `yaml:"auto_reply"`
	HumanRequest    map[string][]string `yaml:"human_request"`
	Topics          map[string]struct {
		Yield    bool                `yaml:"yield"` // its mentions yield to another topic's phrase in the sentence
		Phrases  map[string][]string `yaml:"phrases"`
		Mentions map[string][]string `yaml:"mentions"`
		NotWith  map[string][]string `yaml:"not_with"`
	} `yaml:"topics"`
	Sentiment struct {
		Intensifiers map[string][]string           `yaml:"intensifiers"`
		Words        map[string]map[string]float64 `yaml:"words"`
	} `yaml:"sentiment"`
	Stopwords map[string][]string `yaml:"stopwords"`
}

var builtin = sync.OnceValue(func() *builtinLexicon {
	var b builtinLexicon
	if err := yaml.Unmarshal(topicsYAML, &b); err != nil {
		panic(fmt.Sprintf("ladder: the embedded topics.yaml does not parse: %v", err)) // a build defect, caught by every test
	}
	return &b
})

// BuiltinTopics lists the topic ids the built-in lexicon knows.
func BuiltinTopics() []string {
	ids := make([]string, 0, len(builtin().Topics)+1)
	for id := range builtin().Topics {
		ids = append(ids, id)
	}
	ids = append(ids, "human_request") // the built-in human-request phrases
	slices.Sort(ids)
	return ids
}

// cue is a multi-word cue (an ask, a dismissal, a past marker...).
type cue struct {
	text  string
	words []wordPat
	lang  langSet
	topic string // not_with only
}

// cueSet finds cues by their first word.
type cueSet struct {
	cues    []cue
	byFirst map[string][]int
	prefix  []int
}

func (cs *cueSet) add(text string, lang langSet, topic string) {
	toks := tokenizeOpt(nil, foldLower(text), true)
	if len(toks) == 0 {
		return
	}
	c := cue{text: text, lang: lang, topic: topic}
	for _, t := range toks {
		c.words = append(c.words, exactWord(t.s))
	}
	if cs.byFirst == nil {
		cs.byFirst = map[string][]int{}
	}
	i := len(cs.cues)
	cs.cues = append(cs.cues, c)
	if f := c.words[0]; f.prefix != "" || f.any {
		cs.prefix = append(cs.prefix, i)
		return
	}
	cs.byFirst[c.words[0].forms[0]] = append(cs.byFirst[c.words[0].forms[0]], i)
}

func (cs *cueSet) addAll(m map[string][]string, topic string) {
	for _, l := range languages { // in a fixed order
		for _, t := range m[l] {
			cs.add(t, langBit(l), topic)
		}
	}
}

// at returns the cue that starts at token i (the longest), if any, within
// one clause.
func (cs *cueSet) at(toks []token, i int, active langSet) *cue {
	var best *cue
	try := func(k int) {
		c := &cs.cues[k]
		if c.lang != 0 && c.lang&active == 0 || i+len(c.words) > len(toks) {
			return
		}
		for j := range c.words {
			if j > 0 && toks[i+j].brk {
				return
			}
			if !c.words[j].match(toks[i+j].s) {
				return
			}
		}
		if best == nil || len(c.words) > len(best.words) {
			best = c
		}
	}
	for _, k := range cs.byFirst[toks[i].s] {
		try(k)
	}
	for _, k := range cs.prefix {
		try(k)
	}
	return best
}

func newTextAnalyzer(f *fileLadder) *textAnalyzer {
	b := builtin()
	t := &textAnalyzer{
		topicOrder: f.topicOrder,
		byFirst:    map[string][]int{},
		pseudo:     map[string]bool{},
		vader:      sharedVader(),
		sentiment:  sharedSentiment(),
		stopwords:  map[string]langSet{},
	}
	t.negations.addAll(b.Negations, "")
	for _, n := range f.Negations {
		t.negations.add(strings.TrimSpace(n), 0, "")
	}
	for _, p := range b.PseudoNegations {
		t.pseudo[foldLower(p)] = true
	}
	t.asks.addAll(b.Ask, "")
	t.dismissals.addAll(b.Dismissals, "")
	t.notCurrent.addAll(b.NotCurrent, "")
	t.hypothetical.addAll(b.Hypothetical, "")
	t.autoReply.addAll(b.AutoReply, "")
	for l, words := range b.Stopwords {
		for _, w := range words {
			t.stopwords[foldLower(w)] |= langBit(l)
		}
	}
	_, hasHumanTopic := f.Topics["human_request"]
	for _, id := range f.topicOrder {
		tp := f.Topics[id]
		neg := tp.Negation == nil || *tp.Negation
		human := id == "human_request"
		for _, ph := range tp.Phrases {
			t.add(phrase{topic: id, human: human, text: ph, negatable: neg})
		}
		for _, ph := range tp.Mentions {
			t.add(phrase{topic: id, human: human, text: ph, negatable: neg, weak: true})
		}
		for _, w := range tp.NotWith {
			t.notWith.add(w, 0, id)
		}
		bt, ok := b.Topics[id]
		if !ok || (tp.Builtin != nil && !*tp.Builtin) {
			continue
		}
		for _, l := range languages {
			for _, ph := range bt.Phrases[l] {
				t.add(phrase{topic: id, human: human, text: ph, negatable: neg, lang: langBit(l)})
			}
			for _, ph := range bt.Mentions[l] {
				t.add(phrase{topic: id, human: human, text: ph, negatable: neg, weak: true, yield: bt.Yield, lang: langBit(l)})
			}
			for _, w := range bt.NotWith[l] {
				t.notWith.add(w, langBit(l), id)
			}
		}
	}
	humanTopic := ""
	if hasHumanTopic {
		humanTopic = "human_request"
	}
	for _, l := range languages {
		for _, ph := range b.HumanRequest[l] {
			t.add(phrase{topic: humanTopic, human: true, text: ph, negatable: true, lang: langBit(l)})
		}
	}
	if f.Human != nil {
		for _, ph := range f.Human.Phrases {
			t.add(phrase{topic: humanTopic, human: true, text: ph, negatable: true})
		}
	}
	return t
}

func (t *textAnalyzer) add(p phrase) {
	if p.text == amountPhrase {
		p.words = []wordPat{{amount: true}}
		t.prefixFirst = append(t.prefixFirst, len(t.phrases))
		t.phrases = append(t.phrases, p)
		return
	}
	toks := tokenizeOpt(nil, foldLower(p.text), true)
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

// Signals analyzes one buyer message. Topic ids come out in the order of
// the ladder's topic map.
func (l *Ladder) Signals(text string) handoff.Signals { return l.text.analyze(text) }

// A match of one phrase, and what became of it.
type match struct {
	p          *phrase
	start, end int // token range
	sentence   int
	clause     int
	dropped    bool
}

type analyzeScratch struct {
	toks      []token
	sentOf    []int32 // token -> sentence
	clauseOf  []int32 // token -> clause
	sentAsk   []bool
	clauseNC  []bool
	clauseLen []int32
	matches   []match
}

type senseKey struct {
	sentence int
	topic    string
}

// maxNotes bounds the words the trace keeps about what was set aside.
const maxNotes = 10

func (t *textAnalyzer) analyze(text string) handoff.Signals {
	sig := handoff.Signals{Topics: []string{}}
	if strings.TrimSpace(text) == "" {
		return sig
	}
	prep := prepareText(text)
	notes := prep.notes
	words := prep.newWords
	if strings.TrimSpace(words) == "" {
		sig.Notes = notes
		return sig
	}
	sc, _ := t.scratch.Get().(*analyzeScratch)
	if sc == nil {
		sc = &analyzeScratch{}
	}
	defer func() {
		clear(sc.toks)
		clear(sc.matches)
		t.scratch.Put(sc)
	}()
	lower := foldLower(words)
	toks := tokenizeOpt(sc.toks[:0], lower, false)
	sc.toks = toks

	lang := t.detectLanguage(words, toks)
	sig.Language = lang
	active := activeLanguages(lang)
	if c := t.autoReplyAt(toks, active); c != "" {
		// An out-of-office or other automatic reply asks for nothing,
		// whatever topics its text names.
		sig.Notes = append(notes, fmt.Sprintf("an automatic reply (%q): no topics read", c))
		return sig
	}

	// Sentences and clauses.
	sc.sentOf, sc.clauseOf = sc.sentOf[:0], sc.clauseOf[:0]
	sc.sentAsk, sc.clauseNC, sc.clauseLen = sc.sentAsk[:0], sc.clauseNC[:0], sc.clauseLen[:0]
	sent, clause := -1, -1
	for i := range toks {
		if i == 0 || toks[i].sent {
			sent++
			sc.sentAsk = append(sc.sentAsk, false)
		}
		if i == 0 || toks[i].brk {
			clause++
			sc.clauseNC = append(sc.clauseNC, false)
			sc.clauseLen = append(sc.clauseLen, 0)
		}
		sc.sentOf = append(sc.sentOf, int32(sent))
		sc.clauseOf = append(sc.clauseOf, int32(clause))
		sc.clauseLen[clause]++
		if toks[i].q {
			sc.sentAsk[sent] = true
		}
	}
	var ncCue = make([]string, len(sc.clauseNC))
	hypo := make([]bool, len(sc.clauseNC))
	for i := range toks {
		if c := t.asks.at(toks, i, active); c != nil && t.negatedBefore(toks, i, active) == "" {
			// "no need", "pas besoin": a negated ask cue asks nothing.
			sc.sentAsk[sc.sentOf[i]] = true
		}
		if c := t.notCurrent.at(toks, i, active); c != nil {
			k := sc.clauseOf[i]
			sc.clauseNC[k] = true
			ncCue[k] = c.text
		}
		if c := t.hypothetical.at(toks, i, active); c != nil {
			k := sc.clauseOf[i]
			sc.clauseNC[k], hypo[k] = true, true
			ncCue[k] = c.text
		}
	}
	// A short framing clause ("Last year, ...") frames the clause after it
	// in the same sentence; a condition ("if we ever grew to 100 people,")
	// frames the clause after it even across a Spanish "¿".
	for k := 0; k+1 < len(sc.clauseNC); k++ {
		if !sc.clauseNC[k] || sc.clauseNC[k+1] {
			continue
		}
		first := firstTokenOfClause(sc.clauseOf, k+1)
		sameSentence := first >= 0 && !toks[first].sent
		if sameSentence && sc.clauseLen[k] <= 3 || hypo[k] && (sameSentence || first >= 0 && toks[first].q) {
			sc.clauseNC[k+1] = true
			ncCue[k+1] = ncCue[k]
			k++
		}
	}
	// Other senses, per sentence and topic.
	var senses map[senseKey]string // the cue that gives a topic another sense in a sentence
	for i := range toks {
		if c := t.notWith.at(toks, i, active); c != nil {
			if senses == nil {
				senses = map[senseKey]string{}
			}
			senses[senseKey{int(sc.sentOf[i]), c.topic}] = c.text
		}
	}

	// Phrase matches.
	ms := sc.matches[:0]
	for i := range toks {
		if toks[i].amount {
			for _, k := range t.prefixFirst {
				if p := &t.phrases[k]; p.words[0].amount && (p.lang == 0 || p.lang&active != 0) {
					ms = append(ms, match{p: p, start: i, end: i + 1, sentence: int(sc.sentOf[i]), clause: int(sc.clauseOf[i])})
				}
			}
		}
		cands := t.byFirst[toks[i].s]
		for k, n := 0, len(cands)+len(t.prefixFirst); k < n; k++ {
			var p *phrase
			if k < len(cands) {
				p = &t.phrases[cands[k]]
			} else {
				p = &t.phrases[t.prefixFirst[k-len(cands)]]
			}
			if p.words[0].amount || p.lang != 0 && p.lang&active == 0 || !matchAt(p.words, toks, i) {
				continue
			}
			ms = append(ms, match{p: p, start: i, end: i + len(p.words), sentence: int(sc.sentOf[i]), clause: int(sc.clauseOf[i])})
		}
	}
	sc.matches = ms
	// A match inside a longer one of the same topic is part of it
	// ("cost" in "what would it cost"), and so is a mention inside a longer
	// phrase of another topic ("contract" in "send the contract so we can
	// sign"). Of two matches of one topic over the same words, the first
	// stands.
	for a := range ms {
		for b := range ms {
			if a == b || ms[b].dropped || ms[b].start > ms[a].start || ms[b].end < ms[a].end {
				continue
			}
			la, lb := ms[a].end-ms[a].start, ms[b].end-ms[b].start
			same := ms[b].p.topic == ms[a].p.topic && ms[b].p.human == ms[a].p.human
			if same && (lb > la || lb == la && b < a) || !same && ms[a].p.weak && lb > la {
				ms[a].dropped = true
				break
			}
		}
	}

	// A sentence whose ask a phrase of one topic carries does not also ask
	// for the topics only mentioned in it ("what will this run us on an
	// annual contract?" is a price question, not a contract one).
	strongIn := map[senseKey]bool{}
	for i := range ms {
		if !ms[i].dropped && !ms[i].p.weak && ms[i].p.topic != "" {
			strongIn[senseKey{ms[i].sentence, ms[i].p.topic}] = true
		}
	}
	otherStrong := func(m *match) bool {
		for k := range strongIn {
			if k.sentence == m.sentence && k.topic != m.p.topic {
				return true
			}
		}
		return false
	}

	type hit struct{ pos, neg int }
	var hits map[string]*hit
	addNeg := func(topic string) {
		if hits == nil {
			hits = map[string]*hit{}
		}
		if hits[topic] == nil {
			hits[topic] = &hit{}
		}
		hits[topic].neg++
	}
	humanPos := false
	note := func(format string, args ...any) {
		if len(notes) < maxNotes {
			notes = append(notes, fmt.Sprintf(format, args...))
		}
	}
	for i := range ms {
		m := &ms[i]
		if m.dropped {
			continue
		}
		label := m.p.topic
		if label == "" {
			label = "human request"
		}
		if senses != nil {
			if c, ok := senses[senseKey{m.sentence, m.p.topic}]; ok {
				note("%s: %q read in another sense (%q)", label, m.p.text, c)
				continue
			}
		}
		asked := sc.sentAsk[m.sentence]
		if m.p.weak && !asked {
			if c := t.negatedBefore(toks, m.start, active); c != "" && m.p.negatable && m.p.topic != "" {
				// "We don't need a contract yet": negated, and said so.
				note("%s: %q negated by %q", label, m.p.text, c)
				addNeg(m.p.topic)
				continue
			}
			note("%s: %q mentioned, nothing asked", label, m.p.text)
			continue
		}
		if m.p.yield && otherStrong(m) {
			note("%s: %q mentioned in another topic's question", label, m.p.text)
			continue
		}
		why := ""
		if m.p.negatable {
			if c := t.negatedBefore(toks, m.start, active); c != "" {
				why = fmt.Sprintf("negated by %q", c)
			} else if c := t.dismissedAfter(toks, m.end, active); c != "" {
				why = fmt.Sprintf("dismissed (%q)", c)
			} else if sc.clauseNC[m.clause] {
				why = fmt.Sprintf("past or hypothetical (%q)", ncCue[m.clause])
			}
		}
		if why != "" {
			note("%s: %q %s", label, m.p.text, why)
		}
		if m.p.human && why == "" {
			humanPos = true
		}
		if m.p.topic == "" {
			continue
		}
		h := hits[m.p.topic]
		if h == nil {
			if hits == nil {
				hits = map[string]*hit{}
			}
			h = &hit{}
			hits[m.p.topic] = h
		}
		if why != "" {
			h.neg++
			continue
		}
		h.pos++
		if sig.Matches == nil {
			sig.Matches = map[string][]string{}
		}
		if !slices.Contains(sig.Matches[m.p.topic], m.p.text) {
			sig.Matches[m.p.topic] = append(sig.Matches[m.p.topic], m.p.text)
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
	switch {
	case lang == "en" || lang == "" && isASCII(words):
		sig.Sentiment = math.Round(t.vader.compound(words)*10000) / 10000
		sig.SentimentKnown = true
	case lang != "":
		sig.Sentiment = math.Round(t.sentiment.score(lang, toks, t)*10000) / 10000
		sig.SentimentKnown = true
	}
	sig.Notes = notes
	return sig
}

// firstTokenOfClause returns the index of clause k's first token, or -1.
func firstTokenOfClause(clauseOf []int32, k int) int {
	i, _ := slices.BinarySearch(clauseOf, int32(k))
	if i < len(clauseOf) && clauseOf[i] == int32(k) {
		return i
	}
	return -1
}

func matchAt(words []wordPat, toks []token, i int) bool {
	if i+len(words) > len(toks) {
		return false
	}
	for j := range words {
		if j > 0 && toks[i+j].brk {
			return false
		}
		if !words[j].match(toks[i+j].s) {
			return false
		}
	}
	return true
}

// negationWindow is how many words before a match a negation cue reaches,
// within the clause ("no need for anyone from your team to call me").
const negationWindow = 8

// negatedBefore returns the negation cue that governs the match starting at
// token i, or "".
func (t *textAnalyzer) negatedBefore(toks []token, i int, active langSet) string {
	for j := i - 1; j >= 0 && j >= i-negationWindow; j-- {
		if toks[j+1].brk {
			break // j is in an earlier clause
		}
		c := t.negations.at(toks, j, active)
		if c == nil || j+len(c.words) > i {
			continue
		}
		if next := j + len(c.words); next < len(toks) && t.pseudo[toks[next].s] {
			continue // "don't know the price"
		}
		return c.text
	}
	return ""
}

// autoReplyWindow is how far into a message an automatic-reply marker
// counts ("Automatic reply: ...", "I am out of the office until ...").
const autoReplyWindow = 40

func (t *textAnalyzer) autoReplyAt(toks []token, active langSet) string {
	for i := 0; i < len(toks) && i < autoReplyWindow; i++ {
		if c := t.autoReply.at(toks, i, active); c != nil {
			return c.text
		}
	}
	return ""
}

// dismissalWindow is how many words after a match a dismissal may start.
const dismissalWindow = 4

func (t *textAnalyzer) dismissedAfter(toks []token, end int, active langSet) string {
	for j := end; j < len(toks) && j < end+dismissalWindow; j++ {
		if toks[j].brk && j > end {
			break // a dismissal may open the next clause ("Security: all good")
		}
		if c := t.dismissals.at(toks, j, active); c != nil {
			if t.negatedBefore(toks, j, active) != "" && j > end {
				return "" // "doesn't work for us" is no dismissal
			}
			return c.text
		}
	}
	return ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
