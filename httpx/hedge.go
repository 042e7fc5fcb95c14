package httpx

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/hedge"
)

// newHedge makes the Transport's hedge from cfg.
func (t *Transport) newHedge(cfg hedge.Config) (*hedge.Hedge, error) {
	if cfg.Name == "" {
		cfg.Name = t.name
	}
	if cfg.Observer == nil {
		cfg.Observer = t.obs
	}
	return hedge.New(cfg)
}

// hedging is one request sent under the hedge: each attempt runs through
// the breaker, bulkhead and timeout as RoundTrip does for a request sent
// once.
type hedging struct {
	t     *Transport
	req   *http.Request // the caller's
	n     atomic.Int32  // attempts started
	first atomic.Bool   // req.Body itself went to the base transport
	again bool          // a retry: every attempt's body comes from GetBody
}

// attempt sends one copy of the request with ctx. The first attempt sends
// req's own body, the others one from req.GetBody. A response that is not
// a Failure is an answer, whatever its status: it wins.
func (hr *hedging) attempt(ctx context.Context) (*call, error) {
	req := hr.req
	n := hr.n.Add(1)
	out := req.WithContext(ctx)
	if (n > 1 || hr.again) && req.Body != nil && req.Body != http.NoBody {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		out.Body = body
	}
	c := newCall(hr.t, out)
	var err error
	if hr.t.breakers != nil {
		err = hr.t.breakers.Get(c.key).Execute(&c.ctx, runCall)
	} else {
		err = c.run()
	}
	switch {
	case !c.sent && out.Body != nil && out.Body != req.Body:
		out.Body.Close() // a refused hedge's fresh body
	case c.sent && n == 1 && !hr.again:
		hr.first.Store(true)
	}
	if se, ok := err.(*StatusError); ok && se.Outcome != resilience.Failure {
		err = nil // a 404, say: the server's answer
	}
	return c, err
}

// drop releases an attempt that lost: its response body, if any, is
// closed, after a drain within drain's bounds (its context is cancelled by
// then, so a body still on its way is cut, not waited for), which gives
// back its bulkhead slot.
func (hr *hedging) drop(c *call) {
	if c != nil && c.resp != nil {
		discard(c.resp)
		c.resp = nil
	}
}

// roundTripHedge is RoundTrip for a Retryable request when Config.Hedge is
// set.
func (t *Transport) roundTripHedge(req *http.Request) (*http.Response, error) {
	hr := &hedging{t: t, req: req}
	c, done, err := hedge.DoDrop(req.Context(), t.hedge, nil, hr.attempt, hr.drop)
	if !hr.first.Load() && req.Body != nil {
		req.Body.Close()
	}
	if c == nil { // GetBody failed
		done()
		return nil, err
	}
	c.req = req
	if c.resp == nil {
		done()
		return t.answerError(c, err)
	}
	keepUntilBodyDone(c.resp, done)
	if se, ok := errors.AsType[*StatusError](err); ok && se.Outcome == resilience.Failure && t.fallback != nil {
		return t.answerFailure(c, se)
	}
	return c.resp, nil
}

// keepUntilBodyDone makes reading resp's body to the end, or closing it,
// call done: the chosen attempt's context lives until then.
func keepUntilBodyDone(resp *http.Response, done context.CancelFunc) {
	switch b := resp.Body; {
	case b == nil || b == http.NoBody:
		done()
	default:
		if w, ok := b.(io.Writer); ok {
			resp.Body = &rwCancelBody{cancelBody{b, done}, w}
		} else {
			resp.Body = &cancelBody{b, done}
		}
	}
}

// hedgedAttempt is one attempt of a request under Config.Retry when
// Config.Hedge is set too: the attempt is itself hedged.
func (r *retrying) hedgedAttempt(ctx context.Context) error {
	hr := &hedging{t: r.t, req: r.req.WithContext(ctx), again: r.n > 1}
	c, done, err := hedge.DoDrop(ctx, r.t.hedge, nil, hr.attempt, hr.drop)
	if hr.first.Load() {
		r.sent = true
	}
	if c == nil { // GetBody failed
		done()
		r.lastErr = err
		return err
	}
	if c.resp != nil {
		keepUntilBodyDone(c.resp, done)
	} else {
		done()
	}
	r.last, r.lastErr = c, err
	return err
}
