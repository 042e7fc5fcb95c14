package retry_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/retry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// inFlightDuring returns the calls the budget counts in flight while one
// call runs through p.
func inFlightDuring(t *testing.T, p resilience.Policy, b *retry.Budget) int {
	t.Helper()
	var calls int
	require.NoError(t, p.Execute(context.Background(), func(context.Context) error {
		calls, _ = b.InFlight()
		return nil
	}))
	return calls
}

// A Retry's calls cost the budget nothing while no retry is asked for; from
// the first retry asked for, the budget counts them, until a Window passes
// with none asked for.
func TestBudgetCountsARetrysCallsOnlyWhileRetriesAreAsked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, err := retry.NewBudget(retry.BudgetConfig{MinConcurrent: 1 << 20, MinPerSecond: 1e9, Window: time.Second})
		require.NoError(t, err)
		r, err := retry.New(retry.Config{BaseDelay: -1, Budget: b})
		require.NoError(t, err)
		p := resilience.Chain(r)

		assert.Zero(t, inFlightDuring(t, p, b), "no retry asked for yet: not counted")

		failOnce := func() func(context.Context) error {
			failed := false
			return func(context.Context) error {
				if !failed {
					failed = true
					return errDown
				}
				return nil
			}
		}
		require.NoError(t, p.Execute(context.Background(), failOnce()))
		assert.Equal(t, uint64(1), b.Granted())
		assert.Equal(t, 1, inFlightDuring(t, p, b), "retries asked for: counted")

		// Quiet: calls go on succeeding; after a Window without a retry
		// asked for, the budget stops counting (it looks every 256 calls).
		time.Sleep(time.Second)
		for range 512 {
			require.NoError(t, p.Execute(context.Background(), func(context.Context) error { return nil }))
		}
		assert.Zero(t, inFlightDuring(t, p, b), "quiet for a Window: not counted")

		require.NoError(t, p.Execute(context.Background(), failOnce()))
		assert.Equal(t, 1, inFlightDuring(t, p, b), "counted again")
		calls, extra := b.InFlight()
		assert.Zero(t, calls)
		assert.Zero(t, extra)
	})
}

// When retries are asked for after a quiet Window, the budget's window
// begins afresh: the retries are a ratio of the calls counted since, not
// of an average over the quiet hour that would grant almost none.
func TestBudgetWindowBeginsAfreshWhenRetriesResume(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, err := retry.NewBudget(retry.BudgetConfig{Ratio: 0.5, MinConcurrent: 1 << 20, MinPerSecond: 0.001, Window: 10 * time.Second})
		require.NoError(t, err)
		r, err := retry.New(retry.Config{MaxAttempts: 2, BaseDelay: -1, Budget: b})
		require.NoError(t, err)
		for range 1000 { // an hour of calls that succeed
			require.NoError(t, r.Execute(context.Background(), func(context.Context) error { return nil }))
			time.Sleep(3600 * time.Millisecond)
		}
		for range 100 { // then every call fails once
			_ = r.Execute(context.Background(), func(context.Context) error { return errDown })
		}
		// Each failing call is counted when it asks: after k of them,
		// 0.5 × k + 0.001 × 5 retries are allowed.
		assert.Equal(t, uint64(50), b.Granted())
		assert.Equal(t, uint64(50), b.Refused())
	})
}

// Many goroutines through one Retry, with failures that come and go and a
// short Window so that the budget starts and stops counting while calls
// are in flight: every count is given back, whichever way each call was
// counted.
func TestRetryHammerGivesBackEveryCount(t *testing.T) {
	b, err := retry.NewBudget(retry.BudgetConfig{Ratio: 0.2, MinConcurrent: 3, Window: 10 * time.Millisecond})
	require.NoError(t, err)
	r, err := retry.New(retry.Config{MaxAttempts: 3, BaseDelay: -1, Budget: b})
	require.NoError(t, err)
	p := resilience.Chain(r)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for i := range 3000 {
				failing := i%1000 < 100 // a burst of failures every 1,000 calls
				call := func(context.Context) (int, error) {
					if failing && rng.IntN(2) == 0 {
						return 0, errDown
					}
					return i, nil
				}
				if g%2 == 0 {
					_, _ = resilience.Do(context.Background(), p, call)
				} else {
					_ = r.Execute(context.Background(), func(ctx context.Context) error { _, err := call(ctx); return err })
				}
			}
		})
	}
	wg.Wait()
	calls, extra := b.InFlight()
	assert.Zero(t, calls)
	assert.Zero(t, extra)
	assert.NotZero(t, b.Granted())
}

// The zero values answer without panicking: a zero Budget refuses every
// extra attempt (and New refuses it in a Config), a zero Count asks for
// none; a Budget's Config is what it was made with, defaults filled in.
func TestZeroBudgetAndCountRefuseAndConfigRoundTrips(t *testing.T) {
	var zero retry.Budget
	assert.False(t, zero.TryAcquire())
	assert.Equal(t, uint64(1), zero.Refused())
	assert.Equal(t, retry.BudgetConfig{}, zero.Config())
	c := zero.Begin()
	assert.False(t, c.TryAcquire())
	c.End()
	var none retry.Count
	assert.False(t, none.TryAcquire())
	none.End()

	b, err := retry.NewBudget(retry.BudgetConfig{Ratio: 0.5})
	require.NoError(t, err)
	want := retry.DefaultBudgetConfig
	want.Ratio = 0.5
	assert.Equal(t, want, b.Config())
}

// First attempts are timed (for the estimate of how long an attempt takes)
// only while retries are being asked for: a call with a deadline that
// succeeds at once reads no clock in a quiet spell.
func TestFirstAttemptsAreTimedOnlyWhileRetriesAreAsked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, err := retry.New(retry.Config{BaseDelay: -1, Budget: roomy(t)})
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		sleep := func(d time.Duration) func(context.Context) error {
			return func(context.Context) error {
				time.Sleep(d)
				return nil
			}
		}
		require.NoError(t, r.Execute(ctx, sleep(100*time.Millisecond)))
		assert.Zero(t, r.Estimate(), "quiet: not timed")

		failed := false
		require.NoError(t, r.Execute(ctx, func(ctx context.Context) error {
			if !failed {
				failed = true
				return errDown
			}
			return sleep(20 * time.Millisecond)(ctx)
		}))
		assert.Equal(t, 20*time.Millisecond, r.Estimate().Round(time.Millisecond), "the retry was timed")

		require.NoError(t, r.Execute(ctx, sleep(100*time.Millisecond)))
		assert.Equal(t, 30*time.Millisecond, r.Estimate().Round(time.Millisecond), "retries asked for: timed, 20 + (100-20)/8")
	})
}
