package resilience_test

import (
	"context"
	"testing"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
)

func nop(context.Context) error { return nil }

var passThrough = resilience.PolicyFunc(func(ctx context.Context, call func(context.Context) error) error {
	return call(ctx)
})

func BenchmarkChain(b *testing.B) {
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		p    resilience.Policy
	}{
		{"bare call", nil},
		{"empty chain", resilience.Chain()},
		{"4 user policies", resilience.Chain(passThrough, passThrough, passThrough, passThrough)},
		{"4 wrapping policies", resilience.Chain(&wrapping{}, &wrapping{}, &wrapping{}, &wrapping{})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			if bc.p == nil {
				for b.Loop() {
					_ = nop(ctx)
				}
				return
			}
			for b.Loop() {
				_ = bc.p.Execute(ctx, nop)
			}
		})
		b.Run(bc.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			p := bc.p
			if p == nil {
				p = resilience.Chain()
			}
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					_ = p.Execute(ctx, nop)
				}
			})
		})
	}
}

func BenchmarkDo(b *testing.B) {
	ctx := context.Background()
	fn := func(context.Context) (int, error) { return 1, nil }
	brk, err := breaker.New(breaker.Config{})
	if err != nil {
		b.Fatal(err)
	}
	bulk, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		p    resilience.Policy
	}{
		{"empty chain", resilience.Chain()},
		{"4 user policies", resilience.Chain(passThrough, passThrough, passThrough, passThrough)},
		{"4 wrapping policies", resilience.Chain(&wrapping{}, &wrapping{}, &wrapping{}, &wrapping{})},
		{"breaker and bulkhead", resilience.Chain(brk, bulk)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = resilience.Do(ctx, bc.p, fn)
			}
		})
	}
}
