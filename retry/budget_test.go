package retry_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/internal/eventlog"
	"github.com/go-resilience/resilience/retry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A dependency fails every call for 10 s of fake time at 1,000 calls/s;
// with MaxAttempts 3 a loop without a budget makes 3 attempts per call.
// The default budget keeps the total within (1 + Ratio) × calls +
// MinPerSecond × Window.
func TestBudgetBoundsAttemptsAgainstAnOutage(t *testing.T) {
	for _, concurrent := range []bool{false, true} {
		name := map[bool]string{false: "one caller", true: "50 callers"}[concurrent]
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &eventlog.Recorder{}
				r, err := retry.New(retry.Config{MaxAttempts: 3, BaseDelay: time.Millisecond, Observer: rec})
				require.NoError(t, err)
				var attempts, calls atomic.Int64
				fail := func(ctx context.Context) error {
					attempts.Add(1)
					time.Sleep(2 * time.Millisecond) // the dependency takes 2ms to fail
					return errDown
				}
				const seconds, rate = 10, 1000
				start := time.Now()
				if concurrent {
					var wg sync.WaitGroup
					for g := range 50 {
						wg.Go(func() {
							// Each caller makes a call every 50ms: 1,000 calls/s in all.
							time.Sleep(time.Duration(g) * time.Millisecond)
							for time.Since(start) < seconds*time.Second {
								calls.Add(1)
								next := time.Now().Add(50 * time.Millisecond)
								_ = r.Execute(context.Background(), fail)
								time.Sleep(time.Until(next))
							}
						})
					}
					wg.Wait()
				} else {
					for time.Since(start) < seconds*time.Second {
						calls.Add(1)
						next := time.Now().Add(time.Second / rate)
						go func() { _ = r.Execute(context.Background(), fail) }()
						time.Sleep(time.Until(next))
					}
					synctest.Wait()
					time.Sleep(time.Second)
				}
				d := retry.DefaultBudgetConfig
				n := float64(calls.Load())
				bound := (1+d.Ratio)*n + d.MinPerSecond*seconds
				t.Logf("%s: %d calls over %ds, MaxAttempts 3: %d attempts with the budget (bound (1+%.1f)×%d + %.0f×%d = %.0f); a loop without a budget makes %d",
					name, calls.Load(), seconds, attempts.Load(), d.Ratio, calls.Load(), d.MinPerSecond, seconds, bound, 3*calls.Load())
				assert.GreaterOrEqual(t, n, 9000.0)
				assert.LessOrEqual(t, float64(attempts.Load()), bound)
				assert.Greater(t, attempts.Load(), calls.Load(), "some retries were granted")
				assert.NotEmpty(t, rec.OfKind(resilience.EventRetryRefused), "refusals are reported")
				assert.Equal(t, uint64(attempts.Load()-calls.Load()), r.Budget().Granted())
				c, extra := r.Budget().InFlight()
				assert.Zero(t, c)
				assert.Zero(t, extra)
			})
		})
	}
}

// The in-flight rule: with many calls in flight, retries in flight stay
// at most max(MinConcurrent, Ratio × calls in flight).
func TestBudgetBoundsRetriesInFlight(t *testing.T) {
	b, err := retry.NewBudget(retry.BudgetConfig{Ratio: 0.1, MinConcurrent: 2, MinPerSecond: 1e6})
	require.NoError(t, err)
	for range 10 {
		b.CallStart()
	}
	assert.True(t, b.TryAcquire())
	assert.True(t, b.TryAcquire())
	assert.False(t, b.TryAcquire(), "MinConcurrent 2 > 0.1 × 10")
	for range 40 {
		b.CallStart()
	}
	for range 3 {
		assert.True(t, b.TryAcquire())
	}
	assert.False(t, b.TryAcquire(), "0.1 × 50 calls in flight = 5")
	b.Release()
	assert.True(t, b.TryAcquire(), "a released retry frees its place")
	assert.Equal(t, uint64(2), b.Refused())
}

// The window rule forgets: after an idle Window, a burst of retries is
// again bounded by the recent calls, not by every call since the budget
// was made.
func TestBudgetWindowCountsRecentCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, err := retry.NewBudget(retry.BudgetConfig{Ratio: 0.5, MinConcurrent: 1 << 20, MinPerSecond: 0.1, Window: time.Second})
		require.NoError(t, err)
		// 100 calls now: 50 retries + the floor of 0.1/s × 1 s.
		for range 100 {
			b.CallStart()
			b.CallEnd()
		}
		granted := 0
		for b.TryAcquire() {
			b.Release()
			granted++
		}
		assert.Equal(t, 50, granted)
		// An hour later with no calls, the old calls no longer pay for retries.
		time.Sleep(time.Hour)
		assert.False(t, b.TryAcquire())
		time.Sleep(time.Hour)
		assert.False(t, b.TryAcquire())
	})
}

// Many goroutines drawing from one budget at once: no more retries in
// flight than allowed, and everything given back at the end.
func TestBudgetHammer(t *testing.T) {
	b, err := retry.NewBudget(retry.BudgetConfig{Ratio: 0.2, MinConcurrent: 3, MinPerSecond: 1e9})
	require.NoError(t, err)
	var held, peak atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 2000 {
				b.CallStart()
				if b.TryAcquire() {
					n := held.Add(1)
					for {
						p := peak.Load()
						if n <= p || peak.CompareAndSwap(p, n) {
							break
						}
					}
					held.Add(-1)
					b.Release()
				}
				b.CallEnd()
			}
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, peak.Load(), int64(3), "max(3, 0.2 × at most 16 calls in flight)")
	c, extra := b.InFlight()
	assert.Zero(t, c)
	assert.Zero(t, extra)
}
