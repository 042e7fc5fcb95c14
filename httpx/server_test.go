package httpx_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/adaptive"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/httpx"
	"github.com/go-resilience/resilience/internal/eventlog"
	"github.com/go-resilience/resilience/ratelimit"
)

func newShedder(t *testing.T, cfg httpx.ServerConfig) *httpx.Server {
	t.Helper()
	s, err := httpx.NewServer(cfg)
	require.NoError(t, err)
	return s
}

// holder is a handler that holds each request until released or until
// its client goes away, counting requests in it and those that left.
type holder struct {
	in, left atomic.Int64
	entered  chan struct{}
	release  chan struct{}
}

func newHolder(t *testing.T) *holder {
	h := &holder{entered: make(chan struct{}, 100), release: make(chan struct{})}
	t.Cleanup(func() { close(h.release) })
	return h
}

func (h *holder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.in.Add(1)
	defer h.in.Add(-1)
	h.entered <- struct{}{}
	select {
	case <-h.release:
		_, _ = io.WriteString(w, "held\n")
	case <-r.Context().Done():
		h.left.Add(1)
	}
}

// request sends a GET with the given headers and returns the response
// with its body read.
func request(t *testing.T, ctx context.Context, url string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// background starts a request that the holder will hold and waits until
// it is in the handler; cancel ends it from the client.
func background(t *testing.T, h *holder, url string) (cancel func(), done <-chan struct{}) {
	ctx, cancelCtx := context.WithCancel(context.Background())
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
	}()
	<-h.entered
	t.Cleanup(func() { cancelCtx(); <-ch })
	return cancelCtx, ch
}

func TestServerRefusesAtOnceWithStatusAndRetryAfter(t *testing.T) {
	t.Run("full bulkhead: 503 with the configured Retry-After", func(t *testing.T) {
		h := newHolder(t)
		bh, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
		require.NoError(t, err)
		rec := &eventlog.Recorder{}
		srv := newShedder(t, httpx.ServerConfig{Name: "api", Policy: bh, RetryAfter: 1500 * time.Millisecond, Observer: rec})
		ts := httptest.NewServer(srv.Middleware(h))
		t.Cleanup(ts.Close)
		background(t, h, ts.URL)

		_, shedding := srv.Shedding()
		assert.False(t, shedding, "not shedding before a refusal")
		resp, body := request(t, testCtx(t), ts.URL)
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		assert.Equal(t, "2", resp.Header.Get("Retry-After"), "1.5s rounds up to whole seconds")
		assert.Contains(t, body, "shedding load")
		since, shedding := srv.Shedding()
		assert.True(t, shedding)
		assert.WithinDuration(t, time.Now(), since, time.Second)
		assert.Equal(t, int64(1), h.in.Load(), "the refused request never reached the handler")
		assert.Equal(t, []string{"admitted", "shed"}, kinds(rec))
	})
	t.Run("rate limit: 429 with the limiter's hint", func(t *testing.T) {
		lim, err := ratelimit.New(ratelimit.Config{Rate: 0.5, Burst: 1})
		require.NoError(t, err)
		srv := newShedder(t, httpx.ServerConfig{Policy: lim})
		ts := httptest.NewServer(srv.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})))
		t.Cleanup(ts.Close)
		resp, _ := request(t, testCtx(t), ts.URL)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		resp, body := request(t, testCtx(t), ts.URL)
		assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
		assert.Contains(t, body, "too many requests")
		secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		require.NoError(t, err, "Retry-After %q", resp.Header.Get("Retry-After"))
		assert.InDelta(t, 2, secs, 1, "a token every 2s")
	})
	t.Run("Refuse overrides the answer", func(t *testing.T) {
		lim, err := ratelimit.New(ratelimit.Config{Rate: 0.001, Burst: 1})
		require.NoError(t, err)
		var got error
		srv := newShedder(t, httpx.ServerConfig{Policy: lim, Refuse: func(w http.ResponseWriter, _ *http.Request, err error) {
			got = err
			w.WriteHeader(http.StatusTeapot)
			_, _ = io.WriteString(w, "later")
		}})
		ts := httptest.NewServer(srv.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})))
		t.Cleanup(ts.Close)
		request(t, testCtx(t), ts.URL)
		resp, body := request(t, testCtx(t), ts.URL)
		assert.Equal(t, http.StatusTeapot, resp.StatusCode)
		assert.Equal(t, "later", body)
		assert.NotEmpty(t, resp.Header.Get("Retry-After"), "set before Refuse is called")
		assert.ErrorIs(t, got, ratelimit.ErrLimited)
	})
}

