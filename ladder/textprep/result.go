package textprep

import (
	"strconv"
	"strings"
)

func (p *prep) result() Prepared {
	out := Prepared{Forwarded: p.forwarded}
	ls := p.lines

	// New: runs of unclassified lines, each trimmed, joined by "\n".
	var pieces [4]string
	np := 0
	var b strings.Builder
	add := func(s string) {
		if s == "" {
			return
		}
		if np < len(pieces) {
			pieces[np] = s
		} else {
			if np == len(pieces) {
				b.Grow(len(p.text))
				b.WriteString(strings.Join(pieces[:], "\n"))
			}
			b.WriteByte('\n')
			b.WriteString(s)
		}
		np++
	}
	for i := 0; i < len(ls); {
		if ls[i].kind != 0 {
			i++
			continue
		}
		j := i
		for j+1 < len(ls) && ls[j+1].kind == 0 {
			j++
		}
		add(trimSpace(p.text[ls[i].start+ls[i].skip : ls[j].end]))
		i = j + 1
	}
	switch {
	case np == 1:
		out.New = pieces[0]
	case np > len(pieces):
		out.New = b.String()
	case np > 1:
		out.New = strings.Join(pieces[:np], "\n")
	}

	// Cuts, in input order.
	for i := 0; i < len(ls); {
		l := ls[i]
		if l.kind == 0 {
			if l.skip > 0 {
				out.Cuts = append(out.Cuts, Cut{Kind: KindBanner, Start: l.start, End: l.start + len(trimRight(p.text[l.start:l.start+l.skip])), Lines: 1})
			}
			i++
			continue
		}
		// A group runs over lines of one kind, and over blank lines
		// between two such lines ("On … wrote:", blank, "> …").
		j, last, n := i, -1, 0
		for j < len(ls) {
			if ls[j].kind == l.kind {
				if ls[j].t != "" {
					last = j
					n++
				}
				j++
				continue
			}
			m := j
			for m < len(ls) && ls[m].kind == 0 && ls[m].t == "" && ls[m].skip == 0 {
				m++
			}
			if m == j || m == len(ls) || ls[m].kind != l.kind {
				break
			}
			j = m
		}
		if n > 0 {
			start := ls[i].start
			for k := i; k <= last && ls[k].t == ""; k++ {
				start = ls[k+1].start
			}
			out.Cuts = append(out.Cuts, Cut{Kind: l.kind, Start: start, End: ls[last].end, Lines: n})
		}
		i = j
	}
	out.Quoted = p.joinCuts(out.Cuts, KindQuote, KindForward, KindHeader)
	out.Signature = p.joinCuts(out.Cuts, KindSignature)
	out.Disclaimer = p.joinCuts(out.Cuts, KindDisclaimer)
	out.Banner = p.joinCuts(out.Cuts, KindBanner)
	return out
}

func trimRight(s string) string { return strings.TrimRight(s, " \t\r\u00a0") }

func (p *prep) joinCuts(cuts []Cut, kinds ...Kind) string {
	var first string
	n := 0
	var b strings.Builder
	for _, c := range cuts {
		if !hasKind(kinds, c.Kind) {
			continue
		}
		s := strings.TrimRight(p.text[c.Start:c.End], " \t\r")
		switch n {
		case 0:
			first = s
		case 1:
			b.WriteString(first)
			fallthrough
		default:
			b.WriteByte('\n')
			b.WriteString(s)
		}
		n++
	}
	if n <= 1 {
		return first
	}
	return b.String()
}

func hasKind(ks []Kind, k Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// Summary says in words what was cut, for the ladder's explain: "ignored a
// quoted reply (12 lines), a signature (4 lines) and a disclaimer (3
// lines)". It is empty when nothing was cut.
func (p Prepared) Summary() string {
	if len(p.Cuts) == 0 {
		return ""
	}
	var lines, count [KindBanner + 1]int
	for _, c := range p.Cuts {
		lines[c.Kind] += c.Lines
		count[c.Kind]++
	}
	var parts []string
	if n := lines[KindQuote]; n > 0 {
		if count[KindQuote] > 1 {
			parts = append(parts, "quoted text ("+plural(n, "line")+" in "+strconv.Itoa(count[KindQuote])+" places)")
		} else {
			parts = append(parts, "a quoted reply ("+plural(n, "line")+")")
		}
	}
	if n := lines[KindForward]; n > 0 {
		parts = append(parts, "a forwarded message ("+plural(n, "line")+") below the buyer's note")
	}
	if n := lines[KindHeader]; n > 0 {
		parts = append(parts, "the headers ("+plural(n, "line")+") of a message sent on without a note, whose body was kept as the buyer's words")
	}
	if n := lines[KindSignature]; n > 0 {
		parts = append(parts, "a signature ("+plural(n, "line")+")")
	}
	if n := lines[KindDisclaimer]; n > 0 {
		parts = append(parts, "a disclaimer ("+plural(n, "line")+")")
	}
	if lines[KindBanner] > 0 {
		parts = append(parts, "a mail banner")
	}
	s := "ignored "
	for i, part := range parts {
		switch {
		case i == 0:
		case i == len(parts)-1:
			s += " and "
		default:
			s += ", "
		}
		s += part
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
