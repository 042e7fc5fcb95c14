package httpx_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/httpx"
)

// The server middleware's costs, each next to its baseline in the same
// run: an admitted request against the bare handler (in process and over
// a loopback round trip), and a refusal against a handler that writes the
// same 503 with Retry-After itself.

// nopWriter is a ResponseWriter that keeps nothing but a header map it
// clears for reuse, so that allocations are those of the code under test.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(int)             {}
func (w *nopWriter) reset()                      { clear(w.h) }

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })

// refuseByHand writes what a refusal writes, without the middleware.
var refuseByHand = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Retry-After", strconv.Itoa(1))
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = io.WriteString(w, "service unavailable: the server is shedding load, try again later\n")
})

func benchShedder(b *testing.B, slots int) *httpx.Server {
	bh, err := bulkhead.New(bulkhead.Config{MaxConcurrent: slots})
	if err != nil {
		b.Fatal(err)
	}
	s, err := httpx.NewServer(httpx.ServerConfig{Policy: bh, RetryAfter: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func serveLoop(b *testing.B, h http.Handler) {
	b.ReportAllocs()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	w := &nopWriter{h: http.Header{}}
	for b.Loop() {
		h.ServeHTTP(w, r)
		w.reset()
	}
}

func serveParallel(b *testing.B, h http.Handler) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		w := &nopWriter{h: http.Header{}}
		for pb.Next() {
			h.ServeHTTP(w, r)
			w.reset()
		}
	})
}

// BenchmarkServerAdmitted: a request the middleware admits, in process.
func BenchmarkServerAdmitted(b *testing.B) {
	b.Run("bare", func(b *testing.B) { serveLoop(b, okHandler) })
	b.Run("middleware", func(b *testing.B) { serveLoop(b, benchShedder(b, 1<<20).Middleware(okHandler)) })
	b.Run("bare/parallel", func(b *testing.B) { serveParallel(b, okHandler) })
	b.Run("middleware/parallel", func(b *testing.B) { serveParallel(b, benchShedder(b, 1<<20).Middleware(okHandler)) })
}

// BenchmarkServerRefused: a refusal (every slot taken) against a handler
// that writes the same answer by hand.
func BenchmarkServerRefused(b *testing.B) {
	full := func(b *testing.B) http.Handler {
		s := benchShedder(b, 1)
		// Take the only slot for the whole benchmark through a request
		// that waits in its handler.
		hold, release := make(chan struct{}), make(chan struct{})
		h := s.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			close(hold)
			<-release
		}))
		go h.ServeHTTP(&nopWriter{h: http.Header{}}, httptest.NewRequest(http.MethodGet, "/", nil))
		<-hold
		b.Cleanup(func() { close(release) })
		return h
	}
	b.Run("by-hand", func(b *testing.B) { serveLoop(b, refuseByHand) })
	b.Run("middleware", func(b *testing.B) { serveLoop(b, full(b)) })
	b.Run("by-hand/parallel", func(b *testing.B) { serveParallel(b, refuseByHand) })
	b.Run("middleware/parallel", func(b *testing.B) { serveParallel(b, full(b)) })
}

// BenchmarkServerRoundTrip: a GET over loopback, to a bare handler and
// through the middleware: the overhead as a share of a real round trip.
func BenchmarkServerRoundTrip(b *testing.B) {
	run := func(b *testing.B, h http.Handler) {
		ts := httptest.NewServer(h)
		defer ts.Close()
		tr := &http.Transport{MaxIdleConnsPerHost: 64}
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				resp, err := c.Get(ts.URL)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
		})
	}
	b.Run("bare", func(b *testing.B) { run(b, okHandler) })
	b.Run("middleware", func(b *testing.B) { run(b, benchShedder(b, 1<<20).Middleware(okHandler)) })
}
