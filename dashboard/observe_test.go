package dashboard_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/dashboard"
	"github.com/go-resilience/resilience/timeout"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func call(policy, key string, o resilience.Outcome, latency time.Duration) resilience.Event {
	return resilience.Event{Kind: resilience.EventCall, Policy: policy, Key: key, Outcome: o, Latency: latency}
}

func TestRefusalsAreCountedByReason(t *testing.T) {
	b, err := breaker.New(breaker.Config{Name: "b", ConsecutiveFailures: 1})
	require.NoError(t, err)
	_ = b.Execute(t.Context(), fail)
	open := b.Execute(t.Context(), succeed) // a *RejectedError matching ErrOpen
	require.ErrorIs(t, open, breaker.ErrOpen)

	d := newDashboard(t, dashboard.Config{})
	for _, err := range []error{
		open, breaker.ErrOpen, breaker.ErrTooManyProbes, bulkhead.ErrFull,
		fmt.Errorf("wrapped: %w", bulkhead.ErrFull), timeout.ErrTooManyAbandoned, errors.New("someone else's"),
	} {
		d.Observe(resilience.Event{Kind: resilience.EventRejected, Policy: "p", Err: err})
	}
	d.Observe(resilience.Event{Kind: resilience.EventTimeout, Policy: "p"})
	d.Observe(resilience.Event{Kind: resilience.EventFallback, Policy: "p"})
	d.Observe(resilience.Event{Kind: resilience.EventFallback, Policy: "p"})

	p := policy(t, snapshot(t, d, ""), "p", "")
	assert.Equal(t, map[string]uint64{"breaker_open": 2, "probe_limit": 1, "bulkhead_full": 2, "abandon_limit": 1, "other": 1}, p.Rejected)
	assert.EqualValues(t, 1, p.Timeouts)
	assert.EqualValues(t, 2, p.Fallbacks)
}

func TestUnknownEventsAndNilReceiversAreIgnored(t *testing.T) {
	d := newDashboard(t, dashboard.Config{})
	d.Observe(resilience.Event{Policy: "zero kind"})
	d.Observe(resilience.Event{Kind: 200, Policy: "future kind"})
	assert.Empty(t, snapshot(t, d, "").Policies)

	var nd *dashboard.Dashboard
	var nr *dashboard.Recorder
	assert.NotPanics(t, func() {
		nd.Observe(call("p", "", resilience.Success, 0))
		nr.Observe(call("p", "", resilience.Success, 0))
	})
}

func TestRatesArePerSecondBetweenSamples(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := newDashboard(t, dashboard.Config{Interval: time.Second})
		m := snapshot(t, d, "") // the first sample
		assert.Empty(t, m.Policies)

		for i := range 30 {
			o := resilience.Success
			if i%3 == 0 {
				o = resilience.Failure
			}
			d.Observe(call("api", "h1", o, time.Millisecond))
		}
		d.Observe(call("api", "h1", resilience.Ignored, time.Millisecond))
		for range 5 {
			d.Observe(resilience.Event{Kind: resilience.EventRejected, Policy: "api", Key: "h1", Err: breaker.ErrOpen})
		}
		time.Sleep(2 * time.Second)
		p := policy(t, snapshot(t, d, "?history=true"), "api", "h1")
		assert.InDelta(t, 15.5, p.CallsPerSec, 1e-9, "31 calls in 2s, the ignored one too")
		assert.InDelta(t, 5, p.FailuresPerSec, 1e-9)
		assert.InDelta(t, 2.5, p.RejectedPerSec, 1e-9)
		assert.EqualValues(t, 31, p.Calls)
		assert.EqualValues(t, 10, p.Failures)
		assert.Equal(t, [][3]float64{{15.5, 5, 2.5}}, p.History)

		// A snapshot asked for within half an Interval takes no new sample.
		time.Sleep(400 * time.Millisecond)
		p = policy(t, snapshot(t, d, "?history=true"), "api", "h1")
		assert.Len(t, p.History, 1)
		assert.InDelta(t, 15.5, p.CallsPerSec, 1e-9)

		time.Sleep(600 * time.Millisecond)
		p = policy(t, snapshot(t, d, "?history=true"), "api", "h1")
		assert.Equal(t, [][3]float64{{15.5, 5, 2.5}, {0, 0, 0}}, p.History)
		assert.Nil(t, policy(t, snapshot(t, d, ""), "api", "h1").History, "history only when asked")
	})
}

