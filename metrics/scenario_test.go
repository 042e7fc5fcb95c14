package metrics_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/fallback"
	"github.com/go-resilience/resilience/metrics"
	"github.com/go-resilience/resilience/timeout"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Durations of the scenario are binary fractions of a second, so that
// histogram sums are exact whatever the order of observation.
const (
	hold       = time.Second / 32 // a call holding the bulkhead slot, then a waiter gets it
	maxWait    = time.Second / 16 // the bulkhead's MaxWait
	longHold   = time.Second / 8  // a call holding the slot past MaxWait
	probe      = time.Second / 64 // the half-open probe
	callTO     = time.Second      // the timeout policy
	breakerOTO = 10 * time.Second // the breaker's OpenTimeout
)

// TestScriptedScenarioProducesExactlyTheExpectedSeries runs the full
// chain (fallback → breaker → bulkhead → timeout) of real policies through
// a bulkhead wait, a bulkhead refusal, a timeout, a trip, refusals of the
// open breaker, a refusal at the probe limit and the recovery, and checks
// every series the Collector exports.
func TestScriptedScenarioProducesExactlyTheExpectedSeries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newCollector(t, metrics.Config{})
		brk, err := breaker.New(breaker.Config{Name: "payments", ConsecutiveFailures: 2, OpenTimeout: breakerOTO, Observer: m})
		require.NoError(t, err)
		bulk, err := bulkhead.New(bulkhead.Config{Name: "payments", MaxConcurrent: 1, MaxWait: maxWait, Observer: m})
		require.NoError(t, err)
		tmo, err := timeout.New(timeout.Config{Name: "payments", Timeout: callTO, Observer: m})
		require.NoError(t, err)
		chain := resilience.Chain(brk, bulk, tmo)
		fb := fallback.Observe(m, "payments", fallback.OnRejected(fallback.Value("cached")))
		ctx := context.Background()

		call := func(d time.Duration, err error) func(context.Context) (string, error) {
			return func(context.Context) (string, error) {
				time.Sleep(d)
				return "fresh", err
			}
		}
		do := func(fn func(context.Context) (string, error)) (string, error) {
			return fallback.Do(ctx, chain, fn, fb)
		}
		// inBackground starts fn through the chain and waits until it is
		// blocked inside (holding the bulkhead slot, or the probe).
		var wg sync.WaitGroup
		inBackground := func(fn func(context.Context) (string, error)) {
			wg.Go(func() {
				v, err := do(fn)
				assert.NoError(t, err)
				assert.Equal(t, "fresh", v)
			})
			synctest.Wait()
		}

		// 1. One call holds the slot; another waits for it and gets it.
		inBackground(call(hold, nil))
		v, err := do(call(0, nil))
		require.NoError(t, err)
		assert.Equal(t, "fresh", v)
		wg.Wait()

		// 2. One call holds the slot past MaxWait: the other is refused
		// by the bulkhead, and the fallback answers.
		inBackground(call(longHold, nil))
		v, err = do(call(0, nil))
		require.NoError(t, err)
		assert.Equal(t, "cached", v)
		wg.Wait()

		// 3. A call hangs until the timeout; a call fails: the breaker
		// trips. The fallback answers only refusals, so both fail.
		_, err = do(func(ctx context.Context) (string, error) { <-ctx.Done(); return "", ctx.Err() })
		require.ErrorIs(t, err, timeout.ErrTimeout)
		_, err = do(call(0, errors.New("503")))
		require.Error(t, err)
		require.Equal(t, breaker.Open, brk.State())

		// 4. The open breaker refuses two calls; the fallback answers.
		for range 2 {
			v, err = do(call(0, nil))
			require.NoError(t, err)
			assert.Equal(t, "cached", v)
		}

		// 5. The open duration passes: one probe goes through, a second
		// call is refused at the probe limit, the probe succeeds and the
		// breaker closes.
		time.Sleep(breakerOTO)
		inBackground(call(probe, nil))
		v, err = do(call(0, nil))
		require.NoError(t, err)
		assert.Equal(t, "cached", v)
		wg.Wait()
		require.Equal(t, breaker.Closed, brk.State())

		compare(t, m, scenarioWant)
		problems, err := testutil.CollectAndLint(m)
		require.NoError(t, err)
		assert.Empty(t, problems)
	})
}

