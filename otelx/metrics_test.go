package otelx_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/httpx"
	"github.com/go-resilience/resilience/inject"
	"github.com/go-resilience/resilience/otelx"
)

// metering is an SDK meter provider read by hand.
type metering struct {
	reader *sdkmetric.ManualReader
	mp     *sdkmetric.MeterProvider
}

func newMetering(t *testing.T) *metering {
	t.Helper()
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return &metering{reader: r, mp: mp}
}

// points returns, for the instrument name, each data point's value by
// its attributes (written "k=v,k=v" in the order of the set): sums and
// gauges as int64 or float64, histograms as their count.
func (m *metering) points(t *testing.T, name string) map[string]any {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, m.reader.Collect(context.Background(), &rm))
	out := map[string]any{}
	for _, sm := range rm.ScopeMetrics {
		for _, mt := range sm.Metrics {
			if mt.Name != name {
				continue
			}
			switch d := mt.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out[attrString(p.Attributes)] = p.Value
				}
			case metricdata.Sum[float64]:
				for _, p := range d.DataPoints {
					out[attrString(p.Attributes)] = p.Value
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					out[attrString(p.Attributes)] = p.Value
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out[attrString(p.Attributes)] = p.Count
				}
			default:
				t.Fatalf("%s: unexpected data %T", name, d)
			}
		}
	}
	return out
}

func attrString(s attribute.Set) string {
	out := ""
	for i, kv := range s.ToSlice() {
		if i > 0 {
			out += ","
		}
		out += string(kv.Key) + "=" + kv.Value.String()
	}
	return out
}

// The Observer records the Prometheus collector's series as OpenTelemetry
// instruments, with the same values for the same events.
func TestMetricsSeries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMetering(t)
		obs := newObserver(t, otelx.Config{MeterProvider: m.mp})
		c := newChain(t, obs)
		ctx := context.Background()

		_, err := c.do(ctx, ok)
		require.NoError(t, err)
		_, err = c.do(ctx, fail)
		require.ErrorIs(t, err, errBoom)
		_, err = c.do(ctx, func(ctx context.Context) (string, error) { <-ctx.Done(); return "", ctx.Err() })
		require.ErrorIs(t, err, context.DeadlineExceeded) // the second failure: the breaker opens
		v, err := c.do(ctx, ok)                           // refused, answered by the fallback
		require.NoError(t, err)
		require.Equal(t, "cached", v)

		const brk, tmo, bulk, fb = "resilience.key=,resilience.policy=brk", "resilience.key=,resilience.policy=tmo",
			"resilience.key=,resilience.policy=bulk", "resilience.key=,resilience.policy=fb"
		assert.Equal(t, map[string]any{
			"resilience.key=,resilience.outcome=success,resilience.policy=brk": int64(1),
			"resilience.key=,resilience.outcome=failure,resilience.policy=brk": int64(2),
		}, m.points(t, "resilience.calls"))
		assert.Equal(t, map[string]any{brk: uint64(3)}, m.points(t, "resilience.call.duration"))
		assert.Equal(t, map[string]any{
			"resilience.breaker.state=closed," + brk: int64(0),
			"resilience.breaker.state=open," + brk:   int64(1),
		}, m.points(t, "resilience.breaker.state"))
		assert.Equal(t, map[string]any{
			"resilience.breaker.from=closed,resilience.breaker.to=open,resilience.key=,resilience.policy=brk": int64(1),
		}, m.points(t, "resilience.breaker.transitions"))
		assert.Equal(t, map[string]any{"error.type=breaker_open," + brk: int64(1)}, m.points(t, "resilience.rejections"))
		assert.Equal(t, map[string]any{tmo: int64(1)}, m.points(t, "resilience.timeouts"))
		assert.Equal(t, map[string]any{bulk: int64(0)}, m.points(t, "resilience.bulkhead.active"))
		assert.Equal(t, map[string]any{fb: int64(1)}, m.points(t, "resilience.fallbacks"))

		// A full bulkhead, a wait, and what watching it reads.
		reg, err := obs.WatchBulkheads(c.bulk)
		require.NoError(t, err)
		defer func() { require.NoError(t, reg.Unregister()) }()
		require.NoError(t, c.bulk.Acquire(ctx))
		assert.Equal(t, map[string]any{bulk: int64(1)}, m.points(t, "resilience.bulkhead.active"))
		assert.Equal(t, map[string]any{bulk: int64(1)}, m.points(t, "resilience.bulkhead.capacity"))
		assert.Equal(t, map[string]any{bulk: int64(0)}, m.points(t, "resilience.bulkhead.waiting"))
		c.bulk.Release()
	})
}

func TestMetricsInjected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMetering(t)
		obs := newObserver(t, otelx.Config{MeterProvider: m.mp})
		in, err := inject.New(inject.Config{Name: "chaos", Share: 1, Delay: 250 * time.Millisecond, Err: errBoom, Observer: obs})
		require.NoError(t, err)
		in.Enable()
		for range 2 {
			require.ErrorIs(t, in.Execute(context.Background(), func(context.Context) error { return nil }), errBoom)
		}
		const chaos = "resilience.key=,resilience.policy=chaos"
		assert.Equal(t, map[string]any{chaos: int64(2)}, m.points(t, "resilience.injected.faults"))
		assert.Equal(t, map[string]any{chaos: int64(2)}, m.points(t, "resilience.injected.errors"))
		assert.Equal(t, map[string]any{chaos: 0.5}, m.points(t, "resilience.injected.delay"))
	})
}

