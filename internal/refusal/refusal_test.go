package refusal_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"

	"github.com/go-resilience/resilience/adaptive"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/internal/refusal"
	"github.com/go-resilience/resilience/ratelimit"
	"github.com/go-resilience/resilience/timeout"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestEachPolicysRefusalHasItsOwnReason(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{breaker.ErrOpen, "breaker_open"},
		{breaker.ErrTooManyProbes, "probe_limit"},
		{bulkhead.ErrFull, "bulkhead_full"},
		{timeout.ErrTooManyAbandoned, "abandon_limit"},
		{adaptive.ErrLimited, "adaptive_limit"},
		{adaptive.ErrThrottled, "throttled"},
		{ratelimit.ErrLimited, "rate_limited"},
		{fmt.Errorf("wrapped: %w", bulkhead.ErrFull), "bulkhead_full"},
		{errors.New("not a refusal of this module"), "other"},
		{nil, "other"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			assert.Equal(t, tc.want, refusal.Names[refusal.Of(tc.err)])
		})
	}
}

func TestEveryReasonHasAName(t *testing.T) {
	for r, name := range refusal.Names {
		assert.NotEmpty(t, name, "reason %d", r)
	}
}
