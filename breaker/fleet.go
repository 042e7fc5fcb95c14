package breaker

import (
	"context"
	"time"
)

// This file holds the hooks that let breakers of several processes (the
// replicas of a service) act as one: a package such as fleet watches every
// change of state of a Set, shares it through a store, and makes the other
// replicas' breakers follow. Nothing here does I/O; the hooks read and
// write the breaker's own memory only.

// A Change is a change of a breaker's state, as told to a watcher (see
// Set.Watch).
type Change struct {
	// Breaker is the breaker that changed; Breaker.Key is its key in a
	// Set.
	Breaker *Breaker
	// From and To are the states before and after.
	From, To State
	// Until is when the new period ends: the end of the open duration
	// when To is Open, the half-open timeout when To is HalfOpen, zero
	// otherwise.
	Until time.Time
	// Followed is true when Follow made the change (another replica's
	// breaker decided it), false when the breaker's own rules, Trip, a
	// force or Unforce did.
	Followed bool
}

// Watch makes f be told of every change of state of every breaker of the
// set, present and future, after the Observer, in order per breaker, on
// the goroutine of the call or method that observed it and never under a
// lock. f must be fast and must not block (hand the change to a goroutine
// of your own); it may call the breaker's methods. Watch(nil) stops the
// telling. A set has one watcher at a time: Watch replaces the previous
// one. Safe for concurrent use.
func (s *Set) Watch(f func(Change)) {
	if s.check() == nil {
		s.s.setWatch(f)
	}
}

// Watch is Set.Watch for a breaker on its own. For a breaker of a Set, it
// is the set's watcher, and replaces it.
func (b *Breaker) Watch(f func(Change)) {
	if b.check() == nil {
		b.s.setWatch(f)
	}
}

func (s *settings) setWatch(f func(Change)) {
	if f == nil {
		s.watch.Store(nil)
		return
	}
	s.watch.Store(&f)
}

// WatchFailures makes f be told of every failure counted by a closed
// breaker of the set, present and future, on the goroutine of the call
// that failed, after the breaker has counted it: so that failures can be
// pooled across replicas. Successes and ignored calls are not told, and a
// call that succeeds pays nothing for it. f must be fast and must not
// block. WatchFailures(nil) stops the telling; a set has one such watcher
// at a time. Safe for concurrent use.
func (s *Set) WatchFailures(f func(*Breaker)) {
	if s.check() == nil {
		s.s.setFailWatch(f)
	}
}

// WatchFailures is Set.WatchFailures for a breaker on its own. For a
// breaker of a Set, it is the set's watcher, and replaces it.
func (b *Breaker) WatchFailures(f func(*Breaker)) {
	if b.check() == nil {
		b.s.setFailWatch(f)
	}
}

func (s *settings) setFailWatch(f func(*Breaker)) {
	if f == nil {
		s.failWatch.Store(nil)
		return
	}
	s.failWatch.Store(&f)
}

// failed tells the failure watcher, if any, of a failure b counted.
func (b *Breaker) failed() {
	if w := b.s.failWatch.Load(); w != nil {
		(*w)(b)
	}
}

// Trip opens a closed breaker now, as its own trip rule would: for
// OpenTimeout, reported as any trip is (Change.Followed false), for a
// rule decided outside the breaker, such as the failures of every
// replica pooled. It does nothing, and returns false, to a breaker that
// is not closed. Safe for concurrent use.
func (b *Breaker) Trip() bool {
	if b.check() != nil {
		return false
	}
	inst := newInstance(b, true)
	b.mu.Lock()
	cur := b.rec.Load()
	if cur.state != Closed {
		b.mu.Unlock()
		return false
	}
	b.setLocked(cur, b.openPeriod(cur, inst, 0, time.Now()))
	b.mu.Unlock()
	b.report(context.Background())
	return true
}

// Lookup returns the breaker the set keeps for key, if any, without
// making one or counting as a use of the key. Safe for concurrent use.
func (s *Set) Lookup(key string) (*Breaker, bool) {
	if s.check() != nil {
		return nil, false
	}
	b, ok := (*s.m.Load())[key]
	return b, ok
}

// Follow moves the breaker to a state decided elsewhere, such as by the
// breaker of another replica for the same dependency, and reports whether
// it changed anything:
//
//   - to Open: the breaker refuses calls until exactly until, then probes
//     as after any open period. An open breaker takes the new end, earlier
//     or later; a closed or half-open one opens (results of calls let
//     through before are dropped). The open-duration schedule goes on
//     from where it was. An until not in the future does nothing.
//   - to Closed: an open or half-open breaker closes, with fresh counts
//     and its open-duration schedule started afresh. A closed one is left
//     as it is.
//
// Any other state does nothing, and so does Follow on a forced breaker:
// the user's decision wins. The change is reported like any other
// (OnStateChange, Observer, watcher with Change.Followed set). Follow never
// blocks on a call. Safe for concurrent use.
func (b *Breaker) Follow(to State, until time.Time) bool {
	if b.check() != nil {
		return false
	}
	now := time.Now()
	var inst *instance
	switch to {
	case Open:
		if !now.Before(until) {
			return false
		}
		inst = newInstance(b, true)
	case Closed:
		inst = newInstance(b, false)
	default:
		return false
	}
	b.mu.Lock()
	cur := b.rec.Load()
	var next *period
	switch {
	case cur.state == ForcedOpen || cur.state == ForcedClosed:
	case to == Closed:
		if cur.state == Open || cur.state == HalfOpen {
			next = &period{state: Closed, inst: inst}
		}
	case cur.state == Open && cur.until.Equal(until):
	default:
		step := b.s.openTimeout
		if cur.state == Open || cur.state == HalfOpen {
			step = cur.step
		}
		next = (&period{state: Open, inst: inst, until: until, step: step,
			rej: newRejectedError(b.s.name, b.key, Open, until)}).withTimer(until.Sub(now))
	}
	if next == nil {
		b.mu.Unlock()
		return false
	}
	b.rec.Store(next)
	if cur.state != next.state {
		b.pending = append(b.pending, transition{from: cur.state, to: next.state, until: next.until, followed: true})
		b.npending.Add(1)
	}
	b.mu.Unlock()
	b.report(context.Background())
	return true
}

// Period returns the breaker's state and when its period ends (as
// Change.Until), as they are now in memory: unlike State, it does not move
// an open breaker whose time is up to HalfOpen. Safe for concurrent use.
func (b *Breaker) Period() (State, time.Time) {
	if b.check() != nil {
		return Closed, time.Time{}
	}
	r := b.rec.Load()
	return r.state, r.until
}
