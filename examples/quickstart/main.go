// Quickstart shows what the library does, with nothing to set up: it starts
// a flaky HTTP upstream on loopback, sends it the same traffic through an
// ordinary http.Client and through one wrapped in httpx.Transport, and
// prints once a second what each client sees while the upstream is healthy,
// degraded, down (hanging) and recovering.
//
//	go run ./examples/quickstart
//	go run ./examples/quickstart -duration 30s -rate 100 -listen localhost:9090
//
// With -listen, it serves the Prometheus metrics of the protected client
// at /metrics, the health of its breaker at /health and a live dashboard of
// its policies at /resilience/ (the URL is printed) while it runs.
//
// With -trace, each request of the protected client gets an OpenTelemetry
// span (SDK tracer provider, otelx Observer) and the program prints, between
// the rows of the table, a line per span that carries policy events: its
// trace and span ids, status and events (resilience.retry,
// resilience.rejected, resilience.timeout, resilience.fallback ...).
// Requests the policies let through untouched are not printed, and at most
// 3 lines are printed a second (the next line says how many were left out):
//
//	go run ./examples/quickstart -trace
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"
)

func main() {
	var cfg config
	flag.DurationVar(&cfg.Duration, "duration", 12*time.Second, "how long to run (at least 2s)")
	flag.IntVar(&cfg.Rate, "rate", 50, "requests per second sent to each client (1 to 500)")
	flag.StringVar(&cfg.Listen, "listen", "", "address to serve /metrics, /health and the dashboard (/resilience/) on while running, such as localhost:9090")
	flag.BoolVar(&cfg.Trace, "trace", false, "print the trace id, span id, status and events of the protected client's refused, retried and timed-out requests (spans without events are not printed; at most 3 lines a second)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if _, err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		stop()
		os.Exit(1)
	}
}
