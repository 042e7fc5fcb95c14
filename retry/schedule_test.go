package retry_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/internal/eventlog"
	"github.com/go-resilience/resilience/retry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDelaysStayWithinFullJitterBoundsAndCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const base, maxDelay = 100 * time.Millisecond, 500 * time.Millisecond
		r, err := retry.New(retry.Config{MaxAttempts: 6, BaseDelay: base, MaxDelay: maxDelay, Multiplier: 2, Budget: roomy(t)})
		require.NoError(t, err)
		caps := []time.Duration{100, 200, 400, 500, 500} // ms, retry n = 1..5
		var sum [5]time.Duration
		const calls = 200
		for range calls {
			a := newAttempts()
			err := r.Execute(context.Background(), a.call(errDown, 0))
			require.ErrorIs(t, err, errDown)
			at := a.times()
			require.Len(t, at, 6)
			for n := 1; n < len(at); n++ {
				d := at[n] - at[n-1]
				assert.GreaterOrEqual(t, d, time.Duration(0))
				assert.LessOrEqual(t, d, caps[n-1]*time.Millisecond, "retry %d waited %v", n, d)
				sum[n-1] += d
			}
		}
		// Full jitter draws uniformly from [0, cap]: the mean is about cap/2.
		for n, s := range sum {
			mean := s / calls
			half := caps[n] * time.Millisecond / 2
			assert.InDelta(t, float64(half), float64(mean), float64(half)/4, "retry %d mean delay %v, want about %v", n+1, mean, half)
		}
		t.Logf("mean delays over %d calls: %v", calls, sum)
	})
}

func TestNoJitterWaitsTheExactCapEachTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, err := retry.New(retry.Config{MaxAttempts: 5, BaseDelay: 100 * time.Millisecond, MaxDelay: 300 * time.Millisecond, Multiplier: 2, NoJitter: true, Budget: roomy(t)})
		require.NoError(t, err)
		a := newAttempts()
		require.ErrorIs(t, r.Execute(context.Background(), a.call(errDown, 0)), errDown)
		assert.Equal(t, []time.Duration{0, 100 * time.Millisecond, 300 * time.Millisecond, 600 * time.Millisecond, 900 * time.Millisecond}, a.times())
	})
}

func TestNegativeBaseDelayRetriesAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, err := retry.New(retry.Config{BaseDelay: -1, Budget: roomy(t)})
		require.NoError(t, err)
		a := newAttempts()
		require.ErrorIs(t, r.Execute(context.Background(), a.call(errDown, 0)), errDown)
		assert.Equal(t, []time.Duration{0, 0, 0}, a.times())
	})
}

// The call returns the last error at the moment it knows the next attempt
// cannot fit: it never sleeps into the deadline to fail there.
func TestNeverSleepsPastTheDeadline(t *testing.T) {
	for _, c := range []struct {
		name  string
		cfg   retry.Config
		ctxDL time.Duration // 0: none
	}{
		{"caller's deadline", retry.Config{}, 250 * time.Millisecond},
		{"MaxDuration", retry.Config{MaxDuration: 250 * time.Millisecond}, 0},
		{"MaxDuration earlier than the caller's", retry.Config{MaxDuration: 250 * time.Millisecond}, time.Hour},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &eventlog.Recorder{}
				cfg := c.cfg
				cfg.MaxAttempts, cfg.BaseDelay, cfg.NoJitter, cfg.Budget, cfg.Observer = 5, 200*time.Millisecond, true, roomy(t), rec
				r, err := retry.New(cfg)
				require.NoError(t, err)
				ctx := context.Background()
				if c.ctxDL > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, c.ctxDL)
					defer cancel()
				}
				a := newAttempts()
				start := time.Now()
				err = r.Execute(ctx, a.call(errDown, 0))
				// Attempts at 0 and 200ms; the next would start at 600ms,
				// past 250ms: the call returns at 200ms with errDown.
				assert.ErrorIs(t, err, errDown)
				assert.Equal(t, 200*time.Millisecond, time.Since(start), "returned when it knew, not at the deadline")
				assert.Equal(t, []time.Duration{0, 200 * time.Millisecond}, a.times())
				gu := rec.OfKind(resilience.EventRetryGiveUp)
				require.Len(t, gu, 1)
				assert.Equal(t, 2, gu[0].Attempt)
			})
		})
	}
}

