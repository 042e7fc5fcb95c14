package chaos

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/httpx"
	"github.com/go-resilience/resilience/internal/fault"
	"github.com/go-resilience/resilience/timeout"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// The chain's settings shared by the tests, short enough for a test run:
// timeouts of 200ms, a bulkhead of 32 slots with a 20ms wait, a breaker
// that trips at a 50% failure rate over 20 calls in a 300ms window, stays open
// 100ms and closes after 4 good probes, which it waits for up to 400ms.
const (
	testTimeout    = 200 * time.Millisecond
	testMaxWait    = 20 * time.Millisecond
	testSlots      = 32
	testOpen       = 100 * time.Millisecond
	testProbes     = 4
	testRate       = 0.5
	testMinCalls   = 20
	testRateWindow = 300 * time.Millisecond

	// latencyMargin is how far past its bound (the bulkhead's MaxWait plus
	// the timeout) a call may return on a loaded, shared 2-core CI machine
	// under the race detector: generous, so the test does not flake, yet
	// far below what a call that really hung would take.
	latencyMargin = 500 * time.Millisecond

	// hungSlack is how far the server's count of requests in its handlers
	// may pass the bulkhead's limit under a fault that never answers: a
	// timed-out request gives its slot back when its timeout fires and its
	// connection is closed (HTTP/1) or its stream reset (HTTP/2), and the
	// server's handler notices that a moment later. Callers queued for a
	// slot take the freed slots at once, so a whole new wave of requests
	// may reach the server before the old handlers have returned: up to
	// one per slot (seen: 51 with 32 slots, HTTP/2). The bulkhead's own
	// count and the base transport's are held to the limit exactly.
	hungSlack = testSlots
)

func chainBreaker() breaker.Config {
	return breaker.Config{
		FailureRate: testRate, MinCalls: testMinCalls, Window: testRateWindow,
		OpenTimeout: testOpen, HalfOpenProbes: testProbes,
		// Longer than a call may take: the default, OpenTimeout, is
		// shorter than the 200ms timeout, and a probe that is slow but
		// good would reopen the breaker.
		HalfOpenTimeout: 2 * testTimeout,
	}
}

func chainBulkhead() bulkhead.Config {
	return bulkhead.Config{MaxConcurrent: testSlots, MaxWait: testMaxWait}
}

// httpSetup is one test's server and chain.
type httpSetup struct {
	fault         fault.Fault
	http2         bool
	maxRetryAfter time.Duration
	// timeout is the transport's Timeout; zero: testTimeout. A test of
	// something other than timeouts sets a long one, so that a loaded
	// machine cannot turn slow answers into failures that open the breaker.
	timeout time.Duration
	// fallbackOn says which errors the fallback answers (a 200 marked
	// X-Fallback); nil: the library's refusals only.
	fallbackOn func(error) bool
}

// httpRig is a fault server and a client through an httpx.Transport with
// the whole chain: breaker per host, shared bulkhead, timeout covering the
// body, fallback.
type httpRig struct {
	srv    *fault.HTTPServer
	dials  dialCounter
	base   *http.Transport
	wire   inFlightTransport // between httpx and base
	tr     *httpx.Transport
	client *http.Client
	ev     events
	url    string
	key    string
	leaks  goleak.Option

	retryAfter atomic.Int64 // the longest RetryAfter a refusal of the open breaker gave
}

func newHTTPRig(t *testing.T, s httpSetup) *httpRig {
	t.Helper()
	r := &httpRig{leaks: goleak.IgnoreCurrent()}
	r.srv = fault.NewHTTP(t, fault.HTTPConfig{HTTP2: s.http2})
	r.url = r.srv.URL() + "/item"
	r.base = r.srv.Transport()
	r.base.DialContext = r.dials.DialContext
	r.base.MaxIdleConnsPerHost = testSlots
	match := s.fallbackOn
	if match == nil {
		match = func(err error) bool { return errors.Is(err, resilience.ErrRejected) }
	}
	r.wire.base = r.base
	tr, err := httpx.New(httpx.Config{
		Base:          &r.wire,
		Name:          "chaos",
		Breaker:       breaker.KeyedConfig{Config: chainBreaker()},
		Bulkhead:      chainBulkhead(),
		Timeout:       cmp.Or(s.timeout, testTimeout),
		MaxRetryAfter: s.maxRetryAfter,
		Observer:      &r.ev,
		Fallback: func(req *http.Request, err error) (*http.Response, error) {
			if !match(err) {
				return nil, err
			}
			var re *breaker.RejectedError
			if errors.As(err, &re) && errors.Is(err, breaker.ErrOpen) {
				storeMax(&r.retryAfter, int64(re.RetryAfter()))
			}
			return fallbackResponse(req), nil
		},
	})
	require.NoError(t, err)
	r.tr = tr
	for _, b := range tr.Bulkheads() {
		r.ev.bulkhead.Store(b)
	}
	require.NotNil(t, r.ev.bulkhead.Load())
	r.client = &http.Client{Transport: tr}
	req, err := http.NewRequest(http.MethodGet, r.url, nil)
	require.NoError(t, err)
	r.key = httpx.HostKey(req)
	r.warm(t)
	r.srv.Set(s.fault)
	return r
}

