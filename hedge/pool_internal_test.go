package hedge

import (
	"context"
	"reflect"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/retry"
)

type refusals struct{ n atomic.Int32 }

func (r *refusals) Observe(ev resilience.Event) {
	if ev.Kind == resilience.EventHedgeRefused {
		r.n.Add(1)
	}
}

// TestCallGoesBackOnlyWhenNothingCanReachIt: a call's state goes back to
// its Hedge, for another call, only when its first attempt answered before
// its timer fired, and then with nothing of the call left in it (every
// field but the Hedge and the stopped timer zero). A call whose timer
// fired (whether the hedge was sent or refused by the budget) or whose
// attempt panicked is never reused: a late hedge may still be reading it.
func TestCallGoesBackOnlyWhenNothingCanReachIt(t *testing.T) {
	// One P: whatever a call puts in the Hedge's pool, Get finds (no other
	// P's private slot to hide it in).
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	wait := func(d time.Duration) func(context.Context) (int, error) {
		var n atomic.Int32
		return func(ctx context.Context) (int, error) {
			if n.Add(1) > 1 { // a hedge
				return 2, nil
			}
			select {
			case <-time.After(d):
				return 1, nil
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}
	}
	for _, tc := range []struct {
		name     string
		refuse   bool
		fn       func() func(context.Context) (int, error)
		panics   bool
		reused   bool
		refusals int32
	}{
		{name: "the first attempt answers before the delay", fn: func() func(context.Context) (int, error) { return wait(time.Millisecond) }, reused: true},
		{name: "the hedge was sent and won", fn: func() func(context.Context) (int, error) { return wait(time.Hour) }},
		{name: "the timer fired, the budget refused the hedge", refuse: true, fn: func() func(context.Context) (int, error) { return wait(20 * time.Millisecond) }, refusals: 1},
		{name: "the first attempt panicked", fn: func() func(context.Context) (int, error) {
			return func(context.Context) (int, error) { panic("boom") }
		}, panics: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cfg := Config{Delay: 10 * time.Millisecond, Observer: &refusals{}}
				if tc.refuse {
					b, err := retry.NewBudget(retry.BudgetConfig{Ratio: 0.01, MinConcurrent: 1, MinPerSecond: 1e-9})
					require.NoError(t, err)
					cfg.Budget = b
				}
				h, err := New(cfg)
				require.NoError(t, err)
				var got any
				// Under -race sync.Pool drops a quarter of what it is given:
				// a call that goes back is found within a few tries.
				for range 50 {
					do := func() { Do(t.Context(), h, nil, tc.fn()) }
					if tc.panics {
						assert.PanicsWithValue(t, "boom", do)
					} else {
						do()
					}
					synctest.Wait() // a losing hedge returns
					if got = h.calls.Get(); got != nil || !tc.reused {
						break
					}
				}
				assert.Equal(t, tc.refusals, cfg.Observer.(*refusals).n.Load())
				if !tc.reused {
					assert.Nil(t, got, "the call's state went back to the Hedge")
					return
				}
				require.IsType(t, &call[int]{}, got)
				c := got.(*call[int])
				assert.Same(t, h, c.h)
				require.NotNil(t, c.timer)
				assert.False(t, c.timer.Stop(), "its timer is stopped")
				cv := reflect.ValueOf(c).Elem()
				for i := range cv.NumField() {
					switch f := cv.Type().Field(i); f.Name {
					case "h", "timer":
					default:
						assert.True(t, cv.Field(i).IsZero(), "field %s is not zero", f.Name)
					}
				}
			})
		})
	}
}
