package admit

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/ratelimit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// admitAfter enters g, waits wait (fake time), and begins.
func admitAfter(g *Gate, wait time.Duration) error {
	arrived, err := g.Enter(context.Background(), false)
	if err != nil {
		return err
	}
	time.Sleep(wait)
	return g.Begin(arrived, "")
}

func TestCoDelRefusesLongWaitsOnlyUnderSustainedOverload(t *testing.T) {
	const target, interval = 5 * time.Millisecond, 100 * time.Millisecond
	synctest.Test(t, func(t *testing.T) {
		g := New(Config{QueueTarget: target, QueueInterval: interval})
		// Short waits: always admitted.
		for range 10 {
			require.NoError(t, admitAfter(g, target/2))
		}
		// Long waits, but not yet for a whole interval: admitted (a burst).
		require.NoError(t, admitAfter(g, 2*target))
		time.Sleep(interval / 2)
		require.NoError(t, admitAfter(g, 2*target), "above target for less than an interval")
		// Still above target after an interval: the standing queue is cut.
		time.Sleep(interval / 2)
		assert.ErrorIs(t, admitAfter(g, 2*target), ErrStandingQueue)
		assert.ErrorIs(t, admitAfter(g, 2*target), resilience.ErrRejected)
		_, shedding := g.Shedding()
		assert.True(t, shedding)
		// A short wait again ends the overload state at once.
		require.NoError(t, admitAfter(g, target/2))
		require.NoError(t, admitAfter(g, 2*target), "a new episode starts its interval afresh")
		assert.Zero(t, g.Waiting())
	})
}

func TestCoDelOffByDefault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := New(Config{})
		for range 5 {
			require.NoError(t, admitAfter(g, time.Second))
		}
	})
}

func TestSheddingEpisodeStartsAtTheFirstRefusalAndEndsAfterAQuietSecond(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := New(Config{})
		_, ok := g.Shedding()
		assert.False(t, ok)
		start := time.Now()
		g.Shed("", bulkhead.ErrFull)
		time.Sleep(ShedHold / 2)
		g.Shed("", bulkhead.ErrFull)
		since, ok := g.Shedding()
		assert.True(t, ok)
		assert.Equal(t, start, since, "one episode")
		time.Sleep(ShedHold / 2)
		since, ok = g.Shedding()
		assert.True(t, ok)
		assert.Equal(t, start, since)
		time.Sleep(ShedHold)
		_, ok = g.Shedding()
		assert.False(t, ok, "a second without a refusal ends the episode")
		restart := time.Now()
		g.Shed("", bulkhead.ErrFull)
		since, ok = g.Shedding()
		assert.True(t, ok)
		assert.Equal(t, restart, since, "a new episode")
	})
}

func TestEnterRefusesShortAndPastDeadlines(t *testing.T) {
	for _, tc := range []struct {
		min, left time.Duration
		want      error
	}{
		{0, time.Second, nil},
		{0, -time.Second, ErrShortDeadline},
		{0, 0, ErrShortDeadline},
		{time.Second, 999 * time.Millisecond, ErrShortDeadline},
		{time.Second, time.Second, nil},
	} {
		t.Run(fmt.Sprint(tc.min, tc.left), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := New(Config{MinDeadline: tc.min})
				ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(tc.left))
				defer cancel()
				_, err := g.Enter(ctx, false)
				assert.Equal(t, tc.want, err)
				if err == nil {
					assert.Equal(t, 1, g.Waiting())
				} else {
					assert.Equal(t, 0, g.Waiting(), "a refusal holds nothing")
				}
			})
		})
	}
}

func TestMaxWaitingBoundsEntries(t *testing.T) {
	g := New(Config{MaxWaiting: 2})
	ctx := context.Background()
	a1, err := g.Enter(ctx, false)
	require.NoError(t, err)
	_, err = g.Enter(ctx, false)
	require.NoError(t, err)
	_, err = g.Enter(ctx, false)
	assert.Equal(t, ErrQueueFull, err)
	require.NoError(t, g.Begin(a1, ""))
	_, err = g.Enter(ctx, false)
	require.NoError(t, err, "one left the queue")
}

func TestLeaveTellsRefusalsFromGoneClients(t *testing.T) {
	g := New(Config{})
	ctx, cancel := context.WithCancel(context.Background())
	_, err := g.Enter(ctx, false)
	require.NoError(t, err)
	cancel()
	assert.True(t, g.Leave(ctx, "", context.Canceled))
	_, shedding := g.Shedding()
	assert.False(t, shedding, "a client that left was not refused")
	_, err = g.Enter(context.Background(), false)
	require.NoError(t, err)
	assert.True(t, g.Leave(context.Background(), "", bulkhead.ErrFull))
	_, shedding = g.Shedding()
	assert.True(t, shedding)
	_, err = g.Enter(context.Background(), false)
	require.NoError(t, err)
	assert.False(t, g.Leave(context.Background(), "", nil))
	assert.Zero(t, g.Waiting())
}

func TestReasonOf(t *testing.T) {
	lim, err := ratelimit.New(ratelimit.Config{Name: "x", Rate: 1})
	require.NoError(t, err)
	require.NoError(t, lim.Execute(context.Background(), func(context.Context) error { return nil }))
	limited := lim.Execute(context.Background(), func(context.Context) error { return nil })
	for _, tc := range []struct {
		err  error
		want Reason
	}{
		{bulkhead.ErrFull, Overload},
		{errors.New("other"), Overload},
		{limited, RateLimit},
		{fmt.Errorf("wrapped: %w", ratelimit.ErrLimited), RateLimit},
		{ErrShortDeadline, Deadline},
		{ErrQueueFull, Queue},
		{ErrStandingQueue, Queue},
	} {
		assert.Equal(t, tc.want, ReasonOf(tc.err), "%v", tc.err)
	}
}

func TestGateAllocatesNothing(t *testing.T) {
	g := New(Config{QueueTarget: time.Millisecond, MaxWaiting: 10, MinDeadline: time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	allocs := testing.AllocsPerRun(100, func() {
		a, _ := g.Enter(ctx, false)
		_ = g.Begin(a, "k")
		_, _ = g.Enter(ctx, false)
		g.Leave(ctx, "k", bulkhead.ErrFull)
	})
	assert.Zero(t, allocs)
}
