package dashboard_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/dashboard"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A sse reads a stream of server-sent events.
type sse struct {
	res *http.Response
	sc  *bufio.Scanner
}

func openStream(t testing.TB, url string) *sse {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", url, nil)
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "text/event-stream", res.Header.Get("Content-Type"))
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	s := &sse{res: res, sc: sc}
	t.Cleanup(s.close)
	return s
}

func (s *sse) close() { s.res.Body.Close() }

// next returns the next message, skipping other fields.
func (s *sse) next(t testing.TB) msg {
	t.Helper()
	for s.sc.Scan() {
		line := s.sc.Text()
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var m msg
			require.NoError(t, json.Unmarshal([]byte(data), &m))
			return m
		}
	}
	require.FailNow(t, "stream ended", "%v", s.sc.Err())
	return msg{}
}

func TestStreamSendsAMessageAtOnceThenEveryInterval(t *testing.T) {
	set, err := breaker.NewSet(breaker.KeyedConfig{Config: breaker.Config{Name: "up", ConsecutiveFailures: 1, OpenTimeout: time.Hour}})
	require.NoError(t, err)
	_ = set.Execute(t.Context(), "h", succeed)
	d := newDashboard(t, dashboard.Config{Sets: []*breaker.Set{set}, Interval: 100 * time.Millisecond})
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close) // after the streams' cleanups

	s := openStream(t, srv.URL+"/events")
	start := time.Now()
	m := s.next(t)
	require.Len(t, m.Breakers, 1)
	assert.Equal(t, "closed", m.Breakers[0].State)
	assert.Equal(t, 1, m.Streams)
	assert.EqualValues(t, 100, m.IntervalMs)

	_ = set.Execute(t.Context(), "h", fail)
	for i := 0; ; i++ {
		m = s.next(t)
		if m.Breakers[0].State == "open" {
			break
		}
		require.Less(t, i, 3, "the change shows in the next message")
	}
	// Messages come no faster than the Interval.
	for range 5 {
		s.next(t)
	}
	assert.GreaterOrEqual(t, time.Since(start), 500*time.Millisecond)
}

func TestStreamsBeyondMaxStreamsAreRefused(t *testing.T) {
	d := newDashboard(t, dashboard.Config{MaxStreams: 2, Interval: 100 * time.Millisecond})
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close) // after the streams' cleanups
	a, b := openStream(t, srv.URL+"/events"), openStream(t, srv.URL+"/events")
	a.next(t)
	b.next(t)

	res, err := http.Get(srv.URL + "/events")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.Equal(t, "1", res.Header.Get("Retry-After"))

	a.close()
	require.Eventually(t, func() bool { return snapshot(t, d, "").Streams == 1 }, 5*time.Second, 10*time.Millisecond)
	c := openStream(t, srv.URL+"/events")
	assert.Equal(t, 2, c.next(t).Streams)
}

// stalled opens a stream over a connection with a tiny receive buffer and
// never reads it.
func stalled(t *testing.T, addr string) net.Conn {
	t.Helper()
	dialer := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1024) })
		if err != nil {
			return err
		}
		return serr
	}}
	conn, err := dialer.DialContext(t.Context(), "tcp", addr)
	require.NoError(t, err)
	_, err = fmt.Fprintf(conn, "GET /events HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	require.NoError(t, err)
	return conn
}

// bigSet returns a set of n closed breakers.
func bigSet(t testing.TB, n int) *breaker.Set {
	t.Helper()
	set, err := breaker.NewSet(breaker.KeyedConfig{MaxKeys: n, Config: breaker.Config{Name: "upstream"}})
	require.NoError(t, err)
	for i := range n {
		_ = set.Execute(context.Background(), fmt.Sprintf("host-%04d.internal.example", i), succeed)
	}
	return set
}

func TestAStalledStreamIsDroppedAndTheOthersGoOn(t *testing.T) {
	d := newDashboard(t, dashboard.Config{Sets: []*breaker.Set{bigSet(t, 1000)}, MaxTiles: 1000,
		Interval: 100 * time.Millisecond, StreamBuffer: 2})
	srv := httptest.NewUnstartedServer(d)
	closed := make(chan struct{}, 10)
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateClosed {
			closed <- struct{}{}
		}
	}
	srv.Start()
	t.Cleanup(srv.Close) // after the streams' cleanups

	healthy := openStream(t, srv.URL+"/events")
	healthy.next(t)
	conn := stalled(t, srv.Listener.Addr().String())
	defer conn.Close()

	// The stalled stream's socket buffers fill, then its queue: it is
	// dropped, while the healthy one reads every message.
	deadline := time.Now().Add(30 * time.Second)
	var m msg
	for m.StreamsDropped == 0 {
		require.True(t, time.Now().Before(deadline), "the stalled stream was never dropped")
		m = healthy.next(t)
	}
	assert.EqualValues(t, 1, m.StreamsDropped)
	assert.Equal(t, 1, m.Streams, "only the healthy stream is left")
	assert.Len(t, m.Breakers, 1000)

	// The server lets go of the stalled connection once its write times
	// out.
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		require.Fail(t, "the stalled connection is still open")
	}

	for range 3 {
		assert.EqualValues(t, 1, healthy.next(t).StreamsDropped)
	}
}

func TestTheSenderStopsWithTheLastStream(t *testing.T) {
	d := newDashboard(t, dashboard.Config{Interval: 100 * time.Millisecond})
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close) // after the streams' cleanups
	for range 3 {        // open and close in turn: a sender each time, none left
		s := openStream(t, srv.URL+"/events")
		s.next(t)
		s.next(t)
		s.close()
		require.Eventually(t, func() bool { return snapshot(t, d, "").Streams == 0 }, 5*time.Second, 10*time.Millisecond)
	}
	// goleak (TestMain) checks that no sender goroutine is left.
}

func TestCloseStreamsLetsShutdownFinish(t *testing.T) {
	d := newDashboard(t, dashboard.Config{Interval: 100 * time.Millisecond})
	srv := httptest.NewUnstartedServer(d)
	srv.Config.RegisterOnShutdown(d.CloseStreams)
	srv.Start()
	t.Cleanup(srv.Close)
	s := openStream(t, srv.URL+"/events")
	s.next(t)

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, srv.Config.Shutdown(ctx), "Shutdown did not wait for the stream")
	for s.sc.Scan() { // the stream ends
	}
	assert.Zero(t, snapshot(t, d, "").StreamsDropped, "closing is not dropping")
}
