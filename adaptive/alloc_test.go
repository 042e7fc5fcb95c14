//go:build !race

package adaptive_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/adaptive"
)

// The race detector allocates on its own, so these run without it.
func TestFastPathsDoNotAllocate(t *testing.T) {
	ctx := context.Background()
	full := adaptive.Config{Name: "db", InitialLimit: 1, MinLimit: 1, MaxLimit: 1}
	for _, tc := range []struct {
		name string
		cfg  adaptive.Config
		full bool
		run  func(l *adaptive.Limiter)
	}{
		{"Execute gradient", adaptive.Config{}, false, func(l *adaptive.Limiter) { _ = l.Execute(ctx, nop) }},
		{"Execute aimd", adaptive.Config{Algorithm: adaptive.AIMD}, false, func(l *adaptive.Limiter) { _ = l.Execute(ctx, nop) }},
		{"Do through Chain", adaptive.Config{}, false, func(l *adaptive.Limiter) {
			_, _ = resilience.Do(ctx, chains[l], func(context.Context) (int, error) { return 1, nil })
		}},
		{"refusal", full, true, func(l *adaptive.Limiter) { _ = l.Execute(ctx, nop) }},
		{"Execute observed", adaptive.Config{Observer: nopObserver{}}, false, func(l *adaptive.Limiter) { _ = l.Execute(ctx, nop) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := adaptive.New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			chains[l] = resilience.Chain(l)
			if tc.full {
				block := make(chan struct{})
				started := make(chan struct{})
				go func() {
					_ = l.Execute(ctx, func(context.Context) error { close(started); <-block; return nil })
				}()
				<-started
				defer close(block)
			}
			assert.Zero(t, testing.AllocsPerRun(1000, func() { tc.run(l) }))
		})
	}
}

var chains = map[*adaptive.Limiter]resilience.Policy{}

type nopObserver struct{}

func (nopObserver) Observe(resilience.Event) {}

func TestThrottlerDoesNotAllocate(t *testing.T) {
	ctx := context.Background()
	th, err := adaptive.NewThrottler(adaptive.ThrottlerConfig{Name: "s", K: 1, MinRequests: 1, MaxRejectionProbability: 1})
	if err != nil {
		t.Fatal(err)
	}
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _ = th.Execute(ctx, nop) }), "calls that succeed")
	boom := errors.New("boom")
	fail := func(context.Context) error { return boom }
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _ = th.Execute(ctx, fail) }), "failures and refusals")
	assert.NotZero(t, th.Rejected())
}
