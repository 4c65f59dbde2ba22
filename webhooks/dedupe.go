package webhooks

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/handoff-dev/handoff"
)

// dedupeKey is a stable hash of an event's identity fields: the source
// name and a prefix, then 32 hex characters (128 bits) of SHA-256 over the
// fields, each length-prefixed so that no two field lists collide. It has
// no braces or colons, so it is safe as an asynq TaskID and in Redis
// Cluster key names.
func dedupeKey(src handoff.Source, fields ...string) string {
	var stack [512]byte
	buf := stack[:0]
	for _, f := range fields {
		l := uint64(len(f))
		buf = append(buf, byte(l), byte(l>>8), byte(l>>16), byte(l>>24), byte(l>>32), byte(l>>40), byte(l>>48), byte(l>>56))
		buf = append(buf, f...)
	}
	sum := sha256.Sum256(buf)
	var hx [32]byte
	hex.Encode(hx[:], sum[:16])
	var b strings.Builder
	b.Grow(len(src) + 1 + len(hx))
	b.WriteString(string(src))
	b.WriteByte('-')
	b.Write(hx[:])
	return b.String()
}
