package marketo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// slots is a counting semaphore shared by every process on one Redis: a
// sorted set of lease ids scored by their expiry (Redis server time, so
// process clocks do not matter). A holder that dies leaks its slot only
// until the lease expires; leases outlive the HTTP timeout, so a live holder
// never loses its slot mid-request.
//
// The same script also enforces the 606 cooldown: after Marketo said "more
// than 100 calls in 20 s", every process holds off until the cooldown key
// expires instead of spending more calls on refusals. The cooldown lasts
// the rest of Marketo's 20 s window as seen from a shared log of our calls.
//
// Written here rather than taken from a library: the semaphore libraries
// for go-redis v9 either implement a mutex only (redsync) or need a
// background refresher; this is one Lua script and one ZREM.
type slots struct {
	rdb      redis.UniversalClient
	key      string // sorted set of leases
	cooldown string // 606 cooldown key
	log      string // sorted set of call start times within Marketo's 20 s window
	limit    int
	lease    time.Duration
}

// acquireScript: KEYS[1] leases, KEYS[2] cooldown, KEYS[3] call log;
// ARGV lease_ms, limit, id, window_ms. Returns 1 (acquired), 0 (full), or
// -pttl of the cooldown. An acquired slot is a call about to start, so it
// is also logged (the log gives 606 the rest of Marketo's window).
var acquireScript = redis.NewScript(`
local pttl = redis.call('PTTL', KEYS[2])
if pttl > 0 then return -pttl end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) * 2)
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[4]))
  redis.call('ZADD', KEYS[3], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[4]))
  return 1
end
return 0
`)

// cooldownScript: KEYS[1] cooldown, KEYS[2] call log; ARGV window_ms,
// min_ms. Starts the cooldown (unless one runs) for the rest of the window:
// until the oldest call we made in it ages out, or the whole window when
// the budget went to other integrations. Returns the cooldown's pttl.
var cooldownScript = redis.NewScript(`
local pttl = redis.call('PTTL', KEYS[1])
if pttl > 0 then return pttl end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local win = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - win)
local left = win
local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if oldest[2] then left = tonumber(oldest[2]) + win - now end
if left < tonumber(ARGV[2]) then left = tonumber(ARGV[2]) end
redis.call('SET', KEYS[1], '606', 'PX', left)
return left
`)

// errCooldown carries the remaining 606 cooldown.
type errCooldown struct{ left time.Duration }

func (e errCooldown) Error() string { return fmt.Sprintf("rate-limit cooldown, %s left", e.left) }

// errFull: no slot freed up within the wait.
type errFull struct{}

func (errFull) Error() string { return "concurrency cap reached" }

// acquire waits up to wait for a slot. It returns the release func, or
// errCooldown / errFull / a Redis error.
func (s *slots) acquire(ctx context.Context, wait time.Duration) (func(), error) {
	id := randomID()
	deadline := time.Now().Add(wait)
	backoff := 5 * time.Millisecond
	for {
		n, err := acquireScript.Run(ctx, s.rdb, []string{s.key, s.cooldown, s.log}, s.lease.Milliseconds(), s.limit, id, rateWindow.Milliseconds()).Int64()
		if err != nil {
			return nil, fmt.Errorf("take concurrency slot: %w", err)
		}
		switch {
		case n == 1:
			return func() { _ = s.rdb.ZRem(context.WithoutCancel(ctx), s.key, id).Err() }, nil
		case n < 0:
			return nil, errCooldown{left: time.Duration(-n) * time.Millisecond}
		}
		if !time.Now().Add(backoff).Before(deadline) {
			return nil, errFull{}
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("wait for concurrency slot: %w", ctx.Err())
		case <-t.C:
		}
		if backoff < 100*time.Millisecond {
			backoff *= 2
		}
	}
}

// startCooldown starts the 606 cooldown unless one runs, and returns what
// is left of it.
func (s *slots) startCooldown(ctx context.Context) time.Duration {
	ms, err := cooldownScript.Run(ctx, s.rdb, []string{s.cooldown, s.log}, rateWindow.Milliseconds(), minCooldown.Milliseconds()).Int64()
	if err != nil || ms <= 0 {
		return rateWindow
	}
	return time.Duration(ms) * time.Millisecond
}

// minCooldown keeps a 606 from being answered by an immediate retry.
const minCooldown = time.Second

func randomID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
