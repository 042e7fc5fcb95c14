package breaker_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTransitions(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  breaker.Config
		// run gets a breaker that has just tripped (two failures).
		run func(t *testing.T, b *breaker.Breaker)
		// changes are the state changes the Observer must have seen.
		changes []string
	}{
		{
			name: "open refuses until the open duration has passed, then half-opens",
			cfg:  breaker.Config{OpenTimeout: 10 * time.Second},
			run: func(t *testing.T, b *breaker.Breaker) {
				assert.Equal(t, 10*time.Second, refusal(t, b).RetryAfter())
				time.Sleep(10*time.Second - time.Nanosecond)
				re := refusal(t, b)
				assert.ErrorIs(t, re, breaker.ErrOpen)
				assert.Equal(t, breaker.Open, re.State)
				assert.Equal(t, time.Nanosecond, re.RetryAfter())
				time.Sleep(time.Nanosecond)
				assert.Equal(t, breaker.HalfOpen, b.State())
			},
			changes: []string{"closed>open", "open>half-open"},
		},
		{
			name: "half-open closes when all its probes succeed",
			cfg:  breaker.Config{OpenTimeout: time.Second, HalfOpenProbes: 2},
			run: func(t *testing.T, b *breaker.Breaker) {
				time.Sleep(time.Second)
				succeedN(t, b, 1)
				assert.Equal(t, breaker.HalfOpen, b.State())
				succeedN(t, b, 1)
				assert.Equal(t, breaker.Closed, b.State())
				assert.Equal(t, breaker.Counts{}, b.Counts(), "closing starts counting afresh")
			},
			changes: []string{"closed>open", "open>half-open", "half-open>closed"},
		},
		{
			name: "a failed probe opens it again for the same duration by default",
			cfg:  breaker.Config{OpenTimeout: time.Second},
			run: func(t *testing.T, b *breaker.Breaker) {
				for range 3 {
					time.Sleep(time.Second)
					failN(t, b, 1)
					assert.Equal(t, time.Second, refusal(t, b).RetryAfter())
				}
			},
			changes: []string{"closed>open", "open>half-open", "half-open>open", "open>half-open", "half-open>open", "open>half-open", "half-open>open"},
		},
		{
			name: "with MaxOpenTimeout the open duration doubles after each failed probe, up to it, and restarts once closed",
			cfg:  breaker.Config{OpenTimeout: time.Second, MaxOpenTimeout: 5 * time.Second},
			run: func(t *testing.T, b *breaker.Breaker) {
				d := time.Second
				for _, want := range []time.Duration{2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second} {
					time.Sleep(d)
					failN(t, b, 1)
					d = refusal(t, b).RetryAfter()
					assert.Equal(t, want, d)
				}
				time.Sleep(d)
				succeedN(t, b, 1)
				require.Equal(t, breaker.Closed, b.State())
				failN(t, b, 2)
				assert.Equal(t, time.Second, refusal(t, b).RetryAfter())
			},
		},
		{
			name: "a failing call's Retry-After hint sets the open duration",
			cfg:  breaker.Config{OpenTimeout: time.Second, ConsecutiveFailures: 1},
			run: func(t *testing.T, b *breaker.Breaker) {
				time.Sleep(time.Second)
				require.Error(t, b.Execute(context.Background(), fail(fmt.Errorf("wrapped: %w", &hinted{7 * time.Second}))))
				assert.Equal(t, 7*time.Second, refusal(t, b).RetryAfter())
				time.Sleep(7 * time.Second)
				failN(t, b, 1) // no hint: back to the schedule
				assert.Equal(t, time.Second, refusal(t, b).RetryAfter())
			},
		},
		{
			name: "the hint that trips a closed breaker sets its first open duration",
			cfg:  breaker.Config{OpenTimeout: time.Second, ConsecutiveFailures: 3},
			run: func(t *testing.T, b *breaker.Breaker) {
				// Tripped with plain failures: 1s. Close it, then trip
				// it again with a hint on the last failure.
				time.Sleep(time.Second)
				succeedN(t, b, 1)
				failN(t, b, 2)
				require.Error(t, b.Execute(context.Background(), fail(&hinted{90 * time.Second})))
				assert.Equal(t, 90*time.Second, refusal(t, b).RetryAfter())
			},
		},
		{
			name: "the hint is capped at MaxOpenTimeout and does not move the doubling schedule",
			cfg:  breaker.Config{OpenTimeout: time.Second, MaxOpenTimeout: 8 * time.Second},
			run: func(t *testing.T, b *breaker.Breaker) {
				time.Sleep(time.Second)
				require.Error(t, b.Execute(context.Background(), fail(&hinted{time.Minute})))
				assert.Equal(t, 8*time.Second, refusal(t, b).RetryAfter())
				time.Sleep(8 * time.Second)
				failN(t, b, 1)
				assert.Equal(t, 4*time.Second, refusal(t, b).RetryAfter(), "1s, 2s (hinted away), then 4s")
			},
		},
		{
			name: "a zero or negative hint is no hint",
			cfg:  breaker.Config{OpenTimeout: time.Second},
			run: func(t *testing.T, b *breaker.Breaker) {
				time.Sleep(time.Second)
				require.Error(t, b.Execute(context.Background(), fail(&hinted{-time.Second})))
				assert.Equal(t, time.Second, refusal(t, b).RetryAfter())
			},
		},
		{
			name: "half-open refuses calls beyond its probes with ErrTooManyProbes",
			cfg:  breaker.Config{OpenTimeout: time.Second, HalfOpenTimeout: 20 * time.Second},
			run: func(t *testing.T, b *breaker.Breaker) {
				time.Sleep(time.Second)
				release := make(chan struct{})
				go func() { _ = b.Execute(context.Background(), func(context.Context) error { <-release; return nil }) }()
				synctest.Wait()
				time.Sleep(3 * time.Second)
				re := refusal(t, b)
				assert.ErrorIs(t, re, breaker.ErrTooManyProbes)
				assert.NotErrorIs(t, re, breaker.ErrOpen)
				assert.Equal(t, breaker.HalfOpen, re.State)
				assert.Equal(t, 17*time.Second, re.RetryAfter(), "until the half-open timeout at the latest")
				close(release)
				synctest.Wait()
				assert.Equal(t, breaker.Closed, b.State())
			},
			changes: []string{"closed>open", "open>half-open", "half-open>closed"},
		},
		{
			name: "a probe that never reports does not hold half-open past HalfOpenTimeout",
			cfg:  breaker.Config{OpenTimeout: time.Second, MaxOpenTimeout: time.Minute, HalfOpenTimeout: 5 * time.Second},
			run: func(t *testing.T, b *breaker.Breaker) {
				time.Sleep(time.Second)
				hung := make(chan struct{})
				done := make(chan error)
				go func() { done <- b.Execute(context.Background(), func(context.Context) error { <-hung; return nil }) }()
				synctest.Wait()
				time.Sleep(5*time.Second - time.Nanosecond)
				assert.ErrorIs(t, refusal(t, b), breaker.ErrTooManyProbes)
				time.Sleep(time.Nanosecond)
				re := refusal(t, b)
				assert.ErrorIs(t, re, breaker.ErrOpen, "timed out: open again")
				assert.Equal(t, 2*time.Second, re.RetryAfter(), "as after a failed probe")
				time.Sleep(2 * time.Second)
				succeedN(t, b, 1) // a new probe, though the old one still hangs
				assert.Equal(t, breaker.Closed, b.State())
				close(hung)
				require.NoError(t, <-done)
				assert.Equal(t, breaker.Closed, b.State(), "the late probe changes nothing")
			},
			changes: []string{"closed>open", "open>half-open", "half-open>open", "open>half-open", "half-open>closed"},
		},
		{
			name: "HalfOpenTimeout defaults to OpenTimeout",
			cfg:  breaker.Config{OpenTimeout: 4 * time.Second},
			run: func(t *testing.T, b *breaker.Breaker) {
				time.Sleep(4 * time.Second)
				done, err := b.Allow(context.Background()) // a probe whose done is never called
				require.NoError(t, err)
				require.NotNil(t, done)
				time.Sleep(4*time.Second - time.Nanosecond)
				assert.Equal(t, breaker.HalfOpen, b.State())
				time.Sleep(time.Nanosecond)
				assert.Equal(t, breaker.Open, b.State())
			},
			changes: []string{"closed>open", "open>half-open", "half-open>open"},
		},
		{
			name: "a probe the caller cancelled gives its place to another",
			cfg:  breaker.Config{OpenTimeout: time.Second},
			run: func(t *testing.T, b *breaker.Breaker) {
				time.Sleep(time.Second)
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				assert.ErrorIs(t, b.Execute(ctx, func(ctx context.Context) error { return ctx.Err() }), context.Canceled)
				assert.Equal(t, breaker.HalfOpen, b.State())
				succeedN(t, b, 1)
				assert.Equal(t, breaker.Closed, b.State())
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &recorder{}
				cfg := tc.cfg
				cfg.Name = "dep"
				cfg.Observer = rec
				if cfg.ConsecutiveFailures == 0 {
					cfg.ConsecutiveFailures = 2
				}
				b := mustNew(t, cfg)
				failN(t, b, int(cfg.ConsecutiveFailures))
				require.Equal(t, breaker.Open, b.State())
				tc.run(t, b)
				if tc.changes != nil {
					assert.Equal(t, tc.changes, rec.Transitions())
				}
			})
		})
	}
}

