package textprep

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Allocation-free, case-insensitive matching helpers. Phrases are lower case.

func hasPrefixFold(s, p string) bool {
	if len(s) < len(p) {
		return false
	}
	if len(p) > 0 && p[0] < utf8.RuneSelf && lowerASCII(s[0]) != p[0] {
		return false // the common case, without a call
	}
	return strings.EqualFold(s[:len(p)], p)
}

func containsFold(s, p string) bool {
	if len(p) == 0 {
		return true
	}
	c := p[0]
	ascii := c < utf8.RuneSelf
	for i := 0; i+len(p) <= len(s); i++ {
		if ascii && lowerASCII(s[i]) != c {
			continue
		}
		if strings.EqualFold(s[i:i+len(p)], p) {
			return true
		}
	}
	return false
}

func lowerASCII(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

func anyPrefixFold(s string, ps []string) bool {
	for _, p := range ps {
		if hasPrefixFold(s, p) {
			return true
		}
	}
	return false
}

func anyContainsFold(s string, ps []string) bool {
	for _, p := range ps {
		if containsFold(s, p) {
			return true
		}
	}
	return false
}

// trimSpace trims ASCII and Unicode white space, including the no-break space
// some clients put before ':' in French headers.
func trimSpace(s string) string { return strings.TrimSpace(s) }

// trimDecor strips the decoration around marker lines: dashes, underscores,
// equals signs, asterisks, spaces and a trailing ':'.
func trimDecor(s string) string {
	return strings.Trim(s, "-_=*~#: \t\u00a0")
}

// words counts space-separated words.
func words(s string) int {
	n, in := 0, false
	for i := 0; i < len(s); i++ {
		sp := s[i] == ' ' || s[i] == '\t'
		if !sp && !in {
			n++
		}
		in = !sp
	}
	return n
}

// letterWords counts words with a letter in them: "T +1 555 010 0199" is
// one word long.
func letterWords(s string) int {
	n := 0
	for w := range strings.FieldsSeq(s) {
		for _, c := range w {
			if unicode.IsLetter(c) {
				n++
				break
			}
		}
	}
	return n
}

func digits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if '0' <= s[i] && s[i] <= '9' {
			n++
		}
	}
	return n
}

// isRule reports a line made only of '-', '_', '=', '*' or '~' (at least 2).
func isRule(s string) bool {
	if len(s) < 2 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '-', '_', '=', '*', '~', ' ':
		default:
			return false
		}
	}
	return true
}

// isQuoteLine reports a "> " quoted line. ">50 seats" (a buyer's "more than
// 50") is not a quote: the '>' must be followed by a space, another '>', or
// nothing.
func isQuoteLine(t string) bool {
	if len(t) == 0 || t[0] != '>' {
		return false
	}
	if len(t) == 1 {
		return true
	}
	switch t[1] {
	case ' ', '>', '\t', '|':
		return true
	}
	return false
}

// nameLike reports a line that looks like a person's name: one to four
// capitalised words (particles such as "de", "van", "von" allowed after the
// first), optionally led by a dash.
func nameLike(s string) bool {
	s = strings.Trim(s, "*_") // *Ana Ruiz* from HTML bold
	s = strings.TrimLeft(s, "-–— \t")
	if i := strings.Index(s, " ("); i > 0 && strings.HasSuffix(s, ")") {
		s = s[:i] // "Ana Ruiz (she/her)"
	}
	s = strings.TrimRight(s, " ,.*_\t")
	if len(s) == 0 || len(s) > 40 {
		return false
	}
	n := 0
	for w := range strings.FieldsSeq(s) {
		n++
		if n > 4 {
			return false
		}
		r, _ := utf8.DecodeRuneInString(w)
		if !unicode.IsUpper(r) {
			if n == 1 || !isParticle(w) {
				return false
			}
		}
		for _, c := range w {
			if !unicode.IsLetter(c) && c != '.' && c != '-' && c != '\'' && c != '’' {
				return false
			}
		}
	}
	return n > 0
}

func isParticle(w string) bool {
	switch strings.ToLower(w) {
	case "de", "da", "do", "dos", "das", "del", "della", "di", "van", "von", "der", "den", "la", "le", "y", "e":
		return true
	}
	return false
}

// contactLike reports a line carrying contact or role details: a phone
// number, an e-mail address, a web address, a '|' or '·' separated title
// line, or a job-title or company-form word.
func contactLike(s string) bool {
	if digits(s) >= 7 {
		return true
	}
	if strings.Contains(s, "@") || containsFold(s, "www.") || containsFold(s, "http") ||
		containsFold(s, ".com") {
		return true
	}
	if strings.ContainsAny(s, "|·•") {
		return true
	}
	return anyContainsFold(s, titleWords)
}

// sigLine reports a short line that can sit in a signature block: no
// question, not a sentence, not a long line.
func sigLine(s string) bool {
	if len(s) > 80 || letterWords(s) > 8 {
		return false
	}
	last := s[len(s)-1]
	contact := strings.Contains(s, "@") || digits(s) >= 5 || containsFold(s, "www.") || containsFold(s, "http")
	switch last {
	case '?', ':':
		return false // a question, or a line introducing a list
	case '.', '!':
		// "Globex Inc." and "Globex S.L." end with a dot; sentences do too.
		i := strings.LastIndexAny(s, " \t")
		w := s[i+1 : len(s)-1]
		if len(w) > 4 && !strings.Contains(w, ".") && !contact {
			return false
		}
	}
	if contact {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s)
	if unicode.IsLower(r) {
		return false
	}
	// "Head of Procurement" has one lower-case word in three; "We want to
	// buy 50 seats" has four in six.
	n, lower := 0, 0
	for w := range strings.FieldsSeq(s) {
		n++
		if r, _ := utf8.DecodeRuneInString(w); unicode.IsLower(r) {
			lower++
		}
	}
	return n < 4 || lower*2 <= n
}

// strongContact reports a phone number, an e-mail or web address, or a job
// title or company-form word: evidence that a name block is a signature.
func strongContact(s string) bool {
	return digits(s) >= 7 || strings.Contains(s, "@") || containsFold(s, "www.") ||
		containsFold(s, "http") || anyContainsFold(s, titleWords)
}
