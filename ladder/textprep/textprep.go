package textprep

import (
	"strings"
)

// Kind names what a Cut removed from the buyer's new words.
type Kind uint8

const (
	// KindQuote is a quoted reply: "> " lines, a reply header and the thread
	// below it, an Outlook header block or an "Original Message" separator
	// with what follows.
	KindQuote Kind = iota + 1
	// KindForward is a forwarded message under the buyer's own note.
	KindForward
	// KindHeader is the header of a forwarded (or quoted) message that came
	// with no note above it; its body is kept as the buyer's words.
	KindHeader
	// KindSignature is a signature: sign-off with name, title, company and
	// contact lines, a "-- " block, or a mobile footer.
	KindSignature
	// KindDisclaimer is a confidentiality or legal footer.
	KindDisclaimer
	// KindBanner is a mail gateway's "[External]" or "CAUTION: …" banner at
	// the top.
	KindBanner
)

func (k Kind) String() string {
	switch k {
	case KindQuote:
		return "quote"
	case KindForward:
		return "forward"
	case KindHeader:
		return "header"
	case KindSignature:
		return "signature"
	case KindDisclaimer:
		return "disclaimer"
	case KindBanner:
		return "banner"
	}
	return "content"
}

// Cut is one removed span: text[Start:End] of the input, of Lines non-blank
// lines.
type Cut struct {
	Kind       Kind
	Start, End int
	Lines      int
}

// Prepared is a message split into the buyer's new words and what was cut.
type Prepared struct {
	// New is what signals read: the buyer's new words, trimmed. Its bytes are
	// the input's, in order; pieces the cuts separated are joined by "\n".
	New string
	// Quoted holds quoted replies, forwarded messages under a note, and the
	// headers of a message forwarded without a note.
	Quoted string
	// Signature, Disclaimer and Banner hold what was cut of each kind.
	Signature, Disclaimer, Banner string
	// Forwarded reports a forwarded message. With a note above it, New is
	// the note; without one, New is the forwarded body minus its headers.
	Forwarded bool
	// Cuts lists the removed spans in input order.
	Cuts []Cut
}

// Changed reports whether anything was cut.
func (p Prepared) Changed() bool { return len(p.Cuts) > 0 }

type line struct {
	start, end int    // raw bounds in the text; end excludes '\n'
	t          string // trimmed content
	skip       int    // leading bytes cut as a banner tag
	kind       Kind   // 0: the buyer's words
}

type prep struct {
	text      string
	lines     []line
	forwarded bool
	seq       []int
}

const maxDepth = 3

// Prepare splits text into the buyer's new words and the quoted replies,
// forwarded headers, signatures, disclaimers and banners around them. It is
// safe on any input (chat turns, CRM notes, whole emails) and never fails:
// with no markers, New is the trimmed text.
func Prepare(text string) Prepared {
	if strings.IndexByte(text, '\n') < 0 {
		// One line (most chat turns): only a "> " quote or a leading
		// "[External]" tag can be cut, and a one-line message has no
		// signature.
		if t := trimSpace(text); t == "" || (t[0] != '>' && t[0] != '[') {
			return Prepared{New: t}
		}
	}
	lines := make([]line, 0, strings.Count(text, "\n")+1)
	p := prep{text: text, lines: splitLines(text, lines)}
	p.section(0, len(p.lines), 0)
	return p.result()
}

