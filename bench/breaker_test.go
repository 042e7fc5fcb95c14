package bench

import (
	"context"
	"testing"

	"github.com/cenk/backoff"
	eapache "github.com/eapache/go-resiliency/breaker"
	"github.com/failsafe-go/failsafe-go"
	fscb "github.com/failsafe-go/failsafe-go/circuitbreaker"
	rubyist "github.com/rubyist/circuitbreaker"
	"github.com/sony/gobreaker/v2"
)

// tripCalls is how many failing calls trip every breaker here: each one
// trips on consecutive failures, at 5 (gobreaker's default trips after more
// than 5, hence 6).
const tripCalls = 6

// Breaker scenarios: one call through a breaker on its own, closed
// (BreakerSuccess) or open (BreakerOpen, the call refused), serially and
// from GOMAXPROCS goroutines at once.
//
// hystrix-go is absent: it has no breaker usable on its own; every
// hystrix call runs the command in a new goroutine, with a timer and a
// concurrency pool, so it appears in the Chain scenarios only.

func BenchmarkBreakerSuccess(b *testing.B) {
	run(b, context.Background(), breakerLibs(b, false))
}

func BenchmarkBreakerSuccessParallel(b *testing.B) {
	runParallel(b, context.Background(), breakerLibs(b, false))
}

func BenchmarkBreakerOpen(b *testing.B) {
	run(b, context.Background(), breakerLibs(b, true))
}

func BenchmarkBreakerOpenParallel(b *testing.B) {
	runParallel(b, context.Background(), breakerLibs(b, true))
}

// breakerLibs returns each library's breaker, tripped open by failing calls
// when open is true.
func breakerLibs(tb testing.TB, open bool) []lib {
	return append(ourBreakerLibs(tb, open),
		gobreakerLib(tb, open),
		failsafeBreakerLib(tb, open),
		eapacheBreakerLib(tb, open),
		rubyistBreakerLib(tb, open),
	)
}

func gobreakerLib(tb testing.TB, open bool) lib {
	cb := gobreaker.NewCircuitBreaker[any](gobreaker.Settings{Name: "bench", Timeout: openFor})
	l := lib{name: "gobreaker", op: func(ctx context.Context) error {
		_, err := cb.Execute(func() (any, error) { return nil, work(ctx) })
		return err
	}}
	if open {
		for range tripCalls {
			_, _ = cb.Execute(func() (any, error) { return nil, failing() })
		}
		l.want = gobreaker.ErrOpenState
	}
	return l
}

func failsafeBreakerLib(tb testing.TB, open bool) lib {
	cb := fscb.NewBuilder[any]().WithFailureThreshold(5).WithDelay(openFor).Build()
	ex := failsafe.With[any](cb)
	l := lib{name: "failsafe", op: func(ctx context.Context) error {
		return ex.Run(func() error { return work(ctx) })
	}}
	if open {
		for range tripCalls {
			_ = ex.Run(failing)
		}
		l.want = fscb.ErrOpen
	}
	return l
}

func eapacheBreakerLib(tb testing.TB, open bool) lib {
	cb := eapache.New(5, 1, openFor)
	l := lib{name: "eapache", op: func(ctx context.Context) error {
		return cb.Run(func() error { return work(ctx) })
	}}
	if open {
		for range tripCalls {
			_ = cb.Run(failing)
		}
		l.want = eapache.ErrBreakerOpen
	}
	return l
}

func rubyistBreakerLib(tb testing.TB, open bool) lib {
	// A constant back-off: rubyist's default lets a probe through after
	// half a second, which would close the breaker during the run.
	cb := rubyist.NewBreakerWithOptions(&rubyist.Options{
		BackOff:    backoff.NewConstantBackOff(openFor),
		ShouldTrip: rubyist.ConsecutiveTripFunc(5),
	})
	l := lib{name: "rubyist", op: func(ctx context.Context) error {
		return cb.CallContext(ctx, func() error { return work(ctx) }, 0)
	}}
	if open {
		for range tripCalls {
			_ = cb.Call(failing, 0)
		}
		l.want = rubyist.ErrBreakerOpen
	}
	return l
}
