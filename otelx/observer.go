package otelx

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/metric"

	"github.com/go-resilience/resilience"
)

// Config configures an Observer. The zero value puts the policies'
// decisions on the calls' spans and records no metrics.
type Config struct {
	// MeterProvider makes the instruments of the metrics (see the package
	// doc for their names). Nil: no metrics are recorded.
	MeterProvider metric.MeterProvider

	// DisableTraces leaves spans alone: no span events, no span status.
	// Zero: decisions go on the span in Event.Ctx, if it is recording.
	DisableTraces bool

	// Next is an Observer told every event after this one, such as a
	// metrics.Collector for Prometheus or a slogx.Observer, since a
	// policy has a single Observer. Nil: none.
	Next resilience.Observer

	// MaxKeys bounds how many distinct (policy, key) pairs get attribute
	// sets of their own in the metrics; the events of further pairs are
	// recorded under the key "_other" of their policy. Zero: 2048. It
	// must not be negative.
	MaxKeys int

	// Buckets are the bounds, in seconds, of the call duration histogram.
	// Zero: 5ms to 10s, the buckets of the Prometheus collector. They must
	// be positive and increasing.
	Buckets []float64

	// WaitBuckets are the bounds, in seconds, of the bulkhead wait
	// histogram. Zero: 100µs doubling to about 1.6s, as the Prometheus
	// collector's. They must be positive and increasing.
	WaitBuckets []float64
}

const (
	defaultMaxKeys = 2048
	// otherKey is the key that pairs beyond Config.MaxKeys are recorded under.
	otherKey = "_other"
)

var (
	defaultBuckets     = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	defaultWaitBuckets = func() []float64 {
		b := make([]float64, 15)
		for i, v := 0, 0.0001; i < len(b); i, v = i+1, v*2 {
			b[i] = v
		}
		return b
	}()
)

// An Observer puts what policies do on OpenTelemetry traces and, with a
// MeterProvider, metrics. Give it to every policy as its Observer (the
// Config of breaker, bulkhead, timeout, retry, hedge, adaptive, ratelimit,
// inject, and of httpx's and grpcx's clients and servers; and
// fallback.Observe).
//
// Observe is safe for concurrent use. When the event's span is not
// recording (no tracing, or a sampled-out trace) and there are no
// metrics, it costs a context lookup and allocates nothing. A zero or nil
// *Observer records nothing: make one with New.
type Observer struct {
	traces bool
	m      *meters
	next   resilience.Observer
}

// New returns an Observer for cfg, or an error naming the Config field
// that is invalid, or the error of the MeterProvider making an instrument.
func New(cfg Config) (*Observer, error) {
	if cfg.MaxKeys < 0 {
		return nil, fmt.Errorf("otelx: Config.MaxKeys must not be negative, got %d", cfg.MaxKeys)
	}
	if cfg.MaxKeys == 0 {
		cfg.MaxKeys = defaultMaxKeys
	}
	var err error
	if cfg.Buckets, err = checkBuckets("Buckets", cfg.Buckets, defaultBuckets); err != nil {
		return nil, err
	}
	if cfg.WaitBuckets, err = checkBuckets("WaitBuckets", cfg.WaitBuckets, defaultWaitBuckets); err != nil {
		return nil, err
	}
	o := &Observer{traces: !cfg.DisableTraces, next: cfg.Next}
	if cfg.MeterProvider != nil {
		if o.m, err = newMeters(cfg); err != nil {
			return nil, err
		}
	}
	return o, nil
}

func checkBuckets(field string, b, def []float64) ([]float64, error) {
	if len(b) == 0 {
		return def, nil
	}
	for i, v := range b {
		if !(v > 0) || (i > 0 && v <= b[i-1]) {
			return nil, fmt.Errorf("otelx: Config.%s must be positive and increasing, got %v", field, b)
		}
	}
	return append([]float64(nil), b...), nil
}

// Observe records ev: on the span in ev.Ctx (see the package doc for the
// span events and status), in the metrics, then tells Config.Next. An
// event with a nil Ctx is recorded in the metrics only.
func (o *Observer) Observe(ev resilience.Event) {
	if o == nil {
		return
	}
	if o.traces && ev.Ctx != nil && traced(ev.Kind) {
		o.trace(&ev)
	}
	if o.m != nil {
		o.m.observe(&ev)
	}
	if o.next != nil {
		o.next.Observe(ev)
	}
}

// errNilObserver is what a method of a nil *Observer returns.
var errNilObserver = errors.New("otelx: nil *Observer (use New)")
