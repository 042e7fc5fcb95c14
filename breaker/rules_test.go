package breaker_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-resilience/resilience/breaker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTripRules(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  breaker.Config
		// run drives a closed breaker; the breaker must end in want.
		run  func(t *testing.T, b *breaker.Breaker)
		want breaker.State
	}{
		{
			name: "default trips on the fifth consecutive failure",
			run:  func(t *testing.T, b *breaker.Breaker) { failN(t, b, 5) },
			want: breaker.Open,
		},
		{
			name: "default stays closed after four consecutive failures",
			run:  func(t *testing.T, b *breaker.Breaker) { failN(t, b, 4) },
			want: breaker.Closed,
		},
		{
			name: "a success breaks the run of consecutive failures",
			run: func(t *testing.T, b *breaker.Breaker) {
				failN(t, b, 4)
				succeedN(t, b, 1)
				failN(t, b, 4)
			},
			want: breaker.Closed,
		},
		{
			name: "ConsecutiveFailures sets the run length",
			cfg:  breaker.Config{ConsecutiveFailures: 2},
			run:  func(t *testing.T, b *breaker.Breaker) { failN(t, b, 2) },
			want: breaker.Open,
		},
		{
			name: "failure rate trips once MinCalls calls were seen",
			cfg:  breaker.Config{FailureRate: 0.5, MinCalls: 10, Window: 10 * time.Second},
			run: func(t *testing.T, b *breaker.Breaker) {
				for range 5 {
					succeedN(t, b, 1)
					failN(t, b, 1)
				}
			},
			want: breaker.Open,
		},
		{
			name: "failure rate does not trip before MinCalls calls",
			cfg:  breaker.Config{FailureRate: 0.5, MinCalls: 10, Window: 10 * time.Second},
			run:  func(t *testing.T, b *breaker.Breaker) { failN(t, b, 9) },
			want: breaker.Closed,
		},
		{
			name: "failure rate below the threshold does not trip",
			cfg:  breaker.Config{FailureRate: 0.3, MinCalls: 10},
			run: func(t *testing.T, b *breaker.Breaker) {
				succeedN(t, b, 8)
				failN(t, b, 2)
				succeedN(t, b, 10)
				failN(t, b, 5) // 7 of 25
			},
			want: breaker.Closed,
		},
		{
			name: "failure rate exactly at the threshold trips",
			cfg:  breaker.Config{FailureRate: 0.3, MinCalls: 10},
			run: func(t *testing.T, b *breaker.Breaker) {
				succeedN(t, b, 7)
				failN(t, b, 3)
			},
			want: breaker.Open,
		},
		{
			name: "failures that left the rolling window no longer count",
			cfg:  breaker.Config{FailureRate: 0.5, MinCalls: 10, Window: 10 * time.Second},
			run: func(t *testing.T, b *breaker.Breaker) {
				failN(t, b, 9)
				time.Sleep(11 * time.Second)
				succeedN(t, b, 5)
				failN(t, b, 4) // 4 of 9 in the window: too few calls
				assert.Equal(t, uint32(9), b.Counts().TotalSuccesses+b.Counts().TotalFailures)
			},
			want: breaker.Closed,
		},
		{
			name: "the rolling window slides a tenth at a time",
			cfg:  breaker.Config{FailureRate: 0.5, MinCalls: 4, Window: 10 * time.Second},
			run: func(t *testing.T, b *breaker.Breaker) {
				succeedN(t, b, 3)
				time.Sleep(5 * time.Second)
				failN(t, b, 2) // 2 of 5
				time.Sleep(6 * time.Second)
				// The successes have left the window; the failures have not.
				failN(t, b, 2) // 4 of 4
			},
			want: breaker.Open,
		},
		{
			name: "slow successes count as failures",
			cfg:  breaker.Config{ConsecutiveFailures: 3, SlowCallThreshold: time.Second},
			run: func(t *testing.T, b *breaker.Breaker) {
				for range 3 {
					require.NoError(t, b.Execute(context.Background(), sleeper(time.Second, nil)))
				}
			},
			want: breaker.Open,
		},
		{
			name: "calls just under the slow threshold are successes",
			cfg:  breaker.Config{ConsecutiveFailures: 3, SlowCallThreshold: time.Second},
			run: func(t *testing.T, b *breaker.Breaker) {
				for range 3 {
					require.NoError(t, b.Execute(context.Background(), sleeper(time.Second-time.Nanosecond, nil)))
				}
				assert.Equal(t, uint32(3), b.Counts().TotalSuccesses)
			},
			want: breaker.Closed,
		},
		{
			name: "slow calls count toward the failure rate",
			cfg:  breaker.Config{FailureRate: 1, MinCalls: 2, SlowCallThreshold: time.Second},
			run: func(t *testing.T, b *breaker.Breaker) {
				require.NoError(t, b.Execute(context.Background(), sleeper(2*time.Second, nil)))
				require.NoError(t, b.Execute(context.Background(), sleeper(2*time.Second, nil)))
			},
			want: breaker.Open,
		},
		{
			name: "both rules apply when both are set",
			cfg:  breaker.Config{ConsecutiveFailures: 3, FailureRate: 0.9, MinCalls: 100},
			run:  func(t *testing.T, b *breaker.Breaker) { failN(t, b, 3) },
			want: breaker.Open,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := mustNew(t, tc.cfg)
				tc.run(t, b)
				assert.Equal(t, tc.want, b.State())
				if tc.want == breaker.Open {
					assert.ErrorIs(t, refusal(t, b), breaker.ErrOpen)
				}
			})
		})
	}
}
