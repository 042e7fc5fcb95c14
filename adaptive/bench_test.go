package adaptive_test

import (
	"context"
	"testing"

	"github.com/go-resilience/resilience/adaptive"
	"github.com/go-resilience/resilience/bulkhead"
)

// Acquire and release through Execute with a call that returns at once,
// beside a bulkhead in the same run: the cost of measuring and adapting.
func BenchmarkExecute(b *testing.B) {
	ctx := context.Background()
	bh, _ := bulkhead.New(bulkhead.Config{MaxConcurrent: 1000})
	grad, _ := adaptive.New(adaptive.Config{InitialLimit: 1000, MaxLimit: 1000})
	aimd, _ := adaptive.New(adaptive.Config{Algorithm: adaptive.AIMD, InitialLimit: 1000, MaxLimit: 1000})
	for _, p := range []struct {
		name string
		exec func(context.Context, func(context.Context) error) error
	}{{"bulkhead", bh.Execute}, {"gradient", grad.Execute}, {"aimd", aimd.Execute}} {
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = p.exec(ctx, nop)
			}
		})
		b.Run(p.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					_ = p.exec(ctx, nop)
				}
			})
		})
	}
}

// A refusal at the limit, beside a full bulkhead's.
func BenchmarkRefusal(b *testing.B) {
	ctx := context.Background()
	bh, _ := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
	_ = bh.Acquire(ctx)
	defer bh.Release()
	l, _ := adaptive.New(adaptive.Config{InitialLimit: 1, MinLimit: 1, MaxLimit: 1})
	block, started := make(chan struct{}), make(chan struct{})
	go func() { _ = l.Execute(ctx, func(context.Context) error { close(started); <-block; return nil }) }()
	<-started
	defer close(block)
	b.Run("bulkhead", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = bh.Execute(ctx, nop)
		}
	})
	b.Run("adaptive", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = l.Execute(ctx, nop)
		}
	})
}