func splitLines(text string, ls []line) []line {
	for start := 0; start <= len(text); {
		end := strings.IndexByte(text[start:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += start
		}
		ls = append(ls, line{start: start, end: end, t: trimSpace(text[start:end])})
		start = end + 1
	}
	return ls
}

func (p *prep) mark(lo, hi int, k Kind) {
	for i := lo; i < hi; i++ {
		p.lines[i].kind = k
	}
}

func (p *prep) nextNonBlank(i, hi int) int {
	for i < hi && p.lines[i].t == "" {
		i++
	}
	return i
}

type boundary uint8

const (
	bNone boundary = iota
	bReply
	bSeparator
	bHeaders
	bForward
)

// section classifies lines[lo:hi]: the quoted thread or forwarded message
// first, then the signature and disclaimer at the end of the buyer's words.
func (p *prep) section(lo, hi, depth int) {
	if depth == 0 {
		lo = p.banner(lo, hi)
	}
	bodyEnd := hi
	hasContent := false
	// quoting: a reply header with "> " lines under it was seen, so any
	// line starting with '>' is quoted (some clients write ">text").
	quoting := false
scan:
	for i := lo; i < hi; {
		l := &p.lines[i]
		if l.kind != 0 || l.t == "" {
			i++
			continue
		}
		if isQuoteLine(l.t) || (quoting && l.t[0] == '>') {
			l.kind = KindQuote
			i++
			continue
		}
		var b boundary
		var end int
		if depth < maxDepth {
			b, end = p.boundaryAt(i, hi)
		}
		switch b {
		case bNone:
			if !isMobileFooter(l.t) {
				hasContent = true
			}
			i++
			continue
		case bReply:
			if j := p.nextNonBlank(end, hi); j < hi && p.lines[j].t[0] == '>' {
				// Inline or bottom-quoted reply: the header and the "> "
				// lines are quoted, the lines between them are the buyer's.
				p.mark(i, end, KindQuote)
				quoting = true
				i = end
				continue
			}
			if hasContent {
				p.mark(i, hi, KindQuote)
				bodyEnd = i
				break scan
			}
			// The thread is all there is: keep its body as the buyer's.
			p.mark(i, end, KindHeader)
			p.section(end, hi, depth+1)
			bodyEnd = i
			break scan
		default:
			start := i
			if start > lo && p.lines[start-1].kind == 0 && isRule(p.lines[start-1].t) {
				start--
			}
			if hasContent {
				k := KindQuote
				if b == bForward || (b == bHeaders && p.subjectForwards(i, end)) {
					k = KindForward
					p.forwarded = true
				}
				p.mark(start, hi, k)
				bodyEnd = start
				break scan
			}
			// Nothing above the forward marker or header block: a pure
			// forward. Its body is what the buyer sends us.
			p.forwarded = true
			if b != bHeaders {
				end = p.headerLines(end, hi)
			}
			p.mark(start, end, KindHeader)
			p.section(end, hi, depth+1)
			bodyEnd = start
			break scan
		}
	}
	p.tail(lo, bodyEnd, bodyEnd < hi)
}

// boundaryAt reports whether a quoted thread or forwarded message starts at
// line i, and the line after its header.
func (p *prep) boundaryAt(i, hi int) (boundary, int) {
	t := p.lines[i].t
	if len(t) <= 80 {
		// Marker lines are decorated: "-----Original Message-----",
		// "Begin forwarded message:".
		if d := trimDecor(t); d != t {
			if phraseLine(d, forwardPhrases) {
				return bForward, i + 1
			}
			if phraseLine(d, separatorPhrases) {
				return bSeparator, i + 1
			}
		}
	}
	if k, v, ok := headerKey(t); ok && v != "" && keyIn(k, fromKeys) {
		n, j := 0, i+1
		for ; j < hi && j <= i+6; j++ {
			k2, _, ok := headerKey(p.lines[j].t)
			if !ok || !keyIn(k2, otherKeys) {
				break
			}
			n++
		}
		// Mail clients write at least two more keys (Sent/Date, To,
		// Subject); "From: Ana / To: Bob" in prose has one.
		if n >= 2 {
			return bHeaders, j
		}
	}
	if end := p.replyHeader(i, hi); end > i {
		return bReply, end
	}
	return bNone, 0
}

// phraseLine reports a marker line: d is one of the phrases, give or take
// two trailing bytes.
func phraseLine(d string, phrases []string) bool {
	for _, ph := range phrases {
		if hasPrefixFold(d, ph) && len(d)-len(ph) <= 2 {
			return true
		}
	}
	return false
}

// headerKey splits "Key: value" (also "*Key:* value" and the French
// "Key : value") when the key is short.
func headerKey(t string) (key, value string, ok bool) {
	c := strings.IndexByte(t, ':')
	if c <= 0 || c > 24 {
		return "", "", false
	}
	key = strings.Trim(t[:c], " *\t\u00a0")
	if key == "" || words(key) > 3 {
		return "", "", false
	}
	return key, strings.Trim(t[c+1:], " *\t\u00a0"), true
}

func keyIn(k string, keys []string) bool {
	for _, x := range keys {
		if strings.EqualFold(k, x) {
			return true
		}
	}
	return false
}

// headerLines skips the "From:/Date:/Subject:/To:" lines under a forward
// marker and returns the first body line.
func (p *prep) headerLines(i, hi int) int {
	j := p.nextNonBlank(i, hi)
	if j-i > 1 {
		return i
	}
	n := 0
	for ; j < hi; j++ {
		k, _, ok := headerKey(p.lines[j].t)
		if !ok || !(keyIn(k, fromKeys) || keyIn(k, otherKeys)) {
			break
		}
		n++
	}
	if n == 0 {
		return i
	}
	return j
}

// replyHeader reports a reply header ("On … wrote:" and its five other
// languages) starting at line i, wrapped over up to three lines, and returns
// the line after it (or i when there is none).
func (p *prep) replyHeader(i, hi int) int {
	t := p.lines[i].t
	if strings.HasSuffix(t, ":") {
		if isReplyHeader(t, "", "") {
			return i + 1
		}
		return i
	}
	if !anyPrefixFold(t, replyStarters) && !strings.Contains(t, "@") {
		return i
	}
	for n := 1; n <= 2 && i+n < hi; n++ {
		u := p.lines[i+n].t
		if u == "" || len(t)+len(u) > 300 {
			return i
		}
		if strings.HasSuffix(u, ":") {
			mid := ""
			if n == 2 {
				mid = p.lines[i+1].t
			}
			if isReplyHeader(t, mid, u) {
				return i + n + 1
			}
			return i
		}
	}
	return i
}

func isReplyHeader(first, mid, last string) bool {
	if len(first)+len(mid)+len(last) > 300 {
		return false
	}
	end := last
	if end == "" {
		end = first
	}
	if !hasReplyVerb(end) && !(mid != "" && hasReplyVerb(mid)) {
		return false
	}
	at := strings.Contains(first, "@") || strings.Contains(mid, "@") || strings.Contains(last, "@")
	if at {
		return true
	}
	// Without an address, a date or a time must be there: "On 03/03/2026
	// 10:00, Ana Ruiz wrote:", not "On Monday we wrote:".
	return anyPrefixFold(first, replyStarters) && (hasDateOrTime(first) || hasDateOrTime(mid) || hasDateOrTime(last))
}

// hasDateOrTime reports a four-digit year (19xx, 20xx) or an hh:mm time.
func hasDateOrTime(s string) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if '0' <= c && c <= '9' {
			run++
			continue
		}
		if run == 4 && (s[i-4] == '1' && s[i-3] == '9' || s[i-4] == '2' && s[i-3] == '0') {
			return true
		}
		if c == ':' && run >= 1 && run <= 2 && i+2 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) {
			return true
		}
		run = 0
	}
	return run == 4 && (s[len(s)-4] == '1' && s[len(s)-3] == '9' || s[len(s)-4] == '2' && s[len(s)-3] == '0')
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// banner cuts a mail gateway's banner at the top and returns the first line
// after it.
func (p *prep) banner(lo, hi int) int {
	i := p.nextNonBlank(lo, hi)
	for round := 0; round < 3 && i < hi; round++ {
		l := &p.lines[i]
		t := l.t
		if t[0] == '[' {
			if c := strings.IndexByte(t, ']'); c > 1 && c <= 24 && keyIn(trimSpace(t[1:c]), bannerTags) {
				rest := trimSpace(t[c+1:])
				if rest == "" {
					l.kind = KindBanner
					i = p.nextNonBlank(i+1, hi)
					continue
				}
				if !anyPrefixFold(strings.TrimLeft(rest, "*[ "), bannerLeads) {
					// "[External] Hi Bob, …": cut the tag, keep the words.
					raw := p.text[l.start:l.end]
					l.skip = strings.Index(raw, rest)
					return i
				}
			}
		}
		if !anyPrefixFold(strings.TrimLeft(t, "*[( "), bannerLeads) && !isTaggedLead(t) {
			break
		}
		j, hit := i, false
		for ; j < hi && j < i+6 && p.lines[j].t != ""; j++ {
			if anyContainsFold(bounded(p.lines[j].t), bannerWords) {
				hit = true
			}
		}
		if !hit || j >= hi {
			break
		}
		p.mark(i, j, KindBanner)
		i = p.nextNonBlank(j, hi)
	}
	return i
}