func TestClassification(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Unix(1, 0))
	defer cancel2()
	errOurTimeout := fmt.Errorf("timeout: deadline exceeded: %w", context.DeadlineExceeded)
	errRefused := fmt.Errorf("bulkhead: full: %w", resilience.ErrRejected)

	for _, tc := range []struct {
		name string
		ctx  context.Context
		err  error
		cfg  breaker.Config
		want resilience.Outcome
	}{
		{"nil is a success", context.Background(), nil, breaker.Config{}, resilience.Success},
		{"an error is a failure", context.Background(), errBoom, breaker.Config{}, resilience.Failure},
		{"the caller's cancellation is ignored", cancelled, context.Canceled, breaker.Config{}, resilience.Ignored},
		{"any error after the caller cancelled is ignored", cancelled, errBoom, breaker.Config{}, resilience.Ignored},
		{"the caller's own deadline is ignored", expired, context.DeadlineExceeded, breaker.Config{}, resilience.Ignored},
		{"context.Canceled from the callee is ignored", context.Background(), context.Canceled, breaker.Config{}, resilience.Ignored},
		{"a timeout of our own is a failure", context.Background(), errOurTimeout, breaker.Config{}, resilience.Failure},
		{"the library's refusals are ignored", context.Background(), errRefused, breaker.Config{}, resilience.Ignored},
		{"another breaker's refusal is ignored", context.Background(), breaker.ErrOpen, breaker.Config{}, resilience.Ignored},
		{
			"the Classifier decides the rest", context.Background(), errBoom,
			breaker.Config{Classifier: func(error) resilience.Outcome { return resilience.Success }}, resilience.Success,
		},
		{
			"the Classifier cannot count a refusal", context.Background(), errRefused,
			breaker.Config{Classifier: func(error) resilience.Outcome { return resilience.Failure }}, resilience.Ignored,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &recorder{}
				cfg := tc.cfg
				cfg.Observer = rec
				cfg.ConsecutiveFailures = 1
				b := mustNew(t, cfg)
				err := b.Execute(tc.ctx, fail(tc.err))
				assert.Equal(t, tc.err, err, "the call's error comes back unchanged")
				calls := rec.OfKind(resilience.EventCall)
				require.Len(t, calls, 1)
				assert.Equal(t, tc.want, calls[0].Outcome)
				assert.Equal(t, tc.err, calls[0].Err)

				c := b.Counts()
				want := map[resilience.Outcome]breaker.State{resilience.Success: breaker.Closed, resilience.Failure: breaker.Open, resilience.Ignored: breaker.Closed}[tc.want]
				assert.Equal(t, want, b.State())
				if tc.want == resilience.Ignored {
					assert.Equal(t, breaker.Counts{Requests: 1, TotalIgnored: 1}, c)
				}
			})
		})
	}
}

