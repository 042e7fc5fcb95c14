package resilience

import (
	"context"
	"fmt"
	"reflect"

	"github.com/go-resilience/resilience/internal/step"
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
// recommended order, outermost first, is retry, breaker, bulkhead, timeout:
// the retry outside the breaker so that an open breaker ends the retries at
// once, the timeout inside so that each attempt gets its own, and the
// breaker outside the bulkhead and timeout so that it sees a hung call (the
// timeout's error) as a failure and a full bulkhead as no failure at all;
// put a fallback around the chain with fallback.Do, so that it answers once
// the retries are over. The one exception is timeout's opt-in abandon mode: a
// bulkhead outside it takes its slot back when the timeout returns, while
// the abandoned call still runs (so more calls run than the bulkhead
// allows); where that matters, put the timeout outside the
// bulkhead, Chain(brk, tmo, bulk), at the cost of counting the wait for a
// slot against the timeout.
//
// Chain composes once and is called many times. The library's own policies
// compose without allocating per call: any policy with a method
// Wrap(next Policy) Policy is composed through it. Any other Policy (a
// PolicyFunc, say) costs one small allocation per call for the closure that
// runs the rest of the chain, unless it is the innermost. A chain made only
// of this module's policies (timeout in abandon mode aside) also lets Do run
// fn without the one small object it otherwise needs per call: through such
// a chain, Do allocates nothing of its own. A Chain among the elements is
// spliced in, as if its own elements had been given.
//
// Chain() runs calls directly; Chain(p) behaves as p.
//
// # Mistakes
//
// Chain finds, when it composes, a nil element (a nil interface, or a nil
// pointer, func or map inside one: what `brk, _ := breaker.New(badConfig)`
// leaves) and an element that was not made by its constructor (a zero
// breaker.Breaker, bulkhead.Bulkhead or timeout.Timeout). Chain returns no
// error, so that it can be used in an expression, and the library never
// panics on its user's input; so the result of such a Chain refuses every
// call, the first one included, with an error that names the element's
// position and matches ErrMisuse (and ErrNilPolicy for a nil one), without
// running it. Found at composition, the mistake costs the calls nothing;
// reported by the first call, it fails the first test or request that uses
// the chain. No fallback answers such an error and no breaker counts it,
// so it cannot be hidden behind a cached value or an open breaker.
//
// Execute of the result, with a nil ctx or a nil call, returns an error
// matching ErrNilContext or ErrNilFunc (both match ErrMisuse) without
// running anything.
//
// The result is safe for concurrent use when its elements are.
func Chain(policies ...Policy) Policy {
	for i, p := range policies {
		if isNil(p) {
			return refuse{&misuseError{msg: fmt.Sprintf("resilience: Chain element %d of %d is nil", i, len(policies)), kind: ErrNilPolicy}}
		}
		if w, ok := p.(wrapper); ok {
			if c, ok := w.Wrap(direct{}).(step.Checker); ok {
				if err := c.Check(); err != nil {
					return refuse{fmt.Errorf("resilience: Chain element %d of %d: %w", i, len(policies), err)}
				}
			}
		}
	}
	policies = flatten(policies)
	if len(policies) == 0 {
		return &steps{Policy: direct{}}
	}
	next := policies[len(policies)-1]
	for i := len(policies) - 2; i >= 0; i-- {
		if w, ok := policies[i].(wrapper); ok {
			next = w.Wrap(next)
		} else {
			next = layer{outer: policies[i], next: next}
		}
	}
	if layers := layersOf(policies); layers != nil {
		return &steps{Policy: next, policies: policies, layers: layers}
	}
	return next
}

// steps is a Chain of this module's policies, which Do runs in two steps
// per policy (see internal/step): Policy is the chain composed for Execute,
// layers the same policies for Do.
type steps struct {
	Policy
	policies []Policy
	layers   []step.Layer
}

// flatten splices the elements of nested Chains into policies.
func flatten(policies []Policy) []Policy {
	n := 0
	for _, p := range policies {
		if s, ok := p.(*steps); ok {
			n += len(s.policies)
		} else {
			n++
		}
	}
	if n == len(policies) {
		return policies
	}
	flat := make([]Policy, 0, n)
	for _, p := range policies {
		if s, ok := p.(*steps); ok {
			flat = append(flat, s.policies...)
		} else {
			flat = append(flat, p)
		}
	}
	return flat
}

// layersOf returns the two-step forms of policies, or nil when one of
// them has none.
func layersOf(policies []Policy) []step.Layer {
	layers := make([]step.Layer, len(policies))
	for i, p := range policies {
		w, ok := p.(wrapper)
		if !ok {
			return nil
		}
		// Wrap's result is the policy's own unexported type; it implements
		// Layer when the policy can run a call in two steps. direct{}, not
		// nil, so that a user's Wrap is never handed nil.
		if layers[i], ok = w.Wrap(direct{}).(step.Layer); !ok {
			return nil
		}
	}
	return layers
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
	if err := misuse(ctx, call); err != nil {
		return err
	}
	next := l.next
	return l.outer.Execute(ctx, func(ctx context.Context) error { return next.Execute(ctx, call) })
}

// direct is the empty chain.
type direct struct{}

func (direct) Execute(ctx context.Context, call func(context.Context) error) error {
	if err := misuse(ctx, call); err != nil {
		return err
	}
	return call(ctx)
}

// misuse returns the error of an Execute given a nil ctx or call, or nil.
func misuse(ctx context.Context, call func(context.Context) error) error {
	switch {
	case ctx == nil:
		return errNilContext
	case call == nil:
		return errNilCall
	}
	return nil
}

var (
	errNilContext error = &misuseError{msg: "resilience: Execute with a nil context", kind: ErrNilContext}
	errNilCall    error = &misuseError{msg: "resilience: Execute with a nil call", kind: ErrNilFunc}
)

// refuse answers every call with err, without running it.
type refuse struct{ err error }

func (r refuse) Execute(context.Context, func(context.Context) error) error { return r.err }
