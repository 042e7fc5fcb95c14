package metrics_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/fallback"
	"github.com/go-resilience/resilience/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

func Example() {
	m, err := metrics.New(metrics.Config{})
	if err != nil {
		panic(err)
	}
	reg := prometheus.NewRegistry() // or prometheus.DefaultRegisterer, if you choose
	reg.MustRegister(m)

	// A policy that refuses every call, and a fallback that answers for it.
	refuse := resilience.PolicyFunc(func(context.Context, func(context.Context) error) error {
		return resilience.ErrRejected
	})
	fb := fallback.Observe(m, "prices", fallback.OnRejected(fallback.Value(42)))
	for range 3 {
		v, err := fallback.Do(context.Background(), refuse, func(context.Context) (int, error) {
			return 0, errors.New("not reached")
		}, fb)
		fmt.Println(v, err)
	}

	mfs, err := reg.Gather()
	if err != nil {
		panic(err)
	}
	for _, mf := range mfs {
		for _, s := range mf.GetMetric() {
			fmt.Println(mf.GetName(), s.GetLabel()[1].GetValue(), s.GetCounter().GetValue())
		}
	}
	// Output:
	// 42 <nil>
	// 42 <nil>
	// 42 <nil>
	// resilience_fallbacks_total prices 3
}
