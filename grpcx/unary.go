package grpcx

import (
	"context"
	"errors"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/fallback"
	"github.com/go-resilience/resilience/timeout"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
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
//   - with Config.Retry, a failed call is sent again, each attempt
//     through the breaker, the bulkhead and its own timeout;
//   - with Config.Hedge, a slow call is sent again alongside itself, each
//     attempt through the breaker, the bulkhead and its own timeout, and
//     the first good answer wins;
//   - a failed or refused call is offered to Config.UnaryFallback, unless
//     the caller's own context is done.
//
// A caller whose context is cancelled while it waits for a bulkhead slot
// gets an error with code Canceled (or DeadlineExceeded) that matches the
// context's error. A panic in the invoker (or an interceptor after this
// one) reaches the caller unchanged, after the slot and probe are given
// back; so does a panic in a hook (Config.Key, Config.Classifier,
// Config.UnaryFallback, the Observer).
func (ic *Interceptors) UnaryClientInterceptor() grpc.UnaryClientInterceptor {
	return ic.unary
}

func (ic *Interceptors) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	key := ic.key(method)
	b := ic.breakers.Get(key)
	c := ic.calls.Get().(*unaryCall)
	c.method, c.req, c.reply, c.cc, c.invoker, c.opts = method, req, reply, cc, invoker, opts
	var err error
	switch inner := ic.lanes.get(key).inner; {
	case ic.hedge != nil:
		var p resilience.Policy = b
		if inner != nil {
			p = b.Wrap(inner)
		}
		if ic.retry == nil {
			err = ic.unaryHedge(ctx, p, method, req, reply, cc, invoker, opts)
			break
		}
		err = ic.retry.Execute(ctx, func(ctx context.Context) error {
			return ic.unaryHedge(ctx, p, method, req, reply, cc, invoker, opts)
		})
	case ic.retry != nil:
		c.policy, c.retried = b, true
		if inner != nil {
			c.policy = b.Wrap(inner)
		}
		err = withoutPushback(ic.retry.Execute(ctx, c.attemptFn))
	case inner != nil:
		err = b.Wrap(inner).Execute(ctx, c.run)
	default:
		err = b.Execute(ctx, c.run)
	}
	*c = unaryCall{run: c.run, attemptFn: c.attemptFn}
	ic.calls.Put(c)
	if err == nil {
		return nil
	}
	if ic.obs != nil && ic.timed && errors.Is(err, timeout.ErrTimeout) {
		ic.obs.Observe(resilience.Event{Kind: resilience.EventTimeout, Policy: ic.name, Key: key, Err: err})
	}
	err = toCallerError(key, err)
	if ic.fallback == nil || callerGaveUp(ctx) {
		return err
	}
	return ic.fallBack(ctx, key, method, req, reply, err)
}

// A unaryCall is the arguments of one unary call, with run, the call the
// policies run, bound to it once: pooled, so that a call costs no closure.
// The policies never run a call after their Execute has returned (the
// timeout is in its cooperative mode), so a unaryCall is free again then.
type unaryCall struct {
	method     string
	req, reply any
	cc         *grpc.ClientConn
	invoker    grpc.UnaryInvoker
	opts       []grpc.CallOption
	run        func(context.Context) error

	// With Config.Retry: the policies of one attempt, attempt bound to c,
	// and the trailer of the last attempt (for its pushback).
	retried   bool
	policy    resilience.Policy
	attemptFn func(context.Context) error
	trailer   metadata.MD
}

func newUnaryCall() any {
	c := new(unaryCall)
	c.run = c.invoke
	c.attemptFn = c.attempt
	return c
}

func (c *unaryCall) invoke(ctx context.Context) error {
	opts := c.opts
	if c.retried {
		opts = c.trailerOpts()
	}
	err := c.invoker(ctx, c.method, c.req, c.reply, c.cc, opts...)
	if err != nil {
		settle(ctx, err)
	}
	return err
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
