package timeout

import (
	"context"
	"runtime"
	"sync/atomic"

	"github.com/go-resilience/resilience"
)

// The states of a flight.
const (
	running   uint32 = iota
	returned         // the call returned while Execute waited for it
	abandoned        // Execute returned without the call
)

// A flight is one call in abandon mode, run in a goroutine of its own.
type flight struct {
	state atomic.Uint32
	done  chan struct{} // closed when the call has returned to a waiting Execute

	// Written by the call's goroutine before state leaves running.
	err      error
	panicVal any
	panicked bool
	goexit   bool
}

func (t *Timeout) executeAbandon(ctx context.Context, next resilience.Policy, call func(context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return err // it could only be abandoned at once
	}
	if t.abandoned.Load() >= t.maxAbandoned {
		if t.obs != nil {
			t.observe(resilience.EventRejected, t.errTooMany)
		}
		return t.errTooMany
	}
	cctx, cancel := t.enter(ctx)
	if cancel != nil {
		defer cancel()
	}
	f := &flight{done: make(chan struct{})}
	go t.fly(f, cctx, next, call)

	select {
	case <-f.done:
		return t.landed(f, ctx, cctx)
	case <-cctx.Done():
		// A callee that honours its context is returning now: give it a
		// moment to, rather than count it abandoned for a microsecond.
		runtime.Gosched()
		select {
		case <-f.done:
			return t.landed(f, ctx, cctx)
		default:
		}
	}

	// Abandon the call, within the cap. Calls admitted together may all
	// time out together with fewer places left than they are: the cap is
	// hard, so those beyond it wait for their call, or for an abandoned
	// call to return and free a place.
	for {
		freed := t.reserve()
		if freed == nil {
			break
		}
		select {
		case <-f.done:
			return t.landed(f, ctx, cctx)
		case <-freed:
		}
	}
	if !f.state.CompareAndSwap(running, abandoned) {
		t.abandoned.Add(-1) // it returned meanwhile: give the place back
		t.wakeReservers()
		<-f.done
		return t.landed(f, ctx, cctx)
	}
	err := ctx.Err()
	if err == nil {
		err = t.errTimeout
		if t.obs != nil {
			t.observe(resilience.EventTimeout, err)
		}
	}
	if t.obs != nil {
		t.observe(resilience.EventAbandon, err)
	}
	return err
}

// fly runs the call of f in its own goroutine and hands its outcome to
// Execute, or, when Execute has abandoned it, finishes it here.
func (t *Timeout) fly(f *flight, ctx context.Context, next resilience.Policy, call func(context.Context) error) {
	normal := false
	defer func() {
		if !normal {
			if r := recover(); r != nil {
				f.panicVal, f.panicked = r, true
			} else {
				f.goexit = true // runtime.Goexit, as from t.FailNow
			}
		}
		if f.state.CompareAndSwap(running, returned) {
			close(f.done)
			return
		}
		t.abandoned.Add(-1)
		t.wakeReservers()
		if t.obs != nil {
			t.observe(resilience.EventAbandonDone, f.err)
		}
		if f.panicked {
			// Nobody waits for this call any more: crash as any
			// goroutine's unrecovered panic does, rather than hide it.
			panic(f.panicVal)
		}
	}()
	f.err = run(ctx, next, call)
	normal = true
}

// landed returns the outcome of a call that returned while Execute waited.
func (t *Timeout) landed(f *flight, ctx, cctx context.Context) error {
	switch {
	case f.panicked:
		panic(f.panicVal)
	case f.goexit:
		runtime.Goexit()
	}
	return t.result(ctx, cctx, f.err)
}

// reserve takes a place under the cap for a call about to be abandoned and
// returns nil, or, when the cap is reached, returns a channel closed when an
// abandoned call returns.
func (t *Timeout) reserve() <-chan struct{} {
	if t.tryReserve() {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tryReserve() {
		return nil
	}
	if t.freed == nil {
		t.freed = make(chan struct{})
	}
	return t.freed
}

func (t *Timeout) tryReserve() bool {
	for {
		n := t.abandoned.Load()
		if n >= t.maxAbandoned {
			return false
		}
		if t.abandoned.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// wakeReservers tells callers waiting in reserve that a place came free.
// The count must be lowered before.
func (t *Timeout) wakeReservers() {
	t.mu.Lock()
	if t.freed != nil {
		close(t.freed)
		t.freed = nil
	}
	t.mu.Unlock()
}
