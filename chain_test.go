package resilience_test

import (
	"context"
	"errors"
	"testing"

	"github.com/go-resilience/resilience"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a user-written policy (no Wrap) that logs when it is entered
// and left.
func recorder(name string, log *[]string) resilience.Policy {
	return resilience.PolicyFunc(func(ctx context.Context, call func(context.Context) error) error {
		*log = append(*log, name+">")
		err := call(ctx)
		*log = append(*log, "<"+name)
		return err
	})
}

// wrapping is a policy that composes through Wrap, as the library's own do.
type wrapping struct {
	name string
	log  *[]string
}

func (w *wrapping) Execute(ctx context.Context, call func(context.Context) error) error {
	return w.run(ctx, nil, call)
}

func (w *wrapping) Wrap(next resilience.Policy) resilience.Policy { return wrapped{w, next} }

func (w *wrapping) run(ctx context.Context, next resilience.Policy, call func(context.Context) error) error {
	if w.log != nil {
		*w.log = append(*w.log, w.name+">")
		defer func() { *w.log = append(*w.log, "<"+w.name) }()
	}
	if next == nil {
		return call(ctx)
	}
	return next.Execute(ctx, call)
}

type wrapped struct {
	w    *wrapping
	next resilience.Policy
}

func (x wrapped) Execute(ctx context.Context, call func(context.Context) error) error {
	return x.w.run(ctx, x.next, call)
}

func TestChainRunsFirstPolicyOutermost(t *testing.T) {
	for _, tc := range []struct {
		name string
		mk   func(name string, log *[]string) resilience.Policy
	}{
		{"user-written policies", recorder},
		{"wrapping policies", func(name string, log *[]string) resilience.Policy { return &wrapping{name, log} }},
		{"mixed", func(name string, log *[]string) resilience.Policy {
			if name == "b" {
				return recorder(name, log)
			}
			return &wrapping{name, log}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log []string
			p := resilience.Chain(tc.mk("a", &log), tc.mk("b", &log), tc.mk("c", &log))
			err := p.Execute(context.Background(), func(context.Context) error {
				log = append(log, "call")
				return nil
			})
			require.NoError(t, err)
			assert.Equal(t, []string{"a>", "b>", "c>", "call", "<c", "<b", "<a"}, log)
		})
	}
}

func TestChainPassesErrorsAndContextThrough(t *testing.T) {
	type key struct{}
	boom := errors.New("boom")
	p := resilience.Chain(&wrapping{name: "a"}, recorder("b", new([]string)), &wrapping{name: "c"})
	ctx := context.WithValue(context.Background(), key{}, "v")
	var seen any
	err := p.Execute(ctx, func(ctx context.Context) error {
		seen = ctx.Value(key{})
		return boom
	})
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, "v", seen)
}

func TestChainOfNoneRunsTheCallDirectly(t *testing.T) {
	ran := 0
	err := resilience.Chain().Execute(context.Background(), func(context.Context) error { ran++; return nil })
	require.NoError(t, err)
	assert.Equal(t, 1, ran)
}

func TestChainOfOneIsThatPolicy(t *testing.T) {
	p := &wrapping{name: "only"}
	assert.Same(t, p, resilience.Chain(p))
}

func TestChainWithNilPolicyRefusesEveryCallWithoutPanicking(t *testing.T) {
	var nilPtr *wrapping
	var nilFunc resilience.PolicyFunc
	for _, tc := range []struct {
		name     string
		policies []resilience.Policy
		position string
	}{
		{"nil interface", []resilience.Policy{&wrapping{}, nil}, "element 1 of 2"},
		{"nil pointer", []resilience.Policy{nilPtr}, "element 0 of 1"},
		{"nil PolicyFunc", []resilience.Policy{&wrapping{}, &wrapping{}, nilFunc}, "element 2 of 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := resilience.Chain(tc.policies...)
			ran := false
			var err error
			require.NotPanics(t, func() {
				err = p.Execute(context.Background(), func(context.Context) error { ran = true; return nil })
			})
			assert.ErrorIs(t, err, resilience.ErrNilPolicy)
			assert.Contains(t, err.Error(), tc.position)
			assert.False(t, ran, "the call must not run")
		})
	}
}

func TestChainOfWrappingPoliciesAllocatesNothingPerCall(t *testing.T) {
	p := resilience.Chain(&wrapping{name: "a"}, &wrapping{name: "b"}, &wrapping{name: "c"}, &wrapping{name: "d"})
	ctx := context.Background()
	call := func(context.Context) error { return nil }
	allocs := testing.AllocsPerRun(100, func() { _ = p.Execute(ctx, call) })
	assert.Zero(t, allocs)
}

func TestChainOfUserPoliciesCostsAtMostOneAllocationPerLevel(t *testing.T) {
	pass := resilience.PolicyFunc(func(ctx context.Context, call func(context.Context) error) error { return call(ctx) })
	p := resilience.Chain(pass, pass, pass, pass)
	ctx := context.Background()
	call := func(context.Context) error { return nil }
	allocs := testing.AllocsPerRun(100, func() { _ = p.Execute(ctx, call) })
	assert.LessOrEqual(t, allocs, 4.0)
}

func TestPanicInCallReachesTheCallerUnchanged(t *testing.T) {
	type sentinel struct{ v int }
	var log []string
	p := resilience.Chain(&wrapping{"a", &log}, recorder("b", &log), &wrapping{"c", &log})
	defer func() {
		r := recover()
		assert.Equal(t, sentinel{42}, r)
		// Wrapping policies ran their deferred release; recorder has no defer.
		assert.Equal(t, []string{"a>", "b>", "c>", "<c", "<a"}, log)
	}()
	_ = p.Execute(context.Background(), func(context.Context) error { panic(sentinel{42}) })
	t.Fatal("panic did not propagate")
}
