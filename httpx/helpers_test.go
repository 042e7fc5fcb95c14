package httpx_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience/httpx"
	"github.com/go-resilience/resilience/internal/eventlog"
)

// protos are the protocols every behaviour is checked with.
var protos = []struct {
	name string
	h2   bool
}{
	{"HTTP1", false},
	{"HTTP2", true},
}

// A testServer is an httptest server with a base transport that speaks the
// chosen protocol to it, and a count of the connections it accepted.
type testServer struct {
	*httptest.Server
	base  http.RoundTripper
	conns atomic.Int64
	h2    bool
}

// newServer starts h on a loopback server, closed when the test ends. With
// h2 it serves HTTP/2 over TLS and base is the server's own client
// transport; otherwise base is a fresh http.Transport.
func newServer(t *testing.T, h2 bool, h http.Handler) *testServer {
	t.Helper()
	s := &testServer{Server: httptest.NewUnstartedServer(h), h2: h2}
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	if h2 {
		s.EnableHTTP2 = true
		s.StartTLS()
		s.base = s.Client().Transport
	} else {
		s.Start()
		tr := &http.Transport{}
		s.base = tr
		t.Cleanup(tr.CloseIdleConnections)
	}
	t.Cleanup(s.Close)
	return s
}

// hangUntilCleanup returns a channel closed when the test ends, before the
// servers it started close, so that handlers blocked on it let go.
func hangUntilCleanup(t *testing.T) <-chan struct{} {
	ch := make(chan struct{})
	t.Cleanup(func() { close(ch) })
	return ch
}

// A statusHandler answers every request with its current status code and
// Retry-After header, and counts the requests it saw.
type statusHandler struct {
	code       atomic.Int32
	retryAfter atomic.Value // string
	hits       atomic.Int64
}

func newStatusHandler(code int) *statusHandler {
	h := &statusHandler{}
	h.code.Store(int32(code))
	h.retryAfter.Store("")
	return h
}

func (h *statusHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.hits.Add(1)
	io.Copy(io.Discard, r.Body)
	if ra := h.retryAfter.Load().(string); ra != "" {
		w.Header().Set("Retry-After", ra)
	}
	code := int(h.code.Load())
	w.WriteHeader(code)
	io.WriteString(w, "status "+strconv.Itoa(code))
}

func newTransport(t *testing.T, cfg httpx.Config) *httpx.Transport {
	t.Helper()
	tr, err := httpx.New(cfg)
	require.NoError(t, err)
	return tr
}

// testCtx is a context that bounds every request of a test, so that a
// failing test cannot hang: far longer than any timeout under test.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// get sends a GET for url through c under testCtx.
func get(t *testing.T, c *http.Client, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(testCtx(t), http.MethodGet, url, nil)
	require.NoError(t, err)
	return c.Do(req)
}

// fetch sends a GET and reads and closes the body. It returns the status
// code, or the error.
func fetch(t *testing.T, c *http.Client, url string) (int, error) {
	t.Helper()
	resp, err := get(t, c, url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.ReadAll(resp.Body); err != nil {
		return resp.StatusCode, err
	}
	return resp.StatusCode, nil
}

// recorder is an Observer that keeps every event.
type recorder = eventlog.Recorder
