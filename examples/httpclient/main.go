// Httpclient calls an HTTP API through an http.Client whose transport is
// guarded by httpx: a breaker per host, a bulkhead, and a timeout that
// covers the response body. It starts a stand-in for the API on loopback,
// which fails its first requests with 503 and a Retry-After header, so it
// runs as it is:
//
//	go run ./examples/httpclient
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/httpx"
)

func main() {
	api := startAPI()
	defer api.Close()
	if err := run(context.Background(), api.URL+"/prices/B-42"); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, url string) error {
	transport, err := httpx.New(httpx.Config{
		// A breaker per host: after 3 failures in a row (5xx, 429, a
		// transport error or a timeout), refuse calls to that host at once
		// for 30s, or for as long as the server's Retry-After says.
		Breaker: breaker.KeyedConfig{Config: breaker.Config{
			ConsecutiveFailures: 3,
			OpenTimeout:         30 * time.Second,
		}},
		// At most 64 requests in flight; the 65th is refused, not queued.
		Bulkhead: bulkhead.Config{MaxConcurrent: 64},
		// Each request, reading its body included, gets 2s.
		Timeout: 2 * time.Second,
	})
	if err != nil {
		return err
	}
	client := &http.Client{Transport: transport}
	defer client.CloseIdleConnections()

	for i := 1; i <= 6; i++ {
		price, err := getPrice(ctx, client, url)
		var refused *breaker.RejectedError
		switch {
		case errors.As(err, &refused):
			// Refused in microseconds, without a request: the breaker
			// says when it will let one through again.
			wait := refused.RetryAfter()
			fmt.Printf("call %d: refused (%v); the breaker probes again in %v\n", i, err, wait.Round(100*time.Millisecond))
			time.Sleep(wait)
		case errors.Is(err, resilience.ErrRejected):
			fmt.Printf("call %d: refused: %v\n", i, err) // the bulkhead is full
		case err != nil:
			fmt.Printf("call %d: %v\n", i, err)
		default:
			fmt.Printf("call %d: %s\n", i, price)
		}
	}
	return nil
}

// getPrice is an ordinary HTTP call: the policies live in the transport.
func getPrice(ctx context.Context, client *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return strings.TrimSpace(string(body)), nil
}

// startAPI starts a stand-in for the pricing API: its first 3 requests get
// 503 Service Unavailable with Retry-After: 1, the rest a price.
func startAPI() *httptest.Server {
	var n atomic.Int64
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 3 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "overloaded", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, `{"sku":"B-42","price":10.25}`)
	}))
}
