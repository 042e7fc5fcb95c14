package metrics_test

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
	"github.com/go-resilience/resilience/metrics"
	"github.com/go-resilience/resilience/timeout"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func Example() {
	m, err := metrics.New(metrics.Config{})
	if err != nil {
		panic(err)
	}
	reg := prometheus.NewRegistry() // or prometheus.DefaultRegisterer, if you choose
	reg.MustRegister(m)

	// Every policy reports to the Collector.
	brk, err1 := breaker.New(breaker.Config{Name: "payments", ConsecutiveFailures: 2, Observer: m})
	bulk, err2 := bulkhead.New(bulkhead.Config{Name: "payments", MaxConcurrent: 8, Observer: m})
	tmo, err3 := timeout.New(timeout.Config{Name: "payments", Timeout: time.Second, Observer: m})
	if err := errors.Join(err1, err2, err3); err != nil {
		panic(err) // a bad Config: never let a fallback answer for it
	}
	p := resilience.Chain(brk, bulk, tmo)
	fb := fallback.Observe(m, "payments", fallback.OnRejected(fallback.Value("cached")))

	charge := func(fail bool) {
		v, err := fallback.Do(context.Background(), p, func(context.Context) (string, error) {
			if fail {
				return "", errors.New("502 from payments")
			}
			return "charged", nil
		}, fb)
		fmt.Println(v, err)
	}
	charge(false)
	charge(true)
	charge(true)  // the second failure in a row trips the breaker
	charge(false) // refused; the fallback answers

	// Serve the registry as usual, here to a test recorder.
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		for _, name := range []string{"resilience_calls_total", "resilience_rejections_total", "resilience_fallbacks_total", "resilience_breaker_transitions_total"} {
			if strings.HasPrefix(line, name+"{") {
				fmt.Println(line)
			}
		}
	}
	// Output:
	// charged <nil>
	//  502 from payments
	//  502 from payments
	// cached <nil>
	// resilience_breaker_transitions_total{from="closed",key="",policy="payments",to="open"} 1
	// resilience_calls_total{key="",outcome="failure",policy="payments"} 2
	// resilience_calls_total{key="",outcome="ignored",policy="payments"} 0
	// resilience_calls_total{key="",outcome="success",policy="payments"} 1
	// resilience_fallbacks_total{key="",policy="payments"} 1
	// resilience_rejections_total{key="",policy="payments",reason="breaker_open"} 1
}
