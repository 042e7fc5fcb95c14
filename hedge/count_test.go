package hedge_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-resilience/resilience/hedge"
	"github.com/go-resilience/resilience/retry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A call whose first attempt answers in time costs the shared budget no
// write while no extra attempt is being asked for; once a hedge has been
// asked for, calls are counted from start to end, as the budget's rules
// need, and every count is given back.
func TestCallsAreCountedInTheBudgetOnlyWhileHedgesAreAsked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, err := retry.NewBudget(retry.BudgetConfig{MinConcurrent: 1 << 20, MinPerSecond: 1e9})
		require.NoError(t, err)
		h := newHedge(t, hedge.Config{Delay: 10 * time.Millisecond, Budget: b})
		counted := func() int {
			var calls int
			_, err := hedge.Do(t.Context(), h, nil, func(context.Context) (int, error) {
				calls, _ = b.InFlight()
				return 1, nil
			})
			require.NoError(t, err)
			return calls
		}
		assert.Zero(t, counted(), "no hedge asked for yet: not counted")

		// A slow first attempt: the hedge is asked for, and the call is
		// counted from then on (the hedge, which answers, looks).
		var during int
		var attempts atomic.Int32
		v, err := hedge.Do(t.Context(), h, nil, func(ctx context.Context) (int, error) {
			if attempts.Add(1) == 1 {
				<-ctx.Done()
				return 0, ctx.Err()
			}
			during, _ = b.InFlight()
			return 2, nil
		})
		require.NoError(t, err)
		assert.Equal(t, 2, v, "the hedge won")
		assert.Equal(t, uint64(1), b.Granted())
		assert.Equal(t, 1, during, "the call that asked for a hedge is counted")
		assert.Equal(t, 1, counted(), "hedges asked for: every call counted")
		synctest.Wait() // the losing first attempt has returned
		calls, extra := b.InFlight()
		assert.Zero(t, calls)
		assert.Zero(t, extra)
	})
}
