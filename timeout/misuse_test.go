package timeout_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/timeout"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMisuseIsAnErrorNotAPanic: a nil or zero Timeout, a nil context or a
// nil call return an error matching resilience.ErrMisuse and run nothing,
// in both modes, directly, through Wrap and through a Chain.
func TestMisuseIsAnErrorNotAPanic(t *testing.T) {
	var nilCtx context.Context
	var nilTimeout *timeout.Timeout
	ran := false
	call := func(context.Context) error { ran = true; return nil }
	coop := mustNew(t, timeout.Config{Timeout: time.Hour})
	abandon := mustNew(t, timeout.Config{Timeout: time.Hour, Abandon: true, MaxAbandoned: 1})
	for _, tc := range []struct {
		name string
		run  func() error
		want error
	}{
		{"zero Timeout", func() error { return new(timeout.Timeout).Execute(context.Background(), call) }, resilience.ErrMisuse},
		{"nil Timeout", func() error { return nilTimeout.Execute(context.Background(), call) }, resilience.ErrNilPolicy},
		{"nil Timeout wrapped", func() error { return nilTimeout.Wrap(nil).Execute(context.Background(), call) }, resilience.ErrNilPolicy},
		{"zero Timeout in a Chain", func() error { return resilience.Chain(new(timeout.Timeout)).Execute(context.Background(), call) }, resilience.ErrMisuse},
		{"zero Timeout inside a Chain", func() error {
			return resilience.Chain(coop, new(timeout.Timeout)).Execute(context.Background(), call)
		}, resilience.ErrMisuse},
		{"cooperative, nil context", func() error { return coop.Execute(nilCtx, call) }, resilience.ErrNilContext},
		{"cooperative, nil call", func() error { return coop.Execute(context.Background(), nil) }, resilience.ErrNilFunc},
		{"abandon, nil context", func() error { return abandon.Execute(nilCtx, call) }, resilience.ErrNilContext},
		{"abandon, nil call", func() error { return abandon.Execute(context.Background(), nil) }, resilience.ErrNilFunc},
		{"abandon wrapped, nil call", func() error { return abandon.Wrap(nil).Execute(context.Background(), nil) }, resilience.ErrNilFunc},
		{"Do, nil fn", func() error {
			_, err := resilience.Do[int](context.Background(), resilience.Chain(coop), nil)
			return err
		}, resilience.ErrNilFunc},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			require.ErrorIs(t, err, tc.want)
			assert.ErrorIs(t, err, resilience.ErrMisuse)
			assert.False(t, ran)
			assert.Zero(t, abandon.Abandoned())
		})
	}
}

// TestChainOfAnAbandoningTimeoutRunsTheCall: Wrap in abandon mode runs
// next in the call's goroutine, under the deadline.
func TestChainOfAnAbandoningTimeoutRunsTheCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := mustNew(t, timeout.Config{Timeout: 100 * time.Millisecond, Abandon: true, MaxAbandoned: 1})
		inner := mustNew(t, timeout.Config{Timeout: time.Hour})
		c := resilience.Chain(p, inner)
		require.NoError(t, c.Execute(context.Background(), func(context.Context) error { return nil }))
		start := time.Now()
		err := c.Execute(context.Background(), stubborn(time.Second, nil))
		assert.ErrorIs(t, err, timeout.ErrTimeout)
		assert.Equal(t, 100*time.Millisecond, time.Since(start))
		time.Sleep(time.Second)
		synctest.Wait()
		assert.Zero(t, p.Abandoned())
	})
}

// TestDoThroughAChainOfTimeout covers the two-step path: a result in
// time, the policy's timeout (reported once), and the caller's own
// deadline.
func TestDoThroughAChainOfTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec recorder
		p := mustNew(t, timeout.Config{Name: "db", Timeout: 100 * time.Millisecond, Observer: &rec})
		c := resilience.Chain(p)
		v, err := resilience.Do(context.Background(), c, func(context.Context) (int, error) { return 1, nil })
		require.NoError(t, err)
		assert.Equal(t, 1, v)

		_, err = resilience.Do(context.Background(), c, func(ctx context.Context) (int, error) { <-ctx.Done(); return 0, ctx.Err() })
		assert.ErrorIs(t, err, timeout.ErrTimeout)
		var te interface{ Timeout() bool }
		require.ErrorAs(t, err, &te)
		assert.True(t, te.Timeout())
		assert.Equal(t, []resilience.EventKind{resilience.EventTimeout}, rec.Kinds())

		_, err = resilience.Do(context.Background(), c, func(ctx context.Context) (int, error) {
			<-ctx.Done()
			return 0, errors.New("gave up: " + context.Cause(ctx).Error())
		})
		assert.ErrorIs(t, err, timeout.ErrTimeout, "a callee's own error caused by the deadline")

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		_, err = resilience.Do(ctx, c, func(ctx context.Context) (int, error) { <-ctx.Done(); return 0, ctx.Err() })
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.NotErrorIs(t, err, timeout.ErrTimeout, "the caller's deadline, not the policy's")
	})
}

// TestPanicThroughDoCancelsTheContext: a call that panics through Do gives
// back its context (cancelled when the panic passes).
func TestPanicThroughDoCancelsTheContext(t *testing.T) {
	p := mustNew(t, timeout.Config{Timeout: time.Hour})
	var inner context.Context
	got := func() (r any) {
		defer func() { r = recover() }()
		_, _ = resilience.Do(context.Background(), resilience.Chain(p), func(ctx context.Context) (int, error) { inner = ctx; panic("boom") })
		return nil
	}()
	assert.Equal(t, "boom", got)
	require.NotNil(t, inner)
	assert.ErrorIs(t, inner.Err(), context.Canceled)
}

// panicking is an Observer that panics on every event of kind.
type panicking resilience.EventKind

func (k panicking) Observe(e resilience.Event) {
	if e.Kind == resilience.EventKind(k) {
		panic("observer")
	}
}

// TestPanickingObserverReleasesTheContext: an Observer that panics on
// EventTimeout lets the panic reach the caller after the call's context is
// released, through Execute and through Do.
func TestPanickingObserverReleasesTheContext(t *testing.T) {
	for _, via := range []string{"Execute", "Do"} {
		t.Run(via, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := mustNew(t, timeout.Config{Timeout: 100 * time.Millisecond, Observer: panicking(resilience.EventTimeout)})
				var inner context.Context
				call := func(ctx context.Context) (int, error) { inner = ctx; <-ctx.Done(); return 0, ctx.Err() }
				got := func() (r any) {
					defer func() { r = recover() }()
					if via == "Do" {
						_, _ = resilience.Do(context.Background(), resilience.Chain(p), call)
					} else {
						_ = p.Execute(context.Background(), func(ctx context.Context) error { _, err := call(ctx); return err })
					}
					return nil
				}()
				assert.Equal(t, "observer", got)
				assert.ErrorIs(t, context.Cause(inner), timeout.ErrTimeout)
			})
		})
	}
}
