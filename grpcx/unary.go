package grpcx

import (
	"context"
	"errors"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/fallback"
	"google.golang.org/grpc"
)

// UnaryClientInterceptor returns the interceptor for unary calls. For each
// call it takes the key of the method, and runs the call through that key's
// breaker, then the bulkhead, then the timeout:
//
//   - a refusal (breaker open, out of probes, bulkhead full) returns a
//     *RejectedError, with code Unavailable, without calling the server;
//   - the call's context gets the earlier of the caller's deadline and
//     Config.Timeout, which gRPC sends to the server;
//   - the breaker records the call's outcome, as Config.Classifier says;
//   - a failed or refused call is offered to Config.UnaryFallback, unless
//     the caller's own context is done.
//
// A caller whose context is cancelled while it waits for a bulkhead slot
// gets an error with code Canceled (or DeadlineExceeded) that matches the
// context's error. A panic in the invoker (or an interceptor after this
// one) reaches the caller unchanged, after the slot and probe are given
// back.
func (ic *Interceptors) UnaryClientInterceptor() grpc.UnaryClientInterceptor {
	return ic.unary
}

func (ic *Interceptors) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	key := ic.key(method)
	b := ic.breakers.Get(key)
	call := func(ctx context.Context) error { return invoker(ctx, method, req, reply, cc, opts...) }
	var err error
	if inner := ic.lanes.get(key).inner; inner != nil {
		err = b.Wrap(inner).Execute(ctx, call)
	} else {
		err = b.Execute(ctx, call)
	}
	if err == nil {
		return nil
	}
	err = toCallerError(key, err)
	if ic.fallback == nil || callerGaveUp(ctx) {
		return err
	}
	return ic.fallBack(ctx, key, method, req, reply, err)
}

// fallBack asks Config.UnaryFallback to answer err, as fallback.Do does.
func (ic *Interceptors) fallBack(ctx context.Context, key, method string, req, reply any, err error) error {
	ferr := ic.fallback(ctx, method, req, reply, err)
	switch {
	case ferr == nil:
		if ic.obs != nil {
			ic.obs.Observe(resilience.Event{Kind: resilience.EventFallback, Policy: ic.name, Key: key, Err: err})
		}
		return nil
	case errors.Is(ferr, err):
		return ferr // declined
	}
	return &fallback.Error{Err: err, Fallback: ferr}
}

// callerGaveUp reports whether ctx is done, or its deadline has passed even
// if its timer has not fired yet (a server that got the same deadline may
// answer DeadlineExceeded first).
func callerGaveUp(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}
