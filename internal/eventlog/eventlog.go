// Package eventlog records the events policies report, for the module's
// tests.
package eventlog

import (
	"sync"

	"github.com/go-resilience/resilience"
)

// A Recorder is a resilience.Observer that keeps every event, in order.
// It is safe for concurrent use; the zero value is ready.
type Recorder struct {
	mu     sync.Mutex
	events []resilience.Event
}

// Observe keeps e.
func (r *Recorder) Observe(e resilience.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

// Events returns a copy of the events kept so far.
func (r *Recorder) Events() []resilience.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]resilience.Event(nil), r.events...)
}

// Take returns the events kept so far and forgets them.
func (r *Recorder) Take() []resilience.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	es := r.events
	r.events = nil
	return es
}

// Kinds returns the kind of each event kept so far.
func (r *Recorder) Kinds() []resilience.EventKind {
	var ks []resilience.EventKind
	for _, e := range r.Events() {
		ks = append(ks, e.Kind)
	}
	return ks
}

// OfKind returns the events of kind k kept so far.
func (r *Recorder) OfKind(k resilience.EventKind) []resilience.Event {
	var out []resilience.Event
	for _, e := range r.Events() {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// Transitions returns the state changes kept so far, as "from>to".
func (r *Recorder) Transitions() []string {
	var out []string
	for _, e := range r.OfKind(resilience.EventStateChange) {
		out = append(out, e.From+">"+e.To)
	}
	return out
}
