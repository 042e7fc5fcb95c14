package hedge_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/hedge"
	"github.com/go-resilience/resilience/retry"
)

// TestFirstAnswerAllocatesOnlyItsContext: a call whose first attempt
// answers before the delay reuses a call state and its stopped timer kept
// by the Hedge: its one allocation is the first attempt's context, 24
// bytes (the runtime's 24-byte size class).
func TestFirstAnswerAllocatesOnlyItsContext(t *testing.T) {
	h := newHedge(t, hedge.Config{Delay: time.Hour})
	ctx := context.Background()
	call := func() {
		if _, err := hedge.Do(ctx, h, nil, quick); err != nil {
			t.Fatal(err)
		}
	}
	call() // leaves a call state and its stopped timer behind for the next call
	allocs := testing.AllocsPerRun(200, call)
	if raceEnabled {
		assert.LessOrEqual(t, allocs, 6.0, "under -race sync.Pool drops some call states")
		return
	}
	assert.LessOrEqual(t, allocs, 1.0)

	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const n = 1000
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n {
		call()
	}
	runtime.ReadMemStats(&after)
	perCall := float64(after.TotalAlloc-before.TotalAlloc) / n
	t.Logf("%.1f bytes allocated per call", perCall)
	assert.LessOrEqual(t, perCall, 24.5, "bytes allocated per call")
}

// TestFirstAttemptContextIsNotReused: a first attempt's context kept past
// its call stays cancelled while later calls reuse the call's state: each
// call's first attempt gets a context of its own.
func TestFirstAttemptContextIsNotReused(t *testing.T) {
	h := newHedge(t, hedge.Config{Delay: time.Hour})
	var kept []context.Context
	var children []context.Context
	for i := range 50 {
		_, err := hedge.Do(t.Context(), h, nil, func(ctx context.Context) (int, error) {
			for _, k := range kept {
				require.NotSame(t, k, ctx, "call %d got the context of an earlier call", i)
			}
			kept = append(kept, ctx)
			if i%2 == 0 {
				child, cancel := context.WithCancel(ctx)
				t.Cleanup(cancel)
				children = append(children, child)
			}
			return i, ctx.Err()
		})
		require.NoError(t, err)
	}
	for i, k := range append(kept, children...) {
		assert.ErrorIs(t, k.Err(), context.Canceled, "context %d", i)
		select {
		case <-k.Done():
		default:
			t.Errorf("context %d is not done", i)
		}
	}
}

