package hedge

import (
	"context"
	"sync"
	"time"
)

// firstCtx is the first attempt's context. It costs nothing until someone
// asks for its Done channel or registers an AfterFunc: only then is the
// channel made and the parent watched. Its AfterFunc method lets
// context.WithCancel, WithTimeout and AfterFunc children of it register
// with it, as they do with the standard library's cancellable contexts,
// instead of starting a goroutine each.
type firstCtx struct {
	parent context.Context

	mu     sync.Mutex
	done   chan struct{}         // made on the first Done; closed when cancelled
	err    error                 // set when cancelled
	cause  error                 // set when cancelled
	causeC context.Context       // made on demand once cancelled: a cancelled context carrying cause, for context.Cause
	stop   func() bool           // stops watching the parent, once watched
	afters map[*afterFn]struct{} // functions to call when cancelled
}

type afterFn struct{ f func() }

func (c *firstCtx) Deadline() (time.Time, bool) { return c.parent.Deadline() }

func (c *firstCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		if c.err != nil {
			close(c.done)
		} else {
			c.watchLocked()
		}
	}
	return c.done
}

// watchLocked makes c follow its parent's cancellation, with c.mu held.
func (c *firstCtx) watchLocked() {
	if c.stop != nil || c.parent.Done() == nil {
		return
	}
	c.stop = context.AfterFunc(c.parent, c.parentDone)
}

func (c *firstCtx) parentDone() {
	c.cancel(c.parent.Err(), context.Cause(c.parent))
}

func (c *firstCtx) Err() error {
	c.mu.Lock()
	err := c.err
	c.mu.Unlock()
	if err != nil {
		return err
	}
	if err := c.parent.Err(); err != nil { // not seen yet: cancel now, so Err and Done agree
		c.cancel(err, context.Cause(c.parent))
		c.mu.Lock()
		err = c.err
		c.mu.Unlock()
		return err
	}
	return nil
}

func (c *firstCtx) Value(key any) any {
	c.mu.Lock()
	if c.err != nil && c.causeC == nil {
		cc, cf := context.WithCancelCause(context.Background())
		cf(c.cause)
		c.causeC = cc
	}
	cc := c.causeC
	c.mu.Unlock()
	if cc != nil {
		// cc is a cancelled context from context.WithCancelCause over
		// Background: the only key it answers is the one context.Cause
		// asks, and it answers with our cause.
		if v := cc.Value(key); v != nil {
			return v
		}
	}
	return c.parent.Value(key)
}

// AfterFunc arranges for f to be called once c is cancelled (at once, on a
// goroutine of its own, if it already is). stop reports whether it kept f
// from being called. context.WithCancel and context.AfterFunc use it.
func (c *firstCtx) AfterFunc(f func()) (stop func() bool) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	c.watchLocked()
	a := &afterFn{f: f}
	if c.afters == nil {
		c.afters = make(map[*afterFn]struct{})
	}
	c.afters[a] = struct{}{}
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if _, ok := c.afters[a]; !ok {
			return false
		}
		delete(c.afters, a)
		return true
	}
}

// cancel cancels c with err and cause (cause nil: err), once; it calls the
// functions registered with AfterFunc, on this goroutine, without c.mu.
func (c *firstCtx) cancel(err, cause error) {
	if cause == nil {
		cause = err
	}
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err, c.cause = err, cause
	if c.done != nil {
		close(c.done)
	}
	afters := c.afters
	c.afters = nil
	stop := c.stop
	c.mu.Unlock()
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
