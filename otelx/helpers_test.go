package otelx_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/fallback"
	"github.com/go-resilience/resilience/otelx"
	"github.com/go-resilience/resilience/timeout"
)

// tracing is an SDK tracer provider whose ended spans a SpanRecorder keeps.
type tracing struct {
	rec *tracetest.SpanRecorder
	tp  *sdktrace.TracerProvider
}

func newTracing(t *testing.T) *tracing {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return &tracing{rec: rec, tp: tp}
}

// span runs f in a new span named name and returns the span as ended.
func (tr *tracing) span(t *testing.T, name string, f func(ctx context.Context)) sdktrace.ReadOnlySpan {
	t.Helper()
	ctx, sp := tr.tp.Tracer("test").Start(context.Background(), name)
	f(ctx)
	sp.End()
	for _, s := range tr.rec.Ended() {
		if s.SpanContext().SpanID() == sp.SpanContext().SpanID() {
			return s
		}
	}
	t.Fatalf("span %q not recorded", name)
	return nil
}

// ev is a span event as the tests compare it.
type ev struct {
	Name  string
	Attrs map[string]any
}

func events(s sdktrace.ReadOnlySpan) []ev {
	out := []ev{}
	for _, e := range s.Events() {
		out = append(out, ev{e.Name, attrMap(e.Attributes)})
	}
	return out
}

func attrMap(kvs []attribute.KeyValue) map[string]any {
	m := map[string]any{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.AsInterface()
	}
	return m
}

// chain is the recommended chain without retry: fallback → breaker →
// bulkhead → timeout, every policy reporting to one otelx Observer.
type chain struct {
	brk  *breaker.Breaker
	bulk *bulkhead.Bulkhead
	tmo  *timeout.Timeout
	p    resilience.Policy
	fb   fallback.Func[string]
}

func newChain(t *testing.T, obs resilience.Observer) *chain { return newChainB(t, obs) }

func newChainB(t testing.TB, obs resilience.Observer) *chain {
	t.Helper()
	var c chain
	var err error
	c.brk, err = breaker.New(breaker.Config{Name: "brk", ConsecutiveFailures: 2, OpenTimeout: time.Minute, Observer: obs})
	require.NoError(t, err)
	c.bulk, err = bulkhead.New(bulkhead.Config{Name: "bulk", MaxConcurrent: 1, Observer: obs})
	require.NoError(t, err)
	c.tmo, err = timeout.New(timeout.Config{Name: "tmo", Timeout: 50 * time.Millisecond, Observer: obs})
	require.NoError(t, err)
	c.p = resilience.Chain(c.brk, c.bulk, c.tmo)
	c.fb = fallback.Observe(obs, "fb", fallback.OnRejected(fallback.Value("cached")))
	return &c
}

func (c *chain) do(ctx context.Context, fn func(context.Context) (string, error)) (string, error) {
	return fallback.Do(ctx, c.p, fn, c.fb)
}

func newObserver(t testing.TB, cfg otelx.Config) *otelx.Observer {
	t.Helper()
	o, err := otelx.New(cfg)
	require.NoError(t, err)
	return o
}

// nonRecording returns a context whose span is valid but not recording,
// as in a trace sampled out.
func nonRecording(t testing.TB) context.Context {
	t.Helper()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	ctx, sp := tp.Tracer("test").Start(context.Background(), "sampled out")
	if sp.IsRecording() || !trace.SpanContextFromContext(ctx).IsValid() {
		t.Fatal("want a valid span that does not record")
	}
	return ctx
}

type resilienceEvent = resilience.Event

// observerFunc is a resilience.Observer made of a func.
type observerFunc func(resilience.Event)

func (f observerFunc) Observe(e resilience.Event) { f(e) }
