package bench

import (
	"context"
	"testing"

	"github.com/eapache/go-resiliency/deadline"
	"github.com/failsafe-go/failsafe-go"
	fstimeout "github.com/failsafe-go/failsafe-go/timeout"
)

// Timeout scenario: one cooperative call (it returns at once, reading its
// context) under a timeout far longer than the call.
//
// lib=context is context.WithTimeout and its cancel written by hand.
// go-resiliency's deadline cannot pass a context: it runs every call in a
// new goroutine and hands it a stop channel, which the call here ignores.
// hystrix-go is absent (its timeout is part of every command); gobreaker
// has no timeout; rubyist's is part of its breaker's Call (a goroutine per
// call, like go-resiliency's), and is measured in the HTTP scenario.

func BenchmarkTimeout(b *testing.B) {
	run(b, context.Background(), timeoutLibs(b))
}

func BenchmarkTimeoutParallel(b *testing.B) {
	runParallel(b, context.Background(), timeoutLibs(b))
}

func timeoutLibs(tb testing.TB) []lib {
	return append(ourTimeoutLibs(tb),
		contextLib(),
		failsafeTimeoutLib(),
		eapacheDeadlineLib(),
	)
}

func contextLib() lib {
	return lib{name: "context", op: func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, policyTimeout)
		defer cancel()
		return work(ctx)
	}}
}

func failsafeTimeoutLib() lib {
	ex := failsafe.With[any](fstimeout.New[any](policyTimeout))
	return lib{name: "failsafe", op: func(context.Context) error {
		return ex.RunWithExecution(func(e failsafe.Execution[any]) error { return work(e.Context()) })
	}}
}

func eapacheDeadlineLib() lib {
	d := deadline.New(policyTimeout)
	return lib{name: "eapache", op: func(ctx context.Context) error {
		return d.Run(func(<-chan struct{}) error { return work(ctx) })
	}}
}
