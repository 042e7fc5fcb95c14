package breaker_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAllow(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, b *breaker.Breaker, rec *recorder)
	}{
		{
			name: "done counts the outcome and trips as Execute does",
			run: func(t *testing.T, b *breaker.Breaker, rec *recorder) {
				for range 2 {
					done, err := b.Allow(context.Background())
					require.NoError(t, err)
					time.Sleep(time.Millisecond)
					done(errBoom)
				}
				assert.Equal(t, breaker.Open, b.State())
				calls := rec.OfKind(resilience.EventCall)
				require.Len(t, calls, 2)
				assert.Equal(t, resilience.Failure, calls[0].Outcome)
				assert.Equal(t, time.Millisecond, calls[0].Latency)
			},
		},
		{
			name: "done is idempotent",
			run: func(t *testing.T, b *breaker.Breaker, rec *recorder) {
				done, err := b.Allow(context.Background())
				require.NoError(t, err)
				done(errBoom)
				done(errBoom)
				done(nil)
				assert.Equal(t, breaker.Counts{Requests: 1, TotalFailures: 1, ConsecutiveFailures: 1}, b.Counts())
				assert.Len(t, rec.OfKind(resilience.EventCall), 1)
			},
		},
		{
			name: "refuses when open, with a nil done",
			run: func(t *testing.T, b *breaker.Breaker, rec *recorder) {
				b.ForceOpen()
				done, err := b.Allow(context.Background())
				assert.Nil(t, done)
				assert.ErrorIs(t, err, breaker.ErrOpen)
				assert.ErrorIs(t, err, resilience.ErrRejected)
				assert.Len(t, rec.OfKind(resilience.EventRejected), 1)
			},
		},
		{
			name: "done classifies with the Allow context: the caller's cancellation is ignored",
			run: func(t *testing.T, b *breaker.Breaker, rec *recorder) {
				ctx, cancel := context.WithCancel(context.Background())
				done, err := b.Allow(ctx)
				require.NoError(t, err)
				cancel()
				done(errBoom)
				assert.Equal(t, breaker.Counts{Requests: 1, TotalIgnored: 1}, b.Counts())
			},
		},
		{
			name: "a half-open Allow holds its probe until done",
			run: func(t *testing.T, b *breaker.Breaker, rec *recorder) {
				failN(t, b, 2)
				require.Equal(t, breaker.Open, b.State())
				time.Sleep(time.Second)
				done, err := b.Allow(context.Background())
				require.NoError(t, err)
				_, err = b.Allow(context.Background())
				assert.ErrorIs(t, err, breaker.ErrTooManyProbes)
				assert.ErrorIs(t, b.Execute(context.Background(), succeed), breaker.ErrTooManyProbes)
				done(nil)
				assert.Equal(t, breaker.Closed, b.State())
			},
		},
		{
			name: "a done after the state moved on changes nothing",
			run: func(t *testing.T, b *breaker.Breaker, rec *recorder) {
				done, err := b.Allow(context.Background())
				require.NoError(t, err)
				failN(t, b, 2)
				time.Sleep(time.Second)
				succeedN(t, b, 1)
				require.Equal(t, breaker.Closed, b.State())
				done(errBoom) // started before the trip
				assert.Equal(t, breaker.Counts{}, b.Counts())
				assert.Len(t, rec.OfKind(resilience.EventCall), 4, "but it is observed")
			},
		},
		{
			name: "forced closed lets it through uncounted",
			run: func(t *testing.T, b *breaker.Breaker, rec *recorder) {
				b.ForceClosed()
				for range 5 {
					done, err := b.Allow(context.Background())
					require.NoError(t, err)
					done(errBoom)
				}
				assert.Equal(t, breaker.ForcedClosed, b.State())
				assert.Equal(t, breaker.Counts{}, b.Counts())
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &recorder{}
				b := mustNew(t, breaker.Config{ConsecutiveFailures: 2, OpenTimeout: time.Second, Observer: rec})
				tc.run(t, b, rec)
			})
		})
	}
}
