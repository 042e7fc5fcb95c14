package dashboard_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/dashboard"
)

// A dashboard of a keyed set of breakers, one per upstream host: mounted
// on the service's own mux, told of every call as the set's Observer.
func Example() {
	// The Recorder is the set's Observer, so it is made first.
	rec := &dashboard.Recorder{}
	hosts, err := breaker.NewSet(breaker.KeyedConfig{
		Config: breaker.Config{Name: "upstream", ConsecutiveFailures: 2, Observer: rec},
	})
	if err != nil {
		panic(err)
	}
	dash, err := dashboard.New(dashboard.Config{Title: "checkout", Recorder: rec, Sets: []*breaker.Set{hosts}})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/resilience/", dash)

	ctx := context.Background()
	down := errors.New("connection refused")
	_ = hosts.Execute(ctx, "payments.internal", func(context.Context) error { return nil })
	for range 3 {
		_ = hosts.Execute(ctx, "ledger.internal", func(context.Context) error { return down })
	}

	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", "/resilience/snapshot.json", nil))
	var msg struct {
		Status   string
		Breakers []struct {
			Key, State string
			Calls      uint64
			Rejected   map[string]uint64
		}
	}
	if err := json.Unmarshal(w.Body.Bytes(), &msg); err != nil {
		panic(err)
	}
	fmt.Println(w.Code, msg.Status)
	for _, b := range msg.Breakers {
		fmt.Println(b.Key, b.State, b.Calls, "calls", b.Rejected["breaker_open"], "refused")
	}
	// Output:
	// 200 degraded
	// ledger.internal open 2 calls 1 refused
	// payments.internal closed 1 calls 0 refused
}
