package httpx

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/timeout"
)

// A call is one request in flight: what it holds (a bulkhead slot, its
// timeout context) and, once the response is back, the body wrapper that
// lets go of them. It is the one allocation of a request that goes through
// a Transport, beyond its key and the breaker's own.
type call struct {
	// ctx is the context the breaker is given: the request's own, through
	// which runCall finds the call again, so that no closure is made per
	// request.
	ctx callCtx

	t   *Transport
	req *http.Request // the caller's
	key string

	sent   bool // req went to the base transport (which then owns its body)
	resp   *http.Response
	failed bool // resp was classified a Failure: drained on Close

	outCtx context.Context    // the context req was sent with, the Transport's own
	cancel context.CancelFunc // of outCtx
	timed  bool               // outCtx has the Transport's Timeout as its deadline
	slot   *bulkhead.Bulkhead // shared slot held
	keyed  *keyedBulkhead     // per-key slot held
	stop   func() bool        // stops the AfterFunc that releases when outCtx ends

	body      io.ReadCloser // the base transport's response body
	released  atomic.Bool
	slotFreed atomic.Bool // the bulkhead slot was given back (see freeSlot)
	reported  atomic.Bool // EventTimeout reported
}

// newCall starts a request.
func newCall(t *Transport, req *http.Request) *call {
	c := &call{t: t, req: req, key: t.key(req)}
	c.ctx = callCtx{req.Context(), c}
	return c
}

// callCtx is the request's context, carrying its call.
type callCtx struct {
	context.Context
	c *call
}

type callKey struct{}

// Value returns the call for callKey, and otherwise what the request's
// context holds.
func (x *callCtx) Value(key any) any {
	if _, ok := key.(callKey); ok {
		return x.c
	}
	return x.Context.Value(key)
}

// runCall is what the breaker runs: the call that ctx is, or carries.
func runCall(ctx context.Context) error {
	if x, ok := ctx.(*callCtx); ok {
		return x.c.run()
	}
	if c, ok := ctx.Value(callKey{}).(*call); ok {
		return c.run()
	}
	return errLostCall
}

// errLostCall is returned to a breaker that ran its call with a context
// not derived from the one it was given; it cannot happen with this
// module's breaker.
var errLostCall = errors.New("httpx: breaker ran the request with a foreign context")

// run is the request once the breaker has let it through: bulkhead,
// timeout, base transport. It returns nil for a Success response, a
// *StatusError for any other response, and the error otherwise.
func (c *call) run() error {
	t := c.t
	ctx := c.ctx.Context
	switch {
	case t.shared != nil:
		if err := t.shared.Acquire(ctx); err != nil {
			return err
		}
		c.slot = t.shared
	case t.perKey != nil:
		e, err := t.perKey.acquire(ctx, c.key)
		if err != nil {
			return err
		}
		c.keyed = e
	}
	// The request gets a context of the Transport's own: with its deadline
	// when Timeout comes before the caller's, cancellable in any case, so
	// that the request ends when its body is done and so that draining a
	// failure response on Close can be cut short (see drain).
	if dl, ok := ctx.Deadline(); t.timeout > 0 && (!ok || time.Until(dl) > t.timeout) {
		c.outCtx, c.cancel = context.WithTimeoutCause(ctx, t.timeout, t.errTimeout)
		c.timed = true
	} else {
		c.outCtx, c.cancel = context.WithCancel(ctx)
	}
	out := c.req.WithContext(c.outCtx)
	c.sent = true
	var resp *http.Response
	ok := false
	defer func() {
		if !ok { // the base transport or Classify panicked
			if resp != nil && resp.Body != nil {
				resp.Body.Close()
			}
			c.release()
		}
	}()
	resp, err := t.base.RoundTrip(out)
	if err != nil || resp == nil {
		if resp != nil { // both: like http.Client, believe the error
			discard(resp)
		}
		ok = true
		c.release()
		if err != nil {
			err = c.timeoutErr(err)
		}
		return err
	}
	if resp.Request == out {
		// The caller sees the request it sent, not the Transport's copy
		// with its own context.
		resp.Request = c.req
	}
	c.wrapBody(resp)
	o := t.classify(resp, nil)
	c.resp, ok = resp, true
	if o == resilience.Success {
		return nil
	}
	se := &StatusError{StatusCode: resp.StatusCode, Status: resp.Status, Outcome: resilience.Ignored}
	if o != resilience.Ignored {
		c.failed = true
		se.Outcome = resilience.Failure
		se.retryAfter = t.retryAfter(resp)
	}
	return se
}

