package grpcx

import (
	"context"
	"fmt"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/hedge"
	"github.com/go-resilience/resilience/retry"
)

// Config configures the Interceptors. The zero value is a valid
// configuration: a breaker per method with the breaker package's defaults
// (it opens after 5 consecutive failures and probes again after 30s), no
// bulkhead, no timeout of its own, no fallback.
//
// A Config is read once by New; changing it afterwards has no effect.
type Config struct {
	// Name names the policies in errors and Events; it is the default of
	// Breaker.Name and Bulkhead.Name when they are empty, and the Name of the
	// timeout. Zero: "grpcx".
	Name string

	// Key maps a full method name ("/package.Service/Method") to the key
	// that picks its breaker (and its bulkhead with BulkheadPerKey). Return
	// the same key for methods that share a fate: the service name, say, or
	// a constant for the whole connection. It is called once per call, on
	// the caller's goroutine; it must be fast and safe for concurrent use.
	// Zero: the full method name, a breaker per method.
	Key func(method string) string

	// Breaker configures the breaker of each key: every key gets its own,
	// made on first use, all in one breaker.Set (see Interceptors.Breakers),
	// which keeps at most Breaker.MaxKeys of them (see breaker.Set for what
	// happens beyond). Breaker.Name and Breaker.Observer default to Name and
	// Observer, and Breaker.Classifier to Classifier. Zero: the breaker
	// package's defaults.
	Breaker breaker.KeyedConfig

	// Classifier says what a call's error tells about the server: a
	// failure (the breaker counts it), a success, or nothing (ignored). The
	// caller's own cancellation or deadline, and refusals of this library,
	// are always ignored. Set it or Breaker.Classifier, not both. Zero:
	// Classify, which goes by the status code. A stream is classified by
	// the error that kept it from starting or by its final status.
	Classifier resilience.Classifier

	// Bulkhead bounds how many calls (unary calls, and streams until they
	// end) run at once, inside the breaker, so that a full bulkhead is not
	// a failure of the server. Bulkhead.Name and Bulkhead.Observer default
	// to Name and Observer. Zero MaxConcurrent: no bulkhead (and MaxWait
	// must be zero too).
	Bulkhead bulkhead.Config

	// BulkheadPerKey gives each key a bulkhead of its own, of size
	// Bulkhead.MaxConcurrent, so that one slow method cannot take the slots
	// of the others. At most Breaker.MaxKeys (zero: 1024) per-key bulkheads
	// are made; calls with further keys share one more. Each per-key
	// bulkhead reports Events with Key set. Zero: false, one bulkhead for
	// every call of the connection.
	BulkheadPerKey bool

	// Timeout bounds each unary call: the call's context gets the earlier
	// of the caller's deadline and Timeout from now, and gRPC sends that
	// deadline to the server. When it is the policy's deadline that
	// passes, the call's error matches timeout.ErrTimeout and
	// context.DeadlineExceeded and has code DeadlineExceeded. Zero: no
	// deadline of the policy's own; negative: an error.
	Timeout time.Duration

	// StreamTimeout bounds the whole life of each stream, from its start
	// until its last message, the same way (gRPC has one deadline per
	// call, and it covers the whole stream). Long-lived streams, such as a
	// watch, want zero here. Zero: no deadline of the policy's own;
	// negative: an error.
	StreamTimeout time.Duration

	// UnaryFallback, when set, is asked to answer a unary call that
	// failed or was refused, unless the caller's own context is done. It
	// gets the error the caller would get (a *RejectedError for a refusal,
	// a status error otherwise) and the call's reply, which it may fill.
	// It returns nil to have the call succeed with the reply it filled, err
	// itself (or an error wrapping it) to decline, or another error to say
	// it failed, which the caller gets as a *fallback.Error holding both
	// errors (its status code is err's). It runs on the caller's goroutine
	// and must be safe for concurrent use. Zero: no fallback.
	UnaryFallback func(ctx context.Context, method string, req, reply any, err error) error

	// Retry, when set, sends a failed unary call again under a
	// retry.Retry made from it: by default (Retry.Retryable nil,
	// DefaultRetryable) after code Unavailable, and after
	// ResourceExhausted only when the server sent a pushback
	// (grpc-retry-pushback-ms) saying when; never after a refusal of the
	// breaker or bulkhead, nor once the caller's deadline has passed or
	// cannot fit another attempt. The retry is the outermost layer: each
	// attempt passes the breaker and the bulkhead again and gets its own
	// Timeout. A pushback sets the delay before the next attempt; a
	// negative one ends the retries, as gRFC A6 says. Streams are never
	// retried: their messages cannot be replayed. Do not stack this with
	// gRPC's own retries (a retryPolicy in the service config):
	// DialOptions disables those when Retry is set; a connection that
	// installs the interceptors itself should dial with
	// grpc.WithDisableRetry(). Retry.Name zero: Name. Retry.Observer nil:
	// Observer. Nil: calls are not retried.
	Retry *retry.Config

	// Hedge, when set, hedges unary calls under a hedge.Hedge made from
	// it, as gRPC's hedgingPolicy would (grpc-go implements none):
	// Hedge.Delay is its hedgingDelay (zero: a percentile of recent
	// latencies), Hedge.MaxHedges+1 its maxAttempts, and the errors
	// Hedge.Fatal calls not fatal its nonFatalStatusCodes (nil Fatal:
	// HedgeFatal). Each attempt passes the breaker and the bulkhead and
	// gets its own Timeout; the first good answer wins and the other
	// attempts are cancelled. The first attempt fills the caller's reply,
	// a hedge a fresh message that is copied into it if it wins: replies
	// must be proto.Message values (others are sent once). Only hedge
	// methods that may run twice. Streams are never hedged. With Retry
	// too, the retry is outside: each of its attempts is hedged, and
	// retried when every copy failed (a hedged attempt reads no pushback
	// trailer). Hedge.Name zero: Name. Hedge.Observer nil: Observer. Nil:
	// calls are not hedged.
	Hedge *hedge.Config

	// Observer is told what the policies do: the breakers' and the
	// bulkheads' Events, an EventTimeout when a unary call outlives Timeout
	// or a stream StreamTimeout, and an EventFallback each time
	// UnaryFallback answers. Events of a key carry it in Event.Key (those
	// of a bulkhead shared by every key have none). It is called on the
	// goroutine of the call, or of gRPC ending a stream. Zero: nothing is
	// reported.
	Observer resilience.Observer
}

