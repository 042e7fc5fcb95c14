package hedge_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-resilience/resilience/hedge"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// answer is an attempt's value: the call and attempt it comes from.
type answer struct{ call, attempt int }

type attemptError struct{ call, attempt int }

func (e *attemptError) Error() string {
	return fmt.Sprintf("call %d attempt %d failed", e.call, e.attempt)
}

// TestConcurrentCallsGetTheirOwnWinner runs 1,000 hedged calls at once
// whose attempts take random times and fail at random: every caller gets
// exactly one result, the value of an attempt of its own call that
// succeeded, or, when all its attempts failed, its first attempt's error;
// and no goroutine is left behind.
func TestConcurrentCallsGetTheirOwnWinner(t *testing.T) {
	baseline := goleak.IgnoreCurrent()
	h := newHedge(t, hedge.Config{Delay: 300 * time.Microsecond, MaxHedges: 2})
	const calls = 1000
	type record struct {
		mu        sync.Mutex
		succeeded map[int]bool // attempts that returned a value
		started   atomic.Int32
	}
	recs := make([]record, calls)
	var wg sync.WaitGroup
	var results, allFailed, hedgeWins atomic.Int32
	for i := range calls {
		recs[i].succeeded = map[int]bool{}
		wg.Go(func() {
			r := &recs[i]
			v, err := hedge.Do(t.Context(), h, nil, func(ctx context.Context) (answer, error) {
				a := int(r.started.Add(1))
				select {
				case <-time.After(time.Duration(rand.IntN(1500)) * time.Microsecond):
				case <-ctx.Done():
					return answer{}, ctx.Err()
				}
				if rand.IntN(3) == 0 {
					return answer{-1, -1}, &attemptError{i, a}
				}
				r.mu.Lock()
				r.succeeded[a] = true
				r.mu.Unlock()
				return answer{i, a}, nil
			})
			results.Add(1)
			if err != nil {
				var ae *attemptError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, attemptError{i, 1}, *ae, "the first attempt's error")
				assert.Equal(t, answer{-1, -1}, v, "the first attempt's value")
				allFailed.Add(1)
				return
			}
			assert.Equal(t, i, v.call, "a value of the caller's own call")
			r.mu.Lock()
			assert.True(t, r.succeeded[v.attempt], "call %d got attempt %d, which did not succeed", i, v.attempt)
			r.mu.Unlock()
			if v.attempt > 1 {
				hedgeWins.Add(1)
			}
		})
	}
	wg.Wait()
	assert.EqualValues(t, calls, results.Load())
	t.Logf("%d calls: %d won by a hedge, %d with every attempt failed; budget granted %d hedges", calls, hedgeWins.Load(), allFailed.Load(), h.Budget().Granted())
	assert.Positive(t, hedgeWins.Load(), "hedges won some calls")
	// Losing hedges may still be returning: goleak retries until they have.
	goleak.VerifyNone(t, baseline)
	inFlight, extra := h.Budget().InFlight()
	assert.Zero(t, inFlight)
	assert.Zero(t, extra, "every hedge gave its budget back")
}
