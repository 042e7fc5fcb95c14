package otelx_test

import (
	"context"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/otelx"
)

type discard struct{}

func (discard) Observe(resilience.Event) {}

// BenchmarkChainObserver runs the chain of breaker, bulkhead, timeout and
// fallback on its success path with no Observer, with one that does
// nothing, and with the otelx Observer in a trace sampled out (a span
// that does not record), without and with metrics. Compare the rows of
// one run: the ratio to "none" is the Observer's cost.
func BenchmarkChainObserver(b *testing.B) {
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	obsTraces := newObserver(b, otelx.Config{})
	obsBoth := newObserver(b, otelx.Config{MeterProvider: mp})
	rows := []struct {
		name string
		obs  resilience.Observer
	}{
		{"none", nil},
		{"discard", discard{}},
		{"otelx-traces", obsTraces},
		{"otelx-traces+metrics", obsBoth},
	}
	ctx := nonRecording(b)
	for _, row := range rows {
		c := newChainB(b, row.obs)
		b.Run(row.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.do(ctx, ok); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(row.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := c.do(ctx, ok); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkObserve is Observe alone, for an event on the success path
// (EventCall) and a decision (EventRejected), with a span that does not
// record.
func BenchmarkObserve(b *testing.B) {
	o := newObserver(b, otelx.Config{})
	ctx := nonRecording(b)
	for _, k := range []resilience.EventKind{resilience.EventCall, resilience.EventRejected} {
		e := resilience.Event{Kind: k, Policy: "p", Err: errBoom, Ctx: ctx}
		b.Run(k.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				o.Observe(e)
			}
		})
	}
}
