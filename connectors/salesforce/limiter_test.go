package salesforce_test

import (
	"testing"

	"github.com/handoff-dev/handoff/connectors/ratelimit"
	"github.com/handoff-dev/handoff/internal/testredis"
)

func newLimiter(t *testing.T) *ratelimit.Limiter {
	return ratelimit.New(testredis.New(t).Client(t))
}
