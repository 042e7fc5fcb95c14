//go:build !race

package ratelimit_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/ratelimit"
)

// The race detector allocates on its own, so these run without it.
func TestFastPathsDoNotAllocate(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		cfg  ratelimit.Config
		run  func(l *ratelimit.Limiter)
	}{
		{"Take", ratelimit.Config{Rate: 1e12, Burst: 1e6}, func(l *ratelimit.Limiter) { _ = l.Take(ctx) }},
		{"Execute", ratelimit.Config{Rate: 1e12, Burst: 1e6}, func(l *ratelimit.Limiter) { _ = l.Execute(ctx, nop) }},
		{"refusal", ratelimit.Config{Rate: 1e-9}, func(l *ratelimit.Limiter) { _ = l.Take(ctx) }},
		{"named refusal with its hint", ratelimit.Config{Name: "p", Rate: 1e-9}, func(l *ratelimit.Limiter) {
			_, _ = resilience.RetryAfter(l.Take(ctx))
		}},
		{"refusal beyond MaxWait", ratelimit.Config{Rate: 1e-9, MaxWait: 1}, func(l *ratelimit.Limiter) { _ = l.Take(ctx) }},
		{"refusal observed", ratelimit.Config{Rate: 1e-9, Observer: nopObserver{}}, func(l *ratelimit.Limiter) { _ = l.Take(ctx) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := ratelimit.New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			_ = l.Take(ctx)
			assert.Zero(t, testing.AllocsPerRun(1000, func() { tc.run(l) }))
		})
	}
}

type nopObserver struct{}

func (nopObserver) Observe(resilience.Event) {}
