package otelx_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"

	"github.com/go-resilience/resilience/hedge"
	"github.com/go-resilience/resilience/otelx"
)

// A hedge sent after the delay, which answers first: both decisions are
// on the caller's span, the status left alone.
func TestHedgeSpanEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := newTracing(t)
		m := newMetering(t)
		obs := newObserver(t, otelx.Config{MeterProvider: m.mp})
		h, err := hedge.New(hedge.Config{Name: "hdg", Delay: 10 * time.Millisecond, Observer: obs})
		require.NoError(t, err)
		var attempts atomic.Int32
		s := tr.span(t, "hedged", func(ctx context.Context) {
			v, err := hedge.Do(ctx, h, nil, func(ctx context.Context) (string, error) {
				if attempts.Add(1) == 1 { // the first attempt is slow
					select {
					case <-time.After(time.Second):
					case <-ctx.Done():
						return "", ctx.Err()
					}
					return "slow", nil
				}
				return "hedged", nil
			})
			require.NoError(t, err)
			assert.Equal(t, "hedged", v)
		})
		assert.Equal(t, []ev{
			{"resilience.hedge.sent", map[string]any{"resilience.policy": "hdg", "resilience.attempt": int64(2), "resilience.delay": 0.01}},
			{"resilience.hedge.won", map[string]any{"resilience.policy": "hdg", "resilience.attempt": int64(2)}},
		}, events(s))
		assert.Equal(t, codes.Unset, s.Status().Code)
		assert.Equal(t, map[string]any{"resilience.key=,resilience.policy=hdg": int64(1)}, m.points(t, "resilience.hedges"))
		assert.Equal(t, map[string]any{"resilience.key=,resilience.policy=hdg": int64(1)}, m.points(t, "resilience.hedge.wins"))
	})
}
