package adaptive_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/adaptive"
)

func mustNew(t testing.TB, cfg adaptive.Config) *adaptive.Limiter {
	t.Helper()
	l, err := adaptive.New(cfg)
	require.NoError(t, err)
	return l
}

func nop(context.Context) error { return nil }

func TestZeroConfigStartsAtTwenty(t *testing.T) {
	l := mustNew(t, adaptive.Config{})
	assert.Equal(t, 20, l.Limit())
	assert.Equal(t, 1, l.MinLimit())
	assert.Equal(t, 1000, l.MaxLimit())
	l = mustNew(t, adaptive.Config{MaxLimit: 5})
	assert.Equal(t, 5, l.Limit(), "20 is clamped to MaxLimit")
}

func TestRefusalAtTheLimitMatchesErrLimitedAndErrRejected(t *testing.T) {
	for _, tc := range []struct{ name, msg string }{
		{"", "adaptive: limit reached"},
		{"db", `adaptive "db": limit reached`},
	} {
		l := mustNew(t, adaptive.Config{Name: tc.name, InitialLimit: 1, MinLimit: 1, MaxLimit: 1})
		release := make(chan struct{})
		started := make(chan struct{})
		go func() {
			_ = l.Execute(context.Background(), func(context.Context) error {
				close(started)
				<-release
				return nil
			})
		}()
		<-started
		ran := false
		err := l.Execute(context.Background(), func(context.Context) error { ran = true; return nil })
		assert.False(t, ran)
		assert.EqualError(t, err, tc.msg)
		assert.ErrorIs(t, err, adaptive.ErrLimited)
		assert.ErrorIs(t, err, resilience.ErrRejected)
		assert.NotErrorIs(t, err, adaptive.ErrThrottled)
		assert.Equal(t, 1, l.InFlight())
		assert.EqualValues(t, 1, l.Rejected())
		close(release)
		require.Eventually(t, func() bool { return l.InFlight() == 0 }, time.Second, time.Millisecond)
	}
}

func TestWaitingCallerGetsTheNextFreeSlotWithinMaxWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := mustNew(t, adaptive.Config{InitialLimit: 1, MinLimit: 1, MaxLimit: 1, MaxWait: 100 * time.Millisecond})
		go func() { _ = l.Execute(context.Background(), sleep(60*time.Millisecond)) }()
		synctest.Wait()
		start := time.Now()
		require.NoError(t, l.Execute(context.Background(), nop))
		assert.Equal(t, 60*time.Millisecond, time.Since(start))

		go func() { _ = l.Execute(context.Background(), sleep(time.Second)) }()
		synctest.Wait()
		start = time.Now()
		assert.ErrorIs(t, l.Execute(context.Background(), nop), adaptive.ErrLimited)
		assert.Equal(t, 100*time.Millisecond, time.Since(start), "refused when MaxWait passes")

		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		start = time.Now()
		assert.ErrorIs(t, l.Execute(ctx, nop), context.DeadlineExceeded)
		assert.Equal(t, 30*time.Millisecond, time.Since(start), "the caller's context ends the wait")
		assert.EqualValues(t, 1, l.Rejected(), "a caller who gave up is not a refusal")
		time.Sleep(time.Second)
		assert.Zero(t, l.InFlight())
	})
}

func sleep(d time.Duration) func(context.Context) error {
	return func(context.Context) error { time.Sleep(d); return nil }
}

