package timeout_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/timeout"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var errBoom = errors.New("boom")

func TestNewRefusesBadConfigNamingTheField(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   timeout.Config
		field string
	}{
		{"zero Timeout", timeout.Config{}, "Config.Timeout"},
		{"negative Timeout", timeout.Config{Timeout: -time.Second}, "Config.Timeout"},
		{"negative MaxAbandoned", timeout.Config{Timeout: time.Second, MaxAbandoned: -1}, "Config.MaxAbandoned"},
		{"MaxAbandoned without Abandon does nothing", timeout.Config{Timeout: time.Second, MaxAbandoned: 10}, "Config.MaxAbandoned"},
		{"Abandon without a cap", timeout.Config{Timeout: time.Second, Abandon: true}, "Config.MaxAbandoned"},
		{"Abandon with a negative cap", timeout.Config{Timeout: time.Second, Abandon: true, MaxAbandoned: -1}, "Config.MaxAbandoned"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := timeout.New(tc.cfg)
			require.Error(t, err)
			assert.Nil(t, p)
			assert.Contains(t, err.Error(), "timeout: "+tc.field+" must be")
		})
	}
}

func TestNewKeepsConfig(t *testing.T) {
	p := mustNew(t, timeout.Config{Name: "db", Timeout: time.Second, Abandon: true, MaxAbandoned: 3})
	assert.Equal(t, "db", p.Name())
	assert.Equal(t, time.Second, p.Timeout())
	assert.Zero(t, p.Abandoned())
}

func TestErrorsMatchWhatTheyShould(t *testing.T) {
	assert.ErrorIs(t, timeout.ErrTimeout, context.DeadlineExceeded)
	assert.NotErrorIs(t, timeout.ErrTimeout, resilience.ErrRejected)
	assert.EqualError(t, timeout.ErrTimeout, "timeout: deadline exceeded")
	assert.ErrorIs(t, timeout.ErrTooManyAbandoned, resilience.ErrRejected)
	assert.NotErrorIs(t, timeout.ErrTooManyAbandoned, context.DeadlineExceeded)
	assert.EqualError(t, timeout.ErrTooManyAbandoned, "timeout: too many abandoned calls")
}

// A callee that honours its context, in cooperative mode, ends at the
// policy's deadline exactly, on the caller's goroutine, and the error says
// it was the policy's deadline while keeping the callee's error.
func TestCooperativeCalleeEndsAtTheDeadline(t *testing.T) {
	for _, tc := range []struct {
		name    string
		callee  func(ctx context.Context) error
		took    time.Duration
		message string
	}{
		{
			name:    "returns ctx.Err()",
			callee:  func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() },
			took:    100 * time.Millisecond,
			message: `timeout "db": deadline exceeded`,
		},
		{
			name:    "returns context.Cause",
			callee:  func(ctx context.Context) error { <-ctx.Done(); return context.Cause(ctx) },
			took:    100 * time.Millisecond,
			message: `timeout "db": deadline exceeded`,
		},
		{
			name: "wraps ctx.Err()",
			callee: func(ctx context.Context) error {
				<-ctx.Done()
				return fmt.Errorf("query: %w", ctx.Err())
			},
			took:    100 * time.Millisecond,
			message: `timeout "db": deadline exceeded: query: context deadline exceeded`,
		},
		{
			name: "returns its own error late",
			callee: func(ctx context.Context) error {
				time.Sleep(150 * time.Millisecond)
				return errBoom
			},
			took:    150 * time.Millisecond,
			message: `timeout "db": deadline exceeded: boom`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var rec recorder
				p := mustNew(t, timeout.Config{Name: "db", Timeout: 100 * time.Millisecond, Observer: &rec})
				var calleeErr error
				goroutines := runtime.NumGoroutine()
				start := time.Now()
				err := p.Execute(context.Background(), func(ctx context.Context) error {
					assert.Equal(t, goroutines, runtime.NumGoroutine(), "no goroutine started for the call")
					dl, ok := ctx.Deadline()
					assert.True(t, ok)
					assert.Equal(t, start.Add(100*time.Millisecond), dl)
					calleeErr = tc.callee(ctx)
					assert.Same(t, timeout.ErrTimeout, context.Cause(ctx))
					return calleeErr
				})
				assert.Equal(t, tc.took, time.Since(start), "fake clock advanced")
				assert.ErrorIs(t, err, timeout.ErrTimeout)
				assert.ErrorIs(t, err, context.DeadlineExceeded)
				assert.ErrorIs(t, err, calleeErr, "the callee's error stays reachable")
				assert.NotErrorIs(t, err, resilience.ErrRejected)
				assert.EqualError(t, err, tc.message)
				es := rec.Take()
				require.Len(t, es, 1)
				assert.Equal(t, resilience.EventTimeout, es[0].Kind)
				assert.Equal(t, "db", es[0].Policy)
				assert.Same(t, err, es[0].Err)
				// A breaker counts it as a failure of the dependency.
				assert.Equal(t, resilience.Failure, resilience.Classifier(nil).Classify(context.Background(), err))
			})
		})
	}
}

