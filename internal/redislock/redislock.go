// Package redislock is the one short-lived exclusive lock of the program,
// shared by the pipeline (task creation, task appends, owner-state
// mirrors, the lost-task sweep) and the token store (OAuth refreshes).
//
// A lock is a key set with SET NX PX to a random token; it expires by
// itself after its TTL if its holder dies, and release deletes it only
// while it still holds the holder's token (a holder that outlived its TTL
// never deletes the next holder's lock). The key is one key, so the lock
// works on Redis Cluster as on a single node.
package redislock

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrTimeout is returned by Acquire when ctx ends before the lock is free.
var ErrTimeout = errors.New("timed out waiting for the lock")

// Release gives a lock back. It is safe to call more than once, and on a
// lock that was not taken.
type Release func()

func noop() {}

// TryAcquire takes the lock at key for ttl if it is free. ok is false when
// another holder has it.
func TryAcquire(ctx context.Context, rdb redis.Cmdable, key string, ttl time.Duration) (release Release, ok bool, err error) {
	token := rand.Text()
	ok, err = rdb.SetNX(ctx, key, token, ttl).Result()
	if err != nil {
		return noop, false, fmt.Errorf("take lock %s: %w", key, err)
	}
	if !ok {
		return noop, false, nil
	}
	return func() {
		// Without ctx's cancellation: a holder whose request ended still
		// gives its lock back.
		_ = releaseScript.Run(context.WithoutCancel(ctx), rdb, []string{key}, token).Err()
	}, true, nil
}

// Acquire waits for the lock at key until ctx is done, polling with a
// backoff from 10 ms to 200 ms.
func Acquire(ctx context.Context, rdb redis.Cmdable, key string, ttl time.Duration) (Release, error) {
	wait := 10 * time.Millisecond
	for {
		release, ok, err := TryAcquire(ctx, rdb, key, ttl)
		if err != nil || ok {
			return release, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return noop, fmt.Errorf("lock %s: %w", key, ErrTimeout)
		case <-t.C:
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

var releaseScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)
