package inject_test

import (
	"context"
	"fmt"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/fallback"
	"github.com/go-resilience/resilience/inject"
)

// An Injector inside a breaker: switched on, its faults open the breaker
// and the fallback answers, while the dependency itself is fine.
func Example() {
	faults, err := inject.New(inject.Config{
		Name:  "game-day",
		Share: 1, // every call: a game day on one dependency
		Err:   inject.ErrInjected,
	})
	if err != nil {
		panic(err)
	}
	brk, err := breaker.New(breaker.Config{Name: "prices", ConsecutiveFailures: 2, OpenTimeout: time.Minute})
	if err != nil {
		panic(err)
	}
	prices := resilience.Chain(brk, faults)
	fetch := func(ctx context.Context) (string, error) { return "live price", nil }
	cached := fallback.Value("cached price")

	ask := func() {
		v, err := fallback.Do(context.Background(), prices, fetch, cached)
		fmt.Println(v, err, brk.State())
	}
	ask() // off by default
	faults.Enable()
	ask()
	ask()
	ask() // the breaker is open: the call is not even tried
	// Output:
	// live price <nil> closed
	// cached price <nil> closed
	// cached price <nil> open
	// cached price <nil> open
}

// MarkedOnly faults only the calls whose context is marked: one test
// request fails, every other call runs.
func ExampleMark() {
	faults, err := inject.New(inject.Config{Share: 1, MarkedOnly: true, Err: inject.ErrInjected})
	if err != nil {
		panic(err)
	}
	faults.Enable()
	call := func(context.Context) error { return nil }
	fmt.Println(faults.Execute(context.Background(), call))
	fmt.Println(faults.Execute(inject.Mark(context.Background()), call))
	// Output:
	// <nil>
	// inject: injected fault
}
