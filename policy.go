package resilience

import (
	"context"
	"errors"
)

// A Policy guards calls to a dependency. Execute runs call, or refuses to,
// and returns call's error or the policy's own.
//
// Execute passes call a context derived from ctx (the policy may add a
// deadline) and never calls it after Execute has returned, except where a
// policy documents otherwise (timeout's opt-in abandon mode). A panic in call
// propagates to the caller of Execute unchanged, after the policy has given
// back whatever it held (a bulkhead slot, a half-open probe).
//
// Implementations are safe for concurrent use.
type Policy interface {
	Execute(ctx context.Context, call func(context.Context) error) error
}

// PolicyFunc adapts an ordinary function to a Policy, the way
// http.HandlerFunc adapts a function to a Handler:
//
//	logging := resilience.PolicyFunc(func(ctx context.Context, call func(context.Context) error) error {
//		err := call(ctx)
//		log.Printf("call: %v", err)
//		return err
//	})
//
// The function must pass call a context derived from the one it is given;
// Do depends on it.
type PolicyFunc func(ctx context.Context, call func(context.Context) error) error

// Execute calls f(ctx, call). A nil f returns an error matching
// ErrNilPolicy (and ErrMisuse) without running call.
func (f PolicyFunc) Execute(ctx context.Context, call func(context.Context) error) error {
	if f == nil {
		return ErrNilPolicy
	}
	return f(ctx, call)
}

// ErrRejected is matched, with errors.Is, by every fast refusal of the
// library's policies: a breaker that is open or has all its half-open probes
// out, a full bulkhead, a timeout policy at its cap of abandoned calls. A
// refused call was never started. Adapters turn it into HTTP 503 or gRPC
// Unavailable. Breakers never count it as a failure of the dependency: it is
// local overload, not a sign that the dependency is down.
var ErrRejected = errors.New("resilience: rejected")

// ErrNilPolicy is matched by the error of a call made through a nil policy:
// Do with a nil Policy, Chain given a nil element, a method of a nil
// *breaker.Breaker, *bulkhead.Bulkhead or *timeout.Timeout. The call is not
// run. It matches ErrMisuse: no fallback answers it, no breaker counts it.
var ErrNilPolicy error = &misuseError{msg: "resilience: nil policy"}
