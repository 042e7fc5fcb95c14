package bulkhead_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// panicOn is an Observer that panics, once armed, on the first event of
// kind.
type panicOn struct {
	kind  resilience.EventKind
	armed atomic.Bool
}

func (p *panicOn) Observe(e resilience.Event) {
	if e.Kind == p.kind && p.armed.CompareAndSwap(true, false) {
		panic("observer: " + e.Kind.String())
	}
}

func recovering(f func()) (recovered any) {
	defer func() { recovered = recover() }()
	f()
	return nil
}

// TestPanickingObserverLosesNoSlot: an Observer that panics on any of the
// events of a slot's life (taken, taken after a wait, given back) lets the
// panic reach the caller and leaves no slot taken.
func TestPanickingObserverLosesNoSlot(t *testing.T) {
	for _, kind := range []resilience.EventKind{resilience.EventAcquire, resilience.EventWait, resilience.EventRelease} {
		t.Run(kind.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				obs := &panicOn{kind: kind}
				b := mustNew(t, bulkhead.Config{MaxConcurrent: 1, MaxWait: time.Minute, Observer: obs})
				run := func() {
					_ = b.Execute(context.Background(), func(context.Context) error { return nil })
				}
				if kind == resilience.EventWait {
					// Make the next caller wait: hold the slot, give it back
					// once the caller is queued.
					require.NoError(t, b.Acquire(context.Background()))
					go func() {
						synctest.Wait()
						b.Release()
					}()
				}
				obs.armed.Store(true)
				assert.Equal(t, "observer: "+kind.String(), recovering(run))
				synctest.Wait()
				assert.Zero(t, b.InFlight(), "no slot left taken")
				assert.Zero(t, b.Waiting())
				require.NoError(t, b.Execute(context.Background(), func(context.Context) error { return nil }))
			})
		})
	}
}

// TestPanickingObserverThroughDoLosesNoSlot: the same through resilience.Do
// and a Chain, the two-step path.
func TestPanickingObserverThroughDoLosesNoSlot(t *testing.T) {
	for _, kind := range []resilience.EventKind{resilience.EventAcquire, resilience.EventRelease} {
		t.Run(kind.String(), func(t *testing.T) {
			obs := &panicOn{kind: kind}
			b := mustNew(t, bulkhead.Config{MaxConcurrent: 1, Observer: obs})
			obs.armed.Store(true)
			assert.NotNil(t, recovering(func() {
				_, _ = resilience.Do(context.Background(), resilience.Chain(b), func(context.Context) (int, error) { return 1, nil })
			}))
			assert.Zero(t, b.InFlight())
		})
	}
}

// TestMisuseIsAnErrorNotAPanic: a zero or nil Bulkhead, a nil context or a
// nil call return an error matching resilience.ErrMisuse, take no slot and
// run nothing.
func TestMisuseIsAnErrorNotAPanic(t *testing.T) {
	var nilCtx context.Context
	var nilBulkhead *bulkhead.Bulkhead
	ran := false
	call := func(context.Context) error { ran = true; return nil }
	good := mustNew(t, bulkhead.Config{MaxConcurrent: 1})
	for _, tc := range []struct {
		name string
		run  func() error
		want error
	}{
		{"zero Bulkhead Execute", func() error { return new(bulkhead.Bulkhead).Execute(context.Background(), call) }, resilience.ErrMisuse},
		{"zero Bulkhead Acquire", func() error { return new(bulkhead.Bulkhead).Acquire(context.Background()) }, resilience.ErrMisuse},
		{"nil Bulkhead Execute", func() error { return nilBulkhead.Execute(context.Background(), call) }, resilience.ErrNilPolicy},
		{"nil Bulkhead Acquire", func() error { return nilBulkhead.Acquire(context.Background()) }, resilience.ErrNilPolicy},
		{"nil context", func() error { return good.Execute(nilCtx, call) }, resilience.ErrNilContext},
		{"nil context Acquire", func() error { return good.Acquire(nilCtx) }, resilience.ErrNilContext},
		{"nil call", func() error { return good.Execute(context.Background(), nil) }, resilience.ErrNilFunc},
		{"nil call through Wrap", func() error { return good.Wrap(nil).Execute(context.Background(), nil) }, resilience.ErrNilFunc},
		{"zero Bulkhead in a Chain", func() error { return resilience.Chain(new(bulkhead.Bulkhead)).Execute(context.Background(), call) }, resilience.ErrMisuse},
		{"zero Bulkhead in a longer Chain", func() error {
			return resilience.Chain(good, new(bulkhead.Bulkhead)).Execute(context.Background(), call)
		}, resilience.ErrMisuse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			require.ErrorIs(t, err, tc.want)
			assert.ErrorIs(t, err, resilience.ErrMisuse)
			assert.NotErrorIs(t, err, resilience.ErrRejected, "not a refusal: a fallback must not answer it")
			assert.False(t, ran)
			assert.Zero(t, good.InFlight())
		})
	}
}
