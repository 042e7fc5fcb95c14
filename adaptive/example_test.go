package adaptive_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/adaptive"
)

// An AIMD limiter starting at 4: a failing call halves it (Backoff 0.5),
// and while as many calls as the limit are running, the next is refused.
func Example() {
	l, err := adaptive.New(adaptive.Config{
		Name:              "inventory",
		Algorithm:         adaptive.AIMD,
		InitialLimit:      4,
		MinLimit:          1,
		MaxLimit:          50,
		SlowCallThreshold: 200 * time.Millisecond,
		Backoff:           0.5,
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	fmt.Println("limit:", l.Limit())

	err = l.Execute(ctx, func(ctx context.Context) error {
		return errors.New("inventory: 503")
	})
	fmt.Println(err, "-> limit:", l.Limit())

	// Two calls in progress fill the limit of 2.
	hold, held := make(chan struct{}), make(chan struct{})
	for range 2 {
		go func() {
			_ = l.Execute(ctx, func(context.Context) error { held <- struct{}{}; <-hold; return nil })
		}()
		<-held
	}
	err = l.Execute(ctx, func(context.Context) error { return nil })
	fmt.Println(err, errors.Is(err, resilience.ErrRejected), "in flight:", l.InFlight())
	close(hold)

	// Output:
	// limit: 4
	// inventory: 503 -> limit: 2
	// adaptive "inventory": limit reached true in flight: 2
}
