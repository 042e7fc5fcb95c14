package health_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience/adaptive"
	"github.com/go-resilience/resilience/health"
)

func TestReportShowsAdaptiveLimitAndSaturation(t *testing.T) {
	l, err := adaptive.New(adaptive.Config{Name: "db", InitialLimit: 4, MaxLimit: 50})
	require.NoError(t, err)
	hold, held := make(chan struct{}), make(chan struct{}, 3)
	done := make(chan struct{})
	for range 3 {
		go func() {
			defer func() { done <- struct{}{} }()
			_ = l.Execute(context.Background(), func(context.Context) error { held <- struct{}{}; <-hold; return nil })
		}()
	}
	for range 3 {
		<-held
	}
	c, err := health.New(health.Config{Limiters: []*adaptive.Limiter{l}})
	require.NoError(t, err)
	r := c.Report()
	require.Len(t, r.Limiters, 1)
	assert.Equal(t, health.LimiterReport{Name: "db", Limit: 4, MinLimit: 1, MaxLimit: 50, InFlight: 3, Saturation: 0.75}, r.Limiters[0])
	assert.Equal(t, health.OK, r.Status, "a limiter does not change the status")
	b, err := json.Marshal(r.Limiters[0])
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"db","limit":4,"min_limit":1,"max_limit":50,"in_flight":3,"saturation":0.75,"rejected":0}`, string(b))
	close(hold)
	for range 3 {
		<-done
	}

	_, err = health.New(health.Config{Limiters: []*adaptive.Limiter{nil}})
	assert.EqualError(t, err, "health: Config.Limiters[0] is nil")
	b, err = json.Marshal(health.Report{Breakers: []health.BreakerReport{}, Bulkheads: []health.BulkheadReport{}})
	require.NoError(t, err)
	assert.NotContains(t, string(b), "limiters", "no limiters, no key")
}
