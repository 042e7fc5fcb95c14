package resilience_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/fallback"
	"github.com/go-resilience/resilience/health"
	"github.com/go-resilience/resilience/metrics"
	"github.com/go-resilience/resilience/timeout"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The first program of a service that calls a dependency: a chain of the
// library's policies with a fallback, its metrics served to Prometheus, its
// state served to a readiness probe.
func Example_service() {
	// One Collector takes every policy's events.
	m, err := metrics.New(metrics.Config{})
	if err != nil {
		panic(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)

	// Breaker outermost, then the bulkhead, then the timeout: each call to
	// the pricing service gets 1s, at most 8 run at once, and 2 failures in
	// a row stop the calls for a minute.
	brk, err := breaker.New(breaker.Config{Name: "pricing", ConsecutiveFailures: 2, OpenTimeout: time.Minute, Observer: m})
	if err != nil {
		panic(err)
	}
	bulk, err := bulkhead.New(bulkhead.Config{Name: "pricing", MaxConcurrent: 8, Observer: m})
	if err != nil {
		panic(err)
	}
	tmo, err := timeout.New(timeout.Config{Name: "pricing", Timeout: time.Second, Observer: m})
	if err != nil {
		panic(err)
	}
	pricing := resilience.Chain(brk, bulk, tmo)
	m.WatchBulkheads(bulk) // its capacity and waiters, read at each scrape

	// While the breaker refuses, answer with the last known price.
	lastKnown := fallback.Observe(m, "pricing", fallback.OnRejected(fallback.Value(9.99)))

	// The readiness probe: the pricing breaker is covered by that fallback,
	// so its opening makes the service degraded, not down.
	checker, err := health.New(health.Config{
		Breakers:  []*breaker.Breaker{brk},
		Bulkheads: []*bulkhead.Bulkhead{bulk},
		Covered:   []string{"pricing"},
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /readyz", checker)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))

	up := true
	price := func() {
		p, err := fallback.Do(context.Background(), pricing, func(ctx context.Context) (float64, error) {
			if !up {
				return 0, errors.New("pricing: 503")
			}
			return 10.25, nil
		}, lastKnown)
		fmt.Println("price:", p, err)
	}
	price()
	up = false
	price()
	price() // the second failure in a row opens the breaker
	price() // refused: the fallback answers

	get := func(path string) string {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return fmt.Sprint(rec.Code, " ", rec.Body.String())
	}
	fmt.Print(get("/readyz"))
	for _, line := range strings.Split(get("/metrics"), "\n") {
		if strings.HasPrefix(line, "resilience_fallbacks_total") || strings.HasPrefix(line, "resilience_bulkhead_capacity") {
			fmt.Println(line)
		}
	}
	// Output:
	// price: 10.25 <nil>
	// price: 0 pricing: 503
	// price: 0 pricing: 503
	// price: 9.99 <nil>
	// 200 {"status":"degraded","breakers":[{"name":"pricing","state":"open","status":"degraded","covered":true}],"bulkheads":[{"name":"pricing","in_flight":0,"waiting":0,"max_concurrent":8,"saturation":0,"rejected":0}]}
	// resilience_bulkhead_capacity{key="",policy="pricing"} 8
	// resilience_fallbacks_total{key="",policy="pricing"} 1
}
