package grpcx_test

import (
	"sync"
	"testing"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/grpcx"
	"github.com/stretchr/testify/require"
)

// recorder is an Observer that keeps every Event.
type recorder struct {
	mu     sync.Mutex
	events []resilience.Event
}

func (r *recorder) Observe(ev resilience.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}

// of returns the events of kind k, in order.
func (r *recorder) of(k resilience.EventKind) []resilience.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []resilience.Event
	for _, ev := range r.events {
		if ev.Kind == k {
			out = append(out, ev)
		}
	}
	return out
}

// transitions returns the breaker state changes of key, as "from>to".
func (r *recorder) transitions(key string) []string {
	var out []string
	for _, ev := range r.of(resilience.EventStateChange) {
		if ev.Key == key {
			out = append(out, ev.From+">"+ev.To)
		}
	}
	return out
}

// mustNew is grpcx.New for a config the test knows to be valid.
func mustNew(t testing.TB, cfg grpcx.Config) *grpcx.Interceptors {
	t.Helper()
	ic, err := grpcx.New(cfg)
	require.NoError(t, err)
	return ic
}
