package resilience

import (
	"errors"
	"time"
)

// A Hinted error knows when it is worth trying again: an open breaker's
// remaining open time, a rate limiter's wait for its next token, an HTTP
// response's Retry-After, a gRPC server's grpc-retry-pushback-ms. It is the
// one way such a hint travels through the library: retry and hedge read it,
// the server-side adapters write it, and nothing parses it twice.
//
// RetryAfter returns the wait. Zero means the error gives no hint; a
// negative value means the dependency asked not to be retried at all (a
// negative gRPC pushback).
type Hinted interface {
	error
	RetryAfter() time.Duration
}

// RetryAfter returns the hint of the first error in err's tree (as
// errors.As walks it) that implements Hinted, and whether there was one
// that gave a hint (a non-zero wait). It allocates nothing.
func RetryAfter(err error) (time.Duration, bool) {
	if err == nil {
		return 0, false
	}
	h, ok := errors.AsType[Hinted](err)
	if !ok {
		return 0, false
	}
	d := h.RetryAfter()
	return d, d != 0
}
