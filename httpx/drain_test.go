package httpx_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/httpx"
	"github.com/go-resilience/resilience/timeout"
)

// closeUnread sends a GET and closes the response body without reading it,
// as a caller that only looks at the status does. It returns the status.
func closeUnread(t *testing.T, c *http.Client, url string) int {
	t.Helper()
	resp, err := get(t, c, url)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	return resp.StatusCode
}

func TestFailureResponsesClosedUnreadKeepTheirConnections(t *testing.T) {
	// A 5xx storm: 200 failure responses, each closed unread by its caller,
	// from 4 callers at once, over HTTP/1.1. Each would cost a new
	// connection if its body were not drained on Close.
	configs := []struct {
		name string
		cfg  httpx.Config
	}{
		{"breaker only", httpx.Config{Breaker: neverTrip}},
		{"with timeout and bulkhead", httpx.Config{
			Breaker:  neverTrip,
			Timeout:  5 * time.Second,
			Bulkhead: bulkhead.Config{MaxConcurrent: 4},
		}},
	}
	for _, tc := range configs {
		t.Run(tc.name, func(t *testing.T) {
			h := newStatusHandler(503)
			s := newServer(t, false, h)
			const callers, each = 4, 50
			// Keep an idle connection per caller (net/http keeps 2 by default).
			s.base.(*http.Transport).MaxIdleConnsPerHost = callers
			cfg := tc.cfg
			cfg.Base = s.base
			c := &http.Client{Transport: newTransport(t, cfg)}
			var wg sync.WaitGroup
			for range callers {
				wg.Go(func() {
					for range each {
						assert.Equal(t, 503, closeUnread(t, c, s.URL))
					}
				})
			}
			wg.Wait()
			assert.EqualValues(t, callers*each, h.hits.Load())
			assert.LessOrEqual(t, s.conns.Load(), int64(2*callers),
				"200 failure responses closed unread reuse a handful of connections")
		})
	}
}

func TestSuccessResponseClosedUnreadIsNotDrained(t *testing.T) {
	// Only failure responses are drained: a caller closing a good response
	// early means it wants no more, as with net/http alone.
	s := newServer(t, false, newStatusHandler(200))
	c := &http.Client{Transport: newTransport(t, httpx.Config{Base: s.base, Breaker: neverTrip})}
	for range 5 {
		assert.Equal(t, 200, closeUnread(t, c, s.URL))
	}
	assert.EqualValues(t, 5, s.conns.Load())
}

func TestStalledFailureBodyIsClosedWithinTheDrainBound(t *testing.T) {
	// A failure body that never ends is not waited for: Close drains for a
	// short bound, then gives the connection up.
	hang := hangUntilCleanup(t)
	s := newServer(t, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	c := &http.Client{Transport: newTransport(t, httpx.Config{Base: s.base, Breaker: neverTrip})}
	for range 3 {
		resp, err := get(t, c, s.URL)
		require.NoError(t, err)
		start := time.Now()
		require.NoError(t, resp.Body.Close())
		// The bound is tens of milliseconds; a second means Close waited
		// for the body (the test context allows 10s).
		assert.Less(t, time.Since(start), time.Second)
	}
	assert.EqualValues(t, 3, s.conns.Load(), "a stalled body's connection is not kept")
}

func TestLargeFailureBodyIsCutNotReadOnClose(t *testing.T) {
	// A failure body far over the drain bound is closed after a few KiB,
	// not read to its end.
	s := newServer(t, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		io.WriteString(w, strings.Repeat("x", 1<<20))
	}))
	c := &http.Client{Transport: newTransport(t, httpx.Config{Base: s.base, Breaker: neverTrip})}
	for range 3 {
		assert.Equal(t, 500, closeUnread(t, c, s.URL))
	}
	assert.EqualValues(t, 3, s.conns.Load())
}

func TestTimeoutErrorNamesTheTransport(t *testing.T) {
	hang := hangUntilCleanup(t)
	s := newServer(t, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	c := &http.Client{Transport: newTransport(t, httpx.Config{
		Name: "payments", Base: s.base, Breaker: neverTrip, Timeout: 20 * time.Millisecond,
	})}
	_, err := get(t, c, s.URL)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `timeout "payments": deadline exceeded`)
	assert.ErrorIs(t, err, timeout.ErrTimeout)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	var te interface{ Timeout() bool }
	require.True(t, errors.As(err, &te))
	assert.True(t, te.Timeout())
}
