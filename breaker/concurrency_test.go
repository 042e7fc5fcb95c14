package breaker_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHalfOpenAdmitsExactlyItsProbesAmongAThousandCallers(t *testing.T) {
	for _, probes := range []uint32{1, 3, 10} {
		t.Run(map[uint32]string{1: "one probe", 3: "three probes", 10: "ten probes"}[probes], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const callers = 1000
				var told atomic.Int64 // refusals the Observer was told of
				b := mustNew(t, breaker.Config{ConsecutiveFailures: 1, OpenTimeout: time.Second, HalfOpenProbes: probes,
					Observer: observerFunc(func(e resilience.Event) {
						if e.Kind == resilience.EventRejected {
							told.Add(1)
						}
					})})
				failN(t, b, 1)
				time.Sleep(time.Second)
				require.Equal(t, breaker.HalfOpen, b.State())

				var (
					running atomic.Int32
					release = make(chan struct{})
					results = make([]error, callers)
					returns = make([]atomic.Int32, callers)
					wg      sync.WaitGroup
				)
				for i := range callers {
					wg.Go(func() {
						results[i] = b.Execute(context.Background(), func(context.Context) error {
							running.Add(1)
							<-release
							return nil
						})
						returns[i].Add(1)
					})
				}
				synctest.Wait() // every caller has returned or is a probe blocked in its call
				assert.Equal(t, int32(probes), running.Load(), "exactly HalfOpenProbes calls run")
				refused := 0
				for i := range callers {
					if returns[i].Load() == 1 {
						assert.ErrorIs(t, results[i], breaker.ErrTooManyProbes)
						refused++
					}
				}
				assert.Equal(t, callers-int(probes), refused)

				close(release)
				wg.Wait()
				succeeded := 0
				for i := range callers {
					assert.Equal(t, int32(1), returns[i].Load(), "every caller returns exactly once")
					if results[i] == nil {
						succeeded++
					}
				}
				assert.Equal(t, int(probes), succeeded)
				assert.Equal(t, breaker.Closed, b.State())
				assert.Equal(t, int64(callers-int(probes)), told.Load(), "the Observer is told of every refusal")
			})
		})
	}
}

// TestConcurrentUseAcrossStates runs callers in real time against a breaker
// that trips, probes and closes under them, for the race detector, and
// checks that state changes are reported in order, each exactly once.
func TestConcurrentUseAcrossStates(t *testing.T) {
	rec := &recorder{}
	var mu sync.Mutex
	var callbacks []string
	b := mustNew(t, breaker.Config{
		ConsecutiveFailures: 3, OpenTimeout: time.Millisecond, HalfOpenProbes: 2, HalfOpenTimeout: time.Second,
		SlowCallThreshold: time.Hour, Observer: rec,
		OnStateChange: func(_ string, from, to breaker.State) {
			mu.Lock()
			callbacks = append(callbacks, from.String()+">"+to.String())
			mu.Unlock()
		},
	})
	var fails atomic.Bool
	ctx := context.Background()
	var wg sync.WaitGroup
	// The calls run for 150ms, and on until the breaker has gone round
	// once (a loaded machine may need longer), but never past 5s.
	var stop atomic.Bool
	start := time.Now()
	wg.Go(func() {
		for !stop.Load() {
			time.Sleep(5 * time.Millisecond)
			fails.Store(!fails.Load())
			wentRound := slices.Contains(rec.Transitions(), "half-open>closed")
			if since := time.Since(start); since > 5*time.Second || since > 150*time.Millisecond && wentRound {
				stop.Store(true)
			}
		}
	})
	for range 8 {
		wg.Go(func() {
			for !stop.Load() {
				err := b.Execute(ctx, func(context.Context) error {
					if fails.Load() {
						return errBoom
					}
					return nil
				})
				if err != nil && !errors.Is(err, errBoom) && !errors.Is(err, resilience.ErrRejected) {
					t.Errorf("unexpected error %v", err)
					return
				}
				_ = b.State()
				_ = b.Counts()
			}
		})
	}
	wg.Wait()
	final := b.State() // reports any change still pending

	changes := rec.Transitions()
	mu.Lock()
	assert.Equal(t, changes, callbacks, "OnStateChange and the Observer see the same changes")
	mu.Unlock()
	require.NotEmpty(t, changes)
	assert.Contains(t, changes, "half-open>closed", "the breaker went round at least once")
	from := "closed"
	for i, c := range changes {
		require.True(t, len(c) > len(from) && c[:len(from)+1] == from+">", "change %d %q does not follow %q", i, c, from)
		from = c[len(from)+1:]
		require.NotEqual(t, c[:len(c)-len(from)-1], from, "change %d %q is no change", i, c)
	}
	assert.Equal(t, final.String(), from, "the last change reported is the state State returned")
}
