package httpx

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/retry"
)

// idempotent are the methods RFC 9110 §9.2.2 calls idempotent: sending one
// twice has the effect of sending it once.
var idempotent = map[string]bool{
	http.MethodGet:     true,
	http.MethodHead:    true,
	http.MethodOptions: true,
	http.MethodTrace:   true,
	http.MethodPut:     true,
	http.MethodDelete:  true,
}

// Retryable reports whether the Transport may send req more than once when
// Config.Retry is set: its method is idempotent (GET, HEAD, OPTIONS, TRACE,
// PUT, DELETE; "" means GET) or it carries an Idempotency-Key header, and its
// body can be sent again (none, or req.GetBody is set, as
// http.NewRequest sets it for in-memory bodies).
func Retryable(req *http.Request) bool {
	m := req.Method
	if m == "" {
		m = http.MethodGet
	}
	if !idempotent[m] && req.Header.Get("Idempotency-Key") == "" {
		return false
	}
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// newRetry makes the Transport's retry policy from cfg: what it retries is
// narrowed to the responses the Transport classified as failures.
func (t *Transport) newRetry(cfg retry.Config) (*retry.Retry, error) {
	// The Transport applies MaxDuration itself, to a context that lives
	// until the last response's body is done, not until RoundTrip returns.
	t.retryMax = cfg.MaxDuration
	if cfg.MaxDuration < 0 {
		return retry.New(cfg) // reports it
	}
	cfg.MaxDuration = 0
	if cfg.Name == "" {
		cfg.Name = t.name
	}
	if cfg.Observer == nil {
		cfg.Observer = t.obs
	}
	user := cfg.Retryable
	if user == nil {
		user = retry.DefaultRetryable
	}
	cfg.Retryable = func(err error) bool {
		if se, ok := err.(*StatusError); ok && se.Outcome != resilience.Failure {
			return false // a 404: the server's answer, not a failure
		}
		return user(err)
	}
	return retry.New(cfg)
}

// retrying is one request sent under the retry policy: attempt runs one
// attempt through the breaker, bulkhead and timeout, as RoundTrip does
// for a request without retries.
type retrying struct {
	t       *Transport
	req     *http.Request // the caller's
	n       int           // attempts made
	last    *call         // the last attempt
	lastErr error         // what the last attempt returned
	sent    bool          // req.Body itself went to the base transport
}

func (r *retrying) attempt(ctx context.Context) error {
	if r.last != nil && r.last.resp != nil {
		// Closing a failure response drains it first (see drain), so
		// that its connection carries this attempt.
		closeFailed(r.last.resp)
		r.last.resp = nil
	}
	r.n++
	if r.t.hedge != nil {
		return r.hedgedAttempt(ctx)
	}
	out := r.req
	if ctx != r.req.Context() || r.n > 1 {
		out = r.req.WithContext(ctx)
	}
	if r.n > 1 && r.req.Body != nil && r.req.Body != http.NoBody {
		body, err := r.req.GetBody()
		if err != nil {
			r.lastErr = err
			return err
		}
		out.Body = body
	}
	c := newCall(r.t, out)
	var err error
	if r.t.breakers != nil {
		err = r.t.breakers.Get(c.key).Execute(&c.ctx, runCall)
	} else {
		err = c.run()
	}
	if !c.sent && out.Body != nil && out.Body != r.req.Body {
		out.Body.Close() // a refused attempt's fresh body
	}
	if c.sent && r.n == 1 {
		r.sent = true
	}
	r.last, r.lastErr = c, err
	return err
}

// roundTripRetry is RoundTrip for a Retryable request when Config.Retry is
// set.
func (t *Transport) roundTripRetry(req *http.Request) (*http.Response, error) {
	r := &retrying{t: t, req: req}
	if t.retryMax <= 0 {
		return t.roundTripRetryCtx(req.Context(), r)
	}
	ctx, cancel := context.WithTimeout(req.Context(), t.retryMax)
	resp, err := t.roundTripRetryCtx(ctx, r)
	if resp == nil || resp.Body == nil || resp.Body == http.NoBody {
		cancel()
		return resp, err
	}
	if w, ok := resp.Body.(io.Writer); ok { // a protocol switch: keep it writable
		resp.Body = &rwCancelBody{cancelBody{resp.Body, cancel}, w}
	} else {
		resp.Body = &cancelBody{resp.Body, cancel}
	}
	return resp, err
}

type rwCancelBody struct {
	cancelBody
	io.Writer
}

// cancelBody ends the context of a request under Retry.MaxDuration when
// its body is read to the end or closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.cancel()
	}
	return n, err
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

func (t *Transport) roundTripRetryCtx(ctx context.Context, r *retrying) (*http.Response, error) {
	req := r.req
	err := t.retry.Execute(ctx, r.attempt)
	if !r.sent && req.Body != nil {
		req.Body.Close()
	}
	c := r.last
	if c == nil { // never attempted: GetBody failed, say
		return nil, err
	}
	if c.resp != nil && c.resp.Request == c.req {
		c.resp.Request = req // the request the caller sent, not an attempt's copy
	}
	c.req = req
	if c.resp != nil && !errors.Is(err, r.lastErr) && r.lastErr != nil {
		// The retry ended in a delay (the caller gave up): the last
		// response was a failure that is no longer anyone's answer.
		closeFailed(c.resp)
		c.resp = nil
	}
	if c.resp == nil {
		return t.answerError(c, err)
	}
	if se, ok := err.(*StatusError); ok && se.Outcome == resilience.Failure && t.fallback != nil {
		return t.answerFailure(c, se)
	}
	return c.resp, nil
}

// closeFailed closes the body of a failed attempt's response: the
// Transport's body wrapper drains a failure response first, within drain's
// bounds.
func closeFailed(resp *http.Response) {
	if resp.Body != nil {
		resp.Body.Close()
	}
}