// An attempt the remaining time cannot fit, by the moving estimate of how
// long attempts take, is not made.
func TestSkipsAnAttemptTheEstimateSaysCannotFit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, err := retry.New(retry.Config{MaxAttempts: 10, BaseDelay: -1, Budget: roomy(t)})
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 350*time.Millisecond)
		defer cancel()
		a := newAttempts()
		start := time.Now()
		err = r.Execute(ctx, a.call(errDown, 100*time.Millisecond))
		assert.ErrorIs(t, err, errDown, "the last attempt's error, not the deadline")
		assert.Equal(t, 300*time.Millisecond, time.Since(start))
		assert.Equal(t, []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond}, a.times(),
			"a fourth attempt at 300ms would need 100ms, past the deadline at 350ms")
		assert.Equal(t, 100*time.Millisecond, r.Estimate().Round(time.Millisecond))
	})
}

func TestCancelDuringBackoffReturnsAtOnceWithTheCallersError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, err := retry.New(retry.Config{BaseDelay: time.Second, NoJitter: true, Budget: roomy(t)})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		a := newAttempts()
		start := time.Now()
		err = r.Execute(ctx, a.call(errDown, 0))
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, 50*time.Millisecond, time.Since(start))
		time.Sleep(5 * time.Second)
		assert.Len(t, a.times(), 1, "no attempt after the cancel")
		calls, extra := r.Budget().InFlight()
		assert.Zero(t, calls)
		assert.Zero(t, extra, "the retry's budget grant was given back")
	})
}

func TestRetryAfterHints(t *testing.T) {
	cases := []struct {
		name     string
		hint     time.Duration
		deadline time.Duration
		want     []time.Duration
	}{
		{"hint sets the delay", 300 * time.Millisecond, 0, []time.Duration{0, 300 * time.Millisecond, 600 * time.Millisecond}},
		{"hint past the deadline ends retries", 300 * time.Millisecond, 200 * time.Millisecond, []time.Duration{0}},
		{"hint above MaxDelay ends retries", time.Minute, 0, []time.Duration{0}},
		{"negative hint means do not retry", -1, 0, []time.Duration{0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r, err := retry.New(retry.Config{BaseDelay: 10 * time.Millisecond, MaxDelay: time.Second, Budget: roomy(t)})
				require.NoError(t, err)
				ctx := context.Background()
				if c.deadline > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, c.deadline)
					defer cancel()
				}
				a := newAttempts()
				err = r.Execute(ctx, a.call(hinted{c.hint}, 0))
				assert.ErrorAs(t, err, new(hinted))
				assert.Equal(t, c.want, a.times())
			})
		})
	}
}

func TestWhatIsNotRetried(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name string
		ctx  context.Context
		err  error
		cfg  retry.Config
	}{
		{"a refusal of the library", context.Background(), resilience.ErrRejected, retry.Config{}},
		{"a wrapped refusal", context.Background(), errors.Join(errDown, resilience.ErrRejected), retry.Config{}},
		{"the caller's cancellation", cancelled, context.Canceled, retry.Config{}},
		{"the caller's cancellation even if Retryable says yes", cancelled, errDown, retry.Config{Retryable: func(error) bool { return true }}},
		{"what Retryable says no to", context.Background(), errDown, retry.Config{Retryable: func(error) bool { return false }}},
		{"MaxAttempts 1", context.Background(), errDown, retry.Config{MaxAttempts: 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.cfg
			cfg.BaseDelay = -1
			r, err := retry.New(cfg)
			require.NoError(t, err)
			n := 0
			err = r.Execute(c.ctx, func(context.Context) error { n++; return c.err })
			assert.ErrorIs(t, err, c.err)
			assert.Equal(t, 1, n)
		})
	}
}

func TestSucceedsOnALaterAttemptAndReportsEachRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &eventlog.Recorder{}
		r, err := retry.New(retry.Config{Name: "r", MaxAttempts: 4, BaseDelay: 10 * time.Millisecond, NoJitter: true, Budget: roomy(t), Observer: rec})
		require.NoError(t, err)
		n := 0
		err = r.Execute(context.Background(), func(context.Context) error {
			n++
			if n < 3 {
				return errDown
			}
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, 3, n)
		ev := rec.Events()
		require.Len(t, ev, 2)
		for i, e := range ev {
			assert.Equal(t, resilience.EventRetry, e.Kind)
			assert.Equal(t, "r", e.Policy)
			assert.Equal(t, i+2, e.Attempt)
			assert.Equal(t, time.Duration(10<<i)*time.Millisecond, e.Latency)
			assert.ErrorIs(t, e.Err, errDown)
		}
	})
}

func TestPanicGivesBackWhatTheCallHolds(t *testing.T) {
	r, err := retry.New(retry.Config{BaseDelay: -1})
	require.NoError(t, err)
	n := 0
	assert.PanicsWithValue(t, "boom", func() {
		_ = r.Execute(context.Background(), func(context.Context) error {
			n++
			if n == 2 {
				panic("boom")
			}
			return errDown
		})
	})
	calls, extra := r.Budget().InFlight()
	assert.Zero(t, calls)
	assert.Zero(t, extra)
}
