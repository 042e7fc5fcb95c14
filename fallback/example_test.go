package fallback_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/fallback"
)

func Example() {
	// A policy that refuses every call, as an open breaker does.
	closed := resilience.PolicyFunc(func(context.Context, func(context.Context) error) error {
		return fmt.Errorf("breaker: open: %w", resilience.ErrRejected)
	})
	fetchPrice := func(ctx context.Context) (float64, error) { return 10.25, nil }

	// Answer refusals with the last known price; let real failures through.
	lastKnown := fallback.OnRejected(fallback.Value(9.99))

	price, err := fallback.Do(context.Background(), closed, fetchPrice, lastKnown)
	fmt.Println(price, err)

	// A failing call is not hidden by a fallback for refusals only.
	broken := func(ctx context.Context) (float64, error) { return 0, errors.New("502 bad gateway") }
	_, err = fallback.Do(context.Background(), resilience.Chain(), broken, lastKnown)
	fmt.Println(err)
	// Output:
	// 9.99 <nil>
	// 502 bad gateway
}