// TestCallsReusingStateGetTheirOwnResults: calls one after another, on a
// few goroutines, whose first attempts alternately answer at once and run
// past the delay (so that hedges are sent, refused by the budget, or fire
// just as the first attempt answers): each caller gets a value of its own
// call. Under -race, a call state reused while a hedge of an earlier call
// could still reach it shows as a race or as another call's value.
func TestCallsReusingStateGetTheirOwnResults(t *testing.T) {
	b, err := retry.NewBudget(retry.BudgetConfig{Ratio: 0.1, MinConcurrent: 1, MinPerSecond: 1e-9})
	require.NoError(t, err)
	obs := &events{}
	h := newHedge(t, hedge.Config{Delay: 100 * time.Microsecond, Budget: b, Observer: obs})
	const goroutines, calls = 4, 300
	var wg sync.WaitGroup
	var hedgeWins atomic.Int32
	for g := range goroutines {
		wg.Go(func() {
			for i := range calls {
				id := g*calls + i
				var n atomic.Int32
				v, err := hedge.Do(t.Context(), h, nil, func(ctx context.Context) (answer, error) {
					a := int(n.Add(1))
					if a == 1 && i%2 == 1 { // a slow first attempt
						select {
						case <-time.After(time.Duration(rand.IntN(300)) * time.Microsecond):
						case <-ctx.Done():
							return answer{}, ctx.Err()
						}
					}
					return answer{id, a}, nil
				})
				if !assert.NoError(t, err) {
					return
				}
				assert.Equal(t, id, v.call, "a value of the caller's own call")
				if v.attempt > 1 {
					hedgeWins.Add(1)
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d calls: %d won by a hedge, %d hedges sent, %d refused", goroutines*calls, hedgeWins.Load(),
		obs.count(resilience.EventHedgeSent), obs.count(resilience.EventHedgeRefused))
	assert.Positive(t, obs.count(resilience.EventHedgeSent), "hedges were sent")
	assert.Positive(t, obs.count(resilience.EventHedgeRefused), "hedges were refused")
}

// TestContextsDerivedFromTheFirstAttemptEndWhenAHedgeWins: children of the
// first attempt's context (WithCancel, WithTimeout, AfterFunc) register
// with it without starting a goroutine, and are cancelled, with the cause
// context.Canceled, the moment a hedge wins.
func TestContextsDerivedFromTheFirstAttemptEndWhenAHedgeWins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedge(t, hedge.Config{Delay: 10 * time.Millisecond})
		var n atomic.Int32
		var before, after int
		var errs [3]error
		var cause, childCause error
		v, err := hedge.Do(t.Context(), h, nil, func(ctx context.Context) (string, error) {
			if n.Add(1) != 1 {
				return "hedge", nil
			}
			before = runtime.NumGoroutine()
			c1, cancel1 := context.WithCancel(ctx)
			defer cancel1()
			c2, cancel2 := context.WithTimeout(ctx, time.Hour)
			defer cancel2()
			fired := make(chan struct{})
			stop := context.AfterFunc(ctx, func() { close(fired) })
			defer stop()
			after = runtime.NumGoroutine()
			<-c1.Done()
			<-c2.Done()
			<-fired
			errs = [3]error{ctx.Err(), c1.Err(), c2.Err()}
			cause, childCause = context.Cause(ctx), context.Cause(c1)
			return "first", ctx.Err()
		})
		require.NoError(t, err)
		assert.Equal(t, "hedge", v)
		assert.Equal(t, before, after, "deriving from the first attempt's context starts no goroutine")
		for i, e := range errs {
			assert.ErrorIs(t, e, context.Canceled, "context %d", i)
		}
		assert.ErrorIs(t, cause, context.Canceled)
		assert.ErrorIs(t, childCause, context.Canceled)
	})
}

type ctxKey struct{}

// TestFirstAttemptContextFollowsTheContract: the first attempt's context
// passes values and deadlines through, is not done while the call runs,
// follows its parent's cancellation with the parent's cause, and is
// cancelled (context.Canceled) once Do returns.
func TestFirstAttemptContextFollowsTheContract(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedge(t, hedge.Config{Delay: time.Hour})
		deadline := time.Now().Add(time.Minute)
		parent, cancel := context.WithDeadline(context.WithValue(t.Context(), ctxKey{}, "v"), deadline)
		defer cancel()
		var kept context.Context
		_, err := hedge.Do(parent, h, nil, func(ctx context.Context) (int, error) {
			kept = ctx
			assert.Equal(t, "v", ctx.Value(ctxKey{}))
			d, ok := ctx.Deadline()
			assert.True(t, ok)
			assert.Equal(t, deadline, d)
			assert.NoError(t, ctx.Err())
			assert.NoError(t, context.Cause(ctx))
			select {
			case <-ctx.Done():
				t.Error("done while the call runs")
			default:
			}
			return 1, nil
		})
		require.NoError(t, err)
		<-kept.Done()
		assert.ErrorIs(t, kept.Err(), context.Canceled)
		assert.ErrorIs(t, context.Cause(kept), context.Canceled)
		assert.Equal(t, "v", kept.Value(ctxKey{}), "values outlive the cancel")

		// The parent's cancellation, with its cause, reaches the attempt.
		boom := errors.New("boom")
		pc, pcancel := context.WithCancelCause(t.Context())
		_, err = hedge.Do(pc, h, nil, func(ctx context.Context) (int, error) {
			done := ctx.Done()
			pcancel(boom)
			<-done
			assert.ErrorIs(t, ctx.Err(), context.Canceled)
			assert.ErrorIs(t, context.Cause(ctx), boom)
			child, ccancel := context.WithCancel(ctx)
			defer ccancel()
			<-child.Done()
			assert.ErrorIs(t, context.Cause(child), boom)
			return 0, ctx.Err()
		})
		assert.ErrorIs(t, err, context.Canceled)

		// Err alone (no Done asked) sees the parent's cancellation.
		pc2, pcancel2 := context.WithCancel(t.Context())
		_, err = hedge.Do(pc2, h, nil, func(ctx context.Context) (int, error) {
			pcancel2()
			return 0, ctx.Err()
		})
		assert.ErrorIs(t, err, context.Canceled)
	})
}
