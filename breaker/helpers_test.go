package breaker_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
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
type recorder struct {
	mu     sync.Mutex
	events []resilience.Event
}

func (r *recorder) Observe(e resilience.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) all() []resilience.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]resilience.Event(nil), r.events...)
}

func (r *recorder) kinds(k resilience.EventKind) []resilience.Event {
	var out []resilience.Event
	for _, e := range r.all() {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// changes returns the state changes seen, as "from>to".
func (r *recorder) changes() []string {
	var out []string
	for _, e := range r.kinds(resilience.EventStateChange) {
		out = append(out, e.From+">"+e.To)
	}
	return out
}
