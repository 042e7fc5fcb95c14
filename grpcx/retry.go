package grpcx

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/retry"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
)

// pushbackKey is the trailer in which a gRPC server asks its clients to
// wait before retrying (gRFC A6): a whole number of milliseconds, or a
// negative or unparsable value for "do not retry".
const pushbackKey = "grpc-retry-pushback-ms"

// DefaultRetryable is what Config.Retry retries when its Retryable is nil:
// a unary call that failed with code Unavailable, or ResourceExhausted
// when the server sent a pushback (grpc-retry-pushback-ms) saying when to
// come back; never a refusal of this module's policies (an open breaker,
// a full bulkhead), although it has code Unavailable too.
func DefaultRetryable(err error) bool {
	if errors.Is(err, resilience.ErrRejected) {
		return false
	}
	switch codeOf(err) {
	case codes.Unavailable:
		return true
	case codes.ResourceExhausted:
		d, ok := resilience.RetryAfter(err)
		return ok && d > 0
	}
	return false
}

func newRetry(cfg Config) (*retry.Retry, error) {
	rc := *cfg.Retry
	if rc.Name == "" {
		rc.Name = cfg.Name
	}
	if rc.Observer == nil {
		rc.Observer = cfg.Observer
	}
	if rc.Retryable == nil {
		rc.Retryable = DefaultRetryable
	}
	return retry.New(rc)
}

// attempt is one attempt of a unary call under the retry: the breaker,
// bulkhead and timeout, then the invoker. A failure that came with a
// pushback carries it as a resilience.Hinted error, for the retry.
func (c *unaryCall) attempt(ctx context.Context) error {
	c.trailer = nil
	err := c.policy.Execute(ctx, c.run)
	if err == nil {
		return nil
	}
	if d, ok := pushback(c.trailer); ok {
		return &pushbackError{err: err, d: d}
	}
	return err
}

// pushback reads the pushback trailer: its wait, or -1 for "do not retry".
func pushback(md metadata.MD) (time.Duration, bool) {
	v := md.Get(pushbackKey)
	if len(v) == 0 {
		return 0, false
	}
	ms, err := strconv.ParseInt(v[0], 10, 64)
	if err != nil || ms < 0 {
		return -1, true
	}
	if ms == 0 {
		return 0, false // retry with the usual backoff
	}
	if ms > int64(time.Hour/time.Millisecond) {
		ms = int64(time.Hour / time.Millisecond)
	}
	return time.Duration(ms) * time.Millisecond, true
}

// A pushbackError is a failed attempt's error with the server's pushback.
// It is unwrapped before the caller sees the error.
type pushbackError struct {
	err error
	d   time.Duration
}

func (e *pushbackError) Error() string             { return e.err.Error() }
func (e *pushbackError) Unwrap() error             { return e.err }
func (e *pushbackError) RetryAfter() time.Duration { return e.d }

// withoutPushback returns the error of the attempt under a pushbackError.
func withoutPushback(err error) error {
	if pe, ok := err.(*pushbackError); ok {
		return pe.err
	}
	return err
}

// trailerOpts returns opts with one more option that records the call's
// trailer in c.trailer.
func (c *unaryCall) trailerOpts() []grpc.CallOption {
	return append(c.opts[:len(c.opts):len(c.opts)], grpc.Trailer(&c.trailer))
}
