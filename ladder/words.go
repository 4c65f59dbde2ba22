package ladder

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// checkPhrase validates a topic phrase at load.
func checkPhrase(p string) string {
	toks := tokenizeOpt(nil, foldLower(p), true)
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

// exactWord matches one form only: cue words (negations, ask cues) are
// not inflected.
func exactWord(w string) wordPat {
	if w == "*" {
		return wordPat{any: true}
	}
	if p, ok := strings.CutSuffix(w, "*"); ok {
		return wordPat{prefix: p}
	}
	return wordPat{forms: []string{w}}
}

func isVowel(b byte) bool { return strings.IndexByte("aeiou", b) >= 0 }

type token struct {
	s    string
	brk  bool // a clause boundary (punctuation, newline) comes before it
	sent bool // a sentence boundary (. ! ? ; newline) comes before it
	q    bool // a question mark (? or ¿) stands next to it
	// amount: a currency sign or a percent sign stands next to this
	// number ("$60k", "15%", "60.000 €").
	amount bool
}

// tokenize splits folded text (foldLower) into words: letters and digits,
// with inner apostrophes kept ("don't"), and French and Italian elisions
// split off ("l'ufficio" -> "l'" "ufficio"). Punctuation that ends a clause
// or a sentence marks the next token.
func tokenize(s string) []token { return tokenizeOpt(nil, s, false) }

// elisions are the clitics split off before an apostrophe.
var elisions = map[string]bool{
	"l": true, "d": true, "n": true, "j": true, "s": true, "c": true, "m": true, "t": true, "qu": true,
	"dell": true, "all": true, "nell": true, "sull": true, "dall": true, "un": true, "quell": true,
}

func tokenizeOpt(toks []token, s string, wildcards bool) []token {
	if toks == nil {
		toks = make([]token, 0, len(s)/5+1)
	}
	brk, sent, qNext, money := false, false, false, false
	i := 0
	for i < len(s) {
		r, n := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		if !isWordRune(r) && !(wildcards && r == '*') {
			switch r {
			case '.', '!', ';', '\n':
				brk, sent = true, true
			case '?':
				brk, sent = true, true
				if len(toks) > 0 {
					toks[len(toks)-1].q = true
				}
			case '¿':
				brk, sent, qNext = true, true, true
			case ',', ':', '(', ')', '"', '—', '–', '¡':
				brk = true
			case '$', '€', '£':
				money = true
				if len(toks) > 0 && isDigitString(toks[len(toks)-1].s) && i > 0 && s[i-1] == ' ' {
					toks[len(toks)-1].amount = true // "60.000 €"
				}
			case '%':
				if len(toks) > 0 && isDigitString(toks[len(toks)-1].s) {
					toks[len(toks)-1].amount = true
				}
			}
			i += n
			continue
		}
		start := i
		for i < len(s) {
			c := s[i]
			if c < utf8.RuneSelf && asciiWord[c] {
				i++
				continue
			}
			r, n = rune(c), 1
			if c >= utf8.RuneSelf {
				r, n = utf8.DecodeRuneInString(s[i:])
				if isWordRune(r) {
					i += n
					continue
				}
			}
			if r == '\'' && i+n < len(s) && isWordByteStart(s[i+n:]) {
				if elisions[s[start:i]] {
					break // "l'" ends here; the word after it is the next token
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
		if i < len(s) && s[i] == '\'' && elisions[w] {
			i++
			w = s[start:i]
		}
		if w == "but" || w == "however" || w == "although" || w == "though" || w == "pero" || w == "aber" ||
			w == "mais" || w == "ma" || w == "sondern" || w == "pourtant" {
			brk = true
		}
		toks = append(toks, token{s: w, brk: brk, sent: sent, q: qNext, amount: money && isDigitString(w)})
		brk, sent, qNext, money = false, false, false, false
		if w == "but" || w == "however" || w == "although" || w == "though" {
			brk = true
		}
	}
	return toks
}

// isDigitString reports whether w starts with a digit ("60", "60k", "1m").
func isDigitString(w string) bool { return w != "" && w[0] >= '0' && w[0] <= '9' }

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

// foldLower lower-cases s and folds the Latin accents and ligatures of the
// six languages the analyzer reads (costaría -> costaria, für -> fur,
// ß -> ss), and curly apostrophes to straight ones, so phrases match with
// or without accents. ASCII text is only lower-cased.
func foldLower(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		r = unicode.ToLower(r)
		if r < utf8.RuneSelf {
			b.WriteRune(r)
			continue
		}
		switch r {
		case 'à', 'á', 'â', 'ã', 'ä', 'å', 'ā':
			b.WriteByte('a')
		case 'ç':
			b.WriteByte('c')
		case 'è', 'é', 'ê', 'ë', 'ē':
			b.WriteByte('e')
		case 'ì', 'í', 'î', 'ï':
			b.WriteByte('i')
		case 'ñ':
			b.WriteByte('n')
		case 'ò', 'ó', 'ô', 'õ', 'ö', 'ø':
			b.WriteByte('o')
		case 'ù', 'ú', 'û', 'ü':
			b.WriteByte('u')
		case 'ý', 'ÿ':
			b.WriteByte('y')
		case 'ß':
			b.WriteString("ss")
		case 'œ':
			b.WriteString("oe")
		case 'æ':
			b.WriteString("ae")
		case '’', '‘', 'ʼ':
			b.WriteByte('\'')
		case '«', '»', '“', '”', '„':
			b.WriteByte('"')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
