package httpx_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/httpx"
	"github.com/go-resilience/resilience/inject"
	"github.com/go-resilience/resilience/metrics"
	"github.com/go-resilience/resilience/timeout"
)

const faultHeader = "X-Fault-Inject"

func newInjector(t testing.TB, cfg inject.Config) *inject.Injector {
	t.Helper()
	in, err := inject.New(cfg)
	require.NoError(t, err)
	return in
}

func newInjectHandler(t testing.TB, cfg httpx.InjectConfig, next http.Handler) http.Handler {
	t.Helper()
	h, err := httpx.InjectHandler(cfg, next)
	require.NoError(t, err)
	return h
}

func newCollectorT(t testing.TB) *metrics.Collector {
	t.Helper()
	c, err := metrics.New(metrics.Config{})
	require.NoError(t, err)
	return c
}

// fetchWith sends a GET with the given headers and returns the status and
// the body, or the error.
func fetchWith(t *testing.T, c *http.Client, url string, header http.Header) (int, string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(testCtx(t), http.MethodGet, url, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// End to end, over real servers: a request carrying the fault header is
// aborted by the server's InjectHandler; the client's breaker counts the
// 503s, opens, and its Fallback answers; the server's metrics show the
// faults as injected. Requests without the header see no change at all.
func TestInjectHeaderAbortOpensClientBreakerAndFallbackAnswers(t *testing.T) {
	for _, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			serverMetrics := newCollectorT(t)
			faults := newInjector(t, inject.Config{Name: "server-faults", Share: 1, MarkedOnly: true,
				Err: inject.ErrInjected, Observer: serverMetrics})
			app := newStatusHandler(200)
			s := newServer(t, p.h2, newInjectHandler(t, httpx.InjectConfig{Injector: faults, Header: faultHeader}, app))

			clientMetrics := newCollectorT(t)
			var fallbacks atomic.Int64
			tr := newTransport(t, httpx.Config{
				Base:     s.base,
				Name:     "client",
				Breaker:  breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 3, OpenTimeout: time.Minute}},
				Observer: clientMetrics,
				Fallback: func(req *http.Request, err error) (*http.Response, error) {
					fallbacks.Add(1)
					return cached(req), nil
				},
			})
			c := &http.Client{Transport: tr}
			marked := http.Header{faultHeader: {"1"}}
			key := httpx.HostKey(mustRequest(t, s.URL))

			// Off: the header does nothing.
			code, body, err := fetchWith(t, c, s.URL, marked)
			require.NoError(t, err)
			assert.Equal(t, 200, code)
			assert.Equal(t, "status 200", body)

			faults.Enable()
			// On, without the header: nothing changes.
			for range 5 {
				code, body, err := fetchWith(t, c, s.URL, nil)
				require.NoError(t, err)
				assert.Equal(t, 200, code)
				assert.Equal(t, "status 200", body)
			}
			assert.Equal(t, int64(6), app.hits.Load())
			assert.Zero(t, fallbacks.Load())
			assert.Equal(t, breaker.Closed, tr.Breakers().Get(key).State())

			// On, with the header: the server aborts, the breaker opens
			// after three, the fallback answers every one.
			for range 3 {
				code, body, err := fetchWith(t, c, s.URL, marked)
				require.NoError(t, err)
				assert.Equal(t, 200, code)
				assert.Equal(t, "cached", body)
			}
			assert.Equal(t, breaker.Open, tr.Breakers().Get(key).State())
			code, body, err = fetchWith(t, c, s.URL, nil)
			require.NoError(t, err)
			assert.Equal(t, "cached", body, "the open breaker refuses even unmarked requests; the fallback answers")
			assert.Equal(t, 200, code)
			assert.Equal(t, int64(4), fallbacks.Load())
			assert.Equal(t, int64(6), app.hits.Load(), "the aborted requests never reached the application")

			require.NoError(t, testutil.CollectAndCompare(serverMetrics, strings.NewReader(`
# HELP resilience_injected_errors_total Injected faults that failed the call (an error, an HTTP abort, a gRPC code).
# TYPE resilience_injected_errors_total counter
resilience_injected_errors_total{key="",policy="server-faults"} 3
# HELP resilience_injected_faults_total Faults injected on purpose by a fault injector (delays, errors, or both).
# TYPE resilience_injected_faults_total counter
resilience_injected_faults_total{key="",policy="server-faults"} 3
`), "resilience_injected_faults_total", "resilience_injected_errors_total"))
			assert.Equal(t, 3, testutil.CollectAndCount(serverMetrics), "the server's metrics hold the injected series only")
			require.NoError(t, testutil.CollectAndCompare(clientMetrics, strings.NewReader(`
# HELP resilience_calls_total Calls a breaker let through, by classified outcome (success, failure, ignored).
# TYPE resilience_calls_total counter
resilience_calls_total{key="`+key+`",outcome="failure",policy="client"} 3
resilience_calls_total{key="`+key+`",outcome="ignored",policy="client"} 0
resilience_calls_total{key="`+key+`",outcome="success",policy="client"} 6
# HELP resilience_fallbacks_total Errors a fallback answered with a substitute.
# TYPE resilience_fallbacks_total counter
resilience_fallbacks_total{key="`+key+`",policy="client"} 4
`), "resilience_calls_total", "resilience_fallbacks_total"))
		})
	}
}

