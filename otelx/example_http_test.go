package otelx_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/go-resilience/resilience/httpx"
	"github.com/go-resilience/resilience/otelx"
	"github.com/go-resilience/resilience/retry"
)

// The wrapping order that gives each attempt a span of its own: otelhttp's
// Transport is the Base of httpx's, inside the retry, so that every
// attempt is a client span (child of the caller's) and sends its own
// traceparent; the retry decision is an event on the caller's span.
func Example_httpxAttempts() {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			http.Error(w, "warming up", http.StatusServiceUnavailable)
			return
		}
		fmt.Println("server: traceparent sent:", r.Header.Get("traceparent") != "")
		io.WriteString(w, "ok")
	}))
	defer srv.Close()

	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(context.Background())
	obs, err := otelx.New(otelx.Config{})
	if err != nil {
		panic(err)
	}

	rt, err := httpx.New(httpx.Config{
		Name: "api",
		// Inside: one client span per attempt, with the W3C trace context.
		Base: otelhttp.NewTransport(http.DefaultTransport,
			otelhttp.WithTracerProvider(tp),
			otelhttp.WithPropagators(propagation.TraceContext{})),
		Retry:    &retry.Config{MaxAttempts: 2, BaseDelay: -1},
		Observer: obs,
	})
	if err != nil {
		panic(err)
	}
	client := &http.Client{Transport: rt}
	defer client.CloseIdleConnections()

	ctx, span := tp.Tracer("shop").Start(context.Background(), "GET /thing")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	if err != nil {
		panic(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		panic(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	span.End()

	for _, s := range rec.Ended() {
		fmt.Printf("span %q, child of the caller's: %v, events:", s.Name(), s.Parent().SpanID() == span.SpanContext().SpanID())
		for _, e := range s.Events() {
			fmt.Print(" ", e.Name)
		}
		fmt.Println()
	}
	// Output:
	// server: traceparent sent: true
	// span "HTTP GET", child of the caller's: true, events:
	// span "HTTP GET", child of the caller's: true, events:
	// span "GET /thing", child of the caller's: false, events: resilience.retry
}
