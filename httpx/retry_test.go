package httpx_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/httpx"
	"github.com/go-resilience/resilience/retry"
)

// roomyBudget never refuses at these tests' volumes, so that every retry
// the policy wants is made.
func roomyBudget(t *testing.T) *retry.Budget {
	b, err := retry.NewBudget(retry.BudgetConfig{MinConcurrent: 1 << 20, MinPerSecond: 1e9})
	require.NoError(t, err)
	return b
}

func retryConfig(t *testing.T, attempts int) *retry.Config {
	return &retry.Config{MaxAttempts: attempts, BaseDelay: time.Millisecond, Budget: roomyBudget(t)}
}

// 50 failing GETs, each retried 3 times (4 attempts), from 5 callers at
// once: every failed response is drained and closed before the next
// attempt, so the attempts reuse the callers' connections (failsafe-go
// 0.9.8 opens a new connection per retried attempt: 101 for 50 requests).
func TestRetriedRequestsReuseConnections(t *testing.T) {
	for _, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusServiceUnavailable)
				io.WriteString(w, strings.Repeat("x", 2<<10)) // a body to drain
			})
			s := newServer(t, p.h2, h)
			var hits atomic.Int64
			s.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1); h(w, r) })
			const callers, each = 5, 10
			if tr, ok := s.base.(*http.Transport); ok {
				tr.MaxIdleConnsPerHost = callers // the default keeps 2 idle
			}
			// A fixed short delay: net/http puts a drained HTTP/1
			// connection back in its idle pool from its own goroutine,
			// a moment after the body's EOF; an attempt sent within
			// that moment would dial anew.
			rc := retryConfig(t, 4)
			rc.BaseDelay, rc.NoJitter = 20*time.Millisecond, true
			c := &http.Client{Transport: newTransport(t, httpx.Config{Base: s.base, Breaker: neverTrip, Retry: rc})}
			var wg sync.WaitGroup
			for range callers {
				wg.Go(func() {
					for range each {
						code, err := fetch(t, c, s.URL)
						assert.NoError(t, err)
						assert.Equal(t, http.StatusServiceUnavailable, code, "the last attempt's response")
					}
				})
			}
			wg.Wait()
			assert.EqualValues(t, callers*each*4, hits.Load(), "every request made 4 attempts")
			t.Logf("%s: %d requests, %d attempts, %d connections (at most %d at once)", p.name, callers*each, hits.Load(), s.conns.Load(), callers)
			assert.LessOrEqual(t, s.conns.Load(), int64(callers), "no more connections than requests at once")
		})
	}
}

// A POST without an Idempotency-Key is never sent twice; with one, it is
// retried like a GET.
func TestOnlyIdempotentRequestsAreRetried(t *testing.T) {
	for _, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			h := newStatusHandler(http.StatusServiceUnavailable)
			s := newServer(t, p.h2, h)
			c := &http.Client{Transport: newTransport(t, httpx.Config{Base: s.base, Breaker: neverTrip, Retry: retryConfig(t, 3)})}
			for _, tc := range []struct {
				method string
				key    string
				hits   int64
			}{
				{http.MethodPost, "", 1},
				{http.MethodPatch, "", 1},
				{http.MethodPost, "order-42", 3},
				{http.MethodDelete, "", 3},
				{http.MethodGet, "", 3},
			} {
				h.hits.Store(0)
				req, err := http.NewRequestWithContext(testCtx(t), tc.method, s.URL, strings.NewReader("payload"))
				require.NoError(t, err)
				if tc.key != "" {
					req.Header.Set("Idempotency-Key", tc.key)
				}
				resp, err := c.Do(req)
				require.NoError(t, err)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				assert.Equal(t, tc.hits, h.hits.Load(), "%s key %q", tc.method, tc.key)
			}
		})
	}
}

// A body that cannot be sent again (no GetBody) is not retried.
func TestABodyWithoutGetBodyIsSentOnce(t *testing.T) {
	h := newStatusHandler(http.StatusServiceUnavailable)
	s := newServer(t, false, h)
	c := &http.Client{Transport: newTransport(t, httpx.Config{Base: s.base, Breaker: neverTrip, Retry: retryConfig(t, 3)})}
	req, err := http.NewRequestWithContext(testCtx(t), http.MethodPut, s.URL, io.NopCloser(strings.NewReader("once")))
	require.NoError(t, err)
	require.Nil(t, req.GetBody)
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.EqualValues(t, 1, h.hits.Load())
}

func TestPutBodyArrivesIdenticalOnEveryAttempt(t *testing.T) {
	for _, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			var mu sync.Mutex
			var bodies [][]byte
			s := newServer(t, p.h2, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				bodies = append(bodies, b)
				n := len(bodies)
				mu.Unlock()
				if n < 3 {
					w.WriteHeader(http.StatusBadGateway)
					return
				}
				io.WriteString(w, "stored")
			}))
			c := &http.Client{Transport: newTransport(t, httpx.Config{Base: s.base, Breaker: neverTrip, Retry: retryConfig(t, 3)})}
			payload := bytes.Repeat([]byte("0123456789abcdef"), 4<<10) // 64 KiB
			req, err := http.NewRequestWithContext(testCtx(t), http.MethodPut, s.URL, bytes.NewReader(payload))
			require.NoError(t, err)
			resp, err := c.Do(req)
			require.NoError(t, err)
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, "stored", string(got))
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, bodies, 3)
			for i, b := range bodies {
				assert.True(t, bytes.Equal(payload, b), "attempt %d got %d bytes", i+1, len(b))
			}
		})
	}
}

