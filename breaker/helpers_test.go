package breaker_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/internal/eventlog"
	"github.com/stretchr/testify/require"
)

var errBoom = errors.New("boom")

func fail(err error) func(context.Context) error {
	return func(context.Context) error { return err }
}

func succeed(context.Context) error { return nil }

// sleeper returns a call that takes d (in the synctest bubble's time).
func sleeper(d time.Duration, err error) func(context.Context) error {
	return func(context.Context) error { time.Sleep(d); return err }
}

func mustNew(t *testing.T, cfg breaker.Config) *breaker.Breaker {
	t.Helper()
	b, err := breaker.New(cfg)
	require.NoError(t, err)
	return b
}

// failN makes n failing calls through b, each returning errBoom.
func failN(t *testing.T, b *breaker.Breaker, n int) {
	t.Helper()
	for range n {
		require.ErrorIs(t, b.Execute(context.Background(), fail(errBoom)), errBoom)
	}
}

// succeedN makes n successful calls through b.
func succeedN(t *testing.T, b *breaker.Breaker, n int) {
	t.Helper()
	for range n {
		require.NoError(t, b.Execute(context.Background(), succeed))
	}
}

// refusal returns the *RejectedError of a call through b that must be
// refused, and checks that the call did not run.
func refusal(t *testing.T, b *breaker.Breaker) *breaker.RejectedError {
	t.Helper()
	ran := false
	err := b.Execute(context.Background(), func(context.Context) error { ran = true; return nil })
	require.False(t, ran, "a refused call must not run")
	var re *breaker.RejectedError
	require.ErrorAs(t, err, &re)
	require.ErrorIs(t, err, resilience.ErrRejected)
	return re
}

// hinted is a dependency's error that says when to try again, as httpx's
// status error does for Retry-After.
type hinted struct{ d time.Duration }

func (e *hinted) Error() string             { return "unavailable, retry after " + e.d.String() }
func (e *hinted) RetryAfter() time.Duration { return e.d }

// recorder is an Observer that keeps every event.
type recorder = eventlog.Recorder

// observerFunc adapts a func to a resilience.Observer.
type observerFunc func(resilience.Event)

func (f observerFunc) Observe(e resilience.Event) { f(e) }
