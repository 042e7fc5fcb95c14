package resilience

import (
	"context"
	"errors"
	"sync"

	"github.com/go-resilience/resilience/internal/step"
)

// Do runs fn under p and returns fn's result with the error p.Execute
// returned: fn's own error, or the policy's refusal or timeout.
//
// When the policy returns before fn does (timeout's abandon mode), Do returns
// T's zero value and whatever fn later produces is dropped, so the result is
// never written while the caller reads it. When a policy runs fn more than
// once, the result of the last run that returned before Execute did is kept.
// When p is nil Do returns an error matching ErrNilPolicy and does not call
// fn; when ctx is nil, one matching ErrNilContext; when fn is nil, one
// matching ErrNilFunc (all three match ErrMisuse: see there).
//
// Through a Chain of this module's policies, Do allocates nothing of its
// own: it calls fn itself, between the policies' two steps. Through any
// other Policy it allocates one small object per call, and finds fn again
// through the context the policy passes on, so such a policy must call its
// call with a context derived from the one it was given; if it does not, Do
// returns an error and fn is not run.
func Do[T any](ctx context.Context, p Policy, fn func(context.Context) (T, error)) (T, error) {
	if ctx == nil || fn == nil {
		var zero T
		if ctx == nil {
			return zero, errDoNilContext
		}
		return zero, errDoNilFunc
	}
	if s, ok := p.(*steps); ok {
		return doSteps(ctx, s.layers, fn)
	}
	return doAny(ctx, p, fn)
}

// doAny is Do through any Policy: fn and its result travel in a doCtx.
func doAny[T any](ctx context.Context, p Policy, fn func(context.Context) (T, error)) (T, error) {
	var zero T
	if isNil(p) {
		return zero, ErrNilPolicy
	}
	c := &doCtx[T]{Context: ctx, fn: fn}
	err := p.Execute(c, runDo)
	c.mu.Lock()
	c.returned = true
	v, ok := c.v, c.ok
	c.mu.Unlock()
	if !ok {
		return zero, err
	}
	return v, err
}

// doSteps runs fn inside layers, outermost first: each admits the call,
// then fn runs here, then each finishes it, innermost first. A layer that
// repeats (step.Repeater, a retry) may run what is inside it again after an
// error, before it finishes the call. A layer that
// refuses ends the call with its error, after the layers outside it have
// finished it with that error, as Execute would.
func doSteps[T any](ctx context.Context, layers []step.Layer, fn func(context.Context) (T, error)) (T, error) {
	if len(layers) == 0 {
		return fn(ctx)
	}
	l := layers[0]
	inner, t, err := l.Enter(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	exited := false
	defer func() {
		if !exited { // fn or a layer inside panicked: give back what l holds
			l.Exit(ctx, inner, t, nil, true)
		}
	}()
	v, err := doSteps(inner, layers[1:], fn)
	if err != nil {
		if r, ok := l.(step.Repeater); ok {
			for again := true; err != nil; {
				if t, again = r.Again(ctx, inner, t, err); !again {
					break
				}
				v, err = doSteps(inner, layers[1:], fn)
			}
		}
	}
	exited = true
	return v, l.Exit(ctx, inner, t, err, false)
}

// errLostDo is returned to a policy that called Do's call with a context not
// derived from the one it was given.
var errLostDo = errors.New("resilience: Do: policy called with a context not derived from its own")

var (
	errDoNilContext error = &misuseError{msg: "resilience: Do with a nil context", kind: ErrNilContext}
	errDoNilFunc    error = &misuseError{msg: "resilience: Do with a nil fn", kind: ErrNilFunc}
)

// doCtx is the one allocation of Do: the context handed to the policy, which
// also carries fn and a slot for its result. The static runDo finds it again
// by ctx.Value, so Do needs no closure per call.
type doCtx[T any] struct {
	context.Context
	fn func(context.Context) (T, error)

	mu       sync.Mutex
	v        T
	ok       bool // v holds a result
	returned bool // Do has read the slot: later results are dropped
}

// doKey is the key under which a doCtx answers Value with itself. The
// nearest Do wins, so a Do nested in another's call finds its own context.
type doKey struct{}

// doer is a doCtx of any T; runDo is not generic so that passing it as a
// func value needs no per-call closure.
type doer interface {
	run(ctx context.Context) error
}

func (c *doCtx[T]) Value(key any) any {
	if key == (doKey{}) {
		return c
	}
	return c.Context.Value(key)
}

func runDo(ctx context.Context) error {
	c, ok := ctx.Value(doKey{}).(doer)
	if !ok {
		return errLostDo
	}
	return c.run(ctx)
}

func (c *doCtx[T]) run(ctx context.Context) error {
	v, err := c.fn(ctx)
	c.mu.Lock()
	if !c.returned {
		c.v, c.ok = v, true
	}
	c.mu.Unlock()
	return err
}
