package metrics_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience/adaptive"
	"github.com/go-resilience/resilience/metrics"
	"github.com/go-resilience/resilience/ratelimit"
)

// An adaptive limiter's limit, its slots in flight and its refusals, a
// throttler's and a rate limiter's refusals, each under their own reason.
func TestAdaptiveAndRateLimitSeries(t *testing.T) {
	c, err := metrics.New(metrics.Config{})
	require.NoError(t, err)
	ctx := context.Background()

	l, err := adaptive.New(adaptive.Config{Name: "db", InitialLimit: 1, MinLimit: 1, MaxLimit: 1, Observer: c})
	require.NoError(t, err)
	hold, held := make(chan struct{}), make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = l.Execute(ctx, func(context.Context) error { close(held); <-hold; return nil })
	}()
	<-held
	require.ErrorIs(t, l.Execute(ctx, func(context.Context) error { return nil }), adaptive.ErrLimited)

	rl, err := ratelimit.New(ratelimit.Config{Name: "partner", Rate: 1e-9, Observer: c})
	require.NoError(t, err)
	require.NoError(t, rl.Take(ctx))
	require.ErrorIs(t, rl.Take(ctx), ratelimit.ErrLimited)

	th, err := adaptive.NewThrottler(adaptive.ThrottlerConfig{Name: "search", MinRequests: 1, MaxRejectionProbability: 1, Observer: c})
	require.NoError(t, err)
	for range 100 {
		_ = th.Execute(ctx, func(context.Context) error { return context.DeadlineExceeded })
	}

	compare(t, c, `
# HELP resilience_adaptive_limit The concurrency limit an adaptive limiter allows now (bulkhead_in_flight is how much of it is used).
# TYPE resilience_adaptive_limit gauge
resilience_adaptive_limit{key="",policy="db"} 1
`, "resilience_adaptive_limit")
	compare(t, c, `
# HELP resilience_bulkhead_in_flight Calls holding a bulkhead slot.
# TYPE resilience_bulkhead_in_flight gauge
resilience_bulkhead_in_flight{key="",policy="db"} 1
`, "resilience_bulkhead_in_flight")
	got := gatherCounts(t, c, "resilience_rejections_total")
	require.Equal(t, 1.0, got[`db/adaptive_limit`])
	require.Equal(t, 1.0, got[`partner/rate_limited`])
	require.Greater(t, got[`search/throttled`], 0.0)
	close(hold)
	<-done
}

// gatherCounts returns the values of the metric name by "policy/reason".
func gatherCounts(t *testing.T, c *metrics.Collector, name string) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var policy, reason string
			for _, lp := range m.GetLabel() {
				switch lp.GetName() {
				case "policy":
					policy = lp.GetValue()
				case "reason":
					reason = lp.GetValue()
				}
			}
			got[policy+"/"+reason] = m.GetCounter().GetValue()
		}
	}
	return got
}