func TestForcedStates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		b := mustNew(t, breaker.Config{Name: "dep", Observer: rec, ConsecutiveFailures: 1, OpenTimeout: time.Second})

		b.ForceOpen()
		assert.Equal(t, breaker.ForcedOpen, b.State())
		re := refusal(t, b)
		assert.ErrorIs(t, re, breaker.ErrOpen)
		assert.Equal(t, breaker.ForcedOpen, re.State)
		assert.Zero(t, re.RetryAfter(), "unknown while forced")
		time.Sleep(time.Hour)
		assert.Equal(t, breaker.ForcedOpen, b.State(), "forced open does not time out")
		b.ForceOpen() // no change, no event

		b.ForceClosed()
		assert.Equal(t, breaker.ForcedClosed, b.State())
		failN(t, b, 10)
		assert.Equal(t, breaker.ForcedClosed, b.State(), "forced closed never trips")
		assert.Equal(t, uint32(0), b.Counts().TotalFailures, "nor counts")

		b.Unforce()
		assert.Equal(t, breaker.Closed, b.State())
		assert.Equal(t, breaker.Counts{}, b.Counts())
		b.Unforce() // not forced: no change
		failN(t, b, 1)
		assert.Equal(t, breaker.Open, b.State(), "automatic again")

		b.ForceClosed()
		require.NoError(t, b.Execute(context.Background(), succeed))
		b.Unforce()
		assert.Equal(t, breaker.Closed, b.State(), "release from forced closed: closed, counts afresh")

		assert.Equal(t, []string{
			"closed>forced-open", "forced-open>forced-closed", "forced-closed>closed",
			"closed>open", "open>forced-closed", "forced-closed>closed",
		}, rec.Transitions())
		calls := rec.OfKind(resilience.EventCall)
		assert.Len(t, calls, 10+1+1, "calls let through while forced closed are observed")
	})
}

func TestForceOpenDuringOpenKeepsRefusingAfterTheOpenDuration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, breaker.Config{ConsecutiveFailures: 1, OpenTimeout: time.Second})
		failN(t, b, 1)
		b.ForceOpen()
		time.Sleep(2 * time.Second)
		assert.Equal(t, breaker.ForcedOpen, refusal(t, b).State)
	})
}
