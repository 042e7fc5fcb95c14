package fault

import (
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// HTTPConfig configures NewHTTP. The zero value is a plain HTTP/1.1 server
// that answers OK, seeded from the test's name.
type HTTPConfig struct {
	// Fault is how the server answers until Set changes it; nil: OK().
	Fault Fault
	// Seed seeds the server's generator; zero: a hash of the test's name,
	// so each test draws its own sequence, the same on every run.
	Seed uint64
	// HTTP2 serves over TLS with HTTP/2 (clients made by Transport and
	// Client trust the server's certificate and speak HTTP/2); false:
	// plain HTTP/1.1.
	HTTP2 bool
}

// An HTTPServer is an httptest.Server on loopback whose every request is
// answered as the fault in force says. Its methods are safe for concurrent
// use. It is closed at the end of the test that made it.
type HTTPServer struct {
	*core
	srv *httptest.Server
}

// NewHTTP starts a fault server for the test tb and closes it when the test
// ends (tb.Cleanup).
func NewHTTP(tb testing.TB, cfg HTTPConfig) *HTTPServer {
	tb.Helper()
	s := &HTTPServer{core: newCore(tb.Name(), cfg.Seed, cfg.Fault)}
	s.srv = httptest.NewUnstartedServer(s)
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.srv.Config.ConnState = func(c net.Conn, st http.ConnState) { s.connState(c, st) }
	if cfg.HTTP2 {
		s.srv.EnableHTTP2 = true
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	tb.Cleanup(s.Close)
	return s
}

// URL is the server's base URL, such as "http://127.0.0.1:41234".
func (s *HTTPServer) URL() string { return s.srv.URL }

// Client is an *http.Client for the server (httptest's own); Close closes
// its idle connections.
func (s *HTTPServer) Client() *http.Client { return s.srv.Client() }

// Transport returns a new *http.Transport set up for the server (trusting
// its certificate and speaking HTTP/2 when HTTPConfig.HTTP2 is set), for a
// test to tune and wrap. The caller closes its idle connections.
func (s *HTTPServer) Transport() *http.Transport {
	return s.srv.Client().Transport.(*http.Transport).Clone()
}

// Close ends every hang, delay and slow body at once (each aborts its
// connection or stream), closes the server and waits for its handlers to
// return. It is idempotent.
func (s *HTTPServer) Close() {
	s.signalClose()
	s.srv.Close()
}

// ServeHTTP answers r as the fault in force says.
func (s *HTTPServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.begin()
	var record func(*Stats) // what to count when the handler ends
	defer func() { s.end(record) }()
	abort := func() {
		record = func(st *Stats) { st.Aborted++ }
		panic(http.ErrAbortHandler) // closes the connection (HTTP/2: resets the stream), unlogged
	}

	a := s.next()
	ctx := r.Context()
	if !s.sleep(ctx, a.delay) {
		abort()
	}
	rc := http.NewResponseController(w)
	switch a.kind {
	case kindAnswer:
		status := a.status
		if status < 100 || status > 999 {
			status = http.StatusInternalServerError
		}
		body := "ok\n"
		if status != http.StatusOK {
			body = "fault: " + strconv.Itoa(status) + " " + http.StatusText(status) + "\n"
		}
		if a.retryAfter != "" {
			w.Header().Set("Retry-After", a.retryAfter)
		}
		if bodyAllowed(status) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		}
		w.WriteHeader(status)
		if bodyAllowed(status) {
			_, _ = io.WriteString(w, body)
		}
		record = func(st *Stats) { st.Statuses[status]++ }

	case kindHang:
		s.update(func(st *Stats) { st.Hangs++ })
		s.hang(ctx)
		abort()

	case kindHangMid:
		startBody(w, rc, a.n, a.n*2+1)
		s.update(func(st *Stats) { st.Hangs++ })
		s.hang(ctx)
		abort()

	case kindReset:
		startBody(w, rc, a.n, a.n*2+1)
		record = func(st *Stats) { st.Resets++ }
		if r.ProtoMajor == 1 {
			if conn, _, err := rc.Hijack(); err == nil {
				resetConn(conn)
				return
			}
		}
		panic(http.ErrAbortHandler) // HTTP/2: RST_STREAM

	case kindDrop:
		record = func(st *Stats) { st.Resets++ }
		if r.ProtoMajor == 1 {
			if conn, _, err := rc.Hijack(); err == nil {
				resetConn(conn)
				return
			}
		}
		panic(http.ErrAbortHandler)

	case kindSlow:
		startBody(w, rc, 0, a.n)
		for i := range a.n {
			if !s.sleep(ctx, a.every) {
				abort()
			}
			_, _ = w.Write(filler[i%len(filler) : i%len(filler)+1])
			_ = rc.Flush()
		}
		record = func(st *Stats) { st.Statuses[http.StatusOK]++ }
	}
}

// filler is the body of partial and slow answers.
var filler = []byte("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\n")

// startBody sends a 200 with a Content-Length of total and the first n
// bytes of the body, and flushes them to the client.
func startBody(w http.ResponseWriter, rc *http.ResponseController, n, total int) {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(total))
	w.WriteHeader(http.StatusOK)
	for n > 0 {
		k := min(n, len(filler))
		_, _ = w.Write(filler[:k])
		n -= k
	}
	_ = rc.Flush()
}

// resetConn closes a hijacked connection with SO_LINGER 0, so the peer gets
// a TCP RST rather than a FIN.
func resetConn(c net.Conn) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if tcp, ok := c.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = c.Close()
}

func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}
