//go:build !race

package bulkhead_test

import (
	"context"
	"testing"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/stretchr/testify/assert"
)

// The race detector allocates on its own, so these run without it.
func TestFastPathsDoNotAllocate(t *testing.T) {
	ctx := context.Background()
	call := func(context.Context) error { return nil }
	for _, tc := range []struct {
		name string
		cfg  bulkhead.Config
		full bool
		run  func(b *bulkhead.Bulkhead)
	}{
		{"Execute", bulkhead.Config{MaxConcurrent: 1}, false, func(b *bulkhead.Bulkhead) { _ = b.Execute(ctx, call) }},
		{"Acquire and Release", bulkhead.Config{MaxConcurrent: 1}, false, func(b *bulkhead.Bulkhead) {
			_ = b.Acquire(ctx)
			b.Release()
		}},
		{"refusal", bulkhead.Config{MaxConcurrent: 1}, true, func(b *bulkhead.Bulkhead) { _ = b.Execute(ctx, call) }},
		{"named refusal", bulkhead.Config{Name: "db", MaxConcurrent: 1}, true, func(b *bulkhead.Bulkhead) { _ = b.Execute(ctx, call) }},
		{"Execute observed", bulkhead.Config{Name: "db", MaxConcurrent: 1, Observer: &nopObserver{}}, false, func(b *bulkhead.Bulkhead) {
			_ = b.Execute(ctx, call)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := mustNew(t, tc.cfg)
			if tc.full {
				_ = b.Acquire(ctx)
				defer b.Release()
			}
			assert.Zero(t, testing.AllocsPerRun(1000, func() { tc.run(b) }))
		})
	}
}

type nopObserver struct{ n int }

func (o *nopObserver) Observe(resilience.Event) { o.n++ }
