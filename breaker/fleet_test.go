package breaker_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-resilience/resilience/breaker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// changes records what a watcher is told.
type changes struct {
	mu  sync.Mutex
	got []breaker.Change
}

func (c *changes) watch(ch breaker.Change) {
	c.mu.Lock()
	c.got = append(c.got, ch)
	c.mu.Unlock()
}

func (c *changes) list() []breaker.Change {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]breaker.Change(nil), c.got...)
}

func TestFollowOpenRefusesUntilTheGivenTimeThenProbes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, breaker.Config{OpenTimeout: time.Minute})
		var w changes
		b.Watch(w.watch)
		until := time.Now().Add(3 * time.Second)

		require.True(t, b.Follow(breaker.Open, until))
		st, got := b.Period()
		assert.Equal(t, breaker.Open, st)
		assert.True(t, got.Equal(until))
		err := b.Execute(context.Background(), succeed)
		require.ErrorIs(t, err, breaker.ErrOpen)
		assert.Equal(t, 3*time.Second, err.(*breaker.RejectedError).RetryAfter())

		time.Sleep(3 * time.Second)
		require.NoError(t, b.Execute(context.Background(), succeed), "the probe after the followed period")
		assert.Equal(t, breaker.Closed, b.State())
		assert.Equal(t, []breaker.Change{
			{Breaker: b, From: breaker.Closed, To: breaker.Open, Until: until, Followed: true},
			{Breaker: b, From: breaker.Open, To: breaker.HalfOpen, Until: until.Add(time.Minute)},
			{Breaker: b, From: breaker.HalfOpen, To: breaker.Closed},
		}, w.list())
	})
}

func TestFollowMovesTheEndOfAnOpenPeriodWithoutAChangeOfState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, breaker.Config{ConsecutiveFailures: 1, OpenTimeout: 10 * time.Second})
		var w changes
		b.Watch(w.watch)
		failN(t, b, 1)
		_, own := b.Period()

		earlier := time.Now().Add(2 * time.Second)
		require.True(t, b.Follow(breaker.Open, earlier))
		assert.False(t, b.Follow(breaker.Open, earlier), "the same end again changes nothing")
		st, got := b.Period()
		assert.Equal(t, breaker.Open, st)
		assert.True(t, got.Equal(earlier))
		require.Len(t, w.list(), 1, "only the trip is a change of state")
		assert.False(t, w.list()[0].Followed)
		assert.True(t, w.list()[0].Until.Equal(own))

		time.Sleep(2 * time.Second)
		assert.Equal(t, breaker.HalfOpen, b.State(), "the followed end, not the own one, ends the period")
	})
}

func TestFollowClosedClosesOpenAndHalfOpenBreakersOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, breaker.Config{ConsecutiveFailures: 1, OpenTimeout: time.Second})
		assert.False(t, b.Follow(breaker.Closed, time.Time{}), "closed already")
		failN(t, b, 1)
		require.True(t, b.Follow(breaker.Closed, time.Time{}))
		assert.Equal(t, breaker.Closed, b.State())
		assert.Equal(t, breaker.Counts{}, b.Counts(), "fresh counts")

		failN(t, b, 1)
		time.Sleep(time.Second)
		require.Equal(t, breaker.HalfOpen, b.State())
		require.True(t, b.Follow(breaker.Closed, time.Time{}))
		assert.Equal(t, breaker.Closed, b.State())
	})
}

func TestFollowLeavesForcedBreakersAndIgnoresPastAndOtherStates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, breaker.Config{})
		assert.False(t, b.Follow(breaker.Open, time.Now()), "an end not in the future")
		assert.False(t, b.Follow(breaker.HalfOpen, time.Now().Add(time.Second)))
		assert.False(t, b.Follow(breaker.ForcedOpen, time.Now().Add(time.Second)))
		b.ForceClosed()
		assert.False(t, b.Follow(breaker.Open, time.Now().Add(time.Second)))
		assert.Equal(t, breaker.ForcedClosed, b.State())
		b.ForceOpen()
		assert.False(t, b.Follow(breaker.Closed, time.Time{}))
		assert.Equal(t, breaker.ForcedOpen, b.State())
	})
}

func TestSetWatchSeesEveryBreakerAndLookupMakesNone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		set, err := breaker.NewSet(breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 1}})
		require.NoError(t, err)
		var w changes
		set.Watch(w.watch)
		_, ok := set.Lookup("a")
		assert.False(t, ok)
		assert.Equal(t, 0, set.Len(), "Lookup makes no breaker")

		require.ErrorIs(t, set.Execute(context.Background(), "a", fail(errBoom)), errBoom)
		b, ok := set.Lookup("a")
		require.True(t, ok)
		got := w.list()
		require.Len(t, got, 1)
		assert.Same(t, b, got[0].Breaker)
		assert.Equal(t, breaker.Open, got[0].To)

		set.Watch(nil)
		b.Follow(breaker.Closed, time.Time{})
		assert.Len(t, w.list(), 1, "no watcher after Watch(nil)")
	})
}

func TestWatchFailuresSeesFailuresOfClosedBreakersOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, breaker.Config{ConsecutiveFailures: 2, OpenTimeout: time.Second})
		var n int
		b.WatchFailures(func(got *breaker.Breaker) {
			assert.Same(t, b, got)
			n++
		})
		succeedN(t, b, 3)
		assert.Equal(t, 0, n, "successes are not told")
		failN(t, b, 2)
		assert.Equal(t, 2, n, "both failures, the tripping one too")
		require.ErrorIs(t, b.Execute(context.Background(), fail(errBoom)), breaker.ErrOpen)
		time.Sleep(time.Second)
		failN(t, b, 1) // a failed probe
		assert.Equal(t, 2, n, "refusals and probes are not told")
		b.WatchFailures(nil)
	})
}

func TestTripOpensAClosedBreakerAsItsOwnRuleWould(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, breaker.Config{OpenTimeout: 3 * time.Second})
		var w changes
		b.Watch(w.watch)
		require.True(t, b.Trip())
		assert.False(t, b.Trip(), "open already")
		err := b.Execute(context.Background(), succeed)
		require.ErrorIs(t, err, breaker.ErrOpen)
		assert.Equal(t, 3*time.Second, err.(*breaker.RejectedError).RetryAfter())
		got := w.list()
		require.Len(t, got, 1)
		assert.False(t, got[0].Followed)
		assert.Equal(t, breaker.Open, got[0].To)
		time.Sleep(3 * time.Second)
		succeedN(t, b, 1)
		assert.Equal(t, breaker.Closed, b.State(), "probes and closes as after any trip")
	})
}