func kinds(r *eventlog.Recorder) []string {
	var out []string
	for _, e := range r.Events() {
		out = append(out, e.Kind.String())
	}
	return out
}

func TestServerExemptPathsAreServedWhileShedding(t *testing.T) {
	h := newHolder(t)
	bh, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
	require.NoError(t, err)
	srv := newShedder(t, httpx.ServerConfig{Policy: bh, Exempt: []string{"/healthz", "/metrics/"}})
	mux := http.NewServeMux()
	mux.Handle("/", h)
	ok := func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }
	mux.HandleFunc("/healthz", ok)
	mux.HandleFunc("/metrics/", ok)
	mux.HandleFunc("/healthz/deep", ok)
	ts := httptest.NewServer(srv.Middleware(mux))
	t.Cleanup(ts.Close)
	background(t, h, ts.URL+"/work")

	for path, want := range map[string]int{
		"/work":          http.StatusServiceUnavailable,
		"/healthz":       http.StatusOK,
		"/metrics/":      http.StatusOK,
		"/metrics/x":     http.StatusOK,
		"/healthz/deep":  http.StatusServiceUnavailable, // exact match only
		"/healthzz":      http.StatusServiceUnavailable,
		"/other/healthz": http.StatusServiceUnavailable,
	} {
		resp, _ := request(t, testCtx(t), ts.URL+path)
		assert.Equal(t, want, resp.StatusCode, path)
	}
}

func TestServerClientThatGoesAwayFreesItsSlot(t *testing.T) {
	h := newHolder(t)
	bh, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1, MaxWait: time.Minute})
	require.NoError(t, err)
	srv := newShedder(t, httpx.ServerConfig{Policy: bh})
	ts := httptest.NewServer(srv.Middleware(h))
	t.Cleanup(ts.Close)

	cancel, done := background(t, h, ts.URL)
	assert.Equal(t, 1, bh.InFlight())
	// A second request waits for the slot...
	ctx, cancelWaiter := context.WithCancel(context.Background())
	waiterDone := make(chan struct{})
	go func() {
		defer close(waiterDone)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = resp.Body.Close()
		}
	}()
	// ...and gets it when the first client goes away.
	cancel()
	<-done
	<-h.entered
	assert.Equal(t, int64(1), h.left.Load(), "the handler saw its client go")
	assert.Equal(t, int64(1), h.in.Load(), "the waiter is in the handler")
	assert.Equal(t, 1, bh.InFlight())
	// The waiter goes away too: its slot comes back (Acquire would wait
	// for it a minute otherwise).
	cancelWaiter()
	<-waiterDone
	require.NoError(t, bh.Acquire(testCtx(t)))
	bh.Release()
	assert.Equal(t, int64(2), h.left.Load())
	assert.Zero(t, h.in.Load())
}

func TestServerWithNilPolicyServesEverything(t *testing.T) {
	srv := newShedder(t, httpx.ServerConfig{})
	var n atomic.Int64
	ts := httptest.NewServer(srv.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { n.Add(1) })))
	t.Cleanup(ts.Close)
	for range 3 {
		resp, _ := request(t, testCtx(t), ts.URL)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	}
	assert.Equal(t, int64(3), n.Load())
	nilNext := httptest.NewServer(srv.Middleware(nil))
	t.Cleanup(nilNext.Close)
	resp, _ := request(t, testCtx(t), nilNext.URL)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "a nil next handler is NotFound")
}

