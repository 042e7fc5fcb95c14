package httpx_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/httpx"
)

// tripFast is a breaker configuration for tests: three failures in a row
// open it for openFor.
func tripFast(openFor time.Duration) breaker.KeyedConfig {
	return breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 3, OpenTimeout: openFor}}
}

func TestServerErrorStormOpensOnlyThatHostsBreaker(t *testing.T) {
	for _, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			sick, well := newStatusHandler(500), newStatusHandler(200)
			a, b := newServer(t, p.h2, sick), newServer(t, p.h2, well)
			// Both servers trust the same TLS certificate, so a's client
			// transport reaches b too.
			tr := newTransport(t, httpx.Config{Base: a.base, Breaker: tripFast(time.Minute)})
			c := &http.Client{Transport: tr}

			for range 3 {
				code, err := fetch(t, c, a.URL)
				require.NoError(t, err)
				require.Equal(t, 500, code, "a failure response is returned as it is")
			}
			for range 5 {
				_, err := fetch(t, c, a.URL)
				require.ErrorIs(t, err, breaker.ErrOpen)
				require.ErrorIs(t, err, resilience.ErrRejected)
				var ue *url.Error
				require.ErrorAs(t, err, &ue, "http.Client wraps it, errors.Is still works")
				var re *breaker.RejectedError
				require.ErrorAs(t, err, &re)
				assert.Equal(t, httpx.HostKey(mustRequest(t, a.URL)), re.Key)
			}
			assert.EqualValues(t, 3, sick.hits.Load(), "refused requests never reach the server")

			for range 10 {
				code, err := fetch(t, c, b.URL)
				require.NoError(t, err)
				require.Equal(t, 200, code)
			}
			assert.EqualValues(t, 10, well.hits.Load())
			assert.Equal(t, 2, tr.Breakers().Len())
			assert.Equal(t, breaker.Open, tr.Breakers().Get(httpx.HostKey(mustRequest(t, a.URL))).State())
			assert.Equal(t, breaker.Closed, tr.Breakers().Get(httpx.HostKey(mustRequest(t, b.URL))).State())
		})
	}
}

func TestProbeAfterOpenDurationClosesBreaker(t *testing.T) {
	for _, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			h := newStatusHandler(503)
			s := newServer(t, p.h2, h)
			tr := newTransport(t, httpx.Config{Base: s.base, Breaker: tripFast(80 * time.Millisecond)})
			c := &http.Client{Transport: tr}
			brk := tr.Breakers().Get(httpx.HostKey(mustRequest(t, s.URL)))

			for range 3 {
				_, err := fetch(t, c, s.URL)
				require.NoError(t, err)
			}
			require.Equal(t, breaker.Open, brk.State())
			_, err := fetch(t, c, s.URL)
			require.ErrorIs(t, err, breaker.ErrOpen)

			h.code.Store(200)
			// Drive by calls: refused until the open duration ends, then
			// the probe goes through and closes the breaker.
			require.Eventually(t, func() bool {
				code, err := fetch(t, c, s.URL)
				return err == nil && code == 200
			}, 5*time.Second, 10*time.Millisecond)
			assert.Equal(t, breaker.Closed, brk.State())
			assert.EqualValues(t, 4, h.hits.Load(), "three failures and one probe")
			for range 5 {
				code, err := fetch(t, c, s.URL)
				require.NoError(t, err)
				require.Equal(t, 200, code)
			}
		})
	}
}

func TestClientErrorsDoNotTrip(t *testing.T) {
	for _, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			h := newStatusHandler(404)
			s := newServer(t, p.h2, h)
			tr := newTransport(t, httpx.Config{Base: s.base, Breaker: tripFast(time.Minute)})
			c := &http.Client{Transport: tr}
			for _, code := range []int{400, 401, 403, 404, 409, 422} {
				h.code.Store(int32(code))
				for range 4 {
					got, err := fetch(t, c, s.URL)
					require.NoError(t, err)
					require.Equal(t, code, got)
				}
			}
			brk := tr.Breakers().Get(httpx.HostKey(mustRequest(t, s.URL)))
			assert.Equal(t, breaker.Closed, brk.State())
			assert.EqualValues(t, 24, brk.Counts().TotalSuccesses)
		})
	}
}

