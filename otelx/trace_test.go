package otelx_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"

	"github.com/go-resilience/resilience/adaptive"
	"github.com/go-resilience/resilience/otelx"
	"github.com/go-resilience/resilience/ratelimit"
)

var errBoom = errors.New("boom")

func ok(context.Context) (string, error)   { return "fresh", nil }
func fail(context.Context) (string, error) { return "", errBoom }

// A chain of breaker, bulkhead, timeout and fallback puts exactly its
// decisions on the call's span, in order, with their attributes; a call
// that goes through untouched adds nothing.
func TestChainSpanEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := newTracing(t)
		c := newChain(t, newObserver(t, otelx.Config{}))

		// Success: nothing on the span, status left alone.
		s := tr.span(t, "success", func(ctx context.Context) {
			v, err := c.do(ctx, ok)
			require.NoError(t, err)
			assert.Equal(t, "fresh", v)
		})
		assert.Empty(t, events(s))
		assert.Equal(t, codes.Unset, s.Status().Code)

		// A failure of the dependency is the caller's to report.
		s = tr.span(t, "failure", func(ctx context.Context) {
			_, err := c.do(ctx, fail)
			require.ErrorIs(t, err, errBoom)
		})
		assert.Empty(t, events(s))
		assert.Equal(t, codes.Unset, s.Status().Code)

		// The second failure trips the breaker: the transition goes on
		// the span of the call that caused it.
		s = tr.span(t, "trip", func(ctx context.Context) {
			_, err := c.do(ctx, fail)
			require.ErrorIs(t, err, errBoom)
		})
		assert.Equal(t, []ev{{"resilience.breaker.state_change", map[string]any{
			"resilience.policy": "brk", "resilience.breaker.from": "closed", "resilience.breaker.to": "open",
		}}}, events(s))
		assert.Equal(t, codes.Unset, s.Status().Code)

		// The open breaker refuses; the fallback answers.
		var refusal error
		s = tr.span(t, "refused", func(ctx context.Context) {
			refusal = c.brk.Execute(ctx, func(context.Context) error { return nil })
			v, err := c.do(ctx, ok)
			require.NoError(t, err)
			assert.Equal(t, "cached", v)
		})
		require.Error(t, refusal)
		assert.Equal(t, []ev{
			{"resilience.rejected", map[string]any{"resilience.policy": "brk", "error.type": "breaker_open"}},
			{"resilience.rejected", map[string]any{"resilience.policy": "brk", "error.type": "breaker_open"}},
			{"resilience.fallback", map[string]any{"resilience.policy": "fb", "error.type": "breaker_open"}},
		}, events(s))
		assert.Equal(t, codes.Error, s.Status().Code, "a policy ended a call")
		assert.Equal(t, refusal.Error(), s.Status().Description)
	})
}

func TestTimeoutSpanEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := newTracing(t)
		c := newChain(t, newObserver(t, otelx.Config{}))
		s := tr.span(t, "timeout", func(ctx context.Context) {
			_, err := c.do(ctx, func(ctx context.Context) (string, error) {
				<-ctx.Done()
				return "", ctx.Err()
			})
			require.ErrorIs(t, err, context.DeadlineExceeded)
		})
		assert.Equal(t, []ev{
			{"resilience.timeout", map[string]any{"resilience.policy": "tmo", "error.type": "timeout"}},
		}, events(s))
		assert.Equal(t, codes.Error, s.Status().Code)
		assert.Equal(t, `timeout "tmo": deadline exceeded`, s.Status().Description)
	})
}

func TestBulkheadFullSpanEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := newTracing(t)
		c := newChain(t, newObserver(t, otelx.Config{}))
		require.NoError(t, c.bulk.Acquire(context.Background()))
		defer c.bulk.Release()
		s := tr.span(t, "full", func(ctx context.Context) {
			v, err := c.do(ctx, ok)
			require.NoError(t, err)
			assert.Equal(t, "cached", v)
		})
		assert.Equal(t, []ev{
			{"resilience.rejected", map[string]any{"resilience.policy": "bulk", "error.type": "bulkhead_full"}},
			{"resilience.fallback", map[string]any{"resilience.policy": "fb", "error.type": "bulkhead_full"}},
		}, events(s))
		assert.Equal(t, codes.Error, s.Status().Code)
	})
}

// DisableTraces leaves spans alone; Next still hears every event.
func TestDisableTracesAndNext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := newTracing(t)
		var kinds []string
		next := observerFunc(func(e resilienceEvent) { kinds = append(kinds, e.Kind.String()) })
		c := newChain(t, newObserver(t, otelx.Config{DisableTraces: true, Next: next}))
		require.NoError(t, c.bulk.Acquire(context.Background()))
		s := tr.span(t, "full", func(ctx context.Context) {
			_, err := c.do(ctx, ok)
			require.NoError(t, err)
		})
		c.bulk.Release()
		assert.Empty(t, events(s))
		assert.Equal(t, codes.Unset, s.Status().Code)
		assert.Equal(t, []string{"acquire", "rejected", "call", "fallback", "release"}, kinds)
	})
}

// The refusals of the merged policies carry their reasons: a rate
// limiter's, an adaptive limiter's, a server's shedding.
func TestLimiterAndServerSpanEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := newTracing(t)
		obs := newObserver(t, otelx.Config{})
		rl, err := ratelimit.New(ratelimit.Config{Name: "rl", Rate: 1, Observer: obs})
		require.NoError(t, err)
		al, err := adaptive.New(adaptive.Config{Name: "al", InitialLimit: 1, MinLimit: 1, MaxLimit: 1, Observer: obs})
		require.NoError(t, err)
		s := tr.span(t, "limited", func(ctx context.Context) {
			require.NoError(t, rl.Take(ctx))
			require.ErrorIs(t, rl.Take(ctx), ratelimit.ErrLimited)
			err := al.Execute(ctx, func(ctx context.Context) error {
				return al.Execute(ctx, func(context.Context) error { return nil }) // over the limit
			})
			require.ErrorIs(t, err, adaptive.ErrLimited)
		})
		assert.Equal(t, []ev{
			{"resilience.rejected", map[string]any{"resilience.policy": "rl", "error.type": "rate_limited"}},
			{"resilience.rejected", map[string]any{"resilience.policy": "al", "error.type": "adaptive_limit"}},
		}, events(s))
	})
}
