package hedge_test

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience/hedge"
)

// TestFirstAnswerAllocatesOnlyTheCallState: a call whose first attempt
// answers before the delay reuses the Hedge's stopped timer and makes no
// context: the call's own state is its one allocation.
func TestFirstAnswerAllocatesOnlyTheCallState(t *testing.T) {
	h := newHedge(t, hedge.Config{Delay: time.Hour})
	ctx := context.Background()
	hedge.Do(ctx, h, nil, quick) // leaves a stopped timer behind for the next call
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := hedge.Do(ctx, h, nil, quick); err != nil {
			t.Fatal(err)
		}
	})
	if raceEnabled {
		assert.LessOrEqual(t, allocs, 4.0, "under -race sync.Pool drops some timers")
		return
	}
	assert.LessOrEqual(t, allocs, 1.0)
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
