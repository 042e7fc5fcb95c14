package httpx_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/httpx"
)

func inFlight(tr *httpx.Transport) map[string]int {
	m := map[string]int{}
	for k, b := range tr.Bulkheads() {
		m[k] = b.InFlight()
	}
	return m
}

func TestBulkheadSlotIsHeldUntilBodyIsDone(t *testing.T) {
	ends := []struct {
		name string
		end  func(t *testing.T, resp *http.Response)
	}{
		{"closed unread", func(t *testing.T, resp *http.Response) { require.NoError(t, resp.Body.Close()) }},
		{"read to the end", func(t *testing.T, resp *http.Response) {
			_, err := io.ReadAll(resp.Body)
			require.NoError(t, err) // and not closed yet
		}},
	}
	for _, p := range protos {
		for _, e := range ends {
			t.Run(p.name+"/"+e.name, func(t *testing.T) {
				s := newServer(t, p.h2, newStatusHandler(200))
				tr := newTransport(t, httpx.Config{Base: s.base, Bulkhead: bulkhead.Config{MaxConcurrent: 1}})
				c := &http.Client{Transport: tr}

				resp, err := get(t, c, s.URL)
				require.NoError(t, err)
				defer resp.Body.Close()
				assert.Equal(t, map[string]int{"": 1}, inFlight(tr), "RoundTrip returned, the body is not done")

				_, err = get(t, c, s.URL)
				require.ErrorIs(t, err, bulkhead.ErrFull)
				require.ErrorIs(t, err, resilience.ErrRejected)

				e.end(t, resp)
				assert.Equal(t, map[string]int{"": 0}, inFlight(tr))
				code, err := fetch(t, c, s.URL)
				require.NoError(t, err)
				assert.Equal(t, 200, code)
			})
		}
	}
}

func TestBulkheadSlotIsReleasedWhenContextEnds(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		ctx     func(t *testing.T) (context.Context, context.CancelFunc)
	}{
		{"the Transport's timeout", 100 * time.Millisecond, func(t *testing.T) (context.Context, context.CancelFunc) {
			return testCtx(t), func() {}
		}},
		{"the caller's cancellation", 0, func(t *testing.T) (context.Context, context.CancelFunc) {
			return context.WithCancel(testCtx(t))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hang := hangUntilCleanup(t)
			s := newServer(t, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.(http.Flusher).Flush()
				select {
				case <-hang:
				case <-r.Context().Done():
				}
			}))
			tr := newTransport(t, httpx.Config{Base: s.base, Timeout: tt.timeout, Bulkhead: bulkhead.Config{MaxConcurrent: 1}})
			c := &http.Client{Transport: tr}
			ctx, cancel := tt.ctx(t)
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
			require.NoError(t, err)
			resp, err := c.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close() // only at the end: the slot must not wait for it
			assert.Equal(t, map[string]int{"": 1}, inFlight(tr))
			cancel()
			require.Eventually(t, func() bool { return inFlight(tr)[""] == 0 }, 5*time.Second, 5*time.Millisecond)
		})
	}
}

func TestBulkheadPerKey(t *testing.T) {
	a, b := newServer(t, false, newStatusHandler(200)), newServer(t, false, newStatusHandler(200))
	var rec recorder
	tr := newTransport(t, httpx.Config{
		Base:           a.base,
		Bulkhead:       bulkhead.Config{MaxConcurrent: 1},
		BulkheadPerKey: true,
		Observer:       &rec,
	})
	c := &http.Client{Transport: tr}
	keyA, keyB := httpx.HostKey(mustRequest(t, a.URL)), httpx.HostKey(mustRequest(t, b.URL))

	held, err := get(t, c, a.URL)
	require.NoError(t, err)
	defer held.Body.Close()
	_, err = get(t, c, a.URL)
	require.ErrorIs(t, err, bulkhead.ErrFull, "a's only slot is taken")
	code, err := fetch(t, c, b.URL)
	require.NoError(t, err, "b has a bulkhead of its own")
	assert.Equal(t, 200, code)
	assert.Equal(t, map[string]int{keyA: 1, keyB: 0}, inFlight(tr))

	require.NoError(t, held.Body.Close())
	assert.Equal(t, map[string]int{keyA: 0, keyB: 0}, inFlight(tr))
	rejected := rec.OfKind(resilience.EventRejected)
	require.Len(t, rejected, 1)
	assert.Equal(t, keyA, rejected[0].Key, "per-key bulkheads report their key")
}