// isTaggedLead reports "[EXTERNAL] CAUTION: …" on one line.
func isTaggedLead(t string) bool {
	if t[0] != '[' {
		return false
	}
	c := strings.IndexByte(t, ']')
	if c < 0 || c > 24 {
		return false
	}
	return anyPrefixFold(strings.TrimLeft(t[c+1:], "*[ :"), bannerLeads)
}

func isMobileFooter(t string) bool {
	return len(t) <= 80 && anyPrefixFold(strings.TrimLeft(t, "-_ ("), mobileFooters)
}

// tail finds the disclaimer and the signature at the end of the buyer's
// words in lines[lo:hi], looking only at lines still unclassified. followed
// says a quoted or forwarded message comes after them.
func (p *prep) tail(lo, hi int, followed bool) {
	if p.seq == nil {
		p.seq = make([]int, 0, len(p.lines))
	}
	seq := p.seq[:0]
	for i := lo; i < hi; i++ {
		if p.lines[i].kind == 0 {
			seq = append(seq, i)
		}
	}
	t := func(k int) string { return p.lines[seq[k]].t }
	// breakBefore: position k starts a paragraph.
	breakBefore := func(k int) bool {
		return k == 0 || t(k-1) == "" || seq[k-1] != seq[k]-1
	}
	first := 0
	for first < len(seq) && t(first) == "" {
		first++
	}
	if first >= len(seq) {
		return
	}
	markSeq := func(a, b int, k Kind) { // positions a..b inclusive
		for x := a; x <= b; x++ {
			p.lines[seq[x]].kind = k
		}
	}

	// Disclaimer: from its first line to the end.
	limit := len(seq)
	para := 0
	for k := first + 1; k < len(seq); k++ {
		s := t(k)
		if s == "" {
			continue
		}
		if breakBefore(k) {
			para++
		}
		if para > 0 && p.isDisclaimerAt(seq, k) {
			start := k
			if start > first+1 && isRule(t(start-1)) {
				start--
			}
			// To the end of the buyer's words, but not across a cut
			// (inline replies go on below a quoted block).
			e := start
			for e+1 < len(seq) && seq[e+1] == seq[e]+1 {
				e++
			}
			for e > start && t(e) == "" {
				e--
			}
			markSeq(start, e, KindDisclaimer)
			limit = start
			break
		}
	}

	last := limit - 1
	prev := func(k int) int {
		for k--; k >= 0 && t(k) == ""; k-- {
		}
		return k
	}
	for last >= 0 && t(last) == "" {
		last--
	}
	// Mobile footers; one alone above a forward or a quote goes too.
	for last >= first && (last > first || followed) && isMobileFooter(t(last)) {
		markSeq(last, last, KindSignature)
		last = prev(last)
	}
	if last <= first {
		return
	}
	// "-- " delimiter, with signature lines under it ("Option A\n--\n
	// Option B is cheaper, right?" is a separator, not a signature).
	for k := first + 1; k <= last; k++ {
		if s := t(k); s == "--" || s == "—" {
			n := 0
			for f := k + 1; f <= last && n <= 8; f++ {
				if u := t(f); u != "" {
					n++
					if !sigLine(u) && !isMobileFooter(u) {
						n = 9
					}
				}
			}
			if n <= 8 {
				markSeq(k, last, KindSignature)
				return
			}
			break
		}
	}
	// Sign-off followed by name, title, company and contact lines.
	seen := 0
	for k := last; k > first && seen < 13; k-- {
		s := t(k)
		if s == "" {
			continue
		}
		seen++
		ok, gratitude, name := matchSignOff(s)
		if !ok {
			continue
		}
		end, n, valid := last, 0, true
		firstFollower, named := true, name
		for f := k + 1; f <= last; f++ {
			u := t(f)
			if u == "" {
				continue
			}
			if anyPrefixFold(u, psLeads) {
				end = prev(f)
				break
			}
			n++
			// The line under a sign-off is a name (or a title or contact
			// line); "Cheers\nWe want 50 seats" is not a signature. Under a
			// name, up to ten lines may follow (German imprints are long).
			if firstFollower {
				named = name || nameLike(u)
			}
			if n > maxFollowers(named) || !sigLine(u) || (firstFollower && !named && !(!gratitude && contactLike(u))) {
				valid = false
				break
			}
			firstFollower = false
		}
		if valid && gratitude && !name && n == 0 {
			valid = false // a bare "Thanks!" is content
		}
		if valid {
			markSeq(k, end, KindSignature)
			return
		}
	}
	// A trailing name-and-contact block with no sign-off: a name line, then
	// title, company, phone or address lines, at the very end.
	ps := -1
	for k := last; k > first && last-k < 6; k-- {
		s := t(k)
		if s == "" || !sigLine(s) {
			break
		}
		if lead := leadingName(s); nameLike(lead) && !anyContainsFold(lead, titleWords) {
			ps = k
		}
		if breakBefore(k) {
			break
		}
	}
	if ps < 0 {
		return
	}
	if b := prev(ps); b >= 0 {
		// "Next steps:" introduces a list, and a name inside a paragraph
		// follows the end of a sentence.
		pl := t(b)
		switch pl[len(pl)-1] {
		case ':':
			return
		case '.', '?', '!', ')':
		default:
			if !breakBefore(ps) {
				return
			}
		}
	}
	strong := false
	for k := ps; k <= last; k++ {
		if strongContact(t(k)) {
			strong = true
		}
	}
	if strong && (last > ps || strings.ContainsAny(t(ps), "|·•")) {
		markSeq(ps, last, KindSignature)
	}
}

