package ladder

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// wordTable is a read-only word -> float64 table without pointers for the
// garbage collector to trace: the words live in one string, indexed by a
// map from a 64-bit hash to the entry. The VADER lexicon (7,500 words) is
// held this way because it stays live for the whole process and a
// map[string]float64 of it would be re-marked on every GC cycle.
type wordTable struct {
	idx      map[uint64]int32
	words    string
	off      []uint32 // words[off[i]:off[i+1]] is entry i
	vals     []float64
	overflow map[string]float64 // the (never yet seen) hash collisions
}

func newWordTable(m map[string]float64) *wordTable {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic layout
	t := &wordTable{idx: make(map[uint64]int32, len(keys)), off: make([]uint32, 1, len(keys)+1), vals: make([]float64, 0, len(keys))}
	var b strings.Builder
	for _, k := range keys {
		h := fnv64(k)
		if _, dup := t.idx[h]; dup {
			if t.overflow == nil {
				t.overflow = map[string]float64{}
			}
			t.overflow[k] = m[k]
			continue
		}
		t.idx[h] = int32(len(t.vals))
		b.WriteString(k)
		t.off = append(t.off, uint32(b.Len()))
		t.vals = append(t.vals, m[k])
	}
	t.words = b.String()
	return t
}

func (t *wordTable) get(w string) (float64, bool) {
	if i, ok := t.idx[fnv64(w)]; ok && t.words[t.off[i]:t.off[i+1]] == w {
		return t.vals[i], true
	}
	if t.overflow != nil {
		v, ok := t.overflow[w]
		return v, ok
	}
	return 0, false
}

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// emojiTable maps an emoji to its VADER description, pointer-free like
// wordTable.
type emojiTable struct {
	idx   map[rune]uint32 // rune -> entry
	descs string
	off   []uint32
}

func newEmojiTable(m map[string]string) *emojiTable {
	keys := make([]string, 0, len(m))
	for k := range m {
		if utf8.RuneCountInString(k) == 1 { // VADER replaces single runes
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	t := &emojiTable{idx: make(map[rune]uint32, len(keys)), off: make([]uint32, 1, len(keys)+1)}
	var b strings.Builder
	for _, k := range keys {
		r, _ := utf8.DecodeRuneInString(k)
		t.idx[r] = uint32(len(t.off) - 1)
		b.WriteString(m[k])
		t.off = append(t.off, uint32(b.Len()))
	}
	t.descs = b.String()
	return t
}

func (t *emojiTable) get(r rune) (string, bool) {
	i, ok := t.idx[r]
	if !ok {
		return "", false
	}
	return t.descs[t.off[i]:t.off[i+1]], true
}
