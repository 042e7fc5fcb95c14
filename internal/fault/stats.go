package fault

import (
	"context"
	"maps"
	"net/http"
	"sync"

	"google.golang.org/grpc/codes"
)

// Stats is what a server has seen. Get a snapshot with Stats; the maps of a
// snapshot are the caller's own.
type Stats struct {
	// Requests is how many requests (HTTP) or calls (gRPC) reached the
	// fault handler.
	Requests uint64
	// InFlight is how many are in the handler now, and MaxInFlight the most
	// there have been at once (since the start, or the last
	// ResetMaxInFlight).
	InFlight, MaxInFlight int
	// Statuses counts HTTP answers sent in full, by status code.
	Statuses map[int]uint64
	// Codes counts gRPC calls by the code the handler ended them with
	// (codes.OK for a full answer).
	Codes map[codes.Code]uint64
	// Hangs counts requests that started to hang (Hang, HangMidBody).
	Hangs uint64
	// Resets counts connections (HTTP/2, gRPC: streams) reset by Reset or
	// Drop.
	Resets uint64
	// Aborted counts requests that ended without a full answer because the
	// client went away or the server closed: during a delay, a slow body, a
	// hang.
	Aborted uint64
	// Conns counts connections.
	Conns ConnStats
}

// ConnStats counts a server's connections, from http.Server.ConnState
// (HTTP) or the gRPC stats handler's ConnBegin and ConnEnd.
type ConnStats struct {
	// Accepted is how many connections the server has accepted.
	Accepted uint64
	// Open is how many are open now: accepted, neither closed nor hijacked.
	Open int
	// Active and Idle split the open HTTP connections: Active ones are
	// reading or serving a request, Idle ones wait for the next request.
	// Zero on a gRPC server.
	Active, Idle int
	// Closed and Hijacked count connections that ended either way
	// (Hijacked: HTTP only, by Reset and Drop).
	Closed, Hijacked uint64
}

// tracker keeps Stats for a server. Every change wakes WaitFor.
type tracker struct {
	mu      sync.Mutex
	st      Stats
	conns   map[any]http.ConnState
	changed chan struct{} // closed at the next change; nil when nobody waits
}

func newTracker() *tracker {
	return &tracker{
		st:    Stats{Statuses: map[int]uint64{}, Codes: map[codes.Code]uint64{}},
		conns: map[any]http.ConnState{},
	}
}

// update runs f on the stats under the lock and wakes the waiters.
func (t *tracker) update(f func(st *Stats)) {
	t.mu.Lock()
	f(&t.st)
	if t.changed != nil {
		close(t.changed)
		t.changed = nil
	}
	t.mu.Unlock()
}

func (t *tracker) begin() {
	t.update(func(st *Stats) {
		st.Requests++
		st.InFlight++
		st.MaxInFlight = max(st.MaxInFlight, st.InFlight)
	})
}

func (t *tracker) end(f func(st *Stats)) {
	t.update(func(st *Stats) {
		st.InFlight--
		if f != nil {
			f(st)
		}
	})
}

func (t *tracker) snapshot() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.st
	s.Statuses = maps.Clone(t.st.Statuses)
	s.Codes = maps.Clone(t.st.Codes)
	return s
}

func (t *tracker) resetMaxInFlight() {
	t.update(func(st *Stats) { st.MaxInFlight = st.InFlight })
}

// connState records an HTTP connection's new state.
func (t *tracker) connState(c any, s http.ConnState) {
	t.update(func(st *Stats) {
		prev, known := t.conns[c]
		if known {
			switch prev {
			case http.StateActive:
				st.Conns.Active--
			case http.StateIdle:
				st.Conns.Idle--
			}
		} else if s != http.StateClosed && s != http.StateHijacked {
			st.Conns.Accepted++
		}
		switch s {
		case http.StateClosed, http.StateHijacked:
			if !known {
				return
			}
			delete(t.conns, c)
			if s == http.StateClosed {
				st.Conns.Closed++
			} else {
				st.Conns.Hijacked++
			}
		default:
			t.conns[c] = s
			switch s {
			case http.StateActive:
				st.Conns.Active++
			case http.StateIdle:
				st.Conns.Idle++
			}
		}
		st.Conns.Open = len(t.conns)
	})
}

// connBegin and connEnd record a gRPC connection.
func (t *tracker) connBegin() {
	t.update(func(st *Stats) { st.Conns.Accepted++; st.Conns.Open++ })
}

func (t *tracker) connEnd() {
	t.update(func(st *Stats) { st.Conns.Open--; st.Conns.Closed++ })
}

// waitFor blocks until cond holds for the stats, and returns nil, or until
// ctx is done, and returns ctx's error with the last stats seen. cond runs
// on a snapshot, outside the lock, after every change.
func (t *tracker) waitFor(ctx context.Context, cond func(Stats) bool) (Stats, error) {
	for {
		t.mu.Lock()
		if t.changed == nil {
			t.changed = make(chan struct{})
		}
		ch := t.changed
		t.mu.Unlock()
		s := t.snapshot()
		if cond(s) {
			return s, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return t.snapshot(), ctx.Err()
		}
	}
}
