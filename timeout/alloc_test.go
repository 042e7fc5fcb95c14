//go:build !race

package timeout_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/timeout"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The race detector allocates on its own, so these run without it.
func TestAllocations(t *testing.T) {
	call := func(context.Context) error { return nil }
	p := mustNew(t, timeout.Config{Name: "db", Timeout: time.Hour})
	b, err := bulkhead.New(bulkhead.Config{Name: "db", MaxConcurrent: 1})
	require.NoError(t, err)
	chain := resilience.Chain(b, p)

	early, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bare := testing.AllocsPerRun(1000, func() {
		ctx, cancel := context.WithTimeoutCause(context.Background(), time.Hour, timeout.ErrTimeout)
		_ = call(ctx)
		cancel()
	})

	assert.Zero(t, testing.AllocsPerRun(1000, func() { _ = p.Execute(early, call) }), "caller's deadline earlier")
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _ = chain.Execute(early, call) }), "chain, caller's deadline earlier")
	assert.Equal(t, bare, testing.AllocsPerRun(1000, func() { _ = p.Execute(context.Background(), call) }),
		"no more than context.WithTimeoutCause")
	assert.Equal(t, bare, testing.AllocsPerRun(1000, func() { _ = chain.Execute(context.Background(), call) }),
		"the chain adds nothing to the timeout's own")

	capped := mustNew(t, timeout.Config{Timeout: time.Nanosecond, Abandon: true, MaxAbandoned: 1})
	release := make(chan struct{})
	defer close(release)
	_ = capped.Execute(context.Background(), func(context.Context) error { <-release; return nil })
	require.Equal(t, 1, capped.Abandoned())
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _ = capped.Execute(context.Background(), call) }), "refusal at the cap")
}