// wrapBody makes reading resp's body to the end, or closing it, release
// what the request holds; an empty body releases at once.
func (c *call) wrapBody(resp *http.Response) {
	if resp.Body == nil || resp.Body == http.NoBody {
		c.release()
		return
	}
	c.body = resp.Body
	if (c.slot != nil || c.keyed != nil) && (c.timed || c.ctx.Context.Done() != nil) {
		// A slot must not outlive the request's context, even when the
		// caller never closes the body. (A context that only the Transport
		// cancels, on release, needs no watching.) It is armed only now that the base
		// transport has returned: until then the request is running and
		// holds its slot, however late (a slot handed back while the base
		// RoundTrip still runs would let more than MaxConcurrent through).
		c.stop = context.AfterFunc(c.outCtx, c.expire)
	}
	if _, ok := resp.Body.(io.Writer); ok {
		resp.Body = rwBody{c} // a protocol switch (101): keep it writable
	} else {
		resp.Body = c
	}
}

// Read reads the response body. The first error, io.EOF included, ends the
// request; an error caused by the Transport's timeout matches
// timeout.ErrTimeout and context.DeadlineExceeded.
func (c *call) Read(p []byte) (int, error) {
	n, err := c.body.Read(p)
	if err != nil {
		if err != io.EOF {
			err = c.timeoutErr(err)
		}
		c.release()
	}
	return n, err
}

// Close closes the response body and ends the request. The rest of a
// failure response's body is drained first (see drain), so that its
// connection is reused; closing another response before the end of its body
// closes the connection (HTTP/1) or resets the stream (HTTP/2), as net/http
// does.
func (c *call) Close() error {
	if c.failed && !c.released.Load() {
		drain(c.outCtx, c.body, c.cancel)
	}
	err := c.body.Close()
	c.timedOut()
	c.release()
	return err
}

// rwBody is the body of a response whose body is writable (101 Switching
// Protocols).
type rwBody struct{ *call }

func (b rwBody) Write(p []byte) (int, error) { return b.body.(io.Writer).Write(p) }

// release lets go of everything the request holds, once: it stops the
// AfterFunc, cancels the context the Transport made and gives back the
// bulkhead slot. It runs on the caller's goroutine (body read to the end
// or closed, error).
func (c *call) release() {
	if !c.released.CompareAndSwap(false, true) {
		return
	}
	if c.stop != nil {
		c.stop()
	}
	c.free()
}

// expire is release run by the AfterFunc, when the request's context ended
// first. It does not touch stop, which the caller may still be setting.
func (c *call) expire() {
	if c.released.CompareAndSwap(false, true) {
		c.free()
	}
}

func (c *call) free() {
	if c.cancel != nil {
		c.cancel()
	}
	c.freeSlot()
}

// timedOut reports whether the Transport's own deadline has passed (not
// the caller's), and tells the Observer the first time it finds so.
func (c *call) timedOut() bool {
	if c.cancel == nil || c.outCtx.Err() == nil || c.ctx.Err() != nil {
		return false
	}
	if !errors.Is(context.Cause(c.outCtx), timeout.ErrTimeout) {
		return false
	}
	if c.t.obs != nil && c.reported.CompareAndSwap(false, true) {
		c.t.observe(resilience.EventTimeout, c.key, timeout.ErrTimeout)
	}
	return true
}

// timeoutErr returns err, made to match timeout.ErrTimeout when the
// Transport's deadline caused it.
func (c *call) timeoutErr(err error) error {
	if !c.timedOut() {
		return err
	}
	return &timeoutError{msg: c.t.errTimeout.msg, err: err}
}

// A timeoutError is an error caused by Config.Timeout, naming the Transport
// as a timeout.Timeout names itself (`timeout "payments": deadline
// exceeded`). It matches timeout.ErrTimeout and context.DeadlineExceeded,
// keeps the base transport's error reachable, and says Timeout() true, as
// net.Error does. The Transport's own, with no error inside, is the cause
// of the request's context when its deadline passes.
type timeoutError struct {
	msg string
	err error
}

func (e *timeoutError) Error() string {
	switch {
	case e.err == nil:
		return e.msg
	case errors.Is(e.err, timeout.ErrTimeout):
		return e.err.Error() // already says so
	}
	return e.msg + ": " + e.err.Error()
}

// Is reports whether target is timeout.ErrTimeout or
// context.DeadlineExceeded.
func (e *timeoutError) Is(target error) bool {
	return target == timeout.ErrTimeout || target == context.DeadlineExceeded
}

func (e *timeoutError) Unwrap() error { return e.err }

// Timeout reports true.
func (e *timeoutError) Timeout() bool { return true }
