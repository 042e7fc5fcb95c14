package metrics_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-resilience/resilience/hedge"
	"github.com/go-resilience/resilience/metrics"
	"github.com/go-resilience/resilience/retry"
	"github.com/stretchr/testify/require"
)

// A hedge policy's events become its three counters.
func TestHedgeEventsRecordTheirSeries(t *testing.T) {
	c := newCollector(t, metrics.Config{})
	synctest.Test(t, func(t *testing.T) {
		// The floor's reserve (2/s × 0.5s) grants one hedge; the second
		// call's hedge is refused.
		b, err := retry.NewBudget(retry.BudgetConfig{Ratio: 0.01, MinConcurrent: 1, MinPerSecond: 2, Window: time.Second})
		require.NoError(t, err)
		h, err := hedge.New(hedge.Config{Name: "api", Delay: time.Millisecond, Budget: b, Observer: c})
		require.NoError(t, err)
		for call := range 2 {
			var n atomic.Int32
			_, err := hedge.Do(context.Background(), h, nil, func(ctx context.Context) (int, error) {
				if n.Add(1) == 1 {
					if call == 0 {
						<-ctx.Done() // the hedge wins
						return 0, ctx.Err()
					}
					time.Sleep(50 * time.Millisecond) // no hedge: the first attempt answers
				}
				return 1, nil
			})
			require.NoError(t, err)
		}
	})
	compare(t, c, `
# HELP resilience_hedge_budget_refusals_total Hedges the budget refused; the call ran on with the attempts it had.
# TYPE resilience_hedge_budget_refusals_total counter
resilience_hedge_budget_refusals_total{key="",policy="api"} 1
# HELP resilience_hedge_wins_total Calls a hedge (not the first attempt) answered first.
# TYPE resilience_hedge_wins_total counter
resilience_hedge_wins_total{key="",policy="api"} 1
# HELP resilience_hedges_total Extra attempts a hedge policy sent because the attempts before them were slow.
# TYPE resilience_hedges_total counter
resilience_hedges_total{key="",policy="api"} 1
`, "resilience_hedges_total", "resilience_hedge_wins_total", "resilience_hedge_budget_refusals_total")
}
