package httpx_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/httpx"
	"github.com/go-resilience/resilience/ratelimit"
)

// A server that serves at most 64 requests at once and 100 a second, and
// refuses the rest at once (429 for the rate, 503 for concurrency), never
// refusing its health endpoint.
func ExampleNewServer() {
	limit, err := ratelimit.New(ratelimit.Config{Name: "api", Rate: 100, Burst: 1})
	if err != nil {
		panic(err)
	}
	slots, err := bulkhead.New(bulkhead.Config{Name: "api", MaxConcurrent: 64})
	if err != nil {
		panic(err)
	}
	srv, err := httpx.NewServer(httpx.ServerConfig{
		Name:          "api",
		Policy:        resilience.Chain(limit, slots),
		Exempt:        []string{"/healthz"},
		TimeoutHeader: "X-Request-Timeout-Ms",
		MinDeadline:   10 * time.Millisecond,
		RetryAfter:    time.Second,
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "done") })
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	ts := httptest.NewServer(srv.Middleware(mux))
	defer ts.Close()

	for _, path := range []string{"/work", "/work", "/healthz"} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Printf("%s %d Retry-After:%q\n", path, resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// Output:
	// /work 200 Retry-After:""
	// /work 429 Retry-After:"1"
	// /healthz 200 Retry-After:""
}
