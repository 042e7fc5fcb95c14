package httpx_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/httpx"
)

// neverTrip keeps the breaker closed through a long run of failures.
var neverTrip = breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 1 << 20}}

func TestConnectionsAreReusedAcrossFailedResponses(t *testing.T) {
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
	for _, p := range protos {
		for _, tc := range configs {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				h := newStatusHandler(500)
				s := newServer(t, p.h2, h)
				cfg := tc.cfg
				cfg.Base = s.base
				c := &http.Client{Transport: newTransport(t, cfg)}
				for i := range 20 {
					if i%2 == 1 {
						h.code.Store(503)
					} else {
						h.code.Store(500)
					}
					code, err := fetch(t, c, s.URL)
					require.NoError(t, err)
					require.GreaterOrEqual(t, code, 500)
				}
				assert.EqualValues(t, 20, h.hits.Load())
				assert.EqualValues(t, 1, s.conns.Load(), "one connection for all requests")
			})
		}
	}
}

func TestReplacedResponseIsDrainedForReuse(t *testing.T) {
	for _, size := range []int{10, 3 << 10} { // both under the drain bound
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(500)
			io.WriteString(w, strings.Repeat("x", size))
		})
		s := newServer(t, false, h)
		tr := newTransport(t, httpx.Config{
			Base:    s.base,
			Breaker: neverTrip,
			Timeout: 5 * time.Second,
			Fallback: func(req *http.Request, err error) (*http.Response, error) {
				return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("cached")), Request: req}, nil
			},
		})
		c := &http.Client{Transport: tr}
		for range 10 {
			code, err := fetch(t, c, s.URL)
			require.NoError(t, err)
			require.Equal(t, 200, code)
		}
		assert.EqualValues(t, 1, s.conns.Load(), "the Transport drained what it discarded (%d bytes)", size)
	}
}

func TestReplacedLongResponseIsCutNotRead(t *testing.T) {
	// A body far over the drain bound is closed, not read to the end: the
	// connection is given up instead of waiting for megabytes.
	hang := hangUntilCleanup(t)
	s := newServer(t, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		io.WriteString(w, strings.Repeat("x", 64<<10))
		w.(http.Flusher).Flush()
		select { // and more, never
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	tr := newTransport(t, httpx.Config{
		Base:    s.base,
		Breaker: neverTrip,
		Fallback: func(req *http.Request, err error) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Body: http.NoBody, Request: req}, nil
		},
	})
	c := &http.Client{Transport: tr}
	for range 3 {
		code, err := fetch(t, c, s.URL)
		require.NoError(t, err)
		require.Equal(t, 200, code)
	}
	assert.EqualValues(t, 3, s.conns.Load())
}
