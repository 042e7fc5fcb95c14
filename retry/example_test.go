package retry_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/retry"
)

// A flaky dependency fails twice, then answers; the retry policy, outside
// a breaker, absorbs the two failures. NoJitter and a negative BaseDelay
// keep the example's output fixed; keep the defaults in real code.
func Example() {
	r, err := retry.New(retry.Config{Name: "prices", MaxAttempts: 3, BaseDelay: -1})
	if err != nil {
		panic(err)
	}
	brk, err := breaker.New(breaker.Config{Name: "prices", ConsecutiveFailures: 5})
	if err != nil {
		panic(err)
	}
	policy := resilience.Chain(r, brk) // retry outside the breaker

	calls := 0
	price, err := resilience.Do(context.Background(), policy, func(ctx context.Context) (int, error) {
		calls++
		if calls < 3 {
			return 0, errors.New("503 from upstream")
		}
		return 42, nil
	})
	fmt.Println(price, err, "after", calls, "attempts")
	fmt.Println("retries granted by the budget:", r.Budget().Granted())

	// Output:
	// 42 <nil> after 3 attempts
	// retries granted by the budget: 2
}
