package webhooks

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/handoff-dev/handoff"
)

// dedupeKey is a stable hash of an event's identity fields: the source
// name and a prefix, then 32 hex characters (128 bits) of SHA-256 over the
// fields, each length-prefixed so that no two field lists collide. It has
// no braces or colons, so it is safe as an asynq TaskID and in Redis
// Cluster key names.
func dedupeKey(src handoff.Source, fields ...string) string {
	h := sha256.New()
	var n [8]byte
	for _, f := range fields {
		l := len(f)
		for i := range n {
			n[i] = byte(l >> (8 * i))
		}
		h.Write(n[:])
		h.Write([]byte(f))
	}
	var sum [sha256.Size]byte
	return string(src) + "-" + hex.EncodeToString(h.Sum(sum[:0])[:16])
}
