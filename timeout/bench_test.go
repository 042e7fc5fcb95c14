package timeout_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/timeout"
)

func nop(context.Context) error { return nil }

// policies are what the benchmarks run, beside their baseline: a bare
// context.WithTimeout and cancel around the same call.
func policies(b *testing.B) []struct {
	name string
	p    resilience.Policy
} {
	t, err := timeout.New(timeout.Config{Name: "db", Timeout: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	bh, err := bulkhead.New(bulkhead.Config{Name: "db", MaxConcurrent: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	bare := resilience.PolicyFunc(func(ctx context.Context, call func(context.Context) error) error {
		ctx, cancel := context.WithTimeout(ctx, time.Hour)
		defer cancel()
		return call(ctx)
	})
	return []struct {
		name string
		p    resilience.Policy
	}{
		{"context.WithTimeout", bare},
		{"timeout", t},
		{"Chain(bulkhead,timeout)", resilience.Chain(bh, t)},
	}
}

// A cooperative call, the policy's deadline the earlier.
func BenchmarkCooperative(b *testing.B) {
	ctx := context.Background()
	for _, tc := range policies(b) {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = tc.p.Execute(ctx, nop)
			}
		})
	}
}

func BenchmarkCooperativeParallel(b *testing.B) {
	ctx := context.Background()
	for _, tc := range policies(b) {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					_ = tc.p.Execute(ctx, nop)
				}
			})
		})
	}
}

// The caller's deadline is the earlier: no context is made.
func BenchmarkCallerDeadlineEarlier(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, tc := range policies(b)[1:] {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = tc.p.Execute(ctx, nop)
			}
		})
	}
}

// Abandon mode on a call that returns at once: the goroutine per call.
func BenchmarkAbandonMode(b *testing.B) {
	t, err := timeout.New(timeout.Config{Timeout: time.Hour, Abandon: true, MaxAbandoned: 10})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = t.Execute(ctx, nop)
	}
}

// Refusal at the cap of abandoned calls.
func BenchmarkRefuseAtCap(b *testing.B) {
	t, err := timeout.New(timeout.Config{Timeout: time.Nanosecond, Abandon: true, MaxAbandoned: 1})
	if err != nil {
		b.Fatal(err)
	}
	release := make(chan struct{})
	_ = t.Execute(context.Background(), func(context.Context) error { <-release; return nil })
	defer close(release)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if t.Execute(ctx, nop) == nil {
			b.Fatal("admitted")
		}
	}
}
