// Package fallback answers with a substitute when a guarded call fails or
// is refused: a cached value, a default, or a call to somewhere else.
//
// A Func receives the error it is asked to answer and returns a value, or an
// error of its own. Helpers build the common ones and restrict when they
// answer:
//
//	fb := fallback.OnRejected(fallback.Value(cachedPrices)) // only when refused
//	prices, err := fallback.Do(ctx, policy, fetchPrices, fb)
//
// A fallback never answers for a caller who has given up: when the caller's
// own context is done, Do returns the call's error as it is.
//
// A fallback never answers a programming error either: an error matching
// resilience.ErrMisuse (a nil policy, such as the one `brk, _ :=
// breaker.New(badConfig)` leaves; a nil function; a nil context) is
// returned as it is, so that a cached value cannot hide a broken
// configuration. The helpers given a nil func (Call(nil), When(nil, f),
// When(match, nil)) return a Func that fails with an error matching
// resilience.ErrNilFunc whenever it is asked, which Do reports in its
// *Error.
package fallback

import (
	"context"
	"errors"

	"github.com/go-resilience/resilience"
)

// A Func answers for a call that failed with err. It returns the substitute
// result, or an error: the error it was given (or one wrapping it) to
// decline, so that Do returns that error unchanged; any other error to say
// that the fallback itself failed, which Do reports as an *Error.
type Func[T any] func(ctx context.Context, err error) (T, error)

// Do runs fn under p, as resilience.Do does, and asks fb for a substitute
// when that fails.
//
// When fn succeeds, when fb is nil, when ctx itself is done (the caller
// cancelled or its own deadline passed), or when the error matches
// resilience.ErrMisuse (a nil or unmade policy, a nil fn or ctx: a
// programming error, not a failure to answer for), Do returns what
// resilience.Do returned. Otherwise it returns what fb returns, except that when fb fails
// with an error that does not match the call's error, Do returns the call's
// result with an *Error that keeps both errors reachable with errors.Is.
func Do[T any](ctx context.Context, p resilience.Policy, fn func(context.Context) (T, error), fb Func[T]) (T, error) {
	v, err := resilience.Do(ctx, p, fn)
	if err == nil || fb == nil || ctx.Err() != nil || misuse(err) {
		return v, err
	}
	fv, ferr := fb(ctx, err)
	switch {
	case ferr == nil:
		return fv, nil
	case errors.Is(ferr, err):
		return v, ferr // declined
	}
	return v, &Error{Err: err, Fallback: ferr}
}

// An Error reports a call that failed and a fallback that failed too. Both
// errors are reachable with errors.Is and errors.As.
type Error struct {
	// Err is the call's error, the one the fallback was asked to answer.
	Err error
	// Fallback is the fallback's own error.
	Fallback error
}

func (e *Error) Error() string {
	return e.Err.Error() + "; fallback failed: " + e.Fallback.Error()
}

// Unwrap returns both errors.
func (e *Error) Unwrap() []error { return []error{e.Err, e.Fallback} }

// misuse reports whether err is a programming error (resilience.ErrMisuse),
// which no fallback may answer. The library's refusals, what fallbacks
// answer most, say at once that they are not: they match
// resilience.ErrRejected through an Is method of their own, and a
// programming error never matches ErrRejected. That keeps the answer to a
// refusal as fast as it was before this check (errors.Is would unwrap the
// whole chain).
func misuse(err error) bool {
	if r, ok := err.(interface{ Is(error) bool }); ok && r.Is(resilience.ErrRejected) {
		return false
	}
	return errors.Is(err, resilience.ErrMisuse)
}
