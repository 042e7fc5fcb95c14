package chaos_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/httpx"
	"github.com/go-resilience/resilience/internal/fault"
)

// Example is the suite in small: a dependency that fails every request,
// one caller, a breaker that opens after three failures. The failures
// reach the caller as responses; then the breaker refuses, fast, with a
// typed error; nothing is lost.
func Example() {
	s := fault.NewHTTP(&testing.T{}, fault.HTTPConfig{Fault: fault.Status(http.StatusServiceUnavailable)})
	defer s.Close()
	base := s.Transport()
	defer base.CloseIdleConnections()
	tr, err := httpx.New(httpx.Config{
		Base:    base,
		Breaker: breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 3, OpenTimeout: time.Hour}},
		Timeout: time.Second,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	client := &http.Client{Transport: tr}
	for range 5 {
		resp, err := client.Get(s.URL())
		switch {
		case errors.Is(err, resilience.ErrRejected):
			fmt.Println("refused:", errors.Is(err, breaker.ErrOpen))
		case err != nil:
			fmt.Println("error:", err)
		default:
			resp.Body.Close()
			fmt.Println("answer:", resp.StatusCode)
		}
	}
	fmt.Println("requests the server saw:", s.Stats().Requests)
	// Output:
	// answer: 503
	// answer: 503
	// answer: 503
	// refused: true
	// refused: true
	// requests the server saw: 3
}
