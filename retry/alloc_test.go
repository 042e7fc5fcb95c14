//go:build !race

package retry_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/fallback"
	"github.com/go-resilience/resilience/retry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The race detector allocates on its own, so this runs without it.
func TestFirstAttemptSuccessAllocatesNothing(t *testing.T) {
	c := newChain(t, retry.Config{})
	p0 := resilience.Chain(c.r, c.brk)
	ctx := context.Background()
	dl, cancel := context.WithTimeout(ctx, time.Hour)
	defer cancel()
	fn := func(context.Context) (int, error) { return 1, nil }
	fb := func(context.Context, error) (int, error) { return 0, nil }
	call := func(context.Context) error { return nil }
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _, _ = resilience.Do(ctx, p0, fn) }), "Do, first chain")
	p := resilience.Chain(c.r, c.brk, c.bulk)
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _, _ = resilience.Do(ctx, p, fn) }), "Do")
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _, _ = resilience.Do(dl, p, fn) }), "Do with a deadline")
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _, _ = fallback.Do(ctx, p, fn, fb) }), "fallback.Do")
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _ = p.Execute(ctx, call) }), "Execute")
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _ = c.r.Execute(ctx, call) }), "Retry.Execute")
}

func TestAFailureNotToRetryAllocatesNothing(t *testing.T) {
	r, err := retry.New(retry.Config{})
	require.NoError(t, err)
	p := resilience.Chain(r)
	ctx := context.Background()
	fn := func(context.Context) (int, error) { return 0, resilience.ErrRejected }
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _, _ = resilience.Do(ctx, p, fn) }))
}