// The caller's cancellations and the library's refusals never move the
// limit, whatever their latency; failures move AIMD's.
func TestIgnoredOutcomesNeverMoveTheLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, alg := range []adaptive.Algorithm{adaptive.AIMD, adaptive.Gradient} {
			l := mustNew(t, adaptive.Config{Algorithm: alg, InitialLimit: 10, SlowCallThreshold: time.Millisecond})
			// Establish a latency for Gradient.
			for range 16 {
				require.NoError(t, l.Execute(context.Background(), sleep(time.Millisecond/2)))
			}
			before := l.Limit()
			for range 200 {
				ctx, cancel := context.WithCancel(context.Background())
				_ = l.Execute(ctx, func(context.Context) error {
					time.Sleep(50 * time.Millisecond)
					cancel()
					return context.Canceled
				})
				_ = l.Execute(context.Background(), func(context.Context) error {
					time.Sleep(50 * time.Millisecond)
					return adaptive.ErrLimited // a refusal from a policy further in
				})
			}
			assert.Equal(t, before, l.Limit(), "%v", alg)
		}

		l := mustNew(t, adaptive.Config{Algorithm: adaptive.AIMD, InitialLimit: 10})
		boom := errors.New("boom")
		for range 16 {
			_ = l.Execute(context.Background(), func(context.Context) error { time.Sleep(time.Millisecond); return boom })
		}
		assert.Less(t, l.Limit(), 10, "failures decrease AIMD's limit")
	})
}

func TestObserverHearsLimitChanges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		obs := &recorder{}
		l := mustNew(t, adaptive.Config{Name: "db", Algorithm: adaptive.AIMD, InitialLimit: 10, Observer: obs})
		_ = l.Execute(context.Background(), func(context.Context) error { time.Sleep(time.Millisecond); return errors.New("boom") })
		var changes []int
		for _, ev := range obs.snapshot() {
			if ev.Kind == resilience.EventLimitChange {
				assert.Equal(t, "db", ev.Policy)
				changes = append(changes, ev.Limit)
			}
		}
		assert.Equal(t, []int{10, 9}, changes, "the initial limit, then the change")
		kinds := obs.kinds()
		assert.Equal(t, []resilience.EventKind{resilience.EventLimitChange, resilience.EventAcquire, resilience.EventRelease, resilience.EventLimitChange}, kinds)
	})
}

type recorder struct {
	mu     sync.Mutex
	events []resilience.Event
}

func (r *recorder) Observe(ev resilience.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}

func (r *recorder) snapshot() []resilience.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]resilience.Event(nil), r.events...)
}

func (r *recorder) kinds() []resilience.EventKind {
	var k []resilience.EventKind
	for _, ev := range r.snapshot() {
		k = append(k, ev.Kind)
	}
	return k
}

func TestPanicGivesTheSlotBackAndGoesOn(t *testing.T) {
	l := mustNew(t, adaptive.Config{})
	assert.PanicsWithValue(t, "boom", func() {
		_ = l.Execute(context.Background(), func(context.Context) error { panic("boom") })
	})
	assert.Zero(t, l.InFlight())
	assert.PanicsWithValue(t, "boom", func() {
		_, _ = resilience.Do(context.Background(), resilience.Chain(l), func(context.Context) (int, error) { panic("boom") })
	})
	assert.Zero(t, l.InFlight())
}

func TestComposesInChainAndDo(t *testing.T) {
	l := mustNew(t, adaptive.Config{InitialLimit: 1, MinLimit: 1, MaxLimit: 1})
	p := resilience.Chain(l, resilience.Chain())
	v, err := resilience.Do(context.Background(), p, func(context.Context) (int, error) {
		assert.Equal(t, 1, l.InFlight())
		return 7, nil
	})
	require.NoError(t, err)
	assert.Equal(t, 7, v)
	assert.Zero(t, l.InFlight())
}

