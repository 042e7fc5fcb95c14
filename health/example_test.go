package health_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/health"
)

func Example() {
	payments, err1 := breaker.New(breaker.Config{Name: "payments", ConsecutiveFailures: 1})
	search, err2 := breaker.New(breaker.Config{Name: "search"})
	pool, err3 := bulkhead.New(bulkhead.Config{Name: "payments", MaxConcurrent: 4})
	if err := errors.Join(err1, err2, err3); err != nil {
		panic(err)
	}

	checker, err := health.New(health.Config{
		Breakers:  []*breaker.Breaker{payments, search},
		Bulkheads: []*bulkhead.Bulkhead{pool},
	})
	if err != nil {
		panic(err)
	}

	// Payments fail once: its breaker opens. Search still works.
	_ = payments.Execute(context.Background(), func(context.Context) error { return errors.New("503 from payments") })

	rep := checker.Report()
	fmt.Println(rep.Status)
	for _, b := range rep.Breakers {
		fmt.Println(b.Name, b.State, b.Status)
	}

	// Serve it to a readiness probe: degraded is still ready by default.
	mux := http.NewServeMux()
	mux.Handle("GET /readyz", checker)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output:
	// degraded
	// payments open down
	// search closed ok
	// 200 {"status":"degraded","breakers":[{"name":"payments","state":"open","status":"down"},{"name":"search","state":"closed","status":"ok"}],"bulkheads":[{"name":"payments","in_flight":0,"waiting":0,"max_concurrent":4,"saturation":0,"rejected":0}]}
}
