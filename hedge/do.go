package hedge

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/retry"
)

// Do runs fn under p (each attempt through resilience.Do(ctx, p, fn), or fn
// alone when p is nil) and, when the first attempt has not answered within
// h's delay, sends another attempt, up to Config.MaxHedges of them, one per
// delay, each granted by h's budget. It returns the result of the first
// attempt that succeeds; when every attempt fails, the result and error of
// the first attempt (the one the caller would have got without hedging);
// when an attempt fails with an error Config.Fatal calls fatal, or returns
// after ctx is done, that attempt's result and error, at once.
//
// Once a result is chosen, every other attempt's context is cancelled and
// its result dropped; the chosen attempt's context is cancelled when Do
// returns. The first attempt runs on the caller's goroutine, so Do returns
// only after it has: fn must honour its context (a cancelled loser must
// return promptly). Hedges run on goroutines of their own, started only
// when a hedge is sent; a losing hedge's goroutine ends when its fn
// returns, possibly just after Do. A call whose first attempt answers
// within the delay starts no goroutine, resets and stops one timer, and
// makes one 24-byte allocation, its first attempt's context: the Hedge
// keeps the state of such a call, with its stopped timer, for a later
// call. The first attempt's context is the package's own, made for each
// call and never reused: it makes its Done channel only when asked, and
// context.WithCancel, WithTimeout and AfterFunc children of it register
// with it rather than starting a goroutine each.
//
// A panic in fn on the caller's goroutine reaches the caller as it is,
// after the other attempts are cancelled. A panic in a hedge before the
// call's result is chosen ends the call: the others are cancelled and the
// panic is raised again on the caller's goroutine once the first attempt
// has returned; after that, it crashes the program as in any goroutine.
//
// A nil ctx or fn, a nil *Hedge or a zero Hedge (not made by New) is a
// programming error: Do returns an error matching resilience.ErrMisuse
// (and resilience.ErrNilContext, ErrNilFunc or ErrNilPolicy) without
// running fn.
//
// Do is a function, not a resilience.Policy, because attempts run at the
// same time: through a Policy, each attempt would write the one result
// that resilience.Do keeps, and the caller could read one attempt's value
// with another's error. Here each attempt's value stays its own until one
// is chosen.
func Do[T any](ctx context.Context, h *Hedge, p resilience.Policy, fn func(context.Context) (T, error)) (T, error) {
	v, keep, first, err := run(ctx, h, p, fn, nil)
	if keep != nil {
		keep()
	} else {
		first.release()
	}
	return v, err
}

// DoDrop is Do for results that hold something past the call (an HTTP
// response's body, a stream): drop is called once with each attempt's
// value that DoDrop does not return, on that attempt's goroutine, after
// its context is cancelled; and the context of the attempt whose value is
// returned is left running, for the caller to end by calling done once it
// has finished with the value. done is never nil and may be called more
// than once.
func DoDrop[T any](ctx context.Context, h *Hedge, p resilience.Policy, fn func(context.Context) (T, error), drop func(T)) (v T, done context.CancelFunc, err error) {
	v, keep, first, err := run(ctx, h, p, fn, drop)
	if keep == nil {
		keep = first.release
	}
	return v, keep, err
}

// A call is one call through Do: the state its attempts share. A Hedge
// keeps calls between calls (Hedge.calls), each with its timer, stopped:
// a call goes back only when it sent no hedge and Stop reported that its
// timer would not fire, so that nothing can still reach it; and it goes
// back with every field but h and timer zeroed.
type call[T any] struct {
	h     *Hedge
	ctx   context.Context // the caller's
	p     resilience.Policy
	fn    func(context.Context) (T, error)
	drop  func(T)
	delay time.Duration
	count retry.Count // the call's place in the budget; c.hedge uses it with mu held, until decided
	timer *time.Timer // sends the next hedge: made once, with c.hedge, and reset by each call
	fctx  *firstCtx   // the first attempt's context, made for each call

	mu        sync.Mutex
	decided   bool // the call's result is chosen; later results are dropped
	sent      int  // hedges sent
	running   int  // hedges that have not returned
	firstBack bool // the first attempt has failed, and hedges run on
	first     T
	firstErr  error
	v         T                    // the chosen result
	err       error                // and error
	keep      context.CancelFunc   // nil: the first attempt's (fctx.release)
	panicked  any                  // a hedge's panic, for the caller
	cancels   []context.CancelFunc // the hedges', made when the first is sent; [0] unused
	wake      chan struct{}        // closed when decided, if the caller waits
	reporting int                  // events the hedges' goroutines are reporting
	reported  chan struct{}        // closed when reporting drops to 0, if the caller waits
}