// A request cannot turn faults on by itself: without a Header in the
// config, no header, whatever its name or value, has any effect, even with
// an enabled injector that faults every marked request.
func TestInjectHostileHeaderDoesNothingWithoutHeaderControl(t *testing.T) {
	var rec recorder
	faults := newInjector(t, inject.Config{Share: 1, MarkedOnly: true, Err: inject.ErrInjected, Observer: &rec})
	faults.Enable()
	app := newStatusHandler(200)
	s := newServer(t, false, newInjectHandler(t, httpx.InjectConfig{Injector: faults}, app))
	c := &http.Client{Transport: s.base}
	hostile := []http.Header{
		{faultHeader: {"1"}},
		{"X-Envoy-Fault-Abort-Request": {"503"}},
		{"X-Fault": {"abort"}, "X-Inject": {"true"}, "Fault": {"1"}},
		{"X-Fault-Inject": {"1", "1"}, "x-fault-inject": {"yes"}},
	}
	for _, h := range hostile {
		code, body, err := fetchWith(t, c, s.URL, h)
		require.NoError(t, err)
		assert.Equal(t, 200, code, "%v", h)
		assert.Equal(t, "status 200", body)
	}
	assert.Equal(t, int64(len(hostile)), app.hits.Load())
	assert.Empty(t, rec.Events())

	// With header control on, only the named header marks; an empty value
	// does not.
	s2 := newServer(t, false, newInjectHandler(t, httpx.InjectConfig{Injector: faults, Header: "x-fault-inject"}, app))
	code, _, err := fetchWith(t, c, s2.URL, http.Header{"X-Other": {"1"}})
	require.NoError(t, err)
	assert.Equal(t, 200, code)
	code, _, err = fetchWith(t, c, s2.URL, http.Header{faultHeader: {""}})
	require.NoError(t, err)
	assert.Equal(t, 200, code)
	code, body, err := fetchWith(t, c, s2.URL, http.Header{faultHeader: {"1"}})
	require.NoError(t, err)
	assert.Equal(t, 503, code)
	assert.Equal(t, "injected fault\n", body)
	assert.Len(t, rec.OfKind(resilience.EventInjected), 1)
}

// On the server: a share of requests by route, a delay added exactly, a
// chosen status; a client gone during the delay gets nothing.
func TestInjectHandler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec recorder
		faults := newInjector(t, inject.Config{Name: "srv", Share: 1, Delay: 300 * time.Millisecond, Err: inject.ErrInjected, Observer: &rec})
		var nextAt []time.Duration
		start := time.Now()
		next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			nextAt = append(nextAt, time.Since(start))
			io.WriteString(w, "app")
		})
		mux := http.NewServeMux()
		h := newInjectHandler(t, httpx.InjectConfig{Injector: faults, Status: 429,
			Match: func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }}, next)
		mux.Handle("/api/{item}", h)
		mux.Handle("/healthz", h)
		serve := func(path string) *httptest.ResponseRecorder {
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
			return w
		}

		assert.Equal(t, 200, serve("/api/x").Code, "off")
		faults.Enable()
		start = time.Now()
		w := serve("/api/x")
		assert.Equal(t, 429, w.Code)
		assert.Equal(t, "injected fault\n", w.Body.String())
		assert.Equal(t, 300*time.Millisecond, time.Since(start), "the abort comes after exactly the delay")
		require.Len(t, nextAt, 1, "next never saw the aborted request")
		evs := rec.OfKind(resilience.EventInjected)
		require.Len(t, evs, 1)
		assert.Equal(t, "/api/{item}", evs[0].Key, "the route's pattern is the key")
		assert.Equal(t, "srv", evs[0].Policy)

		start = time.Now()
		assert.Equal(t, 200, serve("/healthz").Code, "not matched: no fault")
		assert.Zero(t, time.Since(start))

		// A client that goes away during the delay gets no answer, and
		// next is not called.
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		w = httptest.NewRecorder()
		start = time.Now()
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/y", nil).WithContext(ctx))
		assert.Equal(t, 100*time.Millisecond, time.Since(start))
		assert.False(t, w.Flushed)
		assert.Empty(t, w.Body.String())
		assert.Len(t, nextAt, 2)
	})
}

func TestInjectHandlerDelayOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		faults := newInjector(t, inject.Config{Share: 1, Delay: time.Second})
		faults.Enable()
		h := newInjectHandler(t, httpx.InjectConfig{Injector: faults}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "app")
		}))
		w := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
		assert.Equal(t, time.Second, time.Since(start))
		assert.Equal(t, 200, w.Code)
		assert.Equal(t, "app", w.Body.String())
	})
}

type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func okBase(hits *atomic.Int64) http.RoundTripper {
	return rtFunc(func(r *http.Request) (*http.Response, error) {
		hits.Add(1)
		return &http.Response{StatusCode: 200, Status: "200 OK", Header: http.Header{}, Body: http.NoBody, Request: r}, nil
	})
}

type trackedBody struct {
	io.Reader
	closed atomic.Bool
}

func (b *trackedBody) Close() error { b.closed.Store(true); return nil }

// On the client: an injected error is a transport error or a response of
// the chosen status; either way the base transport is not called, the
// request body is closed, and the breaker counts a failure.
func TestInjectClientFailsRequests(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
	}{{"error", 0}, {"status", 502}} {
		t.Run(tc.name, func(t *testing.T) {
			var hits atomic.Int64
			faults := newInjector(t, inject.Config{Share: 1, Err: inject.ErrInjected})
			faults.Enable()
			tr := newTransport(t, httpx.Config{
				Base:    okBase(&hits),
				Breaker: breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 2}},
				Inject:  httpx.InjectConfig{Injector: faults, Status: tc.status},
			})
			for range 2 {
				body := &trackedBody{Reader: strings.NewReader("payload")}
				req, err := http.NewRequest(http.MethodPost, "http://upstream.test/x", body)
				require.NoError(t, err)
				resp, err := tr.RoundTrip(req)
				if tc.status == 0 {
					require.ErrorIs(t, err, inject.ErrInjected)
				} else {
					require.NoError(t, err)
					assert.Equal(t, tc.status, resp.StatusCode)
					assert.Equal(t, "502 Bad Gateway", resp.Status)
					assert.Same(t, req, resp.Request)
					resp.Body.Close()
				}
				assert.True(t, body.closed.Load(), "the request body is closed")
			}
			assert.Zero(t, hits.Load())
			assert.Equal(t, breaker.Open, tr.Breakers().Get("http://upstream.test:80").State())
			_, err := tr.RoundTrip(mustRequest(t, "http://upstream.test/x"))
			require.ErrorIs(t, err, breaker.ErrOpen)

			faults.Disable()
			other, err := tr.RoundTrip(mustRequest(t, "http://other.test/x"))
			require.NoError(t, err)
			assert.Equal(t, 200, other.StatusCode)
			assert.Equal(t, int64(1), hits.Load())
		})
	}
}

