package hedge_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/go-resilience/resilience/hedge"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func quick(ctx context.Context) (int, error) { return 1, ctx.Err() }

// TestFirstAnswerStartsNoGoroutine: a call whose first attempt answers
// within the delay runs on the caller's goroutine alone, and leaves
// nothing running behind it.
func TestFirstAnswerStartsNoGoroutine(t *testing.T) {
	h := newHedge(t, hedge.Config{Delay: time.Hour})
	before := runtime.NumGoroutine()
	during := -1
	v, err := hedge.Do(t.Context(), h, nil, func(ctx context.Context) (int, error) {
		during = runtime.NumGoroutine()
		return 1, nil
	})
	require.NoError(t, err)
	assert.Equal(t, 1, v)
	assert.Equal(t, before, during, "no goroutine while the first attempt runs")
	assert.Equal(t, before, runtime.NumGoroutine(), "none after")
}

// BenchmarkFirstAnswers is a call whose first attempt answers at once,
// through hedge.Do, against its parts in the same run: fn alone (bare),
// one timer set and stopped (timer), and a cancellable context (ctx).
func BenchmarkFirstAnswers(b *testing.B) {
	h := newHedge(b, hedge.Config{Delay: time.Hour})
	hp := newHedge(b, hedge.Config{})
	ctx := context.Background()
	b.Run("lib=hedge", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			hedge.Do(ctx, h, nil, quick)
		}
	})
	b.Run("lib=hedge-percentile", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			hedge.Do(ctx, hp, nil, quick)
		}
	})
	b.Run("lib=bare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			quick(ctx)
		}
	})
	b.Run("lib=timer", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			time.AfterFunc(time.Hour, func() {}).Stop()
		}
	})
	b.Run("lib=ctx", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, cancel := context.WithCancel(ctx)
			cancel()
		}
	})
}

func BenchmarkFirstAnswersParallel(b *testing.B) {
	h := newHedge(b, hedge.Config{Delay: time.Hour})
	hp := newHedge(b, hedge.Config{})
	ctx := context.Background()
	for _, c := range []struct {
		name string
		h    *hedge.Hedge
	}{{"hedge", h}, {"hedge-percentile", hp}} {
		b.Run("lib="+c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					hedge.Do(ctx, c.h, nil, quick)
				}
			})
		})
	}
	b.Run("lib=timer", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				time.AfterFunc(time.Hour, func() {}).Stop()
			}
		})
	})
}
