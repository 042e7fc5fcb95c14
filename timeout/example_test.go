package timeout_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/timeout"
)

// A call that honours its context ends at the policy's deadline; the error
// tells the policy's deadline from the caller's.
func Example() {
	p, err := timeout.New(timeout.Config{Name: "pricing", Timeout: 20 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	err = p.Execute(context.Background(), func(ctx context.Context) error {
		select {
		case <-time.After(time.Minute): // a hung dependency
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	fmt.Println(err)
	fmt.Println(errors.Is(err, timeout.ErrTimeout), errors.Is(err, context.DeadlineExceeded))
	fmt.Println(resilience.Classifier(nil).Classify(context.Background(), err))

	// Output:
	// timeout "pricing": deadline exceeded
	// true true
	// failure
}

// Abandon mode, for a callee that ignores its context: Execute returns at
// the deadline and the call finishes in the background, counted until it
// does; while Config.MaxAbandoned such calls run, new ones are refused.
func Example_abandon() {
	finished := make(chan struct{})
	p, err := timeout.New(timeout.Config{
		Timeout:      10 * time.Millisecond,
		Abandon:      true, // for a callee that ignores its context
		MaxAbandoned: 1,
		Observer:     onAbandonDone(finished),
	})
	if err != nil {
		panic(err)
	}
	unblock := make(chan struct{})
	err = p.Execute(context.Background(), func(context.Context) error {
		<-unblock // a legacy client that takes no context
		return nil
	})
	fmt.Println(err, "| abandoned:", p.Abandoned())

	err = p.Execute(context.Background(), func(context.Context) error { return nil })
	fmt.Println(err, "| rejected:", errors.Is(err, resilience.ErrRejected))

	close(unblock)
	<-finished
	fmt.Println("abandoned:", p.Abandoned())

	// Output:
	// timeout: deadline exceeded | abandoned: 1
	// timeout: too many abandoned calls | rejected: true
	// abandoned: 0
}

// onAbandonDone is an Observer that closes done when an abandoned call
// returns.
type onAbandonDone chan struct{}

func (o onAbandonDone) Observe(e resilience.Event) {
	if e.Kind == resilience.EventAbandonDone {
		close(o)
	}
}
