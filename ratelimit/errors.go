package ratelimit

import (
	"strconv"
	"time"

	"github.com/go-resilience/resilience"
)

// ErrLimited is matched, with errors.Is, by the error of a call a Limiter
// refused: no token was free, and none would be within Config.MaxWait (or
// at once, when MaxWait is zero). The error also matches
// resilience.ErrRejected and implements resilience.Hinted: its RetryAfter
// is the wait for the limiter's next token.
//
// ErrLimited itself gives no hint (its RetryAfter is zero); the error a
// Limiter returns is a value of its own, made once in New, so a refusal
// allocates nothing.
var ErrLimited error = &limitedError{msg: "ratelimit: limited"}

// limitedError is the refusal of one Limiter (or ErrLimited itself, with l
// nil).
type limitedError struct {
	msg string
	l   *Limiter
}

func (e *limitedError) Error() string { return e.msg }

// Is reports whether target is ErrLimited or resilience.ErrRejected.
func (e *limitedError) Is(target error) bool {
	return target == ErrLimited || target == resilience.ErrRejected
}

// RetryAfter returns how long from now until the limiter has a token free:
// it is read from the limiter when called, not when the call was refused,
// so it is exact however late it is asked. It is never zero for a
// limiter's refusal (a token free now gives one nanosecond), so
// resilience.RetryAfter always reports a hint; for ErrLimited itself it is
// zero: no hint.
func (e *limitedError) RetryAfter() time.Duration {
	if e.l == nil {
		return 0
	}
	return e.l.nextToken(time.Now())
}

// newLimitedError returns the refusal error of l.
func newLimitedError(l *Limiter, name string) error {
	msg := "ratelimit: limited"
	if name != "" {
		msg = "ratelimit " + strconv.Quote(name) + ": limited"
	}
	return &limitedError{msg: msg, l: l}
}