func TestTooManyRequestsTrips(t *testing.T) {
	s := newServer(t, false, newStatusHandler(429))
	tr := newTransport(t, httpx.Config{Base: s.base, Breaker: tripFast(time.Minute)})
	c := &http.Client{Transport: tr}
	for range 3 {
		code, err := fetch(t, c, s.URL)
		require.NoError(t, err)
		require.Equal(t, 429, code)
	}
	_, err := fetch(t, c, s.URL)
	require.ErrorIs(t, err, breaker.ErrOpen)
}

func TestTransportErrorsTrip(t *testing.T) {
	// A port nobody listens on: every dial is refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	base := &http.Transport{}
	t.Cleanup(base.CloseIdleConnections)
	tr := newTransport(t, httpx.Config{Base: base, Breaker: tripFast(time.Minute)})
	c := &http.Client{Transport: tr}
	for range 3 {
		_, err := fetch(t, c, "http://"+addr)
		require.Error(t, err)
		require.NotErrorIs(t, err, resilience.ErrRejected)
	}
	_, err = fetch(t, c, "http://"+addr)
	require.ErrorIs(t, err, breaker.ErrOpen)
}

func TestRetryAfterSetsOpenDuration(t *testing.T) {
	const openFor = 50 * time.Millisecond
	tests := []struct {
		name          string
		code          int
		retryAfter    func() string
		maxRetryAfter time.Duration
		min, max      time.Duration // the refusal's RetryAfter
	}{
		{"seconds on 503", 503, func() string { return "2" }, 0, time.Second, 2 * time.Second},
		{"seconds on 429", 429, func() string { return "2" }, 0, time.Second, 2 * time.Second},
		{"HTTP-date on 503", 503, func() string {
			return time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)
		}, 0, time.Second, 3 * time.Second},
		{"capped by MaxRetryAfter", 503, func() string { return "86400" }, 300 * time.Millisecond, 150 * time.Millisecond, 300 * time.Millisecond},
		{"default cap is five minutes", 503, func() string { return "86400" }, 0, 4 * time.Minute, 5 * time.Minute},
		{"ignored when MaxRetryAfter is negative", 503, func() string { return "2" }, -1, 0, openFor},
		{"ignored on 500", 500, func() string { return "2" }, 0, 0, openFor},
		{"invalid is ignored", 503, func() string { return "soon" }, 0, 0, openFor},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newStatusHandler(tt.code)
			h.retryAfter.Store(tt.retryAfter())
			s := newServer(t, false, h)
			var rec recorder
			tr := newTransport(t, httpx.Config{
				Base:          s.base,
				Breaker:       breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 1, OpenTimeout: openFor}},
				MaxRetryAfter: tt.maxRetryAfter,
				Observer:      &rec,
			})
			c := &http.Client{Transport: tr}
			code, err := fetch(t, c, s.URL)
			require.NoError(t, err)
			require.Equal(t, tt.code, code)

			_, err = fetch(t, c, s.URL)
			var re *breaker.RejectedError
			require.ErrorAs(t, err, &re)
			assert.GreaterOrEqual(t, re.RetryAfter(), tt.min)
			assert.LessOrEqual(t, re.RetryAfter(), tt.max)

			// The breaker saw the response as a *StatusError with the hint.
			calls := rec.OfKind(resilience.EventCall)
			require.Len(t, calls, 1)
			var se *httpx.StatusError
			require.ErrorAs(t, calls[0].Err, &se)
			assert.Equal(t, tt.code, se.StatusCode)
			assert.LessOrEqual(t, se.RetryAfter(), max(tt.max, 0))
		})
	}
}

func TestRefusalResponse(t *testing.T) {
	h := newStatusHandler(503)
	h.retryAfter.Store("7")
	s := newServer(t, false, h)
	tr := newTransport(t, httpx.Config{
		Base:            s.base,
		Breaker:         breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 1}},
		RefusalResponse: true,
	})
	c := &http.Client{Transport: tr}
	code, err := fetch(t, c, s.URL)
	require.NoError(t, err)
	require.Equal(t, 503, code)

	resp, err := get(t, c, s.URL)
	require.NoError(t, err, "the refusal is a response")
	defer resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "503 Service Unavailable", resp.Status)
	secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	require.NoError(t, err)
	assert.InDelta(t, 7, secs, 1, "the breaker's open duration, from the server's hint")
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Empty(t, body)
	assert.Equal(t, s.URL, strings.TrimSuffix(resp.Request.URL.String(), "/"))
	assert.EqualValues(t, 1, h.hits.Load(), "the refused request was not sent")
}

