package httpx_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/health"
	"github.com/go-resilience/resilience/httpx"
	"github.com/go-resilience/resilience/metrics"
)

// The first program of a service that calls an HTTP API: an http.Client
// whose Transport has a breaker per host, a bulkhead and a timeout, answers
// refused requests with a cached response, and is watched by health and
// metrics as it is.
func Example_client() {
	// An API that is down.
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	}))
	defer api.Close()

	m, err := metrics.New(metrics.Config{})
	if err != nil {
		panic(err)
	}
	transport, err := httpx.New(httpx.Config{
		Name:     "catalog",
		Breaker:  breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 2, OpenTimeout: time.Minute}},
		Bulkhead: bulkhead.Config{MaxConcurrent: 64},
		Timeout:  2 * time.Second,
		// Refused requests get the cached copy; failure responses reach
		// the caller as the server sent them.
		Fallback: func(req *http.Request, err error) (*http.Response, error) {
			if !errors.Is(err, resilience.ErrRejected) {
				return nil, nil // decline
			}
			h := http.Header{"Content-Type": {"text/plain"}}
			return httpx.NewResponse(req, http.StatusOK, h, []byte("cached catalog")), nil
		},
		Observer: m,
	})
	if err != nil {
		panic(err)
	}
	m.WatchSource(transport) // bulkhead capacity and waiters, per key too
	checker, err := health.New(health.Config{
		Sources: []health.Source{transport},
		Covered: []string{"catalog"}, // the fallback answers while it is open
	})
	if err != nil {
		panic(err)
	}

	client := &http.Client{Transport: transport}
	defer client.CloseIdleConnections()
	for range 3 {
		resp, err := client.Get(api.URL)
		if err != nil {
			fmt.Println(err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%s: %s\n", resp.Status, strings.TrimSpace(string(body)))
	}
	fmt.Println("health:", checker.Report().Status)
	// Output:
	// 503 Service Unavailable: down for maintenance
	// 503 Service Unavailable: down for maintenance
	// 200 OK: cached catalog
	// health: degraded
}