func TestHistoryKeepsTheLast120Samples(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := newDashboard(t, dashboard.Config{Interval: time.Second})
		d.Observe(call("api", "", resilience.Success, 0))
		for i := range 130 {
			for range i {
				d.Observe(call("api", "", resilience.Success, 0))
			}
			snapshot(t, d, "")
			time.Sleep(time.Second)
		}
		h := policy(t, snapshot(t, d, "?history=true"), "api", "").History
		require.Len(t, h, 120)
		// A sample after each round of i calls (the first sample gives no
		// rate), then one after a quiet second.
		assert.Equal(t, [3]float64{11, 0, 0}, h[0], "oldest first")
		assert.Equal(t, [3]float64{129, 0, 0}, h[118])
		assert.Equal(t, [3]float64{0, 0, 0}, h[119])
	})
}

func TestPercentilesCoverTheRecentWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := newDashboard(t, dashboard.Config{Interval: time.Second, Window: time.Minute})
		snapshot(t, d, "")
		for range 90 {
			d.Observe(call("db", "", resilience.Success, time.Millisecond))
		}
		for range 10 {
			d.Observe(call("db", "", resilience.Failure, 100*time.Millisecond))
		}
		d.Observe(call("db", "", resilience.Ignored, time.Hour)) // not timed

		p := policy(t, snapshot(t, d, ""), "db", "")
		// Buckets are a quarter of a power of two wide: at most 25% over.
		assert.GreaterOrEqual(t, p.P50Ms, 1.0)
		assert.LessOrEqual(t, p.P50Ms, 1.25)
		assert.GreaterOrEqual(t, p.P90Ms, 1.0)
		assert.LessOrEqual(t, p.P90Ms, 1.25)
		assert.GreaterOrEqual(t, p.P99Ms, 100.0)
		assert.LessOrEqual(t, p.P99Ms, 125.0)

		time.Sleep(30 * time.Second) // half a window: a new half starts, the calls are kept
		snapshot(t, d, "")
		d.Observe(call("db", "", resilience.Success, 10*time.Second))
		p = policy(t, snapshot(t, d, ""), "db", "")
		assert.GreaterOrEqual(t, p.P99Ms, 100.0)
		assert.LessOrEqual(t, p.P99Ms, 125.0)

		time.Sleep(30 * time.Second) // a whole window: the first calls are gone
		p = policy(t, snapshot(t, d, ""), "db", "")
		assert.GreaterOrEqual(t, p.P50Ms, 10000.0, "only the 10s call is left")
		assert.LessOrEqual(t, p.P50Ms, 12500.0)

		time.Sleep(2 * time.Minute) // long idle: nothing is left
		p = policy(t, snapshot(t, d, ""), "db", "")
		assert.Zero(t, p.P50Ms)
		assert.Zero(t, p.P99Ms)
		assert.EqualValues(t, 102, p.Calls, "totals are kept")
	})
}

func TestLatencyExtremesFallInTheEndBuckets(t *testing.T) {
	d := newDashboard(t, dashboard.Config{})
	for _, l := range []time.Duration{-time.Second, 0, time.Nanosecond, 1000 * time.Hour} {
		d.Observe(call("x", "", resilience.Success, l))
	}
	p := policy(t, snapshot(t, d, ""), "x", "")
	assert.Greater(t, p.P50Ms, 0.0)
	assert.Less(t, p.P50Ms, 0.01)
	assert.Greater(t, p.P99Ms, 100_000.0)
}

