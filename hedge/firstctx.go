package hedge

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// firstCtx is the first attempt's context. It is made for each call and
// never reused: a caller may keep it, or contexts derived from it, after
// Do returns, and must keep seeing it cancelled. So it is small (a parent
// and a pointer, 24 bytes), and what it needs once it is cancelled, or
// once someone asks for its Done channel or registers an AfterFunc, lives
// in a ctxState made only then. Until then the parent is not watched. A
// first attempt that answers and asks for nothing but Err ends with the
// shared state released, and makes no state of its own.
//
// Its AfterFunc method lets context.WithCancel, WithTimeout and AfterFunc
// children of it register with it, as they do with the standard library's
// cancellable contexts, instead of starting a goroutine each.
type firstCtx struct {
	parent context.Context
	st     atomic.Pointer[ctxState] // nil until needed; set once, never cleared
}

// ctxState is a firstCtx's state once it is needed. Its fields are guarded
// by mu, except in released, which is never written and never locked.
type ctxState struct {
	mu     sync.Mutex
	done   chan struct{}         // made on the first Done; closed when cancelled
	err    error                 // set when cancelled
	cause  error                 // set when cancelled
	causeC context.Context       // made on demand once cancelled: a cancelled context carrying cause, for context.Cause
	stop   func() bool           // stops watching the parent, once watched
	afters map[*afterFn]struct{} // functions to call when cancelled
}

// released is the state of every first attempt's context that its call
// ended (release, or a parent cancelled with no other cause) before
// anything asked for its Done channel or registered an AfterFunc:
// cancelled with context.Canceled, nothing to close or call. It is made
// once, never written after, and its mutex is never taken.
var released = func() *ctxState {
	done := make(chan struct{})
	close(done)
	cc, cancel := context.WithCancelCause(context.Background())
	cancel(context.Canceled)
	return &ctxState{done: done, err: context.Canceled, cause: context.Canceled, causeC: cc}
}()

type afterFn struct{ f func() }

func notStopped() bool { return false }

// state returns c's state, made now if it has none.
func (c *firstCtx) state() *ctxState {
	st := c.st.Load()
	if st == nil {
		st = new(ctxState)
		if !c.st.CompareAndSwap(nil, st) {
			st = c.st.Load()
		}
	}
	return st
}

func (c *firstCtx) Deadline() (time.Time, bool) { return c.parent.Deadline() }

func (c *firstCtx) Done() <-chan struct{} {
	st := c.state()
	if st == released {
		return st.done
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.done == nil {
		st.done = make(chan struct{})
		if st.err != nil {
			close(st.done)
		} else {
			c.watchLocked(st)
		}
	}
	return st.done
}

// watchLocked makes c follow its parent's cancellation, with st.mu held.
func (c *firstCtx) watchLocked(st *ctxState) {
	if st.stop != nil || c.parent.Done() == nil {
		return
	}
	st.stop = context.AfterFunc(c.parent, c.parentDone)
}

func (c *firstCtx) parentDone() {
	c.cancel(c.parent.Err(), context.Cause(c.parent))
}

func (c *firstCtx) Err() error {
	if st := c.st.Load(); st != nil {
		if err := st.error(); err != nil {
			return err
		}
	}
	if err := c.parent.Err(); err != nil { // not seen yet: cancel now, so Err and Done agree
		c.cancel(err, context.Cause(c.parent))
		return c.st.Load().error()
	}
	return nil
}

// error returns st's err.
func (st *ctxState) error() error {
	if st == released {
		return st.err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.err
}

func (c *firstCtx) Value(key any) any {
	if st := c.st.Load(); st != nil {
		if cc := st.causeCtx(); cc != nil {
			// cc is a cancelled context from context.WithCancelCause over
			// Background: the only key it answers is the one context.Cause
			// asks, and it answers with our cause.
			if v := cc.Value(key); v != nil {
				return v
			}
		}
	}
	return c.parent.Value(key)
}

// causeCtx returns, once st is cancelled, a cancelled context that carries
// its cause; nil before.
func (st *ctxState) causeCtx() context.Context {
	if st == released {
		return st.causeC
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.err != nil && st.causeC == nil {
		cc, cf := context.WithCancelCause(context.Background())
		cf(st.cause)
		st.causeC = cc
	}
	return st.causeC
}

// AfterFunc arranges for f to be called once c is cancelled (at once, on a
// goroutine of its own, if it already is). stop reports whether it kept f
// from being called. context.WithCancel and context.AfterFunc use it.
func (c *firstCtx) AfterFunc(f func()) (stop func() bool) {
	st := c.state()
	if st == released {
		go f()
		return notStopped
	}
	st.mu.Lock()
	if st.err != nil {
		st.mu.Unlock()
		go f()
		return notStopped
	}
	c.watchLocked(st)
	a := &afterFn{f: f}
	if st.afters == nil {
		st.afters = make(map[*afterFn]struct{})
	}
	st.afters[a] = struct{}{}
	st.mu.Unlock()
	return func() bool {
		st.mu.Lock()
		defer st.mu.Unlock()
		if _, ok := st.afters[a]; !ok {
			return false
		}
		delete(st.afters, a)
		return true
	}
}

// cancel cancels c with err and cause (cause nil: err), once; it calls the
// functions registered with AfterFunc, on this goroutine, without the
// state's lock. A context with no state yet, cancelled with
// context.Canceled, takes released and makes none.
func (c *firstCtx) cancel(err, cause error) {
	if cause == nil {
		cause = err
	}
	if err == context.Canceled && cause == context.Canceled && c.st.CompareAndSwap(nil, released) {
		return
	}
	st := c.state()
	if st == released {
		return
	}
	st.mu.Lock()
	if st.err != nil {
		st.mu.Unlock()
		return
	}
	st.err, st.cause = err, cause
	if st.done != nil {
		close(st.done)
	}
	afters := st.afters
	st.afters = nil
	stop := st.stop
	st.mu.Unlock()
	if stop != nil {
		stop()
	}
	for a := range afters {
		a.f()
	}
}

// release cancels c as context.WithCancel's CancelFunc would.
func (c *firstCtx) release() { c.cancel(context.Canceled, nil) }

func (c *firstCtx) String() string { return "hedge.firstAttempt" }
