package metrics_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/httpx"
	"github.com/go-resilience/resilience/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

func TestWatchedBulkheadsExportCapacityAndWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCollector(t, metrics.Config{})
		pool, err := bulkhead.New(bulkhead.Config{Name: "pool", MaxConcurrent: 1, MaxWait: time.Minute, Observer: c})
		require.NoError(t, err)
		c.WatchBulkheads(pool, nil)

		compare(t, c, `
# HELP resilience_bulkhead_capacity Slots of a watched bulkhead (its MaxConcurrent).
# TYPE resilience_bulkhead_capacity gauge
resilience_bulkhead_capacity{key="",policy="pool"} 1
# HELP resilience_bulkhead_waiting Callers waiting for a slot of a watched bulkhead.
# TYPE resilience_bulkhead_waiting gauge
resilience_bulkhead_waiting{key="",policy="pool"} 0
`, "resilience_bulkhead_capacity", "resilience_bulkhead_waiting")

		// One holds the slot, two wait for it; then one of them gives up.
		require.NoError(t, pool.Acquire(context.Background()))
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() { assert.ErrorIs(t, pool.Acquire(ctx), context.Canceled) })
		wg.Go(func() {
			if assert.NoError(t, pool.Acquire(context.Background())) {
				pool.Release()
			}
		})
		synctest.Wait()
		compare(t, c, `
# HELP resilience_bulkhead_waiting Callers waiting for a slot of a watched bulkhead.
# TYPE resilience_bulkhead_waiting gauge
resilience_bulkhead_waiting{key="",policy="pool"} 2
`, "resilience_bulkhead_waiting")

		cancel() // a waiter giving up reports no Event: the gauge still follows
		synctest.Wait()
		compare(t, c, `
# HELP resilience_bulkhead_waiting Callers waiting for a slot of a watched bulkhead.
# TYPE resilience_bulkhead_waiting gauge
resilience_bulkhead_waiting{key="",policy="pool"} 1
`, "resilience_bulkhead_waiting")
		pool.Release()
		wg.Wait()
	})
}

func TestWatchedSourceExportsPerKeyBulkheadsMadeLater(t *testing.T) {
	c := newCollector(t, metrics.Config{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	tr, err := httpx.New(httpx.Config{
		Name: "api", Base: base, Observer: c,
		Bulkhead: bulkhead.Config{MaxConcurrent: 8}, BulkheadPerKey: true,
	})
	require.NoError(t, err)
	c.WatchSource(tr)
	c.WatchSource(nil)
	compare(t, c, "", "resilience_bulkhead_capacity")

	resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())

	key := "http://" + srv.Listener.Addr().String()
	compare(t, c, `
# HELP resilience_bulkhead_capacity Slots of a watched bulkhead (its MaxConcurrent).
# TYPE resilience_bulkhead_capacity gauge
resilience_bulkhead_capacity{key="`+key+`",policy="api"} 8
`, "resilience_bulkhead_capacity")
}

func TestWatchingTheSameBulkheadTwiceExportsItOnce(t *testing.T) {
	c := newCollector(t, metrics.Config{})
	pool, err := bulkhead.New(bulkhead.Config{Name: "pool", MaxConcurrent: 3})
	require.NoError(t, err)
	c.WatchBulkheads(pool, pool)
	c.WatchBulkheads(pool)
	n, err := testutilCount(c)
	require.NoError(t, err)
	assert.Equal(t, 2, n, "one capacity and one waiting series")
}

// testutilCount counts the series c exports, failing on duplicates as a
// registry would.
func testutilCount(c *metrics.Collector) (int, error) {
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		return 0, err
	}
	mfs, err := reg.Gather()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "resilience_bulkhead_") {
			n += len(mf.GetMetric())
		}
	}
	return n, nil
}
