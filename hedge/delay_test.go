package hedge_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/hedge"
	"github.com/go-resilience/resilience/retry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sleepy answers after d, or when its context ends.
func sleepy(d time.Duration) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		select {
		case <-time.After(d):
			return 1, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// TestPercentileDelayFollowsLatency runs calls whose latency goes fast,
// slow, fast, and counts the calls the delay takes to follow each change:
// at most Window + Window/8 successful attempts, as Config.Window says.
func TestPercentileDelayFollowsLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const window = 64
		const bound = window + window/8
		const fast, slow = 2 * time.Millisecond, 20 * time.Millisecond
		h := newHedge(t, hedge.Config{Percentile: 0.95, MinDelay: time.Millisecond, MaxDelay: 100 * time.Millisecond, Window: window})
		require.Equal(t, 100*time.Millisecond, h.Delay(), "the ceiling until latencies are known")

		follow := func(d time.Duration, until func(time.Duration) bool) int {
			for n := 1; n <= 10*bound; n++ {
				_, err := hedge.Do(t.Context(), h, nil, sleepy(d))
				require.NoError(t, err)
				if until(h.Delay()) {
					return n
				}
			}
			return -1
		}
		n1 := follow(fast, func(d time.Duration) bool { return d == fast })
		n2 := follow(slow, func(d time.Duration) bool { return d == slow })
		n3 := follow(fast, func(d time.Duration) bool { return d == fast })
		t.Logf("calls for the delay to follow: to fast %d, to slow %d, back to fast %d (bound %d)", n1, n2, n3, bound)
		for _, n := range []int{n1, n2, n3} {
			assert.Positive(t, n)
			assert.LessOrEqual(t, n, bound)
		}
		assert.LessOrEqual(t, n2, window/8+window/16, "the slow tail shows after a few percent of the window")
	})
}

// TestBudgetCapsHedgesWhenEveryAttemptIsSlow: when the dependency is slow
// for everyone, hedging cannot help, and the budget keeps the extra
// attempts within its ratio of the calls.
func TestBudgetCapsHedgesWhenEveryAttemptIsSlow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const ratio, perSec = 0.1, 0.5
		b, err := retry.NewBudget(retry.BudgetConfig{Ratio: ratio, MinConcurrent: 1, MinPerSecond: perSec, Window: 10 * time.Second})
		require.NoError(t, err)
		obs := &events{}
		h, err := hedge.New(hedge.Config{Delay: 5 * time.Millisecond, MaxHedges: 2, Budget: b, Observer: obs})
		require.NoError(t, err)
		const callers, each = 20, 10
		start := time.Now()
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				for range each {
					_, err := hedge.Do(t.Context(), h, nil, sleepy(50*time.Millisecond))
					assert.NoError(t, err)
				}
			})
		}
		wg.Wait()
		span := time.Since(start)
		calls := callers * each
		sent := obs.count(resilience.EventHedgeSent)
		limit := ratio*float64(calls) + perSec*max(span, 5*time.Second).Seconds()
		t.Logf("%d calls over %v: %d hedges sent, %d refused; budget allows %.1f; without it %d", calls, span, sent, obs.count(resilience.EventHedgeRefused), limit, 2*calls)
		assert.LessOrEqual(t, float64(sent), limit)
		assert.Positive(t, obs.count(resilience.EventHedgeRefused))
		assert.EqualValues(t, sent, b.Granted())
	})
}
