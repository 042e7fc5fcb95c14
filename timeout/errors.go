package timeout

import (
	"context"
	"strconv"

	"github.com/go-resilience/resilience"
)

// ErrTimeout is matched, with errors.Is, by the error of a call that
// outlived the policy's own deadline (Config.Timeout). It also matches
// context.DeadlineExceeded, and it is the cause (context.Cause) of the
// context the call gets when that deadline passes. A policy with a Name
// returns its own error values, naming it, that match ErrTimeout.
//
// It is not a refusal: the call ran and was too slow, which a breaker counts
// as a failure of the dependency.
var ErrTimeout error = &timeoutError{msg: "timeout: deadline exceeded"}

// ErrTooManyAbandoned is matched, with errors.Is, by the error of a call
// refused because Config.MaxAbandoned calls are already abandoned and still
// running. It also matches resilience.ErrRejected: the call was never
// started.
var ErrTooManyAbandoned error = &tooManyError{msg: "timeout: too many abandoned calls"}

// timeoutError is a timeout of one policy (or ErrTimeout itself), with the
// callee's own error, if any, reachable through Unwrap.
type timeoutError struct {
	msg string
	err error
}

func (e *timeoutError) Error() string {
	if e.err == nil {
		return e.msg
	}
	return e.msg + ": " + e.err.Error()
}

// Is reports whether target is ErrTimeout or context.DeadlineExceeded.
func (e *timeoutError) Is(target error) bool {
	return target == ErrTimeout || target == context.DeadlineExceeded
}

// Unwrap returns the callee's error.
func (e *timeoutError) Unwrap() error { return e.err }

// Timeout reports true, as context.DeadlineExceeded and net.Error do.
func (e *timeoutError) Timeout() bool { return true }

// tooManyError is the refusal of one policy (or ErrTooManyAbandoned).
type tooManyError struct{ msg string }

func (e *tooManyError) Error() string { return e.msg }

// Is reports whether target is ErrTooManyAbandoned or resilience.ErrRejected.
func (e *tooManyError) Is(target error) bool {
	return target == ErrTooManyAbandoned || target == resilience.ErrRejected
}

// prefix is how errors of the policy called name begin.
func prefix(name string) string {
	if name == "" {
		return "timeout: "
	}
	return "timeout " + strconv.Quote(name) + ": "
}