func TestMaxKeysBoundsTheRecorder(t *testing.T) {
	rec := &dashboard.Recorder{MaxKeys: 3}
	d := newDashboard(t, dashboard.Config{Recorder: rec})
	for i := range 10 {
		rec.Observe(call("api", fmt.Sprint("host", i), resilience.Success, time.Millisecond))
	}
	rec.Observe(call("api", "host0", resilience.Success, time.Millisecond))
	m := snapshot(t, d, "")
	require.Len(t, m.Policies, 4)
	for i := range 3 {
		assert.EqualValues(t, 1+btoi(i == 0), policy(t, m, "api", fmt.Sprint("host", i)).Calls)
	}
	assert.EqualValues(t, 7, policy(t, m, "_other", "").Calls)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestTilesJoinTheRecorderByNameAndKey(t *testing.T) {
	rec := &dashboard.Recorder{}
	set, err := breaker.NewSet(breaker.KeyedConfig{Config: breaker.Config{Name: "hosts", ConsecutiveFailures: 2, Observer: rec}})
	require.NoError(t, err)
	bh, err := bulkhead.New(bulkhead.Config{Name: "db", MaxConcurrent: 4})
	require.NoError(t, err)
	d := newDashboard(t, dashboard.Config{Recorder: rec, Sets: []*breaker.Set{set}, Bulkheads: []*bulkhead.Bulkhead{bh}})

	_ = set.Execute(t.Context(), "h", fail)
	_ = set.Execute(t.Context(), "h", fail)
	_ = set.Execute(t.Context(), "h", succeed) // refused
	rec.Observe(resilience.Event{Kind: resilience.EventTimeout, Policy: "deadline"})
	require.NoError(t, bh.Acquire(t.Context()))
	require.NoError(t, bh.Acquire(t.Context()))
	require.NoError(t, bh.Acquire(t.Context()))
	defer func() { bh.Release(); bh.Release(); bh.Release() }()

	m := snapshot(t, d, "")
	require.Len(t, m.Breakers, 1)
	b := m.Breakers[0]
	assert.Equal(t, "hosts", b.Name)
	assert.Equal(t, "h", b.Key)
	assert.Equal(t, "open", b.State)
	assert.EqualValues(t, 2, b.Calls)
	assert.EqualValues(t, 2, b.Failures)
	assert.Equal(t, map[string]uint64{"breaker_open": 1}, b.Rejected)

	require.Len(t, m.Bulkheads, 1)
	assert.Equal(t, bulkTile{Name: "db", InFlight: 3, MaxConcurrent: 4, Saturation: 0.75,
		figures: figures{Rejected: map[string]uint64{}}}, m.Bulkheads[0])

	require.Len(t, m.Policies, 1, "a watched breaker is not listed again")
	assert.EqualValues(t, 1, m.Policies[0].Timeouts)

	require.Len(t, m.Timeline, 1)
	assert.Equal(t, change{Time: m.Timeline[0].Time, Policy: "hosts", Key: "h", From: "closed", To: "open"}, m.Timeline[0])
}

func TestTimelineKeepsTheLast50Changes(t *testing.T) {
	d := newDashboard(t, dashboard.Config{})
	for i := range 60 {
		d.Observe(resilience.Event{Kind: resilience.EventStateChange, Policy: "b", Key: fmt.Sprint(i), From: "closed", To: "open"})
	}
	tl := snapshot(t, d, "").Timeline
	require.Len(t, tl, 50)
	assert.Equal(t, "10", tl[0].Key, "oldest first")
	assert.Equal(t, "59", tl[49].Key)
}

func TestObserveAllocatesNothingOnceAPairIsSeen(t *testing.T) {
	rec := &dashboard.Recorder{}
	evs := []resilience.Event{
		call("api", "h", resilience.Success, time.Millisecond),
		call("api", "h", resilience.Failure, time.Second),
		{Kind: resilience.EventRejected, Policy: "api", Key: "h", Err: breaker.ErrOpen},
		{Kind: resilience.EventTimeout, Policy: "api", Key: "h"},
		{Kind: resilience.EventFallback, Policy: "api", Key: "h"},
	}
	for _, ev := range evs {
		rec.Observe(ev)
	}
	allocs := testing.AllocsPerRun(100, func() {
		for _, ev := range evs {
			rec.Observe(ev)
		}
	})
	assert.Zero(t, allocs)
}

// Many goroutines observing, adding pairs and sampling at once: every
// call is counted once, whatever pair it lands in.
func TestConcurrentObserveCountsEveryCall(t *testing.T) {
	rec := &dashboard.Recorder{MaxKeys: 50}
	d := newDashboard(t, dashboard.Config{Recorder: rec, MaxTiles: 10000})
	const workers, per = 8, 2000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				rec.Observe(call("api", fmt.Sprint((w*per+i)%100), resilience.Success, time.Millisecond))
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			snapshot(t, d, "?history=true")
		}
	})
	wg.Wait()
	var total uint64
	m := snapshot(t, d, "")
	for _, p := range m.Policies {
		total += p.Calls
	}
	assert.EqualValues(t, workers*per, total)
	assert.Len(t, m.Policies, 51, "50 pairs and _other")
}
