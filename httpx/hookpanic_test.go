package httpx_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/httpx"
)

// bodies is a base transport that answers from memory with bodies it
// counts while they are open: the stand-in for connections, so that a
// test can tell that none is left held.
type bodies struct {
	open atomic.Int64
	code atomic.Int32 // status to answer; 0: fail with errDial
}

var errDial = errors.New("dial: connection refused")

func newBodies(code int) *bodies {
	b := &bodies{}
	b.code.Store(int32(code))
	return b
}

func (b *bodies) RoundTrip(req *http.Request) (*http.Response, error) {
	code := int(b.code.Load())
	if code == 0 {
		return nil, errDial
	}
	return b.response(req, code), nil
}

func (b *bodies) response(req *http.Request, code int) *http.Response {
	b.open.Add(1)
	return &http.Response{
		StatusCode: code, Status: http.StatusText(code), Header: http.Header{},
		Body: &countedBody{Reader: strings.NewReader("body of " + http.StatusText(code)), open: &b.open}, Request: req,
	}
}

type countedBody struct {
	io.Reader
	open   *atomic.Int64
	closed atomic.Bool
}

func (c *countedBody) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.open.Add(-1)
	}
	return nil
}

func recovering(f func()) (recovered any) {
	defer func() { recovered = recover() }()
	f()
	return nil
}

// TestPanickingFallbackLeaksNeitherSlotNorConnection: a Fallback that
// panics while answering a failure response lets the panic reach the
// caller after the response it was to replace is closed and its bulkhead
// slot given back, with no Timeout and a background context (nothing else
// would ever free them).
func TestPanickingFallbackLeaksNeitherSlotNorConnection(t *testing.T) {
	base := newBodies(http.StatusBadGateway)
	tr := newTransport(t, httpx.Config{
		Base:     base,
		Bulkhead: bulkhead.Config{MaxConcurrent: 1},
		Fallback: func(*http.Request, error) (*http.Response, error) { panic("fallback") },
	})
	for range 3 { // the second would be refused if the first kept its slot
		assert.Equal(t, "fallback", recovering(func() { _, _ = tr.RoundTrip(mustRequest(t, "http://api.test/")) }))
		assert.Equal(t, map[string]int{"": 0}, inFlight(tr), "slot given back")
		assert.Zero(t, base.open.Load(), "response closed")
	}
}

// TestFailoverThroughTheSameTransportIsNotStarved: the README's failover
// (send the request to a second host through the same Transport) gets the
// slot the failed response held, instead of being refused as "bulkhead
// full" while that response waits for the Fallback.
func TestFailoverThroughTheSameTransportIsNotStarved(t *testing.T) {
	base := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		b := newBodies(0)
		if req.URL.Host == "primary.test" {
			return b.response(req, http.StatusServiceUnavailable), nil
		}
		return b.response(req, http.StatusOK), nil
	})
	var tr *httpx.Transport
	tr = newTransport(t, httpx.Config{
		Base:     base,
		Bulkhead: bulkhead.Config{MaxConcurrent: 1},
		Fallback: func(req *http.Request, err error) (*http.Response, error) {
			if req.URL.Host != "primary.test" {
				return nil, err // the second host has no second host
			}
			second := req.Clone(req.Context())
			second.URL.Host, second.Host = "secondary.test", ""
			return tr.RoundTrip(second)
		},
	})
	resp, err := tr.RoundTrip(mustRequest(t, "http://primary.test/"))
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusOK, resp.StatusCode, "answered by the second host")
	assert.Equal(t, "body of OK", string(body))
	assert.Equal(t, map[string]int{"": 0}, inFlight(tr))
}

// TestDeclinedFailureResponseIsReturnedWhole: a Fallback that declines
// gets the failure response back, body and all, though its slot was given
// back before the Fallback was asked.
func TestDeclinedFailureResponseIsReturnedWhole(t *testing.T) {
	base := newBodies(http.StatusBadGateway)
	tr := newTransport(t, httpx.Config{
		Base:     base,
		Bulkhead: bulkhead.Config{MaxConcurrent: 1},
		Fallback: func(*http.Request, error) (*http.Response, error) { return nil, nil },
	})
	resp, err := tr.RoundTrip(mustRequest(t, "http://api.test/"))
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"": 0}, inFlight(tr), "slot given back before the Fallback was asked")
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "body of Bad Gateway", string(body))
	require.NoError(t, resp.Body.Close())
	assert.Zero(t, base.open.Load())
}

