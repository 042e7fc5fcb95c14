package ratelimit_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/ratelimit"
)

// A limiter of one call a second with a burst of two: the third call in a
// row is refused at once, and its error says when a token is free again.
func Example() {
	l, err := ratelimit.New(ratelimit.Config{Name: "partner", Rate: 1, Burst: 2})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		err := l.Execute(ctx, func(ctx context.Context) error {
			fmt.Println("call", i, "runs")
			return nil
		})
		if errors.Is(err, resilience.ErrRejected) {
			d, _ := resilience.RetryAfter(err)
			fmt.Printf("call %d: %v; retry in about %.0fs\n", i, err, d.Seconds())
		}
	}

	// Output:
	// call 1 runs
	// call 2 runs
	// call 3: ratelimit "partner": limited; retry in about 1s
}
