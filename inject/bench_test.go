package inject_test

import (
	"context"
	"testing"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/inject"
)

// BenchmarkOff measures what a disabled Injector costs: against the call
// alone ("direct"), alone ("off"), and in a Chain with a bulkhead, against
// the same Chain without it ("chain-baseline", "chain-off"), through Do.
// "on-miss" is an enabled Injector whose draw misses (Share 0.000001).
func BenchmarkOff(b *testing.B) {
	ctx := context.Background()
	call := func(context.Context) error { return nil }
	fn := func(context.Context) (int, error) { return 1, nil }
	off, err := inject.New(inject.Config{Share: 1, Err: inject.ErrInjected})
	if err != nil {
		b.Fatal(err)
	}
	miss, err := inject.New(inject.Config{Share: 0.000001, Err: inject.ErrInjected})
	if err != nil {
		b.Fatal(err)
	}
	miss.Enable()
	bh, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	baseline := resilience.Chain(bh)
	withOff := resilience.Chain(bh, off)
	for _, bc := range []struct {
		name string
		run  func()
	}{
		{"direct", func() { _ = call(ctx) }},
		{"off", func() { _ = off.Execute(ctx, call) }},
		{"on-miss", func() { _ = miss.Execute(ctx, call) }},
		{"chain-baseline", func() { _, _ = resilience.Do(ctx, baseline, fn) }},
		{"chain-off", func() { _, _ = resilience.Do(ctx, withOff, fn) }},
	} {
		b.Run(bc.name+"/serial", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bc.run()
			}
		})
		b.Run(bc.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					bc.run()
				}
			})
		})
	}
}
