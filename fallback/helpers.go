package fallback

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-resilience/resilience"
)

// Value answers every error with v.
func Value[T any](v T) Func[T] {
	return func(context.Context, error) (T, error) { return v, nil }
}

// Call fails over to another call: it answers every error with what fn
// returns, such as a read from a replica or a second region. An error from
// fn is the fallback's own failure. Call(nil) returns a Func that fails
// with an error matching resilience.ErrNilFunc each time it is asked.
func Call[T any](fn func(context.Context) (T, error)) Func[T] {
	if fn == nil {
		return failNil[T](errNilCall)
	}
	return func(ctx context.Context, _ error) (T, error) { return fn(ctx) }
}

// When answers with f only the errors that match reports true for, and
// declines the others. When match or f is nil, it returns a Func that
// fails with an error matching resilience.ErrNilFunc each time it is asked,
// whatever the error.
func When[T any](match func(error) bool, f Func[T]) Func[T] {
	switch {
	case match == nil:
		return failNil[T](errNilMatch)
	case f == nil:
		return failNil[T](errNilWhen)
	}
	return func(ctx context.Context, err error) (T, error) {
		if !match(err) {
			var zero T
			return zero, err
		}
		return f(ctx, err)
	}
}

// OnRejected answers with f only the library's fast refusals, the errors
// matching resilience.ErrRejected (breaker open, bulkhead full): the call
// never ran, so a substitute cannot hide a failure the dependency had.
func OnRejected[T any](f Func[T]) Func[T] {
	return When(isRejected, f)
}

// OnTimeout answers with f only errors matching context.DeadlineExceeded,
// which every timeout of this library matches.
func OnTimeout[T any](f Func[T]) Func[T] {
	return When(isTimeout, f)
}

func isRejected(err error) bool { return errors.Is(err, resilience.ErrRejected) }

func isTimeout(err error) bool { return errors.Is(err, context.DeadlineExceeded) }

// Observe reports to o an EventFallback, with name as its Policy and the
// answered error as its Err, each time f answers (returns a nil error).
// A nil o returns f itself. A nil f with a non-nil o returns a Func that
// fails with an error matching resilience.ErrNilFunc each time it is asked.
func Observe[T any](o resilience.Observer, name string, f Func[T]) Func[T] {
	if o == nil {
		return f
	}
	if f == nil {
		return failNil[T](errNilObserve)
	}
	return func(ctx context.Context, err error) (T, error) {
		v, ferr := f(ctx, err)
		if ferr == nil {
			o.Observe(resilience.Event{Kind: resilience.EventFallback, Policy: name, Err: err})
		}
		return v, ferr
	}
}

// Errors of the helpers given a nil func: programming errors, matching
// resilience.ErrNilFunc and resilience.ErrMisuse.
var (
	errNilCall    = fmt.Errorf("fallback: Call given a nil fn: %w", resilience.ErrNilFunc)
	errNilMatch   = fmt.Errorf("fallback: When given a nil match: %w", resilience.ErrNilFunc)
	errNilWhen    = fmt.Errorf("fallback: When given a nil Func: %w", resilience.ErrNilFunc)
	errNilObserve = fmt.Errorf("fallback: Observe given a nil Func: %w", resilience.ErrNilFunc)
)

// failNil returns a Func that always fails with err.
func failNil[T any](err error) Func[T] {
	return func(context.Context, error) (T, error) {
		var zero T
		return zero, err
	}
}
