package httpx

import (
	"errors"
	"fmt"
	"iter"
	"net/http"
	"strconv"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/fallback"
	"github.com/go-resilience/resilience/hedge"
	"github.com/go-resilience/resilience/retry"
)

// A Transport is an http.RoundTripper that sends requests through a base
// transport under a breaker per key (per host by default), an optional
// bulkhead and an optional timeout that covers the response body, and
// refuses requests fast when those say no. See the package documentation
// for what happens to a request, and Config for the knobs.
//
// A Transport is safe for concurrent use by multiple goroutines, like the
// http.Transport it usually wraps. Make one with New; the zero value is not
// usable. It starts no goroutine of its own.
type Transport struct {
	base     http.RoundTripper
	name     string
	key      func(*http.Request) string
	breakers *breaker.Set
	shared   *bulkhead.Bulkhead
	perKey   *keyedBulkheads
	timeout  time.Duration
	// errTimeout is the cause of a request context whose Timeout passed,
	// naming the Transport.
	errTimeout *timeoutError
	classify   func(*http.Response, error) resilience.Outcome
	maxRA      time.Duration // < 0: Retry-After ignored
	refusal    bool
	fallback   func(*http.Request, error) (*http.Response, error)
	obs        resilience.Observer
	retry      *retry.Retry  // nil: no retries
	retryMax   time.Duration // Config.Retry.MaxDuration
	hedge      *hedge.Hedge  // nil: no hedging
}

var _ http.RoundTripper = (*Transport)(nil)

// New returns a Transport configured by cfg, or an error naming the first
// field of cfg that is invalid (including those of Config.Breaker and
// Config.Bulkhead, as their packages report them).
func New(cfg Config) (*Transport, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	t := &Transport{
		base:     cfg.Base,
		name:     cfg.Name,
		key:      cfg.Key,
		timeout:  cfg.Timeout,
		classify: cfg.Classify,
		maxRA:    cfg.MaxRetryAfter,
		refusal:  cfg.RefusalResponse,
		fallback: cfg.Fallback,
		obs:      cfg.Observer,
	}
	if t.base == nil {
		t.base = http.DefaultTransport
	}
	if t.name == "" {
		t.name = "httpx"
	}
	t.errTimeout = &timeoutError{msg: "timeout " + strconv.Quote(t.name) + ": deadline exceeded"}
	if t.key == nil {
		t.key = HostKey
	}
	if t.classify == nil {
		t.classify = DefaultClassify
	}
	if cfg.Inject.Injector != nil {
		t.base = &injectTransport{injector: newInjector(cfg.Inject), base: t.base, key: t.key}
	}
	if t.maxRA == 0 {
		t.maxRA = defaultMaxRetryAfter
	}
	if !cfg.DisableBreaker {
		sc := cfg.Breaker
		if sc.Name == "" {
			sc.Name = t.name
		}
		if sc.Observer == nil {
			sc.Observer = cfg.Observer
		}
		sc.Classifier = t.breakerClassifier
		s, err := breaker.NewSet(sc)
		if err != nil {
			return nil, fmt.Errorf("httpx: Config.Breaker: %w", err)
		}
		t.breakers = s
	}
	if bc := cfg.Bulkhead; bc.MaxConcurrent != 0 {
		if bc.Name == "" {
			bc.Name = t.name
		}
		if bc.Observer == nil {
			bc.Observer = cfg.Observer
		}
		b, err := bulkhead.New(bc) // validates the per-key config too
		if err != nil {
			return nil, fmt.Errorf("httpx: Config.Bulkhead: %w", err)
		}
		if cfg.BulkheadPerKey {
			max := cfg.Breaker.MaxKeys
			if max == 0 {
				max = defaultMaxKeys
			}
			t.perKey = &keyedBulkheads{cfg: bc, max: max}
		} else {
			t.shared = b
		}
	}
	if cfg.Retry != nil {
		r, err := t.newRetry(*cfg.Retry)
		if err != nil {
			return nil, fmt.Errorf("httpx: Config.Retry: %w", err)
		}
		t.retry = r
	}
	if cfg.Hedge != nil {
		h, err := t.newHedge(*cfg.Hedge)
		if err != nil {
			return nil, fmt.Errorf("httpx: Config.Hedge: %w", err)
		}
		t.hedge = h
	}
	return t, nil
}

// breakerClassifier is the breakers' Classifier. The breaker sees nil for a
// Success response, a *StatusError for any other response, and the base
// transport's error as it is; the root Classify has already made the
// caller's cancellation and the library's refusals Ignored.
func (t *Transport) breakerClassifier(err error) resilience.Outcome {
	if err == nil {
		return resilience.Success
	}
	if se, ok := err.(*StatusError); ok {
		return se.Outcome
	}
	return t.classify(nil, err)
}

// Breakers returns the Transport's breakers, one per key, for health checks
// and metrics (Set.Range, Breaker.State, Breaker.Counts) or to force one
// open or closed. Nil when Config.DisableBreaker is set.
func (t *Transport) Breakers() *breaker.Set { return t.breakers }

