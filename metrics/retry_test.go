package metrics_test

import (
	"context"
	"errors"
	"testing"

	"github.com/go-resilience/resilience/metrics"
	"github.com/go-resilience/resilience/retry"
	"github.com/stretchr/testify/require"
)

// A retry policy's events become its three counters, each shown from its
// first count.
func TestRetryEventsRecordTheirSeries(t *testing.T) {
	c := newCollector(t, metrics.Config{})
	b, err := retry.NewBudget(retry.BudgetConfig{Ratio: 0.1, MinConcurrent: 1, MinPerSecond: 0.5, Window: 10e9})
	require.NoError(t, err)
	r, err := retry.New(retry.Config{Name: "api", MaxAttempts: 3, BaseDelay: -1, Budget: b, Observer: c})
	require.NoError(t, err)
	fail := func(context.Context) error { return errors.New("down") }
	_ = r.Execute(context.Background(), fail) // 3 attempts: 2 retries (the floor's reserve, 0.5/s × 5 s), gives up
	_ = r.Execute(context.Background(), fail) // the budget is spent: refused at once
	compare(t, c, `
# HELP resilience_retries_total Attempts a retry policy started after a failed one.
# TYPE resilience_retries_total counter
resilience_retries_total{key="",policy="api"} 2
# HELP resilience_retry_budget_refusals_total Retries the retry budget refused; the call returned its last error.
# TYPE resilience_retry_budget_refusals_total counter
resilience_retry_budget_refusals_total{key="",policy="api"} 1
# HELP resilience_retry_give_ups_total Calls that stopped retrying a retryable error: attempts used up, the deadline could not fit another, or the hint asked for too long.
# TYPE resilience_retry_give_ups_total counter
resilience_retry_give_ups_total{key="",policy="api"} 1
`, "resilience_retries_total", "resilience_retry_budget_refusals_total", "resilience_retry_give_ups_total")
}
