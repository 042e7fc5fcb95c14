package grpcx

import (
	"errors"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A RejectedError is what a call refused by the interceptors returns: the
// breaker for its key is open or out of half-open probes, or its bulkhead is
// full. The call never reached the server.
//
// It is a gRPC status error and a Go error chain at once:
// status.Code(err) is codes.Unavailable, and errors.Is(err,
// resilience.ErrRejected) is true, as is errors.Is with the refusing
// package's own sentinel (breaker.ErrOpen, breaker.ErrTooManyProbes,
// bulkhead.ErrFull). Use errors.As to get the *RejectedError itself, and
// from it RetryAfter.
//
// A refused call allocates one RejectedError; its message and status are
// built only when asked for.
type RejectedError struct {
	// Err is the policy's refusal, such as a *breaker.RejectedError or
	// bulkhead.ErrFull.
	Err error
	// Key is the key of the refused call (see Config.Key).
	Key string

	// retryAfter is Err's hint when the refusal was made, so that the
	// message does not change each time it is read.
	retryAfter time.Duration
}

// retryAfterer is how a refusal tells when to try again
// (*breaker.RejectedError has it).
type retryAfterer interface {
	error
	RetryAfter() time.Duration
}

func newRejectedError(key string, err error) *RejectedError {
	e := &RejectedError{Err: err, Key: key}
	if ra, ok := errors.AsType[retryAfterer](err); ok {
		e.retryAfter = ra.RetryAfter()
	}
	return e
}

// Error says which key was refused, why, and when it is worth trying again:
// `grpcx: breaker: open (name "grpcx", key "/grpc.health.v1.Health/Check");
// retry after 1.5s`, or `grpcx: /pkg.Service/Method: bulkhead: full`.
func (e *RejectedError) Error() string {
	s := "grpcx: "
	if e.Key != "" && !namesKey(e.Err, e.Key) {
		s += e.Key + ": "
	}
	if e.Err != nil {
		s += e.Err.Error()
	} else {
		s += resilience.ErrRejected.Error()
	}
	if d := e.RetryAfter(); d > 0 {
		s += "; retry after " + d.Round(time.Millisecond).String()
	}
	return s
}

// namesKey reports whether err's message names key already, as a
// breaker's refusal does.
func namesKey(err error, key string) bool {
	be, ok := errors.AsType[*breaker.RejectedError](err)
	return ok && be.Key == key
}

// Unwrap returns Err, so that errors.Is and errors.As see the refusal.
func (e *RejectedError) Unwrap() error { return e.Err }

// GRPCStatus returns a status with code Unavailable and Error as its
// message, which is what status.FromError, status.Code and gRPC itself use.
func (e *RejectedError) GRPCStatus() *status.Status {
	return status.New(codes.Unavailable, e.Error())
}

// RetryAfter returns how long after the refusal the refusing policy
// expected to let calls through again (a breaker's remaining open time), or
// zero when it did not say (a full bulkhead).
func (e *RejectedError) RetryAfter() time.Duration {
	if e.retryAfter > 0 {
		return e.retryAfter
	}
	if ra, ok := errors.AsType[retryAfterer](e.Err); ok {
		return ra.RetryAfter()
	}
	return 0
}

// contextError is the caller's own context error (seen while waiting for a
// bulkhead slot) as gRPC reports it: codes.Canceled or
// codes.DeadlineExceeded, with the context error still matched by errors.Is.
type contextError struct{ err error }

func (e contextError) Error() string { return e.err.Error() }

func (e contextError) Unwrap() error { return e.err }

func (e contextError) GRPCStatus() *status.Status { return status.FromContextError(e.err) }

// toCallerError turns what the policies returned into what a gRPC caller
// expects: refusals become *RejectedError, bare context errors get their
// status code, and everything else (the server's status, a timeout wrapping
// it) is returned unchanged.
func toCallerError(key string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, resilience.ErrRejected):
		if _, ok := errors.AsType[*RejectedError](err); ok {
			return err // already ours (nested interceptors)
		}
		return newRejectedError(key, err)
	}
	if _, ok := errors.AsType[statusError](err); ok {
		return err
	}
	if codeOf(err) != codes.Unknown {
		return contextError{err}
	}
	return err
}