// TestPanickingClassifyDoesNotLoseTheProbe: Config.Classify panics on a
// half-open breaker's probe, on a response and on a transport error. The
// probe counts as a failure (the breaker opens again at once, not after
// HalfOpenTimeout), nothing is left held, and the panic reaches the caller.
func TestPanickingClassifyDoesNotLoseTheProbe(t *testing.T) {
	for name, code := range map[string]int{"on a response": http.StatusBadGateway, "on a transport error": 0} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				base := newBodies(http.StatusInternalServerError)
				var armed atomic.Bool
				tr := newTransport(t, httpx.Config{
					Base:     base,
					Breaker:  breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 1, OpenTimeout: time.Second, HalfOpenTimeout: time.Hour}},
					Bulkhead: bulkhead.Config{MaxConcurrent: 1},
					Timeout:  time.Minute,
					Classify: func(resp *http.Response, err error) resilience.Outcome {
						if armed.Load() {
							panic("classify")
						}
						return httpx.DefaultClassify(resp, err)
					},
				})
				req := mustRequest(t, "http://api.test/")
				resp, err := tr.RoundTrip(req)
				require.NoError(t, err)
				resp.Body.Close()
				brk := tr.Breakers().Get(httpx.HostKey(req))
				require.Equal(t, breaker.Open, brk.State())
				time.Sleep(time.Second)

				armed.Store(true)
				base.code.Store(int32(code))
				assert.Equal(t, "classify", recovering(func() { _, _ = tr.RoundTrip(mustRequest(t, "http://api.test/")) }))
				assert.Equal(t, breaker.Open, brk.State(), "the probe counted as a failure")
				assert.Equal(t, map[string]int{"": 0}, inFlight(tr))
				assert.Zero(t, base.open.Load())

				armed.Store(false)
				base.code.Store(http.StatusOK)
				time.Sleep(time.Second)
				resp, err = tr.RoundTrip(mustRequest(t, "http://api.test/"))
				require.NoError(t, err, "a new probe is let through")
				resp.Body.Close()
				assert.Equal(t, breaker.Closed, brk.State())
			})
		})
	}
}

// TestPanickingKeyHoldsNothing: Config.Key panics before the request takes
// anything.
func TestPanickingKeyHoldsNothing(t *testing.T) {
	base := newBodies(http.StatusOK)
	tr := newTransport(t, httpx.Config{
		Base:     base,
		Bulkhead: bulkhead.Config{MaxConcurrent: 1},
		Key:      func(*http.Request) string { panic("key") },
	})
	assert.Equal(t, "key", recovering(func() { _, _ = tr.RoundTrip(mustRequest(t, "http://api.test/")) }))
	assert.Equal(t, map[string]int{"": 0}, inFlight(tr))
	assert.Zero(t, tr.Breakers().Len())
	assert.Zero(t, base.open.Load())
}

// TestPanickingObserverLeaksNothing: an Observer that panics on any event
// of a request (the bulkhead's, the breaker's, the Transport's fallback
// answer) leaves no slot taken, no probe out and no response open.
func TestPanickingObserverLeaksNothing(t *testing.T) {
	for _, kind := range []resilience.EventKind{
		resilience.EventAcquire, resilience.EventRelease, resilience.EventCall,
		resilience.EventStateChange, resilience.EventRejected, resilience.EventFallback,
	} {
		t.Run(kind.String(), func(t *testing.T) {
			base := newBodies(http.StatusBadGateway)
			obs := &panicOn{kind: kind}
			tr := newTransport(t, httpx.Config{
				Base:     base,
				Breaker:  breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 1, OpenTimeout: time.Hour}},
				Bulkhead: bulkhead.Config{MaxConcurrent: 1},
				Observer: obs,
				Fallback: func(req *http.Request, _ error) (*http.Response, error) {
					return base.response(req, http.StatusOK), nil
				},
			})
			obs.armed.Store(true)
			for range 3 { // closed, tripping, refused: every event kind comes up
				r := recovering(func() {
					resp, err := tr.RoundTrip(mustRequest(t, "http://api.test/"))
					if err == nil {
						resp.Body.Close()
					}
				})
				if r != nil {
					assert.Equal(t, "observer: "+kind.String(), r)
				}
				assert.Equal(t, map[string]int{"": 0}, inFlight(tr))
				assert.Zero(t, base.open.Load(), "no response left open")
			}
			assert.False(t, obs.armed.Load(), "the Observer panicked once")
		})
	}
}

// panicOn is an Observer that panics, once armed, on the first event of
// kind.
type panicOn struct {
	kind  resilience.EventKind
	armed atomic.Bool
}

func (p *panicOn) Observe(e resilience.Event) {
	if e.Kind == p.kind && p.armed.CompareAndSwap(true, false) {
		panic("observer: " + e.Kind.String())
	}
}

// TestDisabledBreakerRefusesBreakerSettings: under DisableBreaker a
// Breaker config would do nothing; an invalid one is named as the breaker
// package names it, and any other setting but MaxKeys is refused.
func TestDisabledBreakerRefusesBreakerSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  breaker.KeyedConfig
		want string
	}{
		{"invalid", breaker.KeyedConfig{Config: breaker.Config{FailureRate: 1.5}}, "httpx: Config.Breaker: breaker: Config.FailureRate must be"},
		{"valid but unused", breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 3}}, "httpx: Config.Breaker.Config must be zero when Config.DisableBreaker is set"},
		{"idle timeout", breaker.KeyedConfig{IdleTimeout: time.Minute}, "httpx: Config.Breaker.IdleTimeout must be zero when Config.DisableBreaker is set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := httpx.New(httpx.Config{DisableBreaker: true, Breaker: tc.cfg})
			assert.Nil(t, tr)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	_, err := httpx.New(httpx.Config{DisableBreaker: true, Breaker: breaker.KeyedConfig{MaxKeys: 8},
		Bulkhead: bulkhead.Config{MaxConcurrent: 1}, BulkheadPerKey: true})
	assert.NoError(t, err, "MaxKeys still bounds the per-key bulkheads")
}