func TestRefusalClosesRequestBody(t *testing.T) {
	h := newStatusHandler(500)
	s := newServer(t, false, h)
	tr := newTransport(t, httpx.Config{Base: s.base, Breaker: breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 1}}})
	c := &http.Client{Transport: tr}
	_, err := fetch(t, c, s.URL)
	require.NoError(t, err)

	body := &closeCounter{Reader: strings.NewReader("payload")}
	req, err := http.NewRequestWithContext(testCtx(t), http.MethodPost, s.URL, body)
	require.NoError(t, err)
	_, err = c.Do(req)
	require.ErrorIs(t, err, breaker.ErrOpen)
	assert.EqualValues(t, 1, body.closed.Load(), "RoundTrip must close the body, even when refusing")
	assert.EqualValues(t, 1, h.hits.Load())
}

type closeCounter struct {
	io.Reader
	closed atomic.Int32
}

func (c *closeCounter) Close() error { c.closed.Add(1); return nil }

func TestCustomClassify(t *testing.T) {
	tests := []struct {
		name     string
		code     int
		classify func(*http.Response, error) resilience.Outcome
		trips    bool
	}{
		{"404 made a failure trips", 404, func(r *http.Response, err error) resilience.Outcome {
			if r != nil && r.StatusCode == 404 {
				return resilience.Failure
			}
			return httpx.DefaultClassify(r, err)
		}, true},
		{"500 made ignored does not trip", 500, func(r *http.Response, err error) resilience.Outcome {
			if r != nil && r.StatusCode == 500 {
				return resilience.Ignored
			}
			return httpx.DefaultClassify(r, err)
		}, false},
		{"an unknown outcome counts as a failure", 200, func(*http.Response, error) resilience.Outcome {
			return resilience.Outcome(42)
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, false, newStatusHandler(tt.code))
			tr := newTransport(t, httpx.Config{Base: s.base, Breaker: tripFast(time.Minute), Classify: tt.classify})
			c := &http.Client{Transport: tr}
			for range 3 {
				code, err := fetch(t, c, s.URL)
				require.NoError(t, err)
				require.Equal(t, tt.code, code)
			}
			_, err := fetch(t, c, s.URL)
			assert.Equal(t, tt.trips, errors.Is(err, breaker.ErrOpen), "err: %v", err)
		})
	}
}

func TestDisableBreaker(t *testing.T) {
	h := newStatusHandler(500)
	s := newServer(t, false, h)
	tr := newTransport(t, httpx.Config{Base: s.base, DisableBreaker: true})
	assert.Nil(t, tr.Breakers())
	c := &http.Client{Transport: tr}
	for range 10 {
		code, err := fetch(t, c, s.URL)
		require.NoError(t, err)
		require.Equal(t, 500, code)
	}
	assert.EqualValues(t, 10, h.hits.Load())
}

func TestCustomKey(t *testing.T) {
	h := http.NewServeMux()
	h.HandleFunc("/sick/", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	h.HandleFunc("/well/", func(w http.ResponseWriter, r *http.Request) {})
	s := newServer(t, false, h)
	byPrefix := func(r *http.Request) string { return strings.SplitN(r.URL.Path, "/", 3)[1] }
	tr := newTransport(t, httpx.Config{Base: s.base, Breaker: tripFast(time.Minute), Key: byPrefix})
	c := &http.Client{Transport: tr}
	for range 3 {
		_, err := fetch(t, c, s.URL+"/sick/x")
		require.NoError(t, err)
	}
	_, err := fetch(t, c, s.URL+"/sick/y")
	require.ErrorIs(t, err, breaker.ErrOpen)
	code, err := fetch(t, c, s.URL+"/well/z")
	require.NoError(t, err)
	assert.Equal(t, 200, code)
	assert.Equal(t, breaker.Open, tr.Breakers().Get("sick").State())
	assert.Equal(t, breaker.Closed, tr.Breakers().Get("well").State())
}

func mustRequest(t *testing.T, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	return req
}
