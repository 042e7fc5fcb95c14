//go:build !race

package inject_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/inject"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The race detector allocates on its own, so these run without it.
func TestOffAndUnfaultedCallsDoNotAllocate(t *testing.T) {
	ctx := context.Background()
	call := func(context.Context) error { return nil }
	fn := func(context.Context) (int, error) { return 1, nil }
	off := mustNew(t, inject.Config{Share: 1, Delay: time.Hour, Err: errBoom, Observer: &countObserver{}})
	missed := mustNew(t, inject.Config{Share: 1, MarkedOnly: true, Err: errBoom})
	missed.Enable()
	zero := mustNew(t, inject.Config{Share: 0, Err: errBoom})
	zero.Enable()
	bh, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1 << 20})
	require.NoError(t, err)
	chain := resilience.Chain(bh, off)
	for _, tc := range []struct {
		name string
		run  func()
	}{
		{"off Execute", func() { _ = off.Execute(ctx, call) }},
		{"off Chain Execute", func() { _ = chain.Execute(ctx, call) }},
		{"off Do through Chain", func() { _, _ = resilience.Do(ctx, chain, fn) }},
		{"on, unmarked call", func() { _ = missed.Execute(ctx, call) }},
		{"on, share zero", func() { _ = zero.Execute(ctx, call) }},
		{"off Decide", func() { _, _ = off.Decide("k", true) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Zero(t, testing.AllocsPerRun(1000, tc.run))
		})
	}
}

type countObserver struct{ n int }

func (o *countObserver) Observe(resilience.Event) { o.n++ }
