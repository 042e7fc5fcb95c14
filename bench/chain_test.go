package bench

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/afex/hystrix-go/hystrix"
	eapachebreaker "github.com/eapache/go-resiliency/breaker"
	"github.com/eapache/go-resiliency/deadline"
	eapachesemaphore "github.com/eapache/go-resiliency/semaphore"
	"github.com/failsafe-go/failsafe-go"
	fsbulkhead "github.com/failsafe-go/failsafe-go/bulkhead"
	fscb "github.com/failsafe-go/failsafe-go/circuitbreaker"
	fsfallback "github.com/failsafe-go/failsafe-go/fallback"
	fstimeout "github.com/failsafe-go/failsafe-go/timeout"
	"github.com/sony/gobreaker/v2"
	"golang.org/x/sync/semaphore"
)

// Chain scenarios: the full chain, fallback → breaker → bulkhead → timeout
// → call, composed once, with a typed result (an int) flowing back:
//
//   - ChainSuccess: the call succeeds, its result is returned;
//   - ChainOpen: the breaker is open, the fallback's value is returned;
//   - ChainCallerDeadline: the call succeeds, and the caller's context
//     already has a deadline earlier than the timeout policy's.
//
// lib=hand is the same parts composed by hand: gobreaker's Execute, an
// x/sync semaphore's TryAcquire, context.WithTimeout, and an if for the
// fallback. lib=eapache is go-resiliency's breaker, semaphore and deadline
// composed by hand the same way (it has no fallback and no composition).
// failsafe-go and hystrix-go compose the chain themselves. gobreaker and
// rubyist have no bulkhead, timeout or fallback of their own.

type chainMode int

const (
	chainSuccess chainMode = iota
	chainOpen
	chainCallerDeadline
)

func BenchmarkChainSuccess(b *testing.B) {
	ctx := context.Background()
	run(b, ctx, chainLibs(b, ctx, chainSuccess))
}

func BenchmarkChainSuccessParallel(b *testing.B) {
	ctx := context.Background()
	runParallel(b, ctx, chainLibs(b, ctx, chainSuccess))
}

func BenchmarkChainOpen(b *testing.B) {
	ctx := context.Background()
	run(b, ctx, chainLibs(b, ctx, chainOpen))
}

func BenchmarkChainCallerDeadline(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), callerTimeout)
	defer cancel()
	run(b, ctx, chainLibs(b, ctx, chainCallerDeadline))
}

func chainLibs(tb testing.TB, ctx context.Context, mode chainMode) []lib {
	return append(ourChainLibs(tb, ctx, mode),
		handChainLib(tb, mode),
		failsafeChainLib(tb, ctx, mode),
		hystrixChainLib(tb, mode),
		eapacheChainLib(tb, mode),
	)
}

// wantValue is the result a chain must return in mode: the call's, or the
// fallback's when the breaker is open.
func wantValue(mode chainMode) int {
	if mode == chainOpen {
		return fallbackValue
	}
	v, _ := workInt(context.Background())
	return v
}

var errWrongValue = errors.New("the chain returned the wrong value")

// answer is a chain op's report: err, or errWrongValue when v is not want.
func answer(v int, err error, want int) error {
	if err == nil && v != want {
		return errWrongValue
	}
	return err
}

// tripChain runs failing calls through op until the breaker inside it is
// open, as seen by isOpen, and fails b if it does not open in time.
func tripChain(tb testing.TB, name string, fail func(), isOpen func() bool) {
	deadline := time.Now().Add(5 * time.Second)
	for !isOpen() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: breaker still closed after 5s of failing calls", name)
		}
		fail()
	}
}

func handChainLib(tb testing.TB, mode chainMode) lib {
	cb := gobreaker.NewCircuitBreaker[int](gobreaker.Settings{Name: "hand", Timeout: openFor})
	sem := semaphore.NewWeighted(maxConcurrent)
	chain := func(ctx context.Context, fn func(context.Context) (int, error)) (int, error) {
		v, err := cb.Execute(func() (int, error) {
			if !sem.TryAcquire(1) {
				return 0, errFull
			}
			defer sem.Release(1)
			ctx, cancel := context.WithTimeout(ctx, policyTimeout)
			defer cancel()
			return fn(ctx)
		})
		if err != nil && ctx.Err() == nil {
			return fallbackValue, nil
		}
		return v, err
	}
	want := wantValue(mode)
	if mode == chainOpen {
		tripChain(tb, "hand",
			func() { _, _ = chain(context.Background(), failingInt) },
			func() bool { return cb.State() == gobreaker.StateOpen })
	}
	return lib{name: "hand", op: func(ctx context.Context) error {
		v, err := chain(ctx, workInt)
		return answer(v, err, want)
	}}
}

