package fault_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/go-resilience/resilience/internal/fault"
)

func Example() {
	// In a test, pass its *testing.T; the server closes when the test ends.
	t := &testing.T{}
	s := fault.NewHTTP(t, fault.HTTPConfig{Fault: fault.RetryAfter(503, "2")})
	defer s.Close()

	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, s.URL(), nil)
	resp, err := s.Client().Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Retry-After"))

	s.Set(fault.OK())
	resp, _ = s.Client().Do(req)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, s.Stats().Requests)
	// Output:
	// 503 2
	// 200 2
}
