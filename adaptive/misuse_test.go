package adaptive_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/adaptive"
)

// A nil or zero policy, a nil context or a nil call is an error matching
// resilience.ErrMisuse, never a panic, and takes nothing.
func TestMisuseIsReportedNotPanicked(t *testing.T) {
	l := mustNew(t, adaptive.Config{})
	th, err := adaptive.NewThrottler(adaptive.ThrottlerConfig{})
	require.NoError(t, err)
	var (
		nilL   *adaptive.Limiter
		zeroL  adaptive.Limiter
		nilT   *adaptive.Throttler
		zeroT  adaptive.Throttler
		nilCtx context.Context
		bg     = context.Background()
	)
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"nil limiter", nilL.Execute(bg, nop), resilience.ErrNilPolicy},
		{"zero limiter", zeroL.Execute(bg, nop), resilience.ErrMisuse},
		{"limiter, nil context", l.Execute(nilCtx, nop), resilience.ErrNilContext},
		{"limiter, nil call", l.Execute(bg, nil), resilience.ErrNilFunc},
		{"zero limiter in a Chain", resilience.Chain(&zeroL, resilience.Chain()).Execute(bg, nop), resilience.ErrMisuse},
		{"nil throttler", nilT.Execute(bg, nop), resilience.ErrNilPolicy},
		{"zero throttler", zeroT.Execute(bg, nop), resilience.ErrMisuse},
		{"throttler, nil context", th.Execute(nilCtx, nop), resilience.ErrNilContext},
		{"throttler, nil call", th.Execute(bg, nil), resilience.ErrNilFunc},
		{"zero throttler in a Chain", resilience.Chain(&zeroT, resilience.Chain()).Execute(bg, nop), resilience.ErrMisuse},
	} {
		assert.ErrorIs(t, tc.err, tc.want, tc.name)
		assert.ErrorIs(t, tc.err, resilience.ErrMisuse, tc.name)
		assert.NotErrorIs(t, tc.err, resilience.ErrRejected, tc.name)
	}
	assert.Zero(t, l.InFlight())
	assert.Zero(t, th.Requests())
}

// An Observer that panics on the slot just taken gets the slot given back;
// the panic goes on to the caller.
func TestObserverPanicGivesTheSlotBack(t *testing.T) {
	armed := false
	obs := observerFunc(func(ev resilience.Event) {
		if armed && ev.Kind == resilience.EventAcquire {
			panic("observer")
		}
	})
	l := mustNew(t, adaptive.Config{InitialLimit: 1, MinLimit: 1, MaxLimit: 1, Observer: obs})
	armed = true
	ran := false
	assert.PanicsWithValue(t, "observer", func() {
		_ = l.Execute(context.Background(), func(context.Context) error { ran = true; return nil })
	})
	assert.False(t, ran)
	assert.Zero(t, l.InFlight())
	armed = false
	assert.NoError(t, l.Execute(context.Background(), nop), "the slot is free again")
}