// Bulkheads yields the Transport's bulkheads with their keys: the shared
// one with key "", or each per-key one (Config.BulkheadPerKey) that exists
// at the moment, in no particular order. It yields nothing when there is no
// bulkhead. It is safe to call concurrently with requests.
func (t *Transport) Bulkheads() iter.Seq2[string, *bulkhead.Bulkhead] {
	switch {
	case t.shared != nil:
		return func(yield func(string, *bulkhead.Bulkhead) bool) { yield("", t.shared) }
	case t.perKey != nil:
		return t.perKey.all()
	}
	return func(func(string, *bulkhead.Bulkhead) bool) {}
}

// CloseIdleConnections closes the idle connections of the base transport,
// when it has such a method (http.Transport does). http.Client's
// CloseIdleConnections calls it.
func (t *Transport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// RoundTrip sends req through the breaker of its key, the bulkhead and the
// base transport, as the package documentation describes, and returns the
// base transport's response or error, a refusal, or what Config.Fallback
// answered.
//
// A response is returned whatever its status; with a Timeout or a
// bulkhead, its Body is wrapped so that reading it to the end or closing it
// ends the request (cancels its context, gives back its slot). The caller
// must close it, as with any http.RoundTripper.
//
// A refused request never reaches the base transport, and its body is
// closed; the error matches resilience.ErrRejected and the refusing
// package's sentinel (breaker.ErrOpen, breaker.ErrTooManyProbes,
// bulkhead.ErrFull), also through the *url.Error of http.Client. Without
// Config.Retry a request is never sent twice, and its body is never
// replayed; with it, see Config.Retry.
//
// When req's context is done before a slot is free, RoundTrip returns
// the context's error without sending req.
//
// A panic in a hook (Config.Classify, Config.Fallback, Config.Key, the
// Observer, the breakers' callbacks) reaches the caller after the request
// has let go of what it holds: its bulkhead slot, its breaker probe
// (counted as a failure), the response it got.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.retry != nil && Retryable(req) {
		return t.roundTripRetry(req)
	}
	if t.hedge != nil && Retryable(req) {
		return t.roundTripHedge(req)
	}
	c := newCall(t, req)
	returned := false
	defer func() {
		if !returned && c.resp != nil && c.resp.Body != nil {
			c.resp.Body.Close() // a hook panicked: let go of the response
		}
	}()
	resp, err := t.roundTrip(c)
	returned = true
	return resp, err
}

func (t *Transport) roundTrip(c *call) (*http.Response, error) {
	req := c.req
	var err error
	if t.breakers != nil {
		err = t.breakers.Get(c.key).Execute(&c.ctx, runCall)
	} else {
		err = c.run()
	}
	if !c.sent && req.Body != nil {
		req.Body.Close() // RoundTrip must close it, even when refusing
	}
	if c.resp == nil {
		return t.answerError(c, err)
	}
	if se, ok := err.(*StatusError); ok && se.Outcome == resilience.Failure && t.fallback != nil {
		return t.answerFailure(c, se)
	}
	return c.resp, nil
}

// answerError ends a request that has no response: refused, or failed.
func (t *Transport) answerError(c *call, err error) (*http.Response, error) {
	if err == nil { // a broken base transport: nil response, nil error
		err = errNilResponse
	}
	req := c.req
	refused := !c.sent && errors.Is(err, resilience.ErrRejected)
	if t.fallback != nil && req.Context().Err() == nil {
		resp, ferr := t.fallback(req, err)
		switch {
		case ferr == nil && resp != nil:
			t.observeAnswer(resp, c.key, err)
			return resp, nil
		case ferr != nil && !errors.Is(ferr, err):
			if resp != nil {
				discard(resp)
			}
			return nil, &fallback.Error{Err: err, Fallback: ferr}
		}
		if resp != nil { // declined, yet answered: not ours to return
			discard(resp)
		}
	}
	if refused && t.refusal {
		return refusalResponse(req, err), nil
	}
	return nil, err
}

// answerFailure asks the Fallback to answer for a failure response.
func (t *Transport) answerFailure(c *call, se *StatusError) (*http.Response, error) {
	if c.req.Context().Err() != nil {
		return c.resp, nil
	}
	return t.askFallback(c, se)
}

func (t *Transport) observe(kind resilience.EventKind, key string, err error) {
	if t.obs != nil {
		t.obs.Observe(resilience.Event{Kind: kind, Policy: t.name, Key: key, Err: err})
	}
}

// errNilResponse replaces the nil error of a base transport that returned
// neither a response nor an error.
var errNilResponse = errors.New("httpx: base RoundTripper returned a nil response and a nil error")

// retryAfter returns the Retry-After hint of a failure response.
func (t *Transport) retryAfter(resp *http.Response) time.Duration {
	if t.maxRA < 0 {
		return 0
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
	default:
		return 0
	}
	v := resp.Header.Get("Retry-After")
	if v == "" {
		return 0
	}
	d, _ := parseRetryAfter(v, time.Now, t.maxRA)
	return d
}