// Beyond MaxKeys pairs, events are recorded under the key "_other".
func TestMetricsMaxKeys(t *testing.T) {
	m := newMetering(t)
	obs := newObserver(t, otelx.Config{MeterProvider: m.mp, MaxKeys: 2})
	for _, k := range []string{"a", "b", "c", "d"} {
		obs.Observe(resilience.Event{Kind: resilience.EventTimeout, Policy: "p", Key: k})
	}
	assert.Equal(t, map[string]any{
		"resilience.key=a,resilience.policy=p":      int64(1),
		"resilience.key=b,resilience.policy=p":      int64(1),
		"resilience.key=_other,resilience.policy=p": int64(2),
	}, m.points(t, "resilience.timeouts"))
}

func TestWatchBulkheadsErrors(t *testing.T) {
	var nilObs *otelx.Observer
	_, err := nilObs.WatchBulkheads()
	assert.ErrorContains(t, err, "otelx: nil *Observer")
	_, err = newObserver(t, otelx.Config{}).WatchBulkheads()
	assert.ErrorContains(t, err, "Config.MeterProvider")
	m := newMetering(t)
	_, err = newObserver(t, otelx.Config{MeterProvider: m.mp}).WatchBulkheads(nil)
	assert.ErrorContains(t, err, "nil bulkhead")
}

func TestMetricsLimitAndServer(t *testing.T) {
	m := newMetering(t)
	obs := newObserver(t, otelx.Config{MeterProvider: m.mp})
	ctx := context.Background()
	obs.Observe(resilience.Event{Kind: resilience.EventLimitChange, Policy: "al", Limit: 20, Ctx: ctx})
	obs.Observe(resilience.Event{Kind: resilience.EventLimitChange, Policy: "al", Limit: 14, Ctx: ctx})
	obs.Observe(resilience.Event{Kind: resilience.EventAdmitted, Policy: "srv", Latency: time.Millisecond, Ctx: ctx})
	obs.Observe(resilience.Event{Kind: resilience.EventShed, Policy: "srv", Err: bulkhead.ErrFull, Ctx: ctx})
	assert.Equal(t, map[string]any{"resilience.key=,resilience.policy=al": int64(14)}, m.points(t, "resilience.adaptive.limit"))
	assert.Equal(t, map[string]any{"resilience.key=,resilience.policy=srv": int64(1)}, m.points(t, "resilience.server.admitted"))
	assert.Equal(t, map[string]any{"resilience.key=,resilience.policy=srv": uint64(1)}, m.points(t, "resilience.server.queue.wait.duration"))
	assert.Equal(t, map[string]any{"error.type=overload,resilience.key=,resilience.policy=srv": int64(1)}, m.points(t, "resilience.server.shed"))
}

func TestMetricsRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMetering(t)
		c := newFullChain(t, newObserver(t, otelx.Config{MeterProvider: m.mp}))
		_, err := c.do(context.Background(), fail) // two attempts, then it gives up
		require.ErrorIs(t, err, errBoom)
		const rty = "resilience.key=,resilience.policy=rty"
		assert.Equal(t, map[string]any{rty: int64(1)}, m.points(t, "resilience.retries"))
		assert.Equal(t, map[string]any{rty: int64(1)}, m.points(t, "resilience.retry.give_ups"))
		assert.Empty(t, m.points(t, "resilience.retry.budget.refusals"))
	})
}

func TestMetricsFleet(t *testing.T) {
	m := newMetering(t)
	obs := newObserver(t, otelx.Config{MeterProvider: m.mp})
	obs.Observe(resilience.Event{Kind: resilience.EventSync, Policy: "fleet", Latency: 250 * time.Millisecond, Ctx: context.Background()})
	obs.Observe(resilience.Event{Kind: resilience.EventSyncError, Policy: "fleet", Err: errBoom, Ctx: context.Background()})
	const fleet = "resilience.key=,resilience.policy=fleet"
	assert.Equal(t, map[string]any{fleet: int64(1)}, m.points(t, "resilience.fleet.syncs"))
	assert.Equal(t, map[string]any{fleet: 0.25}, m.points(t, "resilience.fleet.sync.time"))
	assert.Equal(t, map[string]any{fleet: int64(1)}, m.points(t, "resilience.fleet.sync.errors"))
}

// WatchSource reports the per-key bulkheads an httpx.Transport makes as
// keys are first seen.
func TestWatchSource(t *testing.T) {
	m := newMetering(t)
	obs := newObserver(t, otelx.Config{MeterProvider: m.mp})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	rt, err := httpx.New(httpx.Config{
		Name: "api", Base: srv.Client().Transport, Observer: obs,
		Bulkhead: bulkhead.Config{MaxConcurrent: 7}, BulkheadPerKey: true,
	})
	require.NoError(t, err)
	client := &http.Client{Transport: rt}
	defer client.CloseIdleConnections()
	reg, err := obs.WatchSource(rt)
	require.NoError(t, err)
	defer func() { require.NoError(t, reg.Unregister()) }()
	assert.Empty(t, m.points(t, "resilience.bulkhead.capacity"), "no key seen yet")

	resp, err := client.Get(srv.URL)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	key := srv.URL // the default key: scheme and host
	assert.Equal(t, map[string]any{"resilience.key=" + key + ",resilience.policy=api": int64(7)}, m.points(t, "resilience.bulkhead.capacity"))
	assert.Equal(t, map[string]any{"resilience.key=" + key + ",resilience.policy=api": int64(0)}, m.points(t, "resilience.bulkhead.waiting"))

	_, err = obs.WatchSource(nil)
	assert.ErrorContains(t, err, "nil Source")
}