func TestBulkheadPerKeyDropsIdleKeysAtTheBound(t *testing.T) {
	s := newServer(t, false, newStatusHandler(200))
	tr := newTransport(t, httpx.Config{
		Base:           s.base,
		Breaker:        breaker.KeyedConfig{MaxKeys: 4},
		Bulkhead:       bulkhead.Config{MaxConcurrent: 1},
		BulkheadPerKey: true,
		Key:            func(r *http.Request) string { return r.URL.Path },
	})
	c := &http.Client{Transport: tr}
	held, err := get(t, c, s.URL+"/held")
	require.NoError(t, err)
	defer held.Body.Close()
	for i := range 20 {
		code, err := fetch(t, c, s.URL+"/"+strings.Repeat("k", i+1))
		require.NoError(t, err)
		require.Equal(t, 200, code)
	}
	keys := inFlight(tr)
	assert.LessOrEqual(t, len(keys), 5, "at most MaxKeys kept, and the one in use")
	assert.Equal(t, 1, keys["/held"], "a bulkhead in use is never dropped")
	_, err = get(t, c, s.URL+"/held")
	require.ErrorIs(t, err, bulkhead.ErrFull, "its limit still holds")
}

func TestFullBulkheadDoesNotTrip(t *testing.T) {
	s := newServer(t, false, newStatusHandler(200))
	tr := newTransport(t, httpx.Config{Base: s.base, Breaker: tripFast(time.Minute), Bulkhead: bulkhead.Config{MaxConcurrent: 1}})
	c := &http.Client{Transport: tr}
	held, err := get(t, c, s.URL)
	require.NoError(t, err)
	defer held.Body.Close()
	for range 10 {
		_, err := get(t, c, s.URL)
		require.ErrorIs(t, err, bulkhead.ErrFull)
	}
	brk := tr.Breakers().Get(httpx.HostKey(mustRequest(t, s.URL)))
	assert.Equal(t, breaker.Closed, brk.State(), "local overload is not a failing server")
	assert.Zero(t, brk.Counts().TotalFailures)
}

func TestRefusalResponseForFullBulkhead(t *testing.T) {
	s := newServer(t, false, newStatusHandler(200))
	tr := newTransport(t, httpx.Config{Base: s.base, Bulkhead: bulkhead.Config{MaxConcurrent: 1}, RefusalResponse: true})
	c := &http.Client{Transport: tr}
	held, err := get(t, c, s.URL)
	require.NoError(t, err)
	defer held.Body.Close()
	resp, err := get(t, c, s.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, 503, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Retry-After"), "a bulkhead cannot tell when a slot frees")
}

func TestBaseTransportPanicReleasesAndPropagates(t *testing.T) {
	boom := roundTripFunc(func(*http.Request) (*http.Response, error) { panic("boom") })
	tr := newTransport(t, httpx.Config{Base: boom, Timeout: time.Second, Bulkhead: bulkhead.Config{MaxConcurrent: 1}})
	req := mustRequest(t, "http://example.invalid/")
	for range 2 { // the second would find the bulkhead full if the first kept its slot
		assert.PanicsWithValue(t, "boom", func() { tr.RoundTrip(req) })
		assert.Equal(t, map[string]int{"": 0}, inFlight(tr))
	}
	brk := tr.Breakers().Get(httpx.HostKey(req))
	assert.Equal(t, breaker.Closed, brk.State())
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestCancelledRequestGivesSlotBack(t *testing.T) {
	s := newServer(t, false, newStatusHandler(200))
	for _, d := range []time.Duration{0, time.Second} {
		tr := newTransport(t, httpx.Config{Base: s.base, Timeout: d, Bulkhead: bulkhead.Config{MaxConcurrent: 1}})
		for range 3 {
			ctx, cancel := context.WithCancel(testCtx(t))
			cancel() // done before it starts: the slot is free, taken, and given back
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
			require.NoError(t, err)
			_, err = tr.RoundTrip(req)
			require.ErrorIs(t, err, context.Canceled)
			require.Eventually(t, func() bool { return inFlight(tr)[""] == 0 }, 5*time.Second, time.Millisecond)
		}
	}
}
