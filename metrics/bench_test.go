package metrics_test

import (
	"context"
	"slices"
	"sync"
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
// interleaved, in short blocks of calls whose order rotates, and compares
// each block with the bare chain's block of the same round, which ran
// within microseconds of it under the same machine load. It reports the
// median over rounds of the time per call of each chain and of the
// percentage added over the bare chain: by the policies reporting to an
// observer that does nothing (%added-policies), and by metrics in all
// (%added, the figure to hold under 15). Medians of paired rounds make the
// figure stable on a machine shared with other work, where sums are not.
func BenchmarkMetricsOverhead(b *testing.B) {
	const block = 64
	bare, noop, observed := chains(b)
	all := [3]fullChain{bare, noop, observed}
	// round runs one block of each chain, starting with chain r%3, and
	// returns the time each took.
	round := func(ctx context.Context, r int) (t [3]float64) {
		for j := range 3 {
			k := (r + j) % 3
			start := time.Now()
			for range block {
				all[k].call(ctx)
			}
			t[k] = float64(time.Since(start))
		}
		return t
	}
	report := func(b *testing.B, rounds [][3]float64) {
		if len(rounds) == 0 {
			return
		}
		col := func(f func(t [3]float64) float64) float64 {
			v := make([]float64, len(rounds))
			for i, t := range rounds {
				v[i] = f(t)
			}
			slices.Sort(v)
			return v[len(v)/2]
		}
		for k, name := range []string{"bare", "discard", "metrics"} {
			b.ReportMetric(col(func(t [3]float64) float64 { return t[k] })/block, "ns/call-"+name)
		}
		b.ReportMetric(col(func(t [3]float64) float64 { return 100 * (t[1] - t[0]) / t[0] }), "%added-policies")
		b.ReportMetric(col(func(t [3]float64) float64 { return 100 * (t[2] - t[0]) / t[0] }), "%added")
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		ctx := context.Background()
		rounds := make([][3]float64, 0, b.N/(3*block)+1)
		for r := 0; r*3*block < b.N; r++ {
			rounds = append(rounds, round(ctx, r))
		}
		report(b, rounds)
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		var mu sync.Mutex
		var rounds [][3]float64
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			var mine [][3]float64
			defer func() {
				mu.Lock()
				rounds = append(rounds, mine...)
				mu.Unlock()
			}()
			for r := 0; ; r++ {
				// Each pb.Next stands for one of the 3*block calls of a round.
				for range 3 * block {
					if !pb.Next() {
						return
					}
				}
				mine = append(mine, round(ctx, r))
			}
		})
		report(b, rounds)
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
