package resilience

import (
	"context"
	"fmt"
	"reflect"
)

// wrapper is implemented by policies that can run another policy inside
// them without a closure per call: Wrap(next).Execute(ctx, call) behaves as
// p.Execute(ctx, func(ctx) error { return next.Execute(ctx, call) }), but the
// call is handed down as an argument, the way net/http middleware hands down
// the request. Every policy of this module implements it.
type wrapper interface {
	Wrap(next Policy) Policy
}

// Chain composes policies into one; the first is the outermost. The
// recommended order, outermost first, is breaker, bulkhead, timeout, so that
// the breaker sees a hung call (the timeout's error) as a failure and a full
// bulkhead as no failure at all; put a fallback around the chain with
// fallback.Do. The one exception is timeout's opt-in abandon mode: a
// bulkhead outside it takes its slot back when the timeout returns, while
// the abandoned call still runs (up to MaxAbandoned more calls than the
// bulkhead allows); where that matters, put the timeout outside the
// bulkhead, Chain(brk, tmo, bulk), at the cost of counting the wait for a
// slot against the timeout.
//
// Chain composes once and is called many times. The library's own policies
// compose without allocating per call: any policy with a method
// Wrap(next Policy) Policy is composed through it. Any other Policy (a
// PolicyFunc, say) costs one small allocation per call for the closure that
// runs the rest of the chain, unless it is the innermost.
//
// Chain() runs calls directly; Chain(p) is p. A nil element (a nil interface,
// or a nil pointer, func or map inside one) does not panic: every call
// through the chain returns an error matching ErrNilPolicy that names its
// position, without running the call.
//
// The result is safe for concurrent use when its elements are.
func Chain(policies ...Policy) Policy {
	for i, p := range policies {
		if isNil(p) {
			return refuse{fmt.Errorf("%w: Chain element %d of %d", ErrNilPolicy, i, len(policies))}
		}
	}
	if len(policies) == 0 {
		return direct{}
	}
	next := policies[len(policies)-1]
	for i := len(policies) - 2; i >= 0; i-- {
		if w, ok := policies[i].(wrapper); ok {
			next = w.Wrap(next)
		} else {
			next = layer{outer: policies[i], next: next}
		}
	}
	return next
}

func isNil(p Policy) bool {
	if p == nil {
		return true
	}
	switch v := reflect.ValueOf(p); v.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Map, reflect.Chan, reflect.Slice, reflect.Interface:
		return v.IsNil()
	}
	return false
}

// layer runs next inside a policy that cannot wrap: one closure per call.
type layer struct {
	outer, next Policy
}

func (l layer) Execute(ctx context.Context, call func(context.Context) error) error {
	next := l.next
	return l.outer.Execute(ctx, func(ctx context.Context) error { return next.Execute(ctx, call) })
}

// direct is the empty chain.
type direct struct{}

func (direct) Execute(ctx context.Context, call func(context.Context) error) error {
	return call(ctx)
}

// refuse answers every call with err, without running it.
type refuse struct{ err error }

func (r refuse) Execute(context.Context, func(context.Context) error) error { return r.err }
