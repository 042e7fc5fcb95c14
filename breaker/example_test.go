package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
)

// A breaker guards calls to one dependency. After three failures in a row
// it opens and refuses calls at once, without calling the dependency;
// after its open duration it lets a probe through, and closes again when
// the probe succeeds.
func Example() {
	brk, err := breaker.New(breaker.Config{
		Name:                "inventory",
		ConsecutiveFailures: 3,
		OpenTimeout:         10 * time.Millisecond,
		OnStateChange: func(name string, from, to breaker.State) {
			fmt.Printf("%s: %s -> %s\n", name, from, to)
		},
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	down := errors.New("connection refused")

	for range 3 {
		err = brk.Execute(ctx, func(ctx context.Context) error { return down })
		fmt.Println("call:", err)
	}

	// Open: refused at once, with an error that says why and names the breaker.
	err = brk.Execute(ctx, func(ctx context.Context) error { return nil })
	fmt.Println("call:", err)
	fmt.Println("rejected:", errors.Is(err, resilience.ErrRejected), "open:", errors.Is(err, breaker.ErrOpen))

	// After the open duration, a probe goes through; its success closes it.
	time.Sleep(20 * time.Millisecond)
	err = brk.Execute(ctx, func(ctx context.Context) error { return nil })
	fmt.Println("probe:", err, "state:", brk.State())

	// Output:
	// call: connection refused
	// call: connection refused
	// inventory: closed -> open
	// call: connection refused
	// call: breaker: open (name "inventory")
	// rejected: true open: true
	// inventory: open -> half-open
	// inventory: half-open -> closed
	// probe: <nil> state: closed
}

// A Set keeps one breaker per key, here per host: one host failing does
// not stop calls to the others.
func ExampleSet() {
	hosts, err := breaker.NewSet(breaker.KeyedConfig{
		Config:  breaker.Config{Name: "api", ConsecutiveFailures: 1},
		MaxKeys: 100,
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	_ = hosts.Execute(ctx, "a.example.com", func(ctx context.Context) error { return errors.New("503") })

	for _, host := range []string{"a.example.com", "b.example.com"} {
		err := hosts.Execute(ctx, host, func(ctx context.Context) error { return nil })
		fmt.Printf("%s: %v (%s)\n", host, err, hosts.Get(host).State())
	}
	// Output:
	// a.example.com: breaker: open (name "api", key "a.example.com") (open)
	// b.example.com: <nil> (closed)
}

// Allow splits a call in two, for a stream or a response body read later:
// report the outcome with done when the call has finished.
func ExampleBreaker_Allow() {
	brk, err := breaker.New(breaker.Config{Name: "events"})
	if err != nil {
		panic(err)
	}
	done, err := brk.Allow(context.Background())
	if err != nil {
		fmt.Println("refused:", err)
		return
	}
	// ... read the stream to its end ...
	done(nil)
	fmt.Printf("%+v\n", brk.Counts())
	// Output:
	// {Requests:1 TotalSuccesses:1 TotalFailures:0 TotalIgnored:0 ConsecutiveSuccesses:1 ConsecutiveFailures:0}
}

// A dependency's own hint of when to come back, such as HTTP Retry-After,
// sets how long the breaker stays open: give the failing call's error a
// RetryAfter method (httpx's status errors have one).
func Example_retryAfterHint() {
	brk, err := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenTimeout: time.Second})
	if err != nil {
		panic(err)
	}
	_ = brk.Execute(context.Background(), func(ctx context.Context) error {
		return &overloaded{retryAfter: time.Hour}
	})
	err = brk.Execute(context.Background(), func(ctx context.Context) error { return nil })
	var rej *breaker.RejectedError
	if errors.As(err, &rej) {
		fmt.Println(rej.State, "for about", rej.RetryAfter().Round(time.Minute))
	}
	// Output:
	// open for about 1h0m0s
}

type overloaded struct{ retryAfter time.Duration }

func (e *overloaded) Error() string             { return "503 Service Unavailable" }
func (e *overloaded) RetryAfter() time.Duration { return e.retryAfter }
