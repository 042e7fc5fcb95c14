package bench

import (
	"context"
	"testing"

	"github.com/failsafe-go/failsafe-go"
	fsadaptive "github.com/failsafe-go/failsafe-go/adaptivelimiter"

	"github.com/go-resilience/resilience/adaptive"
)

// Adaptive scenarios: one call through an adaptive concurrency limiter
// with room under its limit (take a slot, run, measure, give it back),
// serially and from GOMAXPROCS goroutines.
//
// lib=bulkhead is this module's bulkhead, the fixed-size baseline the
// limiter is held to (≤ 2× its time). failsafe-go's adaptive limiter is run
// through its executor (failsafe.With(...).Run) and, as lib=failsafe-permit,
// by hand with TryAcquirePermit and Record, its cheapest path.

func BenchmarkAdaptive(b *testing.B) {
	run(b, context.Background(), adaptiveLibs(b))
}

func BenchmarkAdaptiveParallel(b *testing.B) {
	runParallel(b, context.Background(), adaptiveLibs(b))
}

func adaptiveLibs(tb testing.TB) []lib {
	l, err := adaptive.New(adaptive.Config{Name: "bench", InitialLimit: maxConcurrent, MaxLimit: maxConcurrent})
	if err != nil {
		tb.Fatal(err)
	}
	bh := newBulkhead(tb)
	fs := fsadaptive.NewBuilder[any]().WithLimits(1, maxConcurrent, maxConcurrent).Build()
	ex := failsafe.With[any](fs)
	fsp := fsadaptive.NewBuilder[any]().WithLimits(1, maxConcurrent, maxConcurrent).Build()
	return []lib{
		{name: "resilience", op: func(ctx context.Context) error { return l.Execute(ctx, work) }},
		{name: "bulkhead", op: func(ctx context.Context) error { return bh.Execute(ctx, work) }},
		{name: "failsafe", op: func(ctx context.Context) error {
			return ex.Run(func() error { return work(ctx) })
		}},
		{name: "failsafe-permit", op: func(ctx context.Context) error {
			p, ok := fsp.TryAcquirePermit()
			if !ok {
				return fsadaptive.ErrExceeded
			}
			err := work(ctx)
			p.Record()
			return err
		}},
	}
}
