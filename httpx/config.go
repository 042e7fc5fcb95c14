package httpx

import (
	"fmt"
	"net/http"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/hedge"
	"github.com/go-resilience/resilience/retry"
)

// Config configures a Transport. The zero value is a valid configuration:
// a breaker per host, with the breaker package's defaults, over
// http.DefaultTransport, with no bulkhead and no timeout.
type Config struct {
	// Base sends the requests the Transport lets through.
	// Nil: http.DefaultTransport.
	Base http.RoundTripper

	// Name names the Transport in the Events it reports itself (Event.Policy
	// of EventTimeout and EventFallback), and is the name of its breakers
	// and bulkheads when Breaker.Name or Bulkhead.Name is empty.
	// Zero: "httpx".
	Name string

	// Key maps a request to the key that picks its breaker (and its
	// bulkhead, with BulkheadPerKey). It is called once per request, on the
	// caller's goroutine; it must be fast, safe for concurrent use, and
	// must not read the request body. Nil: HostKey, one breaker per scheme,
	// host and port.
	Key func(*http.Request) string

	// Breaker configures the breakers, one per key, kept in a breaker.Set:
	// its zero value is the breaker package's defaults (5 consecutive
	// failures trip it, open 30s, one probe), for at most 1024 keys.
	// Breaker.Name zero: Name. Breaker.Observer nil: Observer.
	// Breaker.Classifier must be nil: responses and errors are classified
	// by Classify. Breaker.MaxKeys also bounds the per-key bulkheads.
	Breaker breaker.KeyedConfig

	// DisableBreaker turns the breakers off: no request is refused by a
	// breaker and Breakers returns nil. Breaker must then be zero, but for
	// Breaker.MaxKeys (which still bounds per-key bulkheads): a setting
	// that would do nothing is an error.
	DisableBreaker bool

	// Bulkhead bounds how many requests are in flight at once. A request
	// holds its slot from RoundTrip until its response body is read to the
	// end or closed (or, with a Timeout or a cancellable request context,
	// until that context ends). Zero Bulkhead.MaxConcurrent: no bulkhead
	// (Bulkhead.MaxWait and BulkheadPerKey must then be zero).
	// Bulkhead.Name zero: Name. Bulkhead.Observer nil: Observer.
	Bulkhead bulkhead.Config

	// BulkheadPerKey gives every key its own bulkhead, each configured by
	// Bulkhead, instead of one bulkhead shared by all requests. The
	// Transport keeps the bulkheads of at most Breaker.MaxKeys keys (zero:
	// 1024) beyond those in use; idle ones are dropped to make room.
	BulkheadPerKey bool

	// Timeout bounds each request from RoundTrip until its response body is
	// read to the end or closed: the request's context gets this deadline
	// (context.WithTimeoutCause, with a cause matching timeout.ErrTimeout)
	// and is cancelled when the body is done, never when RoundTrip returns.
	// A request whose own context has an earlier deadline keeps it. Errors
	// caused by this deadline match timeout.ErrTimeout and
	// context.DeadlineExceeded, and name the Transport
	// (`timeout "httpx": deadline exceeded: ...`). With Retry, each attempt
	// gets its own Timeout. Zero: no timeout. Negative: an error.
	Timeout time.Duration

	// Classify tells whether a request went well: it is called with the
	// response and a nil error, or with a nil response and the base
	// transport's error, once per request the breaker let through, when
	// the response headers arrive. The breaker counts Failure, and a
	// Fallback is asked to answer for a Failure response. Caller
	// cancellation and the library's own refusals are always Ignored,
	// whatever Classify says. It must not read the body, must be fast and
	// safe for concurrent use. Nil: DefaultClassify (5xx, 429 and transport
	// errors are failures).
	Classify func(*http.Response, error) resilience.Outcome

	// MaxRetryAfter caps the Retry-After of a 429 or 503 response classified
	// as a Failure, which the breaker then uses as its next open duration
	// (see StatusError.RetryAfter), so a broken or hostile server cannot
	// park the breaker open for a day. Zero: 5 minutes. Negative:
	// Retry-After is ignored.
	MaxRetryAfter time.Duration

	// RefusalResponse makes a request refused by the Transport's own
	// breaker or bulkhead get a synthesized "503 Service Unavailable"
	// response, with a Retry-After header (whole seconds, rounded up) when
	// the breaker knows when it will probe again, instead of an error
	// matching resilience.ErrRejected. The response has an empty body and
	// its Request is the caller's request. False: the error.
	RefusalResponse bool

	// Fallback, when set, is asked to answer for a request that got no
	// good answer: one refused (err matches resilience.ErrRejected), one
	// that failed with an error (err is the base transport's, or the
	// Timeout's), or one whose response was classified a Failure (err is
	// a *StatusError). It is never asked when the request's own context is
	// done. It answers by returning a response and a nil error; the
	// Transport then drains (up to 4 KiB) and closes the response it
	// replaces, if any. Before it is asked about a failure response, the
	// request's bulkhead slot is given back, so that a Fallback that fails
	// over through this same Transport is not refused or kept waiting by
	// the response it replaces (a response it declines is then read
	// outside the bulkhead); when it panics, that response is closed and
	// the panic goes on. It declines by returning a nil response with a nil
	// error or with an error matching err: the request then ends as it
	// would have without a Fallback. Any other error is its own failure:
	// for a request that has a response, that response is returned and
	// the error dropped; otherwise RoundTrip returns a *fallback.Error with
	// both errors. By the time it is called, req.Body (if any) has been
	// consumed or closed: a Fallback that sends req elsewhere must use
	// req.GetBody. It is called on the caller's goroutine and must be safe
	// for concurrent use. Nil: no fallback.
	Fallback func(req *http.Request, err error) (*http.Response, error)

	// Retry, when set, sends a failed request again under a retry.Retry
	// made from it: only requests that may be sent twice (see Retryable:
	// an idempotent method or an Idempotency-Key header, and a body that
	// GetBody can give again), and only after a transport error, a
	// timeout or a response classified as a Failure (the refusals of the
	// Transport's own breaker and bulkhead are not retried by default: an
	// open breaker stops the retries at once). Each attempt passes the
	// breaker and the bulkhead again and gets its own Timeout; the whole
	// request is bounded by its context's deadline and Retry.MaxDuration.
	// A failed response is drained (as Close drains a failure response:
	// a few KiB, for a few milliseconds) and closed before the next
	// attempt, so that its connection is reused;
	// the last attempt's response is returned as it is. A Retry-After on a
	// 429 or 503 sets the delay before the next attempt. Retry.Name zero:
	// Name. Retry.Observer nil: Observer. Nil: a request is sent once.
	Retry *retry.Config

	// Hedge, when set, sends a slow request again under a hedge.Hedge
	// made from it, and keeps the first good response: only requests that
	// may be sent twice (see Retryable), the copies with a body from
	// req.GetBody. Each attempt passes the breaker and the bulkhead and
	// gets its own Timeout. A response that is not a Failure (as Classify
	// says) answers at once, whatever its status; after a Failure, the
	// other attempts may still answer; when all fail, the first attempt's
	// response or error is returned. The losers' requests are cancelled
	// and their responses closed (their contexts done, nothing more is
	// read from them), which gives back their bulkhead slots. A refusal
	// of the breaker or bulkhead ends the request, as hedge.DefaultFatal
	// says. With Retry too, the retry is outside: each
	// of its attempts is hedged, and retried when every copy failed.
	// Hedge.Name zero: Name. Hedge.Observer nil: Observer. Nil: no
	// hedging.
	Hedge *hedge.Config

	// Observer is told of the Transport's own events (EventTimeout when
	// Timeout cut a request, EventFallback when Fallback answered, with Key
	// the request's key), and of the breakers' and bulkheads' events when
	// their own Observer is nil. Per-key bulkheads report their key in
	// Event.Key. Nil: nothing is reported.
	Observer resilience.Observer

	// Inject injects faults on purpose into the requests the breaker and
	// bulkhead let through, in front of Base and within Timeout, so that
	// the Transport's breaker, timeout and Fallback react to them as to
	// real ones (see InjectConfig). Zero: none.
	Inject InjectConfig
}

const defaultMaxKeys = 1024

func (cfg *Config) validate() error {
	b := &cfg.Bulkhead
	switch {
	case cfg.Timeout < 0:
		return fmt.Errorf("httpx: Config.Timeout must be >= 0, got %v", cfg.Timeout)
	case cfg.Breaker.Classifier != nil:
		return fmt.Errorf("httpx: Config.Breaker.Classifier must be nil; classify with Config.Classify")
	case cfg.Breaker.MaxKeys < 0:
		return fmt.Errorf("httpx: Config.Breaker.MaxKeys must be >= 0, got %d", cfg.Breaker.MaxKeys)
	case b.MaxConcurrent == 0 && b.MaxWait != 0:
		return fmt.Errorf("httpx: Config.Bulkhead.MaxWait is %v but Config.Bulkhead.MaxConcurrent is zero (no bulkhead)", b.MaxWait)
	case b.MaxConcurrent == 0 && cfg.BulkheadPerKey:
		return fmt.Errorf("httpx: Config.BulkheadPerKey is set but Config.Bulkhead.MaxConcurrent is zero (no bulkhead)")
	}
	if err := checkDisabledBreaker(cfg); err != nil {
		return err
	}
	return cfg.Inject.check("Config.Inject")
}
