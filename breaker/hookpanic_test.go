package breaker_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// errPanicky is an error the test Classifier panics on.
var errPanicky = errors.New("classify me and panic")

func panickyClassifier(err error) resilience.Outcome {
	if errors.Is(err, errPanicky) {
		panic(panicValue{7})
	}
	return resilience.DefaultClassifier(err)
}

// recovering runs f and returns what it panicked with.
func recovering(f func()) (recovered any) {
	defer func() { recovered = recover() }()
	f()
	return nil
}

// TestPanickingClassifierDoesNotLoseTheProbe: a Classifier that panics on a
// half-open probe's error counts the probe as a failure (the breaker opens
// again at once, not after HalfOpenTimeout) and the panic reaches the
// caller, whichever way the call was made.
func TestPanickingClassifierDoesNotLoseTheProbe(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(b *breaker.Breaker)
	}{
		{"Execute", func(b *breaker.Breaker) {
			_ = b.Execute(context.Background(), fail(errPanicky))
		}},
		{"Allow's done", func(b *breaker.Breaker) {
			done, err := b.Allow(context.Background())
			if err != nil {
				panic(err)
			}
			done(errPanicky)
		}},
		{"Do through a Chain", func(b *breaker.Breaker) {
			_, _ = resilience.Do(context.Background(), resilience.Chain(b), func(context.Context) (int, error) { return 0, errPanicky })
		}},
		{"Execute through a Chain", func(b *breaker.Breaker) {
			_ = resilience.Chain(b, resilience.Chain()).Execute(context.Background(), fail(errPanicky))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := mustNew(t, breaker.Config{ConsecutiveFailures: 1, OpenTimeout: time.Second, HalfOpenTimeout: time.Hour, Classifier: panickyClassifier})
				failN(t, b, 1)
				time.Sleep(time.Second)
				require.Equal(t, breaker.HalfOpen, b.State())

				assert.Equal(t, panicValue{7}, recovering(func() { tc.run(b) }))
				assert.Equal(t, breaker.Open, b.State(), "the probe counts as a failure")
				time.Sleep(time.Second)
				succeedN(t, b, 1) // a new probe is admitted long before HalfOpenTimeout
				assert.Equal(t, breaker.Closed, b.State())
			})
		})
	}
}

// TestPanickingClassifierInClosedStateCountsAFailure: in the closed state
// the call counts as a failure, so a Classifier that always panics cannot
// keep a failing dependency's breaker closed.
func TestPanickingClassifierInClosedStateCountsAFailure(t *testing.T) {
	b := mustNew(t, breaker.Config{ConsecutiveFailures: 2, Classifier: panickyClassifier})
	for range 2 {
		assert.Equal(t, panicValue{7}, recovering(func() { _ = b.Execute(context.Background(), fail(errPanicky)) }))
	}
	assert.Equal(t, breaker.Open, b.State(), "both calls counted as failures")
}

// TestPanickingStateCallbackDoesNotLoseTheProbe: OnStateChange (or the
// Observer told of the change) panics when the breaker turns half-open on a
// call; that call does not run, and its probe is given back, so the next
// call is admitted as the probe instead of refused until HalfOpenTimeout.
func TestPanickingStateCallbackDoesNotLoseTheProbe(t *testing.T) {
	for _, hook := range []string{"OnStateChange", "Observer"} {
		t.Run(hook, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var armed atomic.Bool
				boom := func(to breaker.State) {
					if to == breaker.HalfOpen && armed.CompareAndSwap(true, false) {
						panic(panicValue{9})
					}
				}
				cfg := breaker.Config{ConsecutiveFailures: 1, OpenTimeout: time.Second, HalfOpenTimeout: time.Hour}
				if hook == "OnStateChange" {
					cfg.OnStateChange = func(_ string, _, to breaker.State) { boom(to) }
				} else {
					cfg.Observer = observerFunc(func(e resilience.Event) {
						if e.Kind == resilience.EventStateChange {
							boom(breaker.HalfOpen)
						}
					})
				}
				b := mustNew(t, cfg)
				failN(t, b, 1)
				armed.Store(true)
				time.Sleep(time.Second)

				ran := false
				assert.Equal(t, panicValue{9}, recovering(func() {
					_ = b.Execute(context.Background(), func(context.Context) error { ran = true; return nil })
				}))
				assert.False(t, ran, "the call whose admission panicked does not run")
				require.NoError(t, b.Execute(context.Background(), succeed), "the probe was given back")
				assert.Equal(t, breaker.Closed, b.State())
			})
		})
	}
}

// TestPanickingObserverOfACallKeepsTheOutcome: an Observer that panics on
// a probe's EventCall does so after the outcome is counted.
func TestPanickingObserverOfACallKeepsTheOutcome(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var armed atomic.Bool
		b := mustNew(t, breaker.Config{ConsecutiveFailures: 1, OpenTimeout: time.Second, HalfOpenTimeout: time.Hour,
			Observer: observerFunc(func(e resilience.Event) {
				if e.Kind == resilience.EventCall && armed.CompareAndSwap(true, false) {
					panic(panicValue{5})
				}
			})})
		failN(t, b, 1)
		time.Sleep(time.Second)
		armed.Store(true)
		assert.Equal(t, panicValue{5}, recovering(func() { _ = b.Execute(context.Background(), succeed) }))
		assert.Equal(t, breaker.Closed, b.State(), "the successful probe was counted")
	})
}

// TestSmallestWindowTrips: the shortest Window New accepts holds its
// buckets, so failures in a row trip the rate rule.
func TestSmallestWindowTrips(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, breaker.Config{FailureRate: 0.5, MinCalls: 3, Window: 10 * time.Millisecond})
		failN(t, b, 3)
		assert.Equal(t, breaker.Open, b.State())
	})
}