// errHedgePanic reports a hedge that panicked with nil (or called
// runtime.Goexit).
var errHedgePanic = fmt.Errorf("hedge: a hedge panicked or exited its goroutine")

// Programming errors of Do's caller: the call is not run.
var (
	errNilHedge   = fmt.Errorf("hedge: nil *Hedge: %w", resilience.ErrNilPolicy)
	errZeroHedge  = fmt.Errorf("hedge: zero Hedge (make one with New): %w", resilience.ErrMisuse)
	errNilContext = fmt.Errorf("hedge: nil context: %w", resilience.ErrNilContext)
	errNilFunc    = fmt.Errorf("hedge: nil fn: %w", resilience.ErrNilFunc)
)

func nothing() {}

// check returns the programming error that keeps a call from running, or
// nil.
func check[T any](ctx context.Context, h *Hedge, fn func(context.Context) (T, error)) error {
	switch {
	case h == nil:
		return errNilHedge
	case h.budget == nil:
		return errZeroHedge
	case ctx == nil:
		return errNilContext
	case fn == nil:
		return errNilFunc
	}
	return nil
}

// run runs the call. The context of the attempt whose result it returns
// is ended by keep, or, when keep is nil, by first.release.
func run[T any](ctx context.Context, h *Hedge, p resilience.Policy, fn func(context.Context) (T, error), drop func(T)) (_ T, keep context.CancelFunc, first *firstCtx, _ error) {
	if err := check(ctx, h, fn); err != nil {
		var zero T
		return zero, nothing, nil, err
	}
	c, _ := h.calls.Get().(*call[T]) // nil when there is none, or it is of another T
	if c == nil {
		c = &call[T]{h: h}
	}
	actx := &firstCtx{parent: ctx}
	c.ctx, c.p, c.fn, c.drop, c.delay, c.fctx = ctx, p, fn, drop, h.Delay(), actx
	c.count = h.budget.Begin()
	if c.timer != nil {
		// Stopped before it fired, in the call that put c back. What was
		// written above is seen by c.hedge: Reset happens before the
		// timer runs it.
		c.timer.Reset(c.delay)
	} else {
		// With a short delay the timer may fire before AfterFunc returns:
		// c.hedge takes c.mu before it reads c.timer.
		c.mu.Lock()
		c.timer = time.AfterFunc(c.delay, c.hedge)
		c.mu.Unlock()
	}
	var start time.Time
	if h.lat != nil {
		start = time.Now()
	}
	ok := false
	defer func() {
		if !ok { // fn panicked on this goroutine
			c.mu.Lock()
			c.decided = true
			cs := c.cancels // no hedge is sent once decided: cs stays as it is
			c.mu.Unlock()
			c.count.End() // decided: c.hedge no longer touches it
			c.timer.Stop()
			c.fctx.release()
			for _, f := range cs {
				if f != nil {
					f()
				}
			}
		}
	}()
	v, err := c.attempt(actx)
	ok = true
	if err == nil && h.lat != nil {
		h.lat.record(time.Since(start))
	}
	c.mu.Lock()
	if c.sent == 0 && c.reporting == 0 { // no hedge was sent: the common case
		c.decided = true
		c.mu.Unlock()
		c.count.End() // decided: c.hedge no longer touches it
		// When Stop reports the timer will not fire, nothing else can
		// reach c now: it can serve another call.
		if c.timer.Stop() {
			*c = call[T]{h: h, timer: c.timer}
			h.calls.Put(c)
		}
		return v, nil, actx, err
	}
	switch {
	case c.decided: // a hedge was chosen while this attempt ran
		c.mu.Unlock()
		c.fctx.release()
		c.dropValue(v)
	case err == nil || c.ends(err):
		c.decide(0, v, err, nil) // unlocks
	case c.running == 0: // every hedge has failed too
		c.decide(0, v, err, nil)
	default: // wait for the hedges
		c.firstBack, c.first, c.firstErr = true, v, err
		c.wake = make(chan struct{})
		c.mu.Unlock()
		<-c.wake
	}
	c.count.End() // decided: c.hedge no longer touches it
	c.mu.Lock()
	c.awaitReports()
	if c.panicked != nil {
		panic(c.panicked)
	}
	return c.v, c.keep, actx, c.err
}

