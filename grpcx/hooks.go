package grpcx

import (
	"context"
	"errors"

	"github.com/go-resilience/resilience/bulkhead"
)

// errHookPanicked is the outcome recorded for a stream whose end was cut
// short by a panicking hook (an Observer): a failure, as a panic in the
// call is.
var errHookPanicked = errors.New("grpcx: a hook panicked")

// acquire takes a slot of bh for a stream the breaker let through (done is
// its breaker's). When the bulkhead's Observer panics (the bulkhead gives
// its slot back), the breaker is told of a failure, so that the stream's
// half-open probe is not lost, and the panic goes on.
func acquire(ctx context.Context, bh *bulkhead.Bulkhead, done func(error)) error {
	returned := false
	defer func() {
		if !returned {
			done(errHookPanicked)
		}
	}()
	err := bh.Acquire(ctx)
	returned = true
	return err
}