const scenarioWant = `
# HELP resilience_breaker_state Breaker state: 1 for the state the breaker is in, 0 for the others.
# TYPE resilience_breaker_state gauge
resilience_breaker_state{key="",policy="payments",state="closed"} 1
resilience_breaker_state{key="",policy="payments",state="forced-closed"} 0
resilience_breaker_state{key="",policy="payments",state="forced-open"} 0
resilience_breaker_state{key="",policy="payments",state="half-open"} 0
resilience_breaker_state{key="",policy="payments",state="open"} 0
# HELP resilience_breaker_transitions_total Breaker state changes, forced ones included.
# TYPE resilience_breaker_transitions_total counter
resilience_breaker_transitions_total{from="closed",key="",policy="payments",to="open"} 1
resilience_breaker_transitions_total{from="half-open",key="",policy="payments",to="closed"} 1
resilience_breaker_transitions_total{from="open",key="",policy="payments",to="half-open"} 1
# HELP resilience_bulkhead_in_flight Calls holding a bulkhead slot.
# TYPE resilience_bulkhead_in_flight gauge
resilience_bulkhead_in_flight{key="",policy="payments"} 0
# HELP resilience_bulkhead_wait_seconds Time callers waited for a bulkhead slot, for callers that waited and got one.
# TYPE resilience_bulkhead_wait_seconds histogram
resilience_bulkhead_wait_seconds_bucket{key="",policy="payments",le="0.0001"} 0
resilience_bulkhead_wait_seconds_bucket{key="",policy="payments",le="0.0002"} 0
resilience_bulkhead_wait_seconds_bucket{key="",policy="payments",le="0.0004"} 0
resilience_bulkhead_wait_seconds_bucket{key="",policy="payments",le="0.0008"} 0
resilience_bulkhead_wait_seconds_bucket{key="",policy="payments",le="0.0016"} 0
resilience_bulkhead_wait_seconds_bucket{key="",policy="payments",le="0.0032"} 0
resilience_bulkhead_wait_seconds_bucket{key="",policy="payments",le="0.0064"} 0
resilience_bulkhead_wait_seconds_bucket{key="",policy="payments",le="0.0128"} 0
resilience_bulkhead_wait_seconds_bucket{key="",policy="payments",le="0.0256"} 0
resilience_bulkhead_wait_seconds_bucket{key="",policy="payments",le="0.0512"} 1
resilience_bulkhead_wait_seconds_bucket{key="",policy="payments",le="0.1024"} 1
resilience_bulkhead_wait_seconds_bucket{key="",policy="payments",le="0.2048"} 1
resilience_bulkhead_wait_seconds_bucket{key="",policy="payments",le="0.4096"} 1
resilience_bulkhead_wait_seconds_bucket{key="",policy="payments",le="0.8192"} 1
resilience_bulkhead_wait_seconds_bucket{key="",policy="payments",le="1.6384"} 1
resilience_bulkhead_wait_seconds_bucket{key="",policy="payments",le="+Inf"} 1
resilience_bulkhead_wait_seconds_sum{key="",policy="payments"} 0.03125
resilience_bulkhead_wait_seconds_count{key="",policy="payments"} 1
# HELP resilience_call_duration_seconds Duration of calls a breaker let through that the dependency answered (success or failure).
# TYPE resilience_call_duration_seconds histogram
resilience_call_duration_seconds_bucket{key="",policy="payments",le="0.005"} 1
resilience_call_duration_seconds_bucket{key="",policy="payments",le="0.01"} 1
resilience_call_duration_seconds_bucket{key="",policy="payments",le="0.025"} 2
resilience_call_duration_seconds_bucket{key="",policy="payments",le="0.05"} 4
resilience_call_duration_seconds_bucket{key="",policy="payments",le="0.1"} 4
resilience_call_duration_seconds_bucket{key="",policy="payments",le="0.25"} 5
resilience_call_duration_seconds_bucket{key="",policy="payments",le="0.5"} 5
resilience_call_duration_seconds_bucket{key="",policy="payments",le="1"} 6
resilience_call_duration_seconds_bucket{key="",policy="payments",le="2.5"} 6
resilience_call_duration_seconds_bucket{key="",policy="payments",le="5"} 6
resilience_call_duration_seconds_bucket{key="",policy="payments",le="10"} 6
resilience_call_duration_seconds_bucket{key="",policy="payments",le="+Inf"} 6
resilience_call_duration_seconds_sum{key="",policy="payments"} 1.203125
resilience_call_duration_seconds_count{key="",policy="payments"} 6
# HELP resilience_calls_total Calls a breaker let through, by classified outcome (success, failure, ignored).
# TYPE resilience_calls_total counter
resilience_calls_total{key="",outcome="failure",policy="payments"} 2
resilience_calls_total{key="",outcome="ignored",policy="payments"} 1
resilience_calls_total{key="",outcome="success",policy="payments"} 4
# HELP resilience_fallbacks_total Errors a fallback answered with a substitute.
# TYPE resilience_fallbacks_total counter
resilience_fallbacks_total{key="",policy="payments"} 4
# HELP resilience_rejections_total Calls refused without being started, by reason (breaker_open, probe_limit, bulkhead_full, abandon_limit, adaptive_limit, throttled, rate_limited, other).
# TYPE resilience_rejections_total counter
resilience_rejections_total{key="",policy="payments",reason="breaker_open"} 2
resilience_rejections_total{key="",policy="payments",reason="bulkhead_full"} 1
resilience_rejections_total{key="",policy="payments",reason="probe_limit"} 1
# HELP resilience_timeouts_total Calls whose timeout policy's own deadline passed.
# TYPE resilience_timeouts_total counter
resilience_timeouts_total{key="",policy="payments"} 1
`