func failsafeChainLib(tb testing.TB, ctx context.Context, mode chainMode) lib {
	cb := fscb.NewBuilder[int]().WithFailureThreshold(5).WithDelay(openFor).Build()
	ex := failsafe.With[int](
		fsfallback.NewWithResult(fallbackValue),
		cb,
		fsbulkhead.New[int](maxConcurrent),
		fstimeout.New[int](policyTimeout),
	)
	if mode == chainCallerDeadline {
		// Generous to failsafe-go: a caller's context is per request, so
		// real code calls WithContext, which copies the executor, on every
		// call. Here it is done once.
		ex = ex.WithContext(ctx)
	}
	want := wantValue(mode)
	if mode == chainOpen {
		tripChain(tb, "failsafe",
			func() {
				_, _ = ex.GetWithExecution(func(failsafe.Execution[int]) (int, error) { return failingInt(ctx) })
			},
			cb.IsOpen)
	}
	return lib{name: "failsafe", op: func(context.Context) error {
		v, err := ex.GetWithExecution(func(e failsafe.Execution[int]) (int, error) { return workInt(e.Context()) })
		return answer(v, err, want)
	}}
}

// hystrixCommands numbers hystrix-go commands: its settings and breakers
// live in package-level maps keyed by name, so each scenario needs a name of
// its own.
var hystrixCommands atomic.Int64

func hystrixChainLib(tb testing.TB, mode chainMode) lib {
	name := fmt.Sprintf("bench-%d", hystrixCommands.Add(1))
	hystrix.ConfigureCommand(name, hystrix.CommandConfig{
		Timeout:                int(policyTimeout / time.Millisecond),
		MaxConcurrentRequests:  maxConcurrent,
		RequestVolumeThreshold: 5,
		SleepWindow:            int(openFor / time.Millisecond),
		ErrorPercentThreshold:  50,
	})
	chain := func(ctx context.Context, fn func(context.Context) (int, error)) (int, error) {
		var v int
		err := hystrix.DoC(ctx, name,
			func(ctx context.Context) error {
				var err error
				v, err = fn(ctx)
				return err
			},
			func(context.Context, error) error {
				v = fallbackValue
				return nil
			})
		return v, err
	}
	want := wantValue(mode)
	if mode == chainOpen {
		circuit, _, err := hystrix.GetCircuit(name)
		if err != nil {
			tb.Fatal(err)
		}
		// hystrix-go counts outcomes in a goroutine of its own, so the
		// breaker opens a little after the failures that trip it.
		tripChain(tb, "hystrix",
			func() { _, _ = chain(context.Background(), failingInt); time.Sleep(time.Millisecond) },
			circuit.IsOpen)
	}
	return lib{name: "hystrix", op: func(ctx context.Context) error {
		v, err := chain(ctx, workInt)
		return answer(v, err, want)
	}}
}

func eapacheChainLib(tb testing.TB, mode chainMode) lib {
	cb := eapachebreaker.New(5, 1, openFor)
	sem := eapachesemaphore.New(maxConcurrent, policyTimeout) // see eapacheSemaphoreLib
	dl := deadline.New(policyTimeout)
	chain := func(ctx context.Context, fn func(context.Context) (int, error)) (int, error) {
		var v int
		err := cb.Run(func() error {
			if err := sem.Acquire(); err != nil {
				return err
			}
			defer sem.Release()
			return dl.Run(func(<-chan struct{}) error {
				var err error
				v, err = fn(ctx)
				return err
			})
		})
		if err != nil && ctx.Err() == nil {
			return fallbackValue, nil
		}
		return v, err
	}
	want := wantValue(mode)
	if mode == chainOpen {
		tripChain(tb, "eapache",
			func() { _, _ = chain(context.Background(), failingInt) },
			func() bool { return cb.GetState() == eapachebreaker.Open })
	}
	return lib{name: "eapache", op: func(ctx context.Context) error {
		v, err := chain(ctx, workInt)
		return answer(v, err, want)
	}}
}
