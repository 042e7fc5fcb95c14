package inject_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/fallback"
	"github.com/go-resilience/resilience/inject"
	"github.com/go-resilience/resilience/internal/eventlog"
	"github.com/go-resilience/resilience/timeout"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustNew(t testing.TB, cfg inject.Config) *inject.Injector {
	t.Helper()
	in, err := inject.New(cfg)
	require.NoError(t, err)
	return in
}

var errBoom = errors.New("boom")

func TestNewRejectsBadConfigNamingTheField(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  inject.Config
		want string
	}{
		{"share below zero", inject.Config{Share: -0.1}, "inject: Config.Share must be in [0, 1], got -0.1"},
		{"share above one", inject.Config{Share: 1.5}, "inject: Config.Share must be in [0, 1], got 1.5"},
		{"share NaN", inject.Config{Share: math.NaN()}, "inject: Config.Share must be in [0, 1], got NaN"},
		{"share +Inf", inject.Config{Share: math.Inf(1)}, "inject: Config.Share must be in [0, 1], got +Inf"},
		{"negative delay", inject.Config{Share: 1, Delay: -time.Millisecond}, "inject: Config.Delay must be >= 0, got -1ms"},
		{"delay max below delay", inject.Config{Share: 1, Delay: time.Second, DelayMax: time.Millisecond},
			"inject: Config.DelayMax must be zero or at least Config.Delay (1s), got 1ms"},
		{"negative delay max", inject.Config{DelayMax: -time.Second},
			"inject: Config.DelayMax must be zero or at least Config.Delay (0s), got -1s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, err := inject.New(tc.cfg)
			require.EqualError(t, err, tc.want)
			assert.Nil(t, in)
		})
	}
}

func TestZeroConfigIsValidAndInjectsNothing(t *testing.T) {
	rec := &eventlog.Recorder{}
	in := mustNew(t, inject.Config{Observer: rec})
	in.Enable()
	ran := 0
	for range 100 {
		require.NoError(t, in.Execute(context.Background(), func(context.Context) error { ran++; return nil }))
	}
	assert.Equal(t, 100, ran)
	assert.Empty(t, rec.Events())
	assert.Equal(t, "inject", in.Name())
}

func TestOffByDefaultHasNoEffect(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &eventlog.Recorder{}
		in := mustNew(t, inject.Config{Share: 1, Delay: time.Hour, Err: errBoom, Observer: rec})
		assert.False(t, in.Enabled())
		ctx := inject.Mark(context.Background())
		start := time.Now()
		calls := 0
		for range 1000 {
			err := in.Execute(ctx, func(context.Context) error { calls++; return nil })
			require.NoError(t, err)
		}
		assert.Equal(t, 1000, calls)
		assert.Zero(t, time.Since(start), "a disabled injector adds no latency")
		assert.Empty(t, rec.Events())
		f, ok := in.Decide("k", true)
		assert.False(t, ok)
		assert.Zero(t, f)
	})
}

func TestEnableAndDisableAtRunTime(t *testing.T) {
	in := mustNew(t, inject.Config{Share: 1, Err: errBoom})
	run := func() error { return in.Execute(context.Background(), func(context.Context) error { return nil }) }
	require.NoError(t, run())
	in.Enable()
	assert.True(t, in.Enabled())
	require.ErrorIs(t, run(), errBoom)
	in.Disable()
	require.NoError(t, run())
}

// binomialBound is the half-width of the interval in which the count of
// hits among n draws with probability p falls, but for a chance below
// 2e-9 per check: six standard deviations.
func binomialBound(n int, p float64) float64 {
	return 6 * math.Sqrt(float64(n)*p*(1-p))
}