// TestAbandonedCallsAreAGaugeAndTheirCapARefusalReason runs a timeout in
// abandon mode around a call that ignores its context.
func TestAbandonedCallsAreAGaugeAndTheirCapARefusalReason(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newCollector(t, metrics.Config{})
		tmo, err := timeout.New(timeout.Config{Name: "legacy", Timeout: time.Second, Abandon: true, MaxAbandoned: 1, Observer: m})
		require.NoError(t, err)
		stubborn := func(context.Context) error { time.Sleep(3 * time.Second); return nil }

		require.ErrorIs(t, tmo.Execute(context.Background(), stubborn), timeout.ErrTimeout)
		require.ErrorIs(t, tmo.Execute(context.Background(), stubborn), timeout.ErrTooManyAbandoned)
		want := `
# HELP resilience_abandoned_in_flight Calls a timeout abandoned past its deadline that have not returned yet.
# TYPE resilience_abandoned_in_flight gauge
resilience_abandoned_in_flight{key="",policy="legacy"} %d
# HELP resilience_rejections_total Calls refused without being started, by reason (breaker_open, probe_limit, bulkhead_full, abandon_limit, adaptive_limit, throttled, rate_limited, other).
# TYPE resilience_rejections_total counter
resilience_rejections_total{key="",policy="legacy",reason="abandon_limit"} 1
# HELP resilience_timeouts_total Calls whose timeout policy's own deadline passed.
# TYPE resilience_timeouts_total counter
resilience_timeouts_total{key="",policy="legacy"} 1
`
		compare(t, m, strings.Replace(want, "%d", "1", 1))

		time.Sleep(3 * time.Second) // the abandoned call returns
		synctest.Wait()
		compare(t, m, strings.Replace(want, "%d", "0", 1))
	})
}