func TestServerDeadlineHeader(t *testing.T) {
	const header = "X-Timeout-Ms"
	for _, tc := range []struct {
		name  string
		value string
		code  int
		// deadline: the handler saw a deadline about this far away (0: none)
		deadline time.Duration
	}{
		{"absent header: served with no deadline", "", http.StatusOK, 0},
		{"enough time: served with the client's deadline", "5000", http.StatusOK, 5 * time.Second},
		{"blanks around the number are allowed", " 5000 ", http.StatusOK, 5 * time.Second},
		{"below the minimum: refused", "40", http.StatusServiceUnavailable, 0},
		{"zero: the client's time is up", "0", http.StatusServiceUnavailable, 0},
		{"negative: ignored", "-100", http.StatusOK, 0},
		{"plus sign: ignored", "+100", http.StatusOK, 0},
		{"garbage: ignored", "soon", http.StatusOK, 0},
		{"a duration string: ignored", "250ms", http.StatusOK, 0},
		{"huge: ignored", "99999999999999999999999999", http.StatusOK, 0},
		{"largest accepted", "999999999", http.StatusOK, 999999999 * time.Millisecond},
		{"non-ASCII digits: ignored", "٣٠٠", http.StatusOK, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newShedder(t, httpx.ServerConfig{TimeoutHeader: header, MinDeadline: 50 * time.Millisecond})
			var seen atomic.Int64 // remaining time seen by the handler, -1: none
			ts := httptest.NewServer(srv.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				d, ok := r.Context().Deadline()
				if !ok {
					seen.Store(-1)
					return
				}
				seen.Store(int64(time.Until(d)))
			})))
			t.Cleanup(ts.Close)
			var hdr []string
			if tc.value != "" {
				hdr = []string{header, tc.value}
			}
			resp, _ := request(t, testCtx(t), ts.URL, hdr...)
			assert.Equal(t, tc.code, resp.StatusCode)
			if tc.code != http.StatusOK {
				return
			}
			if tc.deadline == 0 {
				assert.Equal(t, int64(-1), seen.Load(), "no deadline")
				return
			}
			got := time.Duration(seen.Load())
			assert.LessOrEqual(t, got, tc.deadline)
			assert.Greater(t, got, tc.deadline-2*time.Second)
		})
	}
}

func TestServerRefusesARequestWhoseContextDeadlineIsTooShort(t *testing.T) {
	srv := newShedder(t, httpx.ServerConfig{MinDeadline: time.Hour})
	var served atomic.Int64
	h := srv.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served.Add(1) }))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Zero(t, served.Load())
}

func TestServerMaxWaitingBoundsTheQueue(t *testing.T) {
	h := newHolder(t)
	bh, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1, MaxWait: time.Minute})
	require.NoError(t, err)
	queued := make(chan struct{}, 10)
	srv := newShedder(t, httpx.ServerConfig{MaxWaiting: 1, Policy: resilience.PolicyFunc(func(ctx context.Context, call func(context.Context) error) error {
		queued <- struct{}{}
		return bh.Execute(ctx, call)
	})})
	ts := httptest.NewServer(srv.Middleware(h))
	t.Cleanup(ts.Close)
	background(t, h, ts.URL)
	// One waits (it cannot enter the handler, so wait for it in the bulkhead).
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = resp.Body.Close()
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	<-queued // the first, admitted
	<-queued // the waiter, counted as waiting before the Policy ran
	resp, _ := request(t, testCtx(t), ts.URL)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "a second waiter is refused at once")
}

func TestNewServerRejectsInvalidConfigNamingTheField(t *testing.T) {
	for _, tc := range []struct {
		cfg   httpx.ServerConfig
		field string
	}{
		{httpx.ServerConfig{Exempt: []string{"healthz"}}, "ServerConfig.Exempt[0]"},
		{httpx.ServerConfig{Exempt: []string{"/a", ""}}, "ServerConfig.Exempt[1]"},
		{httpx.ServerConfig{TimeoutHeader: "bad header"}, "ServerConfig.TimeoutHeader"},
		{httpx.ServerConfig{MinDeadline: -1}, "ServerConfig.MinDeadline"},
		{httpx.ServerConfig{MaxWaiting: -1}, "ServerConfig.MaxWaiting"},
		{httpx.ServerConfig{QueueTarget: -1}, "ServerConfig.QueueTarget"},
		{httpx.ServerConfig{QueueInterval: -1}, "ServerConfig.QueueInterval"},
		{httpx.ServerConfig{RetryAfter: -1}, "ServerConfig.RetryAfter"},
	} {
		_, err := httpx.NewServer(tc.cfg)
		require.Error(t, err, tc.field)
		assert.Contains(t, err.Error(), "httpx: "+tc.field)
	}
}

