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

// discard is an Observer that does nothing: what the policies spend on
// reporting events, without the Collector's own work.
type discard struct{}

func (discard) Observe(resilience.Event) {}

// chains returns the full chain without an observer, with one that does
// nothing, and with a metrics Collector.
func chains(b *testing.B) (bare, noop, observed fullChain) {
	m, err := metrics.New(metrics.Config{})
	if err != nil {
		b.Fatal(err)
	}
	return newFullChain(b, nil), newFullChain(b, discard{}), newFullChain(b, m)
}

// BenchmarkFullChain measures the success path of the full chain without
// an observer, with an observer that does nothing (the policies' own cost
// of reporting), and with a metrics Collector as the observer of every
// policy.
func BenchmarkFullChain(b *testing.B) {
	bare, noop, observed := chains(b)
	for _, tc := range []struct {
		name  string
		chain fullChain
	}{{"observer=none", bare}, {"observer=discard", noop}, {"observer=metrics", observed}} {
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

// BenchmarkMetricsOverhead runs the three chains of BenchmarkFullChain
// interleaved, in blocks of calls whose order rotates, so that all see the
// same machine load, and reports the time per call of each and the
// percentage added over the bare chain: by the policies reporting to an
// observer that does nothing (%added-policies) and by the whole of metrics
// (%added, the figure to hold under 15).
func BenchmarkMetricsOverhead(b *testing.B) {
	const block = 128
	bare, noop, observed := chains(b)
	all := [3]fullChain{bare, noop, observed}
	timeBlock := func(ctx context.Context, c fullChain) int64 {
		start := time.Now()
		for range block {
			c.call(ctx)
		}
		return int64(time.Since(start))
	}
	// round runs one block of each chain, starting with chain r%3, and
	// adds the times to t.
	round := func(ctx context.Context, r int, t *[3]atomic.Int64) {
		for j := range 3 {
			k := (r + j) % 3
			t[k].Add(timeBlock(ctx, all[k]))
		}
	}
	report := func(b *testing.B, t *[3]atomic.Int64, calls int64) {
		if calls == 0 {
			return
		}
		per := func(k int) float64 { return float64(t[k].Load()) / float64(calls) }
		b.ReportMetric(per(0), "ns/call-bare")
		b.ReportMetric(per(1), "ns/call-discard")
		b.ReportMetric(per(2), "ns/call-metrics")
		b.ReportMetric(100*(per(1)-per(0))/per(0), "%added-policies")
		b.ReportMetric(100*(per(2)-per(0))/per(0), "%added")
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		ctx := context.Background()
		var t [3]atomic.Int64
		var calls int64
		for r := 0; int(calls)*3 < b.N; r++ {
			round(ctx, r, &t)
			calls += block
		}
		report(b, &t, calls)
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		var t [3]atomic.Int64
		var calls atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			for r := 0; ; r++ {
				// Each pb.Next stands for one of the 3*block calls of a round.
				for range 3 * block {
					if !pb.Next() {
						return
					}
				}
				round(ctx, r, &t)
				calls.Add(block)
			}
		})
		report(b, &t, calls.Load())
	})
}

// BenchmarkObserve measures the Collector alone on the events of the
// chain's success path, for a pair already seen.
func BenchmarkObserve(b *testing.B) {
	m, err := metrics.New(metrics.Config{})
	if err != nil {
		b.Fatal(err)
	}
	for _, ev := range []resilience.Event{
		{Kind: resilience.EventCall, Policy: "bench", Outcome: resilience.Success, Latency: 3 * time.Millisecond},
		{Kind: resilience.EventAcquire, Policy: "bench"},
		{Kind: resilience.EventRelease, Policy: "bench"},
	} {
		m.Observe(ev)
		b.Run(ev.Kind.String()+"/serial", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m.Observe(ev)
			}
		})
		b.Run(ev.Kind.String()+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					m.Observe(ev)
				}
			})
		})
	}
}