// TestKeyedBreakersHaveSeriesPerKey runs a breaker set: each key is a
// series of its own.
func TestKeyedBreakersHaveSeriesPerKey(t *testing.T) {
	m := newCollector(t, metrics.Config{})
	set, err := breaker.NewSet(breaker.KeyedConfig{Config: breaker.Config{Name: "hosts", ConsecutiveFailures: 1, Observer: m}})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, set.Execute(ctx, "a.example", func(context.Context) error { return nil }))
	require.Error(t, set.Execute(ctx, "b.example", func(context.Context) error { return errors.New("down") }))
	require.ErrorIs(t, set.Execute(ctx, "b.example", func(context.Context) error { return nil }), breaker.ErrOpen)

	compare(t, m, `
# HELP resilience_breaker_state Breaker state: 1 for the state the breaker is in, 0 for the others.
# TYPE resilience_breaker_state gauge
resilience_breaker_state{key="a.example",policy="hosts",state="closed"} 1
resilience_breaker_state{key="a.example",policy="hosts",state="forced-closed"} 0
resilience_breaker_state{key="a.example",policy="hosts",state="forced-open"} 0
resilience_breaker_state{key="a.example",policy="hosts",state="half-open"} 0
resilience_breaker_state{key="a.example",policy="hosts",state="open"} 0
resilience_breaker_state{key="b.example",policy="hosts",state="closed"} 0
resilience_breaker_state{key="b.example",policy="hosts",state="forced-closed"} 0
resilience_breaker_state{key="b.example",policy="hosts",state="forced-open"} 0
resilience_breaker_state{key="b.example",policy="hosts",state="half-open"} 0
resilience_breaker_state{key="b.example",policy="hosts",state="open"} 1
# HELP resilience_rejections_total Calls refused without being started, by reason (breaker_open, probe_limit, bulkhead_full, abandon_limit, adaptive_limit, throttled, rate_limited, other).
# TYPE resilience_rejections_total counter
resilience_rejections_total{key="b.example",policy="hosts",reason="breaker_open"} 1
`, "resilience_breaker_state", "resilience_rejections_total")
}

// TestForcedStatesAreReportedAsSuch forces a breaker open and closed.
func TestForcedStatesAreReportedAsSuch(t *testing.T) {
	m := newCollector(t, metrics.Config{})
	brk, err := breaker.New(breaker.Config{Name: "ops", Observer: m})
	require.NoError(t, err)
	brk.ForceOpen()
	require.ErrorIs(t, brk.Execute(context.Background(), func(context.Context) error { return nil }), breaker.ErrOpen)
	brk.ForceClosed()
	brk.Unforce()
	compare(t, m, `
# HELP resilience_breaker_state Breaker state: 1 for the state the breaker is in, 0 for the others.
# TYPE resilience_breaker_state gauge
resilience_breaker_state{key="",policy="ops",state="closed"} 1
resilience_breaker_state{key="",policy="ops",state="forced-closed"} 0
resilience_breaker_state{key="",policy="ops",state="forced-open"} 0
resilience_breaker_state{key="",policy="ops",state="half-open"} 0
resilience_breaker_state{key="",policy="ops",state="open"} 0
# HELP resilience_breaker_transitions_total Breaker state changes, forced ones included.
# TYPE resilience_breaker_transitions_total counter
resilience_breaker_transitions_total{from="closed",key="",policy="ops",to="forced-open"} 1
resilience_breaker_transitions_total{from="forced-closed",key="",policy="ops",to="closed"} 1
resilience_breaker_transitions_total{from="forced-open",key="",policy="ops",to="forced-closed"} 1
# HELP resilience_calls_total Calls a breaker let through, by classified outcome (success, failure, ignored).
# TYPE resilience_calls_total counter
resilience_calls_total{key="",outcome="failure",policy="ops"} 0
resilience_calls_total{key="",outcome="ignored",policy="ops"} 0
resilience_calls_total{key="",outcome="success",policy="ops"} 0
# HELP resilience_rejections_total Calls refused without being started, by reason (breaker_open, probe_limit, bulkhead_full, abandon_limit, adaptive_limit, throttled, rate_limited, other).
# TYPE resilience_rejections_total counter
resilience_rejections_total{key="",policy="ops",reason="breaker_open"} 1
`, "resilience_breaker_state", "resilience_breaker_transitions_total", "resilience_calls_total", "resilience_rejections_total")
}

var _ prometheus.Collector = (*metrics.Collector)(nil)
var _ resilience.Observer = (*metrics.Collector)(nil)
