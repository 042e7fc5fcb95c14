package ratelimit_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience/ratelimit"
)

func TestSetGivesEachKeyItsOwnTokens(t *testing.T) {
	s, err := ratelimit.NewSet(ratelimit.SetConfig{Config: ratelimit.Config{Rate: 1}})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, s.Take(ctx, "a"))
	assert.ErrorIs(t, s.Take(ctx, "a"), ratelimit.ErrLimited)
	require.NoError(t, s.Execute(ctx, "b", nop))
	assert.Same(t, s.Get("a"), s.Get("a"))
	assert.Equal(t, 2, s.Len())
}

func TestSetForgetsOnlyRefilledLimitersAndOverflowsWhenNoneIs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := ratelimit.NewSet(ratelimit.SetConfig{Config: ratelimit.Config{Rate: 10}, MaxKeys: 2})
		require.NoError(t, err)
		ctx := context.Background()
		require.NoError(t, s.Take(ctx, "a"))
		require.NoError(t, s.Take(ctx, "b"))
		// Both owe a token: c finds no room and shares the overflow limiter.
		c := s.Get("c")
		assert.NotSame(t, s.Get("a"), c)
		assert.NotSame(t, s.Get("b"), c)
		require.NoError(t, s.Take(ctx, "c"))
		assert.ErrorIs(t, s.Take(ctx, "d"), ratelimit.ErrLimited, "d shares c's overflow limiter")
		assert.Equal(t, 2, s.Len())
		// a is refused still: its limiter was not dropped for a fresh one.
		assert.ErrorIs(t, s.Take(ctx, "a"), ratelimit.ErrLimited)

		time.Sleep(100 * time.Millisecond) // every limiter refilled
		require.NoError(t, s.Take(ctx, "c"))
		assert.Equal(t, 2, s.Len(), "c took the place of a refilled limiter")
		assert.NotSame(t, c, s.Get("c"), "c has a limiter of its own now")
		assert.ErrorIs(t, s.Take(ctx, "c"), ratelimit.ErrLimited)
	})
}

func TestSetStaysBoundedUnderManyKeys(t *testing.T) {
	s, err := ratelimit.NewSet(ratelimit.SetConfig{Config: ratelimit.Config{Rate: 1000, Burst: 5}, MaxKeys: 16})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				_ = s.Take(context.Background(), strconv.Itoa(g*1000+i%40))
				assert.LessOrEqual(t, s.Len(), 16)
			}
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, s.Len(), 16)
}

func TestNewSetRejectsBadConfig(t *testing.T) {
	_, err := ratelimit.NewSet(ratelimit.SetConfig{Config: ratelimit.Config{Rate: 1}, MaxKeys: -1})
	assert.ErrorContains(t, err, "ratelimit: SetConfig.MaxKeys must be")
	_, err = ratelimit.NewSet(ratelimit.SetConfig{})
	assert.ErrorContains(t, err, "ratelimit: Config.Rate must be")
}
