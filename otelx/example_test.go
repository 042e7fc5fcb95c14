package otelx_test

import (
	"context"
	"fmt"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/fallback"
	"github.com/go-resilience/resilience/otelx"
	"github.com/go-resilience/resilience/timeout"
)

// A breaker that is open refuses the call and the fallback answers: both
// decisions are events on the call's span, which is marked as an error.
func Example() {
	rec := tracetest.NewSpanRecorder() // a real SDK; use your exporter instead
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(context.Background())

	obs, err := otelx.New(otelx.Config{})
	if err != nil {
		panic(err)
	}
	brk, err := breaker.New(breaker.Config{Name: "prices", Observer: obs})
	if err != nil {
		panic(err)
	}
	tmo, err := timeout.New(timeout.Config{Name: "prices", Timeout: time.Second, Observer: obs})
	if err != nil {
		panic(err)
	}
	p := resilience.Chain(brk, tmo)
	fb := fallback.Observe(obs, "prices", fallback.OnRejected(fallback.Value(9.99)))

	brk.ForceOpen() // as after a run of failures
	ctx, span := tp.Tracer("shop").Start(context.Background(), "GET /price")
	price, err := fallback.Do(ctx, p, func(context.Context) (float64, error) { return 12.5, nil }, fb)
	span.End()
	fmt.Println(price, err)

	s := rec.Ended()[0]
	for _, e := range s.Events() {
		fmt.Print(e.Name)
		for _, a := range e.Attributes {
			fmt.Printf(" %s=%s", a.Key, a.Value.String())
		}
		fmt.Println()
	}
	fmt.Println("status:", s.Status().Code)
	// Output:
	// 9.99 <nil>
	// resilience.rejected resilience.policy=prices error.type=breaker_open
	// resilience.fallback resilience.policy=prices error.type=breaker_open
	// status: Error
}