// Hammer: many callers, random latencies and failures, both algorithms.
// The limit never leaves [MinLimit, MaxLimit], the calls in flight never
// exceed MaxLimit, and never the greatest limit published so far.
func TestHammerKeepsTheLimitInBoundsAndTheCallsUnderIt(t *testing.T) {
	for _, alg := range []adaptive.Algorithm{adaptive.Gradient, adaptive.AIMD} {
		t.Run(alg.String(), func(t *testing.T) {
			var maxSeen atomic.Int64
			obs := observerFunc(func(ev resilience.Event) {
				if ev.Kind == resilience.EventLimitChange {
					for {
						m := maxSeen.Load()
						if int64(ev.Limit) <= m || maxSeen.CompareAndSwap(m, int64(ev.Limit)) {
							break
						}
					}
				}
			})
			const minL, maxL = 3, 12
			l := mustNew(t, adaptive.Config{Algorithm: alg, InitialLimit: 8, MinLimit: minL, MaxLimit: maxL,
				SlowCallThreshold: 200 * time.Microsecond, QueueSize: 3, Smoothing: 1, MaxWait: time.Millisecond, Observer: obs})
			maxSeen.Store(8)
			var active, violations atomic.Int64
			var wg sync.WaitGroup
			boom := errors.New("boom")
			for g := range 32 {
				wg.Go(func() {
					r := rand.New(rand.NewPCG(uint64(g), 1))
					for range 400 {
						_ = l.Execute(context.Background(), func(context.Context) error {
							n := active.Add(1)
							defer active.Add(-1)
							if n > maxL {
								violations.Add(1)
							}
							if n > maxSeen.Load() {
								// The limit is published before the Observer
								// hears of it: give the Observer a moment.
								time.Sleep(10 * time.Millisecond)
								if n > maxSeen.Load() {
									violations.Add(1)
								}
							}
							if lim := l.Limit(); lim < minL || lim > maxL {
								violations.Add(1)
							}
							time.Sleep(time.Duration(r.IntN(400)) * time.Microsecond)
							if r.IntN(10) == 0 {
								return boom
							}
							return nil
						})
						if in := l.InFlight(); in > maxL {
							violations.Add(1)
						}
					}
				})
			}
			wg.Wait()
			assert.Zero(t, violations.Load())
			assert.Zero(t, l.InFlight())
			assert.GreaterOrEqual(t, l.Limit(), minL)
			assert.LessOrEqual(t, l.Limit(), maxL)
		})
	}
}

type observerFunc func(resilience.Event)

func (f observerFunc) Observe(ev resilience.Event) { f(ev) }

// With the limit fixed (Min = Max), admission is exact: never more calls
// in flight than the limit, under any concurrency.
func TestHammerNeverAdmitsMoreThanTheLimit(t *testing.T) {
	const limit = 5
	l := mustNew(t, adaptive.Config{InitialLimit: limit, MinLimit: limit, MaxLimit: limit, MaxWait: time.Millisecond})
	var active, peak atomic.Int64
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for range 300 {
				_ = l.Execute(context.Background(), func(context.Context) error {
					n := active.Add(1)
					for m := peak.Load(); n > m && !peak.CompareAndSwap(m, n); m = peak.Load() {
					}
					time.Sleep(50 * time.Microsecond)
					active.Add(-1)
					return nil
				})
			}
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, peak.Load(), int64(limit))
	assert.Equal(t, int64(limit), peak.Load(), "the limit was reached")
	assert.Zero(t, l.InFlight())
}

// A limit that falls below the calls in flight admits no new call until
// enough have finished.
func TestLoweredLimitAdmitsNothingUntilCallsFinish(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := mustNew(t, adaptive.Config{Algorithm: adaptive.AIMD, InitialLimit: 4, Backoff: 0.5})
		release := make(chan struct{})
		for range 3 {
			go func() { _ = l.Execute(context.Background(), func(context.Context) error { <-release; return nil }) }()
		}
		synctest.Wait()
		// Failing calls halve the limit once a timed one (one admission in
		// sixteen) closes the window.
		for i := 0; i < 20 && l.Limit() == 4; i++ {
			_ = l.Execute(context.Background(), func(context.Context) error { return errors.New("boom") })
		}
		require.Equal(t, 2, l.Limit())
		assert.ErrorIs(t, l.Execute(context.Background(), nop), adaptive.ErrLimited)
		close(release)
		synctest.Wait()
		assert.NoError(t, l.Execute(context.Background(), nop))
	})
}