// warm opens a pool of testSlots connections through the base transport,
// as a running service has, so that the test measures the fault and not a
// herd of dials (and TLS handshakes) on a loaded machine.
func (r *httpRig) warm(t *testing.T) {
	t.Helper()
	var wg sync.WaitGroup
	for range testSlots {
		wg.Go(func() {
			req, err := http.NewRequest(http.MethodGet, r.url, nil)
			if !assert.NoError(t, err) {
				return
			}
			resp, err := r.base.RoundTrip(req)
			if assert.NoError(t, err) {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	_, err := r.srv.WaitFor(waitCtx(t), func(st fault.Stats) bool { return st.InFlight == 0 })
	require.NoError(t, err)
	r.srv.ResetMaxInFlight()
}

func fallbackResponse(req *http.Request) *http.Response {
	const body = "fallback\n"
	return &http.Response{
		Status: "200 OK", StatusCode: http.StatusOK,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"X-Fallback": {"1"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

// breaker is the breaker of the server's host.
func (r *httpRig) breaker() *breaker.Breaker { return r.tr.Breakers().Get(r.key) }

// call makes one GET, reads the body to the end, closes it, and says how
// it ended.
func (r *httpRig) call(ctx context.Context) (outcome, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return untyped, err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return classifyHTTPErr(err), err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return classifyHTTPErr(err), err
	}
	switch {
	case resp.Header.Get("X-Fallback") == "1" && string(body) == "fallback\n":
		return fellBack, nil
	case resp.StatusCode == http.StatusOK && string(body) == "ok\n":
		return ok, nil
	case (resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests) &&
		httpx.DefaultClassify(resp, nil) == resilience.Failure && strings.HasPrefix(string(body), "fault: "):
		return serverErr, nil
	}
	return untyped, fmt.Errorf("unexpected answer: %s %q", resp.Status, body)
}

// classifyHTTPErr types an error of the client or of a body read.
func classifyHTTPErr(err error) outcome {
	switch {
	case errors.Is(err, resilience.ErrRejected):
		return rejected
	case errors.Is(err, timeout.ErrTimeout):
		if !errors.Is(err, context.DeadlineExceeded) {
			return untyped
		}
		return timedOut
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return reset
	}
	return untyped
}

// checkBulkhead asserts that the bulkhead was never over its limit, by its
// own count (InFlight, read at every acquire) and by the server's count of requests in its handler; and that every slot came back.
func (r *httpRig) checkBulkhead(t *testing.T, serverSlack int) {
	t.Helper()
	st, err := r.srv.WaitFor(waitCtx(t), func(st fault.Stats) bool { return st.InFlight == 0 })
	require.NoError(t, err, "the server's handlers return")
	b := r.ev.bulkhead.Load()
	assert.LessOrEqual(t, r.ev.maxInFlight.Load(), int64(testSlots), "bulkhead InFlight")
	// The requests inside the base RoundTrip are bounded too (a slot is
	// never given back while the base RoundTrip runs: see
	// TestHTTPXSlotIsHeldUntilTheBaseRoundTripReturns). A body left unread
	// after its context ended gives its slot back at once, so the count up
	// to each body's Close (r.wire.max) is only logged, by finish.
	assert.LessOrEqual(t, r.wire.maxRoundTrip.Load(), int64(testSlots), "requests inside the base RoundTrip")
	assert.LessOrEqual(t, st.MaxInFlight, testSlots+serverSlack, "server-side in flight")
	assert.True(t, settles(func() bool {
		return b.InFlight() == 0 && r.ev.acquires.Load() == r.ev.releases.Load()
	}), "every slot is given back: in flight %d, acquired %d, released %d", b.InFlight(), r.ev.acquires.Load(), r.ev.releases.Load())
	assert.Zero(t, b.Waiting())
}

// finish closes the client's idle connections and the server, asserts
// that no connection and no goroutine is left, and logs the counts.
func (r *httpRig) finish(t *testing.T, name string, l load, tl *tally) {
	t.Helper()
	st, err := r.srv.WaitFor(waitCtx(t), func(st fault.Stats) bool { return st.InFlight == 0 && st.Conns.Active == 0 })
	assert.NoError(t, err, "no connection stays active: %+v", st.Conns)
	// An HTTP/2 connection whose last stream was cancelled may still count
	// that stream for a moment after the call returned, and is not idle
	// yet when CloseIdleConnections looks (golang/go#50027): ask again
	// until it is, for a bounded time.
	ctx := waitCtx(t)
	for {
		r.client.CloseIdleConnections()
		short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		st, err = r.srv.WaitFor(short, func(st fault.Stats) bool { return st.Conns.Open == 0 })
		cancel()
		if err == nil || ctx.Err() != nil {
			break
		}
	}
	assert.NoError(t, err, "every server connection closes once the client lets go: %+v", st.Conns)
	assert.True(t, settles(func() bool { return r.dials.open() == 0 }), "every client connection is closed: %d open", r.dials.open())
	r.srv.Close()
	st = r.srv.Stats()
	t.Logf("%s: load %v", name, l)
	t.Logf("%s: calls %v", name, tl)
	t.Logf("%s: %v; retry-after seen %v", name, &r.ev, time.Duration(r.retryAfter.Load()).Round(time.Millisecond))
	t.Logf("%s: base transport max-in-flight=%d (inside RoundTrip: %d)", name, r.wire.max.Load(), r.wire.maxRoundTrip.Load())
	t.Logf("%s: server requests=%d max-in-flight=%d statuses=%v hangs=%d resets=%d aborted=%d; conns client dialed=%d closed=%d, server accepted=%d closed=%d hijacked=%d",
		name, st.Requests, st.MaxInFlight, st.Statuses, st.Hangs, st.Resets, st.Aborted,
		r.dials.dialed.Load(), r.dials.closed.Load(), st.Conns.Accepted, st.Conns.Closed, st.Conns.Hijacked)
	goleak.VerifyNone(t, r.leaks)
}

// waitCtx bounds a wait on a fault server's counters.
func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}