func TestCooperativeResultsBeforeTheDeadlinePassThrough(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec recorder
		p := mustNew(t, timeout.Config{Timeout: 100 * time.Millisecond, Observer: &rec})
		assert.NoError(t, p.Execute(context.Background(), func(context.Context) error { return nil }))
		assert.Same(t, errBoom, p.Execute(context.Background(), func(context.Context) error {
			time.Sleep(99 * time.Millisecond)
			return errBoom
		}))
		// Late but successful: the result stands.
		assert.NoError(t, p.Execute(context.Background(), func(context.Context) error {
			time.Sleep(time.Second)
			return nil
		}))
		assert.Empty(t, rec.Kinds())
	})
}

func TestCallerDeadlineNoLaterThanPolicyPassesContextUnchanged(t *testing.T) {
	for _, tc := range []struct {
		name   string
		caller time.Duration
	}{
		{"earlier", 50 * time.Millisecond},
		{"same instant", 100 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var rec recorder
				p := mustNew(t, timeout.Config{Timeout: 100 * time.Millisecond, Observer: &rec})
				ctx, cancel := context.WithTimeout(context.Background(), tc.caller)
				defer cancel()
				start := time.Now()
				err := p.Execute(ctx, func(got context.Context) error {
					assert.True(t, got == ctx, "the caller's context itself")
					<-got.Done()
					return got.Err()
				})
				assert.Equal(t, tc.caller, time.Since(start))
				assert.Equal(t, context.DeadlineExceeded, err, "the caller's own error")
				assert.NotErrorIs(t, err, timeout.ErrTimeout)
				assert.Empty(t, rec.Kinds())
				assert.Equal(t, resilience.Ignored, resilience.Classifier(nil).Classify(ctx, err))
			})
		})
	}
}

func TestCallerDeadlineLaterGivesWayToPolicy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := mustNew(t, timeout.Config{Timeout: 100 * time.Millisecond})
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		err := p.Execute(ctx, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		assert.Equal(t, 100*time.Millisecond, time.Since(start))
		assert.ErrorIs(t, err, timeout.ErrTimeout)
		assert.Equal(t, resilience.Failure, resilience.Classifier(nil).Classify(ctx, err))
	})
}

func TestCallerCancellationReturnsTheCallersError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec recorder
		p := mustNew(t, timeout.Config{Timeout: 100 * time.Millisecond, Observer: &rec})
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(30*time.Millisecond, cancel)
		start := time.Now()
		err := p.Execute(ctx, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		assert.Equal(t, 30*time.Millisecond, time.Since(start))
		assert.Same(t, context.Canceled, err)
		assert.Empty(t, rec.Kinds())
		assert.Equal(t, resilience.Ignored, resilience.Classifier(nil).Classify(ctx, err))
	})
}

func TestCallContextIsReleasedWhenExecuteReturns(t *testing.T) {
	p := mustNew(t, timeout.Config{Timeout: time.Hour})
	var callCtx context.Context
	require.NoError(t, p.Execute(context.Background(), func(ctx context.Context) error {
		callCtx = ctx
		return nil
	}))
	assert.ErrorIs(t, callCtx.Err(), context.Canceled)

	assert.PanicsWithValue(t, errBoom, func() {
		_ = p.Execute(context.Background(), func(ctx context.Context) error {
			callCtx = ctx
			panic(errBoom)
		})
	})
	assert.ErrorIs(t, callCtx.Err(), context.Canceled, "released on panic too")
}

func TestWrapRunsNextUnderTheDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := mustNew(t, timeout.Config{Timeout: 100 * time.Millisecond})
		b, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
		require.NoError(t, err)
		for _, tc := range []struct {
			name     string
			policy   func(next resilience.Policy) resilience.Policy
			inFlight int // bulkhead slots taken during the call
		}{
			{"Wrap", p.Wrap, 0},
			{"Chain after a bulkhead", func(next resilience.Policy) resilience.Policy { return resilience.Chain(b, p, next) }, 1},
		} {
			start := time.Now()
			var nextDeadline time.Time
			next := resilience.PolicyFunc(func(ctx context.Context, call func(context.Context) error) error {
				nextDeadline, _ = ctx.Deadline()
				return call(ctx)
			})
			err := tc.policy(next).Execute(context.Background(), func(ctx context.Context) error {
				assert.Equal(t, tc.inFlight, b.InFlight(), tc.name)
				<-ctx.Done()
				return ctx.Err()
			})
			assert.ErrorIs(t, err, timeout.ErrTimeout, tc.name)
			assert.Equal(t, start.Add(100*time.Millisecond), nextDeadline, tc.name)
			assert.Equal(t, 100*time.Millisecond, time.Since(start), tc.name)
		}
		assert.Zero(t, b.InFlight())

		start := time.Now()
		err = p.Wrap(nil).Execute(context.Background(), func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		assert.ErrorIs(t, err, timeout.ErrTimeout)
		assert.Equal(t, 100*time.Millisecond, time.Since(start))
	})
}

// Do through a timeout: the typed result of a call that made it.
func TestDoThroughTimeout(t *testing.T) {
	p := mustNew(t, timeout.Config{Timeout: time.Hour})
	v, err := resilience.Do(context.Background(), p, func(context.Context) (int, error) { return 42, nil })
	require.NoError(t, err)
	assert.Equal(t, 42, v)
}
