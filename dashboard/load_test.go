package dashboard_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/dashboard"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallSendBuffer accepts connections whose kernel send buffer is small, so
// that a client that stops reading blocks the server's writes within a
// message or two instead of after megabytes.
type smallSendBuffer struct{ net.Listener }

func (l smallSendBuffer) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(16 << 10)
	}
	return c, err
}

// The call path under 100 open pages and 1,000 breaker keys: its
// throughput is measured with and without the pages, in alternating
// phases (the ratio is logged, not asserted: speed is not a test's to
// judge on a shared machine), memory stays bounded, and a page that stops
// reading is dropped.
func TestLoadHundredStreamsThousandKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("a few seconds of load")
	}
	const keys, streams = 1000, 100
	rec := &dashboard.Recorder{}
	set, err := breaker.NewSet(breaker.KeyedConfig{MaxKeys: keys, Config: breaker.Config{Name: "upstream", Observer: rec}})
	require.NoError(t, err)
	names := make([]string, keys)
	for i := range names {
		names[i] = fmt.Sprintf("host-%04d.internal.example", i)
		_ = set.Execute(t.Context(), names[i], succeed)
	}
	d := newDashboard(t, dashboard.Config{Recorder: rec, Sets: []*breaker.Set{set}, Interval: 250 * time.Millisecond})
	srv := httptest.NewUnstartedServer(d)
	srv.Listener = smallSendBuffer{srv.Listener}
	srv.Config.RegisterOnShutdown(d.CloseStreams)
	srv.Start()
	t.Cleanup(srv.Close)

	// The call path: a worker per CPU, calling through the set's breakers
	// in turn, counting calls.
	var calls atomic.Uint64
	stop := make(chan struct{})
	var workers sync.WaitGroup
	for w := range runtime.GOMAXPROCS(0) {
		workers.Go(func() {
			ctx := context.Background()
			for i := w; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_ = set.Execute(ctx, names[i%keys], succeed)
				calls.Add(1)
			}
		})
	}
	defer func() { close(stop); workers.Wait() }()
	measure := func(d time.Duration) float64 {
		before := calls.Load()
		start := time.Now()
		time.Sleep(d) // measuring a rate over a span, not waiting for a state
		return float64(calls.Load()-before) / time.Since(start).Seconds()
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}

	measure(500 * time.Millisecond) // warm up
	heapBefore := heap()
	var without, with []float64
	without = append(without, measure(time.Second))

	// 100 pages reading their streams, and one that stops reading.
	ctx, cancel := context.WithCancel(t.Context())
	var readers sync.WaitGroup
	var received atomic.Int64
	for range streams {
		req, err := http.NewRequestWithContext(ctx, "GET", srv.URL+"/events", nil)
		require.NoError(t, err)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode)
		readers.Go(func() {
			defer res.Body.Close()
			n, _ := io.Copy(io.Discard, res.Body)
			received.Add(n)
		})
	}
	conn := stalled(t, srv.Listener.Addr().String())
	defer conn.Close()

	for range 3 {
		with = append(with, measure(time.Second))
		m := snapshot(t, d, "")
		t.Logf("with %d streams open (%d dropped): %.0f calls/s", m.Streams, m.StreamsDropped, with[len(with)-1])
	}
	heapWith := heap()
	m := snapshot(t, d, "")
	assert.EqualValues(t, 1, m.StreamsDropped, "the stalled stream is dropped")
	assert.Equal(t, streams, m.Streams, "every reading stream is kept")
	assert.Len(t, m.Breakers, 100, "a message lists Config.MaxTiles breakers")
	assert.Equal(t, keys-100, m.BreakersMore)

	cancel()
	readers.Wait()
	without = append(without, measure(time.Second))

	mean := func(xs []float64) float64 {
		var s float64
		for _, x := range xs {
			s += x
		}
		return s / float64(len(xs))
	}
	t.Logf("call path: %.0f calls/s without streams, %.0f with %d streams: ratio %.3f",
		mean(without), mean(with), streams, mean(with)/mean(without))
	t.Logf("heap: %.1f MiB before the streams, %.1f MiB with them; %.1f MiB streamed",
		float64(heapBefore)/(1<<20), float64(heapWith)/(1<<20), float64(received.Load())/(1<<20))
	assert.Less(t, float64(heapWith), float64(heapBefore)+64<<20, "memory stays bounded")
}