// defaultName is the Name of a Config without one.
const defaultName = "grpcx"

// validate checks cfg and applies the defaults that the policies' own
// configs take from it.
func (cfg *Config) validate() error {
	bad := func(field, rule string, got any) error {
		return fmt.Errorf("grpcx: Config.%s must be %s, got %v", field, rule, got)
	}
	switch {
	case cfg.Timeout < 0:
		return bad("Timeout", "positive (or zero: none)", cfg.Timeout)
	case cfg.StreamTimeout < 0:
		return bad("StreamTimeout", "positive (or zero: none)", cfg.StreamTimeout)
	case cfg.Classifier != nil && cfg.Breaker.Classifier != nil:
		return fmt.Errorf("grpcx: set Config.Classifier or Config.Breaker.Classifier, not both")
	case cfg.Bulkhead.MaxConcurrent == 0 && cfg.Bulkhead.MaxWait != 0:
		return bad("Bulkhead.MaxWait", "zero when Config.Bulkhead.MaxConcurrent is zero (no bulkhead)", cfg.Bulkhead.MaxWait)
	case cfg.Breaker.MaxKeys < 0:
		return bad("Breaker.MaxKeys", "positive (or zero: 1024)", cfg.Breaker.MaxKeys)
	}
	if cfg.Name == "" {
		cfg.Name = defaultName
	}
	if cfg.Breaker.Name == "" {
		cfg.Breaker.Name = cfg.Name
	}
	if cfg.Breaker.Observer == nil {
		cfg.Breaker.Observer = cfg.Observer
	}
	if cfg.Breaker.Classifier == nil {
		cfg.Breaker.Classifier = cfg.Classifier
		if cfg.Breaker.Classifier == nil {
			cfg.Breaker.Classifier = Classify
		}
	}
	if cfg.Bulkhead.Name == "" {
		cfg.Bulkhead.Name = cfg.Name
	}
	if cfg.Bulkhead.Observer == nil {
		cfg.Bulkhead.Observer = cfg.Observer
	}
	if cfg.Key == nil {
		cfg.Key = fullMethod
	}
	return nil
}

func fullMethod(method string) string { return method }
