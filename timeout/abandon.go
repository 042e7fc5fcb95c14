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

	// Abandon the call. The cap is checked at admission: a call admitted
	// under it is abandoned at its deadline even when others admitted with
	// it have reached the cap meanwhile, so that its caller returns on
	// time; the cap then refuses new calls until enough have returned.
	t.abandoned.Add(1)
	if !f.state.CompareAndSwap(running, abandoned) {
		t.abandoned.Add(-1) // it returned meanwhile: not abandoned after all
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
	err, timedOut := t.result(ctx, cctx, f.err)
	if timedOut && t.obs != nil {
		t.observe(resilience.EventTimeout, err)
	}
	return err
}