// leadingName is the part of "Ana Ruiz | Contracts Manager" before the
// first separator.
func leadingName(s string) string {
	if i := strings.IndexAny(s, "|,·•–"); i > 0 {
		return s[:i]
	}
	if i := strings.Index(s, " - "); i > 0 {
		return s[:i]
	}
	return s
}

// isDisclaimerAt reports a disclaimer starting at position k of seq: a
// "think before you print" line, or a heading ("CONFIDENTIALITY NOTICE") or
// sentence ("This email and any attachments …") whose text speaks both of
// confidentiality and of the recipient. A buyer's own sentence about a
// confidential contract rarely does both.
func (p *prep) isDisclaimerAt(seq []int, k int) bool {
	s := strings.TrimLeft(p.lines[seq[k]].t, "*=-_#[( ")
	if len(s) <= 120 && anyPrefixFold(s, printFooters) {
		return true
	}
	head := anyPrefixFold(s, disclaimerHeads)
	if !head && !anyPrefixFold(s, disclaimerLeads) {
		return false
	}
	conf, rec := false, false
	for x, n := k, 0; x < len(seq) && n < 15; x++ {
		if x > k && seq[x] != seq[x-1]+1 {
			break
		}
		u := p.lines[seq[x]].t
		if u == "" {
			if !head {
				break // a sentence lead speaks for its own paragraph only
			}
			continue
		}
		n++
		u = bounded(u)
		conf = conf || anyContainsFold(u, confidentialWords)
		rec = rec || anyContainsFold(u, recipientWords)
		if conf && rec {
			return true
		}
	}
	return false
}

