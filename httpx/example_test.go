package httpx_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/httpx"
)

func Example() {
	// An upstream that is overloaded.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
	}))
	defer srv.Close()

	// A breaker per host that opens after two failures in a row, and a
	// timeout that covers each response until its body is closed.
	t, err := httpx.New(httpx.Config{
		Breaker: breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 2, OpenTimeout: time.Minute}},
		Timeout: 5 * time.Second,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	client := &http.Client{Transport: t}
	defer client.CloseIdleConnections()

	for range 3 {
		resp, err := client.Get(srv.URL)
		if err != nil {
			// Refused without reaching the server.
			fmt.Println("refused:", errors.Is(err, breaker.ErrOpen), errors.Is(err, resilience.ErrRejected))
			continue
		}
		// A failure response is still the caller's, body and all.
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%s: %s", resp.Status, body)
	}

	t.Breakers().Range(func(key string, b *breaker.Breaker) bool {
		fmt.Println("breaker:", b.State())
		return true
	})
	// Output:
	// 503 Service Unavailable: overloaded
	// 503 Service Unavailable: overloaded
	// refused: true true
	// breaker: open
}

func ExampleConfig_refusalResponse() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120") // "come back in two minutes"
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()

	t, err := httpx.New(httpx.Config{
		Breaker:         breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 1}},
		MaxRetryAfter:   time.Minute, // but never park the breaker longer than this
		RefusalResponse: true,        // refusals as 503 responses, not errors
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	client := &http.Client{Transport: t}
	defer client.CloseIdleConnections()

	for range 2 {
		resp, err := client.Get(srv.URL)
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Println(resp.Status, "Retry-After:", resp.Header.Get("Retry-After"))
	}
	// Output:
	// 429 Too Many Requests Retry-After: 120
	// 503 Service Unavailable Retry-After: 60
}

func ExampleDefaultClassify() {
	classify := func(resp *http.Response, err error) resilience.Outcome {
		if resp != nil && resp.StatusCode == http.StatusNotImplemented {
			return resilience.Success // a missing feature, not a sick server
		}
		return httpx.DefaultClassify(resp, err)
	}
	for _, code := range []int{200, 404, 429, 501, 503} {
		fmt.Println(code, classify(&http.Response{StatusCode: code}, nil))
	}
	fmt.Println("error", classify(nil, errors.New("connection refused")))
	// Output:
	// 200 success
	// 404 success
	// 429 failure
	// 501 success
	// 503 failure
	// error failure
}