// A Policy that fails without running the request has refused it.
func TestServerPolicyErrorThatIsNotARefusalIsAnsweredAsOne(t *testing.T) {
	errOdd := errors.New("odd policy")
	srv := newShedder(t, httpx.ServerConfig{Policy: resilience.PolicyFunc(func(context.Context, func(context.Context) error) error {
		return errOdd
	})})
	w := httptest.NewRecorder()
	srv.Middleware(http.NotFoundHandler()).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
}

// An adaptive limiter's refusal is overload (503), not a rate limit.
func TestServerAdaptiveLimitRefusalIs503(t *testing.T) {
	lim, err := adaptive.New(adaptive.Config{InitialLimit: 1, MinLimit: 1, MaxLimit: 1})
	require.NoError(t, err)
	srv := newShedder(t, httpx.ServerConfig{Policy: lim})
	var inner *httptest.ResponseRecorder
	h := srv.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		if inner == nil { // while this request holds the only slot
			inner = httptest.NewRecorder()
			srv.Middleware(http.NotFoundHandler()).ServeHTTP(inner, httptest.NewRequest(http.MethodGet, "/", nil))
		}
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	assert.Equal(t, http.StatusOK, w.Code)
	require.NotNil(t, inner)
	assert.Equal(t, http.StatusServiceUnavailable, inner.Code)
}

// Under sustained overload with a long queue, the CoDel rule refuses
// requests that waited past the target, so the queue stops standing;
// without it, every request waits its turn.
func TestServerQueueTargetCutsAStandingQueue(t *testing.T) {
	run := func(t *testing.T, target time.Duration) (served, cut int) {
		bh, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1, MaxWait: time.Minute})
		require.NoError(t, err)
		rec := &eventlog.Recorder{}
		srv := newShedder(t, httpx.ServerConfig{Policy: bh, QueueTarget: target, QueueInterval: 20 * time.Millisecond, Observer: rec})
		ts := httptest.NewServer(srv.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			time.Sleep(5 * time.Millisecond) // the work
		})))
		t.Cleanup(ts.Close)
		client := newLoadClient(t)
		samples, _ := closedLoopN(client, ts.URL, 8, 80) // 8 clients on 1 slot: a standing queue
		for _, s := range samples {
			switch s.code {
			case http.StatusOK:
				served++
			case http.StatusServiceUnavailable:
				cut++
			}
		}
		for _, e := range rec.OfKind(resilience.EventShed) {
			assert.ErrorIs(t, e.Err, httpx.ErrStandingQueue)
		}
		assert.Zero(t, srv.Waiting())
		return served, cut
	}
	served, cut := run(t, 0)
	assert.Positive(t, served)
	assert.Zero(t, cut, "without the rule every request waits its turn")
	served, cut = run(t, time.Millisecond)
	t.Logf("with a 1ms target: %d served, %d cut from the queue", served, cut)
	assert.Positive(t, cut, "the standing queue is cut")
	assert.Positive(t, served)
}

// A panic in the handler or in a hook reaches the caller (net/http
// recovers it) and leaves nothing held: the slot and the waiting count
// come back.
func TestServerPanicsGiveEverythingBack(t *testing.T) {
	bh, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
	require.NoError(t, err)
	var panicFor atomic.Bool
	srv := newShedder(t, httpx.ServerConfig{Policy: bh, MaxWaiting: 1, PolicyFor: func(string) resilience.Policy {
		if panicFor.Load() {
			panic("hook")
		}
		return nil
	}})
	h := srv.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic("handler")
		}
	}))
	serve := func(path string) (code int, panicked any) {
		defer func() { panicked = recover() }()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		return w.Code, nil
	}
	_, p := serve("/panic")
	assert.Equal(t, "handler", p)
	panicFor.Store(true)
	_, p = serve("/")
	assert.Equal(t, "hook", p)
	panicFor.Store(false)
	assert.Zero(t, bh.InFlight())
	assert.Zero(t, srv.Waiting())
	code, p := serve("/")
	assert.Nil(t, p)
	assert.Equal(t, http.StatusOK, code)
}
