package otelx

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/go-resilience/resilience/bulkhead"
)

var errNoMeters = errors.New("otelx: WatchBulkheads needs Config.MeterProvider")

// WatchBulkheads reports, at each collection, the capacity
// (resilience.bulkhead.capacity) and the callers waiting
// (resilience.bulkhead.waiting) of each of bs, read from the bulkheads
// themselves: a caller that gives up its wait reports no event. Unregister
// the returned Registration to stop. It returns an error for a nil
// Observer, an Observer without Config.MeterProvider, or a nil bulkhead in
// bs. Safe for concurrent use.
func (o *Observer) WatchBulkheads(bs ...*bulkhead.Bulkhead) (metric.Registration, error) {
	switch {
	case o == nil:
		return nil, errNilObserver
	case o.m == nil:
		return nil, errNoMeters
	}
	type watched struct {
		b   *bulkhead.Bulkhead
		opt []metric.ObserveOption
	}
	ws := make([]watched, len(bs))
	for i, b := range bs {
		if b == nil {
			return nil, fmt.Errorf("otelx: WatchBulkheads given a nil bulkhead (argument %d)", i)
		}
		set := attribute.NewSet(AttrPolicy.String(b.Name()), AttrKey.String(""))
		ws[i] = watched{b, []metric.ObserveOption{metric.WithAttributeSet(set)}}
	}
	m := o.m
	return m.meter.RegisterCallback(func(_ context.Context, ob metric.Observer) error {
		for _, w := range ws {
			ob.ObserveInt64(m.bulkheadCapacity, int64(w.b.MaxConcurrent()), w.opt...)
			ob.ObserveInt64(m.bulkheadWaiting, int64(w.b.Waiting()), w.opt...)
		}
		return nil
	}, m.bulkheadCapacity, m.bulkheadWaiting)
}

// A Source yields bulkheads with their keys, as many as it has at the
// moment: *httpx.Transport and *grpcx.Interceptors are Sources (their
// per-key bulkheads are made as keys are first seen), as they are for
// metrics.Collector.WatchSource.
type Source interface {
	Bulkheads() iter.Seq2[string, *bulkhead.Bulkhead]
}

// WatchSource is WatchBulkheads for the bulkheads of src, iterated again
// at every collection, so that per-key bulkheads made later are reported
// too, each with its key (the first bulkhead found for a (policy, key)
// pair wins). It returns an error for a nil Observer, an Observer without
// Config.MeterProvider, or a nil src.
func (o *Observer) WatchSource(src Source) (metric.Registration, error) {
	switch {
	case o == nil:
		return nil, errNilObserver
	case o.m == nil:
		return nil, errNoMeters
	case src == nil:
		return nil, errors.New("otelx: WatchSource given a nil Source")
	}
	m := o.m
	return m.meter.RegisterCallback(func(_ context.Context, ob metric.Observer) error {
		seen := map[[2]string]bool{}
		for key, b := range src.Bulkheads() {
			if b == nil || seen[[2]string{b.Name(), key}] {
				continue
			}
			seen[[2]string{b.Name(), key}] = true
			opt := metric.WithAttributeSet(attribute.NewSet(AttrPolicy.String(b.Name()), AttrKey.String(key)))
			ob.ObserveInt64(m.bulkheadCapacity, int64(b.MaxConcurrent()), opt)
			ob.ObserveInt64(m.bulkheadWaiting, int64(b.Waiting()), opt)
		}
		return nil
	}, m.bulkheadCapacity, m.bulkheadWaiting)
}