// awaitReports waits until the hedges' goroutines have reported their
// events, so that none is reported after the call returns (an Observer
// may add them to the caller's span). c.mu is held; it is released.
func (c *call[T]) awaitReports() {
	if c.reporting == 0 {
		c.mu.Unlock()
		return
	}
	ch := make(chan struct{})
	c.reported = ch
	c.mu.Unlock()
	<-ch
}

// report reports an event of a hedge's goroutine, counted in c.reporting
// with c.mu held before the caller could return.
func (c *call[T]) report(kind resilience.EventKind, attempt int, d time.Duration) {
	c.h.observe(c.ctx, kind, attempt, d, nil)
	c.mu.Lock()
	c.reporting--
	var ch chan struct{}
	if c.reporting == 0 {
		ch, c.reported = c.reported, nil
	}
	c.mu.Unlock()
	if ch != nil {
		close(ch)
	}
}

// attempt runs one attempt.
func (c *call[T]) attempt(ctx context.Context) (T, error) {
	if c.p == nil {
		return c.fn(ctx)
	}
	return resilience.Do(ctx, c.p, c.fn)
}

// ends reports whether err, returned by an attempt, ends the call at once.
func (c *call[T]) ends(err error) bool {
	return c.ctx.Err() != nil || c.h.fatal(err)
}

func (c *call[T]) dropValue(v T) {
	if c.drop != nil {
		c.drop(v)
	}
}

// decide chooses the result of attempt i (0 for the first), with c.mu
// held, which it releases; then it cancels every other attempt, stops the
// timer and wakes the caller.
func (c *call[T]) decide(i int, v T, err error, keep context.CancelFunc) {
	c.decided = true
	c.v, c.err, c.keep = v, err, keep
	cs := c.cancels // no hedge is sent once decided: cs stays as it is
	wake := c.wake
	c.mu.Unlock()
	c.timer.Stop()
	if i != 0 {
		c.fctx.release()
	}
	for j, f := range cs {
		if j != i && f != nil {
			f()
		}
	}
	if wake != nil {
		close(wake)
	}
}

// hedge sends the next hedge: it runs on the timer's goroutine, and runs the
// attempt there.
func (c *call[T]) hedge() {
	c.mu.Lock()
	if c.decided || c.ctx.Err() != nil {
		c.mu.Unlock()
		return
	}
	n := c.sent + 2 // the attempt's number
	if !c.count.TryAcquire() {
		c.reporting++
		c.mu.Unlock()
		c.report(resilience.EventHedgeRefused, n, c.delay)
		return
	}
	c.sent++
	c.running++
	i := c.sent
	ctx, cancel := context.WithCancel(c.ctx)
	if c.cancels == nil {
		c.cancels = make([]context.CancelFunc, c.h.maxHedges+1)
	}
	c.cancels[i] = cancel
	if c.sent < c.h.maxHedges {
		c.timer.Reset(c.delay)
	}
	c.reporting++
	c.mu.Unlock()
	c.report(resilience.EventHedgeSent, n, c.delay)

	var start time.Time
	if c.h.lat != nil {
		start = time.Now()
	}
	ok := false
	defer func() {
		if !ok {
			r := recover()
			if r == nil {
				r = errHedgePanic
			}
			c.h.budget.Release()
			c.mu.Lock()
			c.running--
			if c.decided { // the caller may be gone: crash, as any goroutine
				c.mu.Unlock()
				cancel()
				panic(r)
			}
			c.panicked = r
			var zero T
			c.decide(i, zero, errHedgePanic, cancel)
		}
	}()
	v, err := c.attempt(ctx)
	ok = true
	c.h.budget.Release()
	if err == nil && c.h.lat != nil {
		c.h.lat.record(time.Since(start))
	}

	c.mu.Lock()
	c.running--
	switch {
	case c.decided:
		c.mu.Unlock()
		cancel()
		c.dropValue(v)
	case err == nil:
		c.reporting++
		c.decide(i, v, err, cancel)
		c.report(resilience.EventHedgeWon, n, 0)
	case c.ends(err):
		c.decide(i, v, err, cancel)
	case c.firstBack && c.running == 0: // every attempt has failed
		c.decide(0, c.first, c.firstErr, nil)
		cancel()
		c.dropValue(v)
	default:
		c.mu.Unlock()
		cancel()
		c.dropValue(v)
	}
}
