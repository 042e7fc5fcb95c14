package timeout_test

import (
	"sync"
	"testing"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/timeout"
	"github.com/stretchr/testify/require"
)

func mustNew(t testing.TB, cfg timeout.Config) *timeout.Timeout {
	t.Helper()
	p, err := timeout.New(cfg)
	require.NoError(t, err)
	return p
}

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

func (r *recorder) kinds() []resilience.EventKind {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ks []resilience.EventKind
	for _, e := range r.events {
		ks = append(ks, e.Kind)
	}
	return ks
}

func (r *recorder) take() []resilience.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	es := r.events
	r.events = nil
	return es
}
