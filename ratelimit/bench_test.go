package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/go-resilience/resilience/ratelimit"
)

// The limiter beside a bare rate.Limiter in the same run: the admitted path
// (plenty of tokens) and the refusal (none), serial and parallel.
func BenchmarkTake(b *testing.B) {
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		r    float64
	}{{"admitted", 1e12}, {"refused", 1e-9}} {
		b.Run(bc.name+"/ratelimit", func(b *testing.B) {
			l, _ := ratelimit.New(ratelimit.Config{Rate: bc.r, Burst: 1 << 30})
			if bc.r < 1 {
				l, _ = ratelimit.New(ratelimit.Config{Rate: bc.r})
				_ = l.Take(ctx)
			}
			b.ReportAllocs()
			for b.Loop() {
				_ = l.Take(ctx)
			}
		})
		b.Run(bc.name+"/bare", func(b *testing.B) {
			lim := rate.NewLimiter(rate.Limit(bc.r), 1<<30)
			if bc.r < 1 {
				lim = rate.NewLimiter(rate.Limit(bc.r), 1)
				lim.Allow()
			}
			b.ReportAllocs()
			for b.Loop() {
				_ = lim.AllowN(time.Now(), 1)
			}
		})
		b.Run(bc.name+"/ratelimit/parallel", func(b *testing.B) {
			l, _ := ratelimit.New(ratelimit.Config{Rate: bc.r, Burst: 1 << 30})
			if bc.r < 1 {
				l, _ = ratelimit.New(ratelimit.Config{Rate: bc.r})
				_ = l.Take(ctx)
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					_ = l.Take(ctx)
				}
			})
		})
		b.Run(bc.name+"/bare/parallel", func(b *testing.B) {
			lim := rate.NewLimiter(rate.Limit(bc.r), 1<<30)
			if bc.r < 1 {
				lim = rate.NewLimiter(rate.Limit(bc.r), 1)
				lim.Allow()
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					_ = lim.AllowN(time.Now(), 1)
				}
			})
		})
	}
}