// The share of calls that get a fault, over 10,000 calls, is within six
// standard deviations of Share*10,000 (for Share 0.3: 3000 ± 275), with
// the runtime's random source and with a seed; with a seed the exact
// count repeats from run to run.
func TestShareWithinStatisticalBounds(t *testing.T) {
	const n = 10_000
	for _, share := range []float64{0.01, 0.1, 0.3, 0.5, 0.9} {
		for _, seed := range []uint64{0, 42} {
			synctest.Test(t, func(t *testing.T) {
				rec := &eventlog.Recorder{}
				in := mustNew(t, inject.Config{Share: share, Delay: time.Millisecond, Err: errBoom, Seed: seed, Observer: rec})
				in.Enable()
				start := time.Now()
				failed, ran := 0, 0
				for range n {
					err := in.Execute(context.Background(), func(context.Context) error { ran++; return nil })
					if errors.Is(err, errBoom) {
						failed++
					}
				}
				want := share * n
				bound := binomialBound(n, share)
				assert.InDelta(t, want, failed, bound, "share %v seed %d: %d of %d calls failed", share, seed, failed, n)
				assert.Equal(t, n, failed+ran, "every call either ran or got the fault")
				assert.Len(t, rec.OfKind(resilience.EventInjected), failed, "one EventInjected per fault")
				assert.Equal(t, time.Duration(failed)*time.Millisecond, time.Since(start), "latency added exactly to the faulted calls")
				if seed != 0 {
					again := mustNew(t, inject.Config{Share: share, Err: errBoom, Seed: seed})
					again.Enable()
					n2 := 0
					for range n {
						if again.Execute(context.Background(), func(context.Context) error { return nil }) != nil {
							n2++
						}
					}
					assert.Equal(t, failed, n2, "the same seed makes the same choices")
				}
			})
		}
	}
}

func TestShareZeroAndOne(t *testing.T) {
	for _, tc := range []struct {
		share float64
		want  int
	}{{0, 0}, {1, 1000}} {
		in := mustNew(t, inject.Config{Share: tc.share, Err: errBoom})
		in.Enable()
		failed := 0
		for range 1000 {
			if in.Execute(context.Background(), func(context.Context) error { return nil }) != nil {
				failed++
			}
		}
		assert.Equal(t, tc.want, failed, "share %v", tc.share)
	}
}

func TestLatencyAddedExactly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &eventlog.Recorder{}
		in := mustNew(t, inject.Config{Share: 1, Delay: 250 * time.Millisecond, Observer: rec, Name: "slow"})
		in.Enable()
		var ranAt time.Duration
		start := time.Now()
		err := in.Execute(context.Background(), func(context.Context) error {
			ranAt = time.Since(start)
			time.Sleep(10 * time.Millisecond) // the call's own time
			return nil
		})
		require.NoError(t, err, "a delay alone lets the call run")
		assert.Equal(t, 250*time.Millisecond, ranAt, "the call starts after exactly the delay")
		assert.Equal(t, 260*time.Millisecond, time.Since(start))
		evs := rec.OfKind(resilience.EventInjected)
		require.Len(t, evs, 1)
		assert.Equal(t, resilience.Event{Kind: resilience.EventInjected, Policy: "slow", Latency: 250 * time.Millisecond}, evs[0])
	})
}

func TestLatencyFromUniformDistribution(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const lo, hi = 100 * time.Millisecond, 300 * time.Millisecond
		rec := &eventlog.Recorder{}
		in := mustNew(t, inject.Config{Share: 1, Delay: lo, DelayMax: hi, Observer: rec})
		in.Enable()
		const n = 2000
		var total time.Duration
		for range n {
			start := time.Now()
			require.NoError(t, in.Execute(context.Background(), func(context.Context) error { return nil }))
			d := time.Since(start)
			require.GreaterOrEqual(t, d, lo)
			require.LessOrEqual(t, d, hi)
			total += d
		}
		// Uniform over [lo, hi]: mean 200ms, standard deviation of one
		// draw (hi-lo)/sqrt(12) ≈ 57.7ms, of the mean of n ≈ 1.29ms.
		mean := total / n
		assert.InDelta(t, float64(200*time.Millisecond), float64(mean), float64(6*1.3*float64(time.Millisecond)))
		evs := rec.OfKind(resilience.EventInjected)
		require.Len(t, evs, n)
		var sum time.Duration
		for _, e := range evs {
			sum += e.Latency
		}
		assert.Equal(t, total, sum, "the events report the latency actually added")
	})
}

func TestErrorReturnedInsteadOfTheCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &eventlog.Recorder{}
		in := mustNew(t, inject.Config{Share: 1, Delay: time.Second, Err: errBoom, Observer: rec})
		in.Enable()
		start := time.Now()
		err := in.Execute(context.Background(), func(context.Context) error { t.Error("call ran"); return nil })
		require.ErrorIs(t, err, errBoom)
		assert.Equal(t, time.Second, time.Since(start))
		evs := rec.OfKind(resilience.EventInjected)
		require.Len(t, evs, 1)
		assert.Equal(t, errBoom, evs[0].Err)
		assert.Equal(t, time.Second, evs[0].Latency)
	})
}

func TestMarkedOnlyFaultsMarkedCallsOnly(t *testing.T) {
	in := mustNew(t, inject.Config{Share: 1, MarkedOnly: true, Err: errBoom})
	in.Enable()
	call := func(context.Context) error { return nil }
	require.NoError(t, in.Execute(context.Background(), call), "an unmarked call runs")
	marked := inject.Mark(context.Background())
	assert.True(t, inject.Marked(marked))
	assert.False(t, inject.Marked(context.Background()))
	require.ErrorIs(t, in.Execute(marked, call), errBoom)
	child, cancel := context.WithCancel(marked)
	defer cancel()
	require.ErrorIs(t, in.Execute(child, call), errBoom, "a context derived from a marked one is marked")

	_, ok := in.Decide("", false)
	assert.False(t, ok)
	f, ok := in.Decide("", true)
	assert.True(t, ok)
	assert.Equal(t, errBoom, f.Err)
}

func TestMarkIgnoredWithoutMarkedOnly(t *testing.T) {
	in := mustNew(t, inject.Config{Share: 0, Err: errBoom})
	in.Enable()
	require.NoError(t, in.Execute(inject.Mark(context.Background()), func(context.Context) error { return nil }),
		"a mark does not force a fault: the share decides")
}

func TestCancelDuringDelayReturnsContextError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := mustNew(t, inject.Config{Share: 1, Delay: time.Hour})
		in.Enable()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		err := in.Execute(ctx, func(context.Context) error { t.Error("call ran"); return nil })
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, time.Second, time.Since(start))
	})
}

func TestPanicInCallGoesOnUnchanged(t *testing.T) {
	in := mustNew(t, inject.Config{Share: 1})
	in.Enable()
	assert.PanicsWithValue(t, "callee", func() {
		_ = in.Execute(context.Background(), func(context.Context) error { panic("callee") })
	})
	c := resilience.Chain(in, mustNew(t, inject.Config{}))
	assert.PanicsWithValue(t, "callee", func() {
		_, _ = resilience.Do(context.Background(), c, func(context.Context) (int, error) { panic("callee") })
	})
}

// An Injector inside a breaker opens it, and a fallback around the chain
// answers; once disabled, probes succeed and the breaker closes again.
func TestInsideABreakerOpensItAndFallbackAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &eventlog.Recorder{}
		in := mustNew(t, inject.Config{Name: "faults", Share: 1, Err: inject.ErrInjected, Observer: rec})
		brk, err := breaker.New(breaker.Config{Name: "dep", ConsecutiveFailures: 3, OpenTimeout: time.Second, Observer: rec})
		require.NoError(t, err)
		tmo, err := timeout.New(timeout.Config{Timeout: time.Second})
		require.NoError(t, err)
		chain := resilience.Chain(brk, in, tmo)
		fetch := func(context.Context) (string, error) { return "live", nil }
		cached := fallback.Value("cached")

		got, err := fallback.Do(context.Background(), chain, fetch, cached)
		require.NoError(t, err)
		assert.Equal(t, "live", got, "off: the call runs")

		in.Enable()
		for range 3 {
			got, err = fallback.Do(context.Background(), chain, fetch, cached)
			require.NoError(t, err)
			assert.Equal(t, "cached", got)
		}
		assert.Equal(t, breaker.Open, brk.State(), "three injected failures open the breaker")
		_, err = resilience.Do(context.Background(), chain, fetch)
		require.ErrorIs(t, err, resilience.ErrRejected)
		assert.Len(t, rec.OfKind(resilience.EventInjected), 3, "the refused call reached no injector")

		in.Disable()
		time.Sleep(time.Second)
		got, err = fallback.Do(context.Background(), chain, fetch, cached)
		require.NoError(t, err)
		assert.Equal(t, "live", got)
		assert.Equal(t, breaker.Closed, brk.State())
	})
}