// matchSignOff reports a sign-off line ("Best,", "Kind regards", "Thanks,
// Ana"), whether it is a gratitude formula, and whether a name follows it on
// the same line.
func matchSignOff(t string) (ok, gratitude, name bool) {
	if len(t) > 50 {
		return false, false, false
	}
	s := strings.TrimRight(t, " ,.!;:-–—")
	for _, so := range signOffs {
		if !hasPrefixFold(s, so.phrase) {
			continue
		}
		rest := s[len(so.phrase):]
		if rest == "" {
			return true, so.gratitude, false
		}
		switch rest[0] {
		case ',', ' ', '!', '.', '-':
		default:
			continue
		}
		if nameLike(strings.TrimLeft(rest, " ,!.-–—")) {
			return true, so.gratitude, true
		}
	}
	return false, false, false
}

// subjectForwards reports a header block whose subject starts "FW:",
// "Fwd:", "WG:", "TR:", "RV:", "ENC:" or "I:": Outlook's forward.
func (p *prep) subjectForwards(lo, hi int) bool {
	for i := lo; i < hi; i++ {
		k, v, ok := headerKey(p.lines[i].t)
		if ok && keyIn(k, subjectKeys) && anyPrefixFold(v, forwardSubjects) {
			return true
		}
	}
	return false
}

// bounded limits the text phrase searches look at, so that one huge line
// costs no more than a normal paragraph.
func bounded(s string) string {
	const n = 1000
	if len(s) > n {
		return s[:n]
	}
	return s
}

// hasReplyVerb reports a "wrote" verb in s, also at its very start (a
// header wrapped just before "wrote:").
func hasReplyVerb(s string) bool {
	for _, v := range replyVerbs {
		if containsFold(s, v) || (v[0] == ' ' && hasPrefixFold(s, v[1:])) {
			return true
		}
	}
	return false
}

func maxFollowers(named bool) int {
	if named {
		return 10
	}
	return 6
}
