package otelx_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/fallback"
	"github.com/go-resilience/resilience/otelx"
	"github.com/go-resilience/resilience/retry"
)

// fullChain is the recommended chain, outermost first: fallback → retry →
// breaker → bulkhead → timeout, every policy reporting to one Observer.
type fullChain struct {
	*chain
	p resilience.Policy
}

func newFullChain(t *testing.T, obs resilience.Observer) *fullChain {
	t.Helper()
	c := newChain(t, obs)
	r, err := retry.New(retry.Config{Name: "rty", MaxAttempts: 2, BaseDelay: 10 * time.Millisecond, NoJitter: true, Observer: obs})
	require.NoError(t, err)
	return &fullChain{chain: c, p: resilience.Chain(r, c.brk, c.bulk, c.tmo)}
}

func (c *fullChain) do(ctx context.Context, fn func(context.Context) (string, error)) (string, error) {
	return fallback.Do(ctx, c.p, fn, c.fb)
}

// The chain with breaker, bulkhead, timeout, retry and fallback puts
// exactly these events on the call's span, in order, for each case.
func TestFullChainSpanEvents(t *testing.T) {
	hang := func(ctx context.Context) (string, error) { <-ctx.Done(); return "", ctx.Err() }
	for _, tc := range []struct {
		name   string
		setup  func(c *fullChain)
		fn     func() func(context.Context) (string, error)
		want   string
		status codes.Code
		events []ev
	}{{
		name:   "success adds nothing",
		fn:     func() func(context.Context) (string, error) { return ok },
		want:   "fresh",
		status: codes.Unset,
		events: []ev{},
	}, {
		name: "a failure retried once, then a success",
		fn: func() func(context.Context) (string, error) {
			n := 0
			return func(ctx context.Context) (string, error) {
				if n++; n == 1 {
					return fail(ctx)
				}
				return ok(ctx)
			}
		},
		want:   "fresh",
		status: codes.Unset,
		events: []ev{
			{"resilience.retry", map[string]any{"resilience.policy": "rty", "resilience.attempt": int64(2), "resilience.delay": 0.01, "error.type": "*errors.errorString"}},
		},
	}, {
		name:   "a breaker refusal answered by the fallback, not retried",
		setup:  func(c *fullChain) { c.brk.ForceOpen() },
		fn:     func() func(context.Context) (string, error) { return ok },
		want:   "cached",
		status: codes.Error,
		events: []ev{
			{"resilience.rejected", map[string]any{"resilience.policy": "brk", "error.type": "breaker_open"}},
			{"resilience.fallback", map[string]any{"resilience.policy": "fb", "error.type": "breaker_open"}},
		},
	}, {
		name:   "a timeout on every attempt",
		fn:     func() func(context.Context) (string, error) { return hang },
		status: codes.Error,
		events: []ev{
			{"resilience.timeout", map[string]any{"resilience.policy": "tmo", "error.type": "timeout"}},
			{"resilience.retry", map[string]any{"resilience.policy": "rty", "resilience.attempt": int64(2), "resilience.delay": 0.01, "error.type": "timeout"}},
			{"resilience.timeout", map[string]any{"resilience.policy": "tmo", "error.type": "timeout"}},
			// The second failure in a row opens the breaker (ConsecutiveFailures: 2).
			{"resilience.breaker.state_change", map[string]any{"resilience.policy": "brk", "resilience.breaker.from": "closed", "resilience.breaker.to": "open"}},
			{"resilience.retry.give_up", map[string]any{"resilience.policy": "rty", "resilience.attempt": int64(2), "error.type": "timeout"}},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tr := newTracing(t)
				c := newFullChain(t, newObserver(t, otelx.Config{}))
				if tc.setup != nil {
					tc.setup(c)
				}
				fn := tc.fn()
				s := tr.span(t, tc.name, func(ctx context.Context) {
					v, err := c.do(ctx, fn)
					if tc.want == "" {
						require.Error(t, err)
					} else {
						require.NoError(t, err)
						assert.Equal(t, tc.want, v)
					}
				})
				assert.Equal(t, tc.events, events(s))
				assert.Equal(t, tc.status, s.Status().Code)
			})
		})
	}
}
