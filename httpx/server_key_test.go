package httpx_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/httpx"
	"github.com/go-resilience/resilience/internal/eventlog"
	"github.com/go-resilience/resilience/ratelimit"
)

func TestServerHeaderKeyGivesEachClientItsOwnLimit(t *testing.T) {
	limits, err := ratelimit.NewSet(ratelimit.SetConfig{Config: ratelimit.Config{Rate: 0.001, Burst: 1}})
	require.NoError(t, err)
	srv := newShedder(t, httpx.ServerConfig{
		Key:       httpx.HeaderKey("x-client-id"),
		PolicyFor: func(key string) resilience.Policy { return limits.Get(key) },
	})
	ts := httptest.NewServer(srv.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})))
	t.Cleanup(ts.Close)
	for _, tc := range []struct {
		client string
		want   int
	}{
		{"a", http.StatusOK},
		{"b", http.StatusOK},
		{"a", http.StatusTooManyRequests},
		{"b", http.StatusTooManyRequests},
		{"c", http.StatusOK},
	} {
		resp, _ := request(t, testCtx(t), ts.URL, "X-Client-Id", tc.client)
		assert.Equal(t, tc.want, resp.StatusCode, "client %s", tc.client)
	}
}

func TestServerRouteKeyNamesTheEventsByPattern(t *testing.T) {
	mux := http.NewServeMux()
	ok := func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }
	mux.HandleFunc("GET /items/{id}", ok)
	mux.HandleFunc("/", ok)
	rec := &eventlog.Recorder{}
	srv := newShedder(t, httpx.ServerConfig{Key: httpx.RouteKey(mux), Observer: rec})
	h := srv.Middleware(mux)
	for _, path := range []string{"/items/7", "/other"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	var keys []string
	for _, e := range rec.OfKind(resilience.EventAdmitted) {
		keys = append(keys, e.Key)
	}
	assert.Equal(t, []string{"GET /items/{id}", "/"}, keys)
}

// A refusal allocates no more than writing the same answer by hand.
func TestServerRefusalAllocatesNoMoreThanWritingIt(t *testing.T) {
	lim, err := ratelimit.New(ratelimit.Config{Rate: 0.001, Burst: 1})
	require.NoError(t, err)
	srv := newShedder(t, httpx.ServerConfig{Policy: lim})
	h := srv.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	w := &nopWriter{h: http.Header{}}
	h.ServeHTTP(w, r) // takes the only token
	refused := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, r); w.reset() })
	byHand := testing.AllocsPerRun(100, func() { refuseByHand.ServeHTTP(w, r); w.reset() })
	t.Logf("allocations per refusal: %v through the middleware, %v writing it by hand", refused, byHand)
	assert.LessOrEqual(t, refused, byHand)
}
