package resilience_test

import (
	"context"
	"fmt"
	"time"

	"github.com/go-resilience/resilience"
)

func Example() {
	// Any function can be a policy; the library's breaker, bulkhead and
	// timeout are policies too, and Chain composes them outermost first.
	logged := resilience.PolicyFunc(func(ctx context.Context, call func(context.Context) error) error {
		err := call(ctx)
		fmt.Println("call returned:", err)
		return err
	})
	deadline := resilience.PolicyFunc(func(ctx context.Context, call func(context.Context) error) error {
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		return call(ctx)
	})
	p := resilience.Chain(logged, deadline)

	// Do runs a call with a typed result under the policy.
	greeting, err := resilience.Do(context.Background(), p, func(ctx context.Context) (string, error) {
		_, hasDeadline := ctx.Deadline()
		return fmt.Sprint("hello, deadline set: ", hasDeadline), nil
	})
	fmt.Println(greeting, err)
	// Output:
	// call returned: <nil>
	// hello, deadline set: true <nil>
}

func ExampleClassifier() {
	// Treat "not found" as a healthy answer, everything else as the default does.
	errNotFound := fmt.Errorf("not found")
	c := resilience.Classifier(func(err error) resilience.Outcome {
		if err == errNotFound {
			return resilience.Success
		}
		return resilience.DefaultClassifier(err)
	})
	ctx := context.Background()
	fmt.Println(c.Classify(ctx, errNotFound))
	fmt.Println(c.Classify(ctx, fmt.Errorf("502")))
	fmt.Println(c.Classify(ctx, fmt.Errorf("refused: %w", resilience.ErrRejected)))
	// Output:
	// success
	// failure
	// ignored
}