// The breaker sits inside the retry: once it opens, the retries stop at
// once, and the server sees no request while it is open.
func TestOpenBreakerStopsRetries(t *testing.T) {
	for _, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			h := newStatusHandler(http.StatusInternalServerError)
			s := newServer(t, p.h2, h)
			rec := &recorder{}
			c := &http.Client{Transport: newTransport(t, httpx.Config{
				Base:     s.base,
				Breaker:  breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 2, OpenTimeout: time.Minute}},
				Retry:    retryConfig(t, 5),
				Observer: rec,
			})}
			_, err := fetch(t, c, s.URL)
			assert.ErrorIs(t, err, breaker.ErrOpen, "the third attempt met the open breaker")
			assert.EqualValues(t, 2, h.hits.Load())
			_, err = fetch(t, c, s.URL)
			assert.ErrorIs(t, err, breaker.ErrOpen)
			assert.EqualValues(t, 2, h.hits.Load(), "no request reaches the server while the breaker is open")
			assert.Len(t, rec.OfKind(resilience.EventRetry), 2)
		})
	}
}

// A 404 is the server's answer, not a failure: it is not retried.
func TestClientErrorsAreNotRetried(t *testing.T) {
	h := newStatusHandler(http.StatusNotFound)
	s := newServer(t, false, h)
	c := &http.Client{Transport: newTransport(t, httpx.Config{Base: s.base, Breaker: neverTrip, Retry: retryConfig(t, 3)})}
	code, err := fetch(t, c, s.URL)
	require.NoError(t, err)
	assert.Equal(t, 404, code)
	assert.EqualValues(t, 1, h.hits.Load())
}

// Retry-After: 1 on a 503 delays the next attempt by a second; when the
// caller's deadline is nearer, the retries end at once with the 503.
func TestRetryAfterSetsTheDelay(t *testing.T) {
	for _, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			var mu sync.Mutex
			var at []time.Time
			s := newServer(t, p.h2, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				at = append(at, time.Now())
				n := len(at)
				mu.Unlock()
				if n == 1 {
					w.Header().Set("Retry-After", "1")
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				io.WriteString(w, "ok")
			}))
			c := &http.Client{Transport: newTransport(t, httpx.Config{Base: s.base, Breaker: neverTrip, Retry: retryConfig(t, 3)})}
			code, err := fetch(t, c, s.URL)
			require.NoError(t, err)
			assert.Equal(t, 200, code)
			mu.Lock()
			require.Len(t, at, 2)
			gap := at[1].Sub(at[0])
			mu.Unlock()
			t.Logf("%s: second attempt %v after the first", p.name, gap)
			assert.GreaterOrEqual(t, gap, 950*time.Millisecond)
			assert.Less(t, gap, 2*time.Second)

			// A deadline nearer than the hint: no second attempt, no wait.
			mu.Lock()
			at = nil
			mu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
			require.NoError(t, err)
			start := time.Now()
			resp, err := c.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
			assert.Less(t, time.Since(start), 400*time.Millisecond, "returned at once, not at the deadline")
			mu.Lock()
			assert.Len(t, at, 1)
			mu.Unlock()
		})
	}
}

// Retry.MaxDuration bounds the whole request, body included, and ends when
// the body is closed.
func TestRetryMaxDurationCoversTheBody(t *testing.T) {
	h := newStatusHandler(http.StatusOK)
	s := newServer(t, false, h)
	cfg := retryConfig(t, 3)
	cfg.MaxDuration = 5 * time.Second
	c := &http.Client{Transport: newTransport(t, httpx.Config{Base: s.base, Breaker: neverTrip, Retry: cfg})}
	resp, err := get(t, c, s.URL)
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err, "the body is readable after RoundTrip returned")
	assert.Equal(t, "status 200", string(b))
	require.NoError(t, resp.Body.Close())
}

func TestRetryConfigErrorsNameTheField(t *testing.T) {
	_, err := httpx.New(httpx.Config{Retry: &retry.Config{MaxAttempts: -1}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "httpx: Config.Retry: retry: Config.MaxAttempts")
	_, err = httpx.New(httpx.Config{Retry: &retry.Config{MaxDuration: -1}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Config.MaxDuration")
}

func TestRetryableRequests(t *testing.T) {
	mk := func(method string, body io.Reader) *http.Request {
		r, err := http.NewRequest(method, "http://x/", body)
		require.NoError(t, err)
		return r
	}
	assert.True(t, httpx.Retryable(mk("GET", nil)))
	assert.True(t, httpx.Retryable(mk("PUT", strings.NewReader("a"))))
	assert.False(t, httpx.Retryable(mk("POST", strings.NewReader("a"))))
	r := mk("POST", strings.NewReader("a"))
	r.Header.Set("Idempotency-Key", "k")
	assert.True(t, httpx.Retryable(r))
	r = mk("PUT", io.NopCloser(strings.NewReader("a")))
	assert.False(t, httpx.Retryable(r), "no GetBody")
	_ = errors.New
}

// A retried request's response names the request the caller sent, not the
// copy an attempt was sent with.
func TestRetriedResponseNamesTheCallersRequest(t *testing.T) {
	var n atomic.Int64
	s := newServer(t, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok")
	}))
	cfg := retryConfig(t, 3)
	cfg.MaxDuration = 5 * time.Second
	tr := newTransport(t, httpx.Config{Base: s.base, Breaker: neverTrip, Retry: cfg})
	req, err := http.NewRequestWithContext(testCtx(t), http.MethodGet, s.URL, nil)
	require.NoError(t, err)
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.EqualValues(t, 2, n.Load())
	assert.Same(t, req, resp.Request)
}
