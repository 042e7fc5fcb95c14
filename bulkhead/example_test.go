package bulkhead_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/bulkhead"
)

// A bulkhead of two: while two calls hold its slots, a third is refused at
// once (MaxWait is zero) without running.
func Example() {
	b, err := bulkhead.New(bulkhead.Config{Name: "inventory", MaxConcurrent: 2})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	// Two slow calls in progress (held here with Acquire for the example).
	_ = b.Acquire(ctx)
	_ = b.Acquire(ctx)

	err = b.Execute(ctx, func(ctx context.Context) error {
		fmt.Println("not printed: the call never runs")
		return nil
	})
	fmt.Println(err)
	fmt.Println(errors.Is(err, bulkhead.ErrFull), errors.Is(err, resilience.ErrRejected))
	fmt.Println("in flight:", b.InFlight(), "refused:", b.Rejected())

	b.Release()
	err = b.Execute(ctx, func(ctx context.Context) error {
		fmt.Println("runs in the freed slot")
		return nil
	})
	fmt.Println(err)
	b.Release()

	// Output:
	// bulkhead "inventory": full
	// true true
	// in flight: 2 refused: 1
	// runs in the freed slot
	// <nil>
}

// Acquire and Release hold a slot for longer than one function call, such
// as while a response body is read by someone else.
func ExampleBulkhead_Acquire() {
	b, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
	if err != nil {
		panic(err)
	}
	if err := b.Acquire(context.Background()); err != nil {
		fmt.Println("refused:", err)
		return
	}
	body := &slotBody{release: b.Release}
	fmt.Println("in flight while the body is open:", b.InFlight())
	body.Close()
	body.Close() // closing twice gives the slot back once
	fmt.Println("in flight after Close:", b.InFlight())

	// Output:
	// in flight while the body is open: 1
	// in flight after Close: 0
}

// slotBody gives its bulkhead slot back when first closed.
type slotBody struct {
	release func()
	closed  bool
}

func (s *slotBody) Close() error {
	if !s.closed {
		s.closed = true
		s.release()
	}
	return nil
}
