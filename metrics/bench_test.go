package metrics_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/fallback"
	"github.com/go-resilience/resilience/metrics"
	"github.com/go-resilience/resilience/timeout"
)

// fullChain is what a user runs per call: fallback.Do around breaker →
// bulkhead → timeout, each reporting to obs (nil: no observer at all).
type fullChain struct {
	p  resilience.Policy
	fb fallback.Func[int]
}

func newFullChain(b *testing.B, obs resilience.Observer) fullChain {
	b.Helper()
	brk, err := breaker.New(breaker.Config{Name: "bench", Observer: obs})
	if err != nil {
		b.Fatal(err)
	}
	bulk, err := bulkhead.New(bulkhead.Config{Name: "bench", MaxConcurrent: 1024, Observer: obs})
	if err != nil {
		b.Fatal(err)
	}
	tmo, err := timeout.New(timeout.Config{Name: "bench", Timeout: time.Second, Observer: obs})
	if err != nil {
		b.Fatal(err)
	}
	return fullChain{
		p:  resilience.Chain(brk, bulk, tmo),
		fb: fallback.Observe(obs, "bench", fallback.OnRejected(fallback.Value(0))),
	}
}

func answer(context.Context) (int, error) { return 42, nil }

func (c fullChain) call(ctx context.Context) {
	if v, err := fallback.Do(ctx, c.p, answer, c.fb); err != nil || v != 42 {
		panic("unexpected result")
	}
}

func newObserved(b *testing.B) (bare, observed fullChain) {
	m, err := metrics.New(metrics.Config{})
	if err != nil {
		b.Fatal(err)
	}
	return newFullChain(b, nil), newFullChain(b, m)
}

// BenchmarkFullChain measures the success path of the full chain without
// an observer and with a metrics Collector as the observer of every policy.
func BenchmarkFullChain(b *testing.B) {
	bare, observed := newObserved(b)
	for _, tc := range []struct {
		name  string
		chain fullChain
	}{{"observer=none", bare}, {"observer=metrics", observed}} {
		b.Run(tc.name+"/serial", func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			for b.Loop() {
				tc.chain.call(ctx)
			}
		})
		b.Run(tc.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					tc.chain.call(ctx)
				}
			})
		})
	}
}

// BenchmarkMetricsOverhead runs the full chain with and without a
// Collector interleaved in blocks of calls, alternating which goes first,
// so that both see the same machine load, and reports the time per call of
// each and the percentage the Collector adds.
func BenchmarkMetricsOverhead(b *testing.B) {
	const block = 256
	bare, observed := newObserved(b)
	timeBlock := func(ctx context.Context, c fullChain) int64 {
		start := time.Now()
		for range block {
			c.call(ctx)
		}
		return int64(time.Since(start))
	}
	report := func(b *testing.B, tBare, tObserved, calls int64) {
		if calls == 0 {
			return
		}
		b.ReportMetric(float64(tBare)/float64(calls), "ns/call-bare")
		b.ReportMetric(float64(tObserved)/float64(calls), "ns/call-metrics")
		b.ReportMetric(100*float64(tObserved-tBare)/float64(tBare), "%added")
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		ctx := context.Background()
		var tBare, tObserved, calls int64
		for i := 0; i < b.N; i += 2 * block {
			if i/(2*block)%2 == 0 {
				tBare += timeBlock(ctx, bare)
				tObserved += timeBlock(ctx, observed)
			} else {
				tObserved += timeBlock(ctx, observed)
				tBare += timeBlock(ctx, bare)
			}
			calls += block
		}
		report(b, tBare, tObserved, calls)
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		var tBare, tObserved, calls atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			for n := 0; ; n++ {
				// Each pb.Next is one call of the 2*block this round makes.
				for range 2 * block {
					if !pb.Next() {
						return
					}
				}
				if n%2 == 0 {
					tBare.Add(timeBlock(ctx, bare))
					tObserved.Add(timeBlock(ctx, observed))
				} else {
					tObserved.Add(timeBlock(ctx, observed))
					tBare.Add(timeBlock(ctx, bare))
				}
				calls.Add(block)
			}
		})
		report(b, tBare.Load(), tObserved.Load(), calls.Load())
	})
}
