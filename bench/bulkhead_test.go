package bench

import (
	"context"
	"testing"

	eapache "github.com/eapache/go-resiliency/semaphore"
	"github.com/failsafe-go/failsafe-go"
	fsbulkhead "github.com/failsafe-go/failsafe-go/bulkhead"
	"golang.org/x/sync/semaphore"
)

// Bulkhead scenarios: one call through a bulkhead with free slots (take a
// slot, run, give it back), serially and from GOMAXPROCS goroutines.
//
// lib=semaphore is golang.org/x/sync/semaphore's TryAcquire and Release
// written by hand, the floor for a bulkhead that refuses at once when full.
// hystrix-go is absent (its pool is part of every command, not usable on
// its own); gobreaker and rubyist have no bulkhead.

func BenchmarkBulkhead(b *testing.B) {
	run(b, context.Background(), bulkheadLibs(b))
}

func BenchmarkBulkheadParallel(b *testing.B) {
	runParallel(b, context.Background(), bulkheadLibs(b))
}

func bulkheadLibs(tb testing.TB) []lib {
	return append(ourBulkheadLibs(tb),
		semaphoreLib(),
		failsafeBulkheadLib(),
		eapacheSemaphoreLib(),
	)
}

func semaphoreLib() lib {
	sem := semaphore.NewWeighted(maxConcurrent)
	return lib{name: "semaphore", op: func(ctx context.Context) error {
		if !sem.TryAcquire(1) {
			return errFull
		}
		defer sem.Release(1)
		return work(ctx)
	}}
}

func failsafeBulkheadLib() lib {
	ex := failsafe.With[any](fsbulkhead.New[any](maxConcurrent))
	return lib{name: "failsafe", op: func(ctx context.Context) error {
		return ex.Run(func() error { return work(ctx) })
	}}
}

func eapacheSemaphoreLib() lib {
	// go-resiliency's semaphore cannot refuse at once: with a zero timeout
	// its Acquire races a fired timer against a free ticket and refuses at
	// random. It is given policyTimeout to wait, which it never needs here.
	sem := eapache.New(maxConcurrent, policyTimeout)
	return lib{name: "eapache", op: func(ctx context.Context) error {
		if err := sem.Acquire(); err != nil {
			return err
		}
		defer sem.Release()
		return work(ctx)
	}}
}