// An injected delay longer than the timeout inside it makes the timeout
// fire; the one outside the injector does not see it as a timeout of its own.
func TestDelayInsideATimeoutMakesItFire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := mustNew(t, inject.Config{Share: 1, Delay: 2 * time.Second})
		in.Enable()
		tmo, err := timeout.New(timeout.Config{Timeout: 500 * time.Millisecond})
		require.NoError(t, err)
		start := time.Now()
		_, err = resilience.Do(context.Background(), resilience.Chain(tmo, in), func(context.Context) (int, error) { return 1, nil })
		require.ErrorIs(t, err, timeout.ErrTimeout)
		assert.Equal(t, 500*time.Millisecond, time.Since(start))
	})
}

// Execute, Wrap and Do through a Chain behave alike.
func TestChainExecuteAndDoAgree(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := mustNew(t, inject.Config{Share: 1, Delay: time.Second, Err: errBoom})
		in.Enable()
		tmo, err := timeout.New(timeout.Config{Timeout: time.Minute})
		require.NoError(t, err)
		for name, p := range map[string]resilience.Policy{
			"alone":       in,
			"wrap nil":    in.Wrap(nil),
			"chain":       resilience.Chain(in, tmo),
			"chain inner": resilience.Chain(tmo, in),
		} {
			start := time.Now()
			err := p.Execute(context.Background(), func(context.Context) error { return nil })
			assert.ErrorIs(t, err, errBoom, name)
			_, err = resilience.Do(context.Background(), p, func(context.Context) (int, error) { return 1, nil })
			assert.ErrorIs(t, err, errBoom, name)
			assert.Equal(t, 2*time.Second, time.Since(start), name)
		}
		in.Disable()
		v, err := resilience.Do(context.Background(), resilience.Chain(tmo, in), func(context.Context) (int, error) { return 7, nil })
		require.NoError(t, err)
		assert.Equal(t, 7, v)
	})
}

// Callers hammer an Injector while another goroutine flips it on and off:
// every call either runs or gets exactly the injected error, and the
// number of EventInjected equals the number of injected errors.
func TestConcurrentCallsWhileSwitching(t *testing.T) {
	var injected atomic.Int64
	obs := observerFunc(func(e resilience.Event) {
		if e.Kind == resilience.EventInjected {
			injected.Add(1)
		}
	})
	in := mustNew(t, inject.Config{Share: 0.5, Err: errBoom, Observer: obs})
	var failed, ran atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if i%2 == 0 {
				in.Enable()
			} else {
				in.Disable()
			}
		}
	})
	var callers sync.WaitGroup
	for range 8 {
		callers.Go(func() {
			for range 2000 {
				err := in.Execute(context.Background(), func(context.Context) error { ran.Add(1); return nil })
				switch {
				case err == nil:
				case errors.Is(err, errBoom):
					failed.Add(1)
				default:
					t.Errorf("unexpected error %v", err)
				}
			}
		})
	}
	callers.Wait()
	close(stop)
	wg.Wait()
	assert.Equal(t, int64(8*2000), failed.Load()+ran.Load())
	assert.Equal(t, failed.Load(), injected.Load())
}

type observerFunc func(resilience.Event)

func (f observerFunc) Observe(e resilience.Event) { f(e) }

func TestFaultSleep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		assert.NoError(t, inject.Fault{}.Sleep(ctx), "no delay: ctx not looked at")
		assert.ErrorIs(t, inject.Fault{Delay: time.Second}.Sleep(ctx), context.Canceled)
		start := time.Now()
		assert.NoError(t, inject.Fault{Delay: time.Second}.Sleep(context.Background()))
		assert.Equal(t, time.Second, time.Since(start))
	})
}