// On the client, an injected delay is added exactly and counts against
// the Transport's Timeout: a delay longer than it times the request out.
func TestInjectClientDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var hits atomic.Int64
		faults := newInjector(t, inject.Config{Share: 1, Delay: 200 * time.Millisecond})
		faults.Enable()
		tr := newTransport(t, httpx.Config{Base: okBase(&hits), Inject: httpx.InjectConfig{Injector: faults}})
		start := time.Now()
		resp, err := tr.RoundTrip(mustRequest(t, "http://upstream.test/"))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 200*time.Millisecond, time.Since(start))
		assert.Equal(t, int64(1), hits.Load())

		short := newTransport(t, httpx.Config{Base: okBase(&hits), Timeout: 50 * time.Millisecond, Inject: httpx.InjectConfig{Injector: faults}})
		start = time.Now()
		_, err = short.RoundTrip(mustRequest(t, "http://upstream.test/"))
		require.ErrorIs(t, err, timeout.ErrTimeout)
		assert.Equal(t, 50*time.Millisecond, time.Since(start))
		assert.Equal(t, int64(1), hits.Load())
	})
}

// On the client, Match picks hosts, and Header (or inject.Mark on the
// request's context) marks requests for a MarkedOnly injector.
func TestInjectClientMatchAndMarks(t *testing.T) {
	var hits atomic.Int64
	var rec recorder
	faults := newInjector(t, inject.Config{Share: 1, MarkedOnly: true, Err: inject.ErrInjected, Observer: &rec})
	faults.Enable()
	tr := newTransport(t, httpx.Config{
		Base:           okBase(&hits),
		DisableBreaker: true,
		Inject: httpx.InjectConfig{Injector: faults, Header: faultHeader,
			Match: func(r *http.Request) bool { return r.URL.Hostname() == "flaky.test" }},
	})
	send := func(url string, marked, header bool) error {
		req := mustRequest(t, url)
		if marked {
			req = req.WithContext(inject.Mark(req.Context()))
		}
		if header {
			req.Header.Set(faultHeader, "1")
		}
		resp, err := tr.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	assert.NoError(t, send("http://flaky.test/", false, false), "unmarked")
	assert.ErrorIs(t, send("http://flaky.test/", true, false), inject.ErrInjected, "marked context")
	assert.ErrorIs(t, send("http://flaky.test/", false, true), inject.ErrInjected, "header")
	assert.NoError(t, send("http://solid.test/", true, true), "host not matched")
	evs := rec.OfKind(resilience.EventInjected)
	require.Len(t, evs, 2)
	assert.Equal(t, "http://flaky.test:80", evs[0].Key, "the Transport's key is the event's key")
}

func TestInjectConfigErrorsNameTheField(t *testing.T) {
	faults := newInjector(t, inject.Config{})
	next := http.NotFoundHandler()
	for _, tc := range []struct {
		name string
		cfg  httpx.InjectConfig
		want string
	}{
		{"status too low", httpx.InjectConfig{Injector: faults, Status: 99}, "Status must be zero or in [200, 599], got 99"},
		{"status too high", httpx.InjectConfig{Injector: faults, Status: 600}, "Status must be zero or in [200, 599], got 600"},
		{"bad header", httpx.InjectConfig{Injector: faults, Header: "X Fault"}, `Header must be a valid header name, got "X Fault"`},
		{"header with colon", httpx.InjectConfig{Injector: faults, Header: "X-Fault:"}, `Header must be a valid header name`},
		{"fields without injector", httpx.InjectConfig{Header: "X-Fault"}, "Injector must be set when its other fields are"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := httpx.New(httpx.Config{Inject: tc.cfg})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "httpx: Config.Inject."+tc.want)
			_, err = httpx.InjectHandler(tc.cfg, next)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "httpx: InjectConfig."+tc.want)
		})
	}
	_, err := httpx.InjectHandler(httpx.InjectConfig{}, next)
	require.EqualError(t, err, "httpx: InjectConfig.Injector must not be nil")
	_, err = httpx.InjectHandler(httpx.InjectConfig{Injector: faults}, nil)
	require.Error(t, err)
	_, err = httpx.New(httpx.Config{Inject: httpx.InjectConfig{Injector: faults, Status: 503, Header: "X-Fault"}})
	require.NoError(t, err)
}

func TestInjectTransportKeepsCloseIdleConnections(t *testing.T) {
	base := &idleCounter{RoundTripper: http.DefaultTransport}
	tr := newTransport(t, httpx.Config{Base: base, Inject: httpx.InjectConfig{Injector: newInjector(t, inject.Config{})}})
	(&http.Client{Transport: tr}).CloseIdleConnections()
	assert.Equal(t, 1, base.n)
}

type idleCounter struct {
	http.RoundTripper
	n int
}

func (c *idleCounter) CloseIdleConnections() { c.n++ }
