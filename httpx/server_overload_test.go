package httpx_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/httpx"
)

// The overload scenario: a handler with capacity workers doing work each,
// offered 3× what it can serve by many clients with a deadline.
const (
	capacity   = 4
	work       = 20 * time.Millisecond
	overload   = 3
	offerFor   = 2 * time.Second
	clientWait = 10 * work // each client's deadline
)

// workers is a server that can do capacity pieces of work at once: a
// request waits for a worker, in arrival order and without looking at its
// context (a thread pool), skips its work when its client has gone by the
// time it gets one, and otherwise holds the worker for work.
type workers struct{ sem chan struct{} }

func newWorkers() *workers { return &workers{sem: make(chan struct{}, capacity)} }

func (s *workers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.sem <- struct{}{}
	defer func() { <-s.sem }()
	if r.Context().Err() != nil {
		return
	}
	time.Sleep(work) // the work itself: not interruptible
	_, _ = io.WriteString(w, "done\n")
}

// A sample is one request as its client saw it.
type sample struct {
	lat  time.Duration
	code int // 0: no response (the deadline passed, or a transport error)
}

type loadStats struct {
	sent, good, ok, refused, timeouts int
	goodput                           float64 // good responses a second
	okP99, refusedP99                 time.Duration
}

func (s loadStats) String() string {
	return fmt.Sprintf("sent %4d  goodput %6.1f/s  ok %4d  p99 %8v  refused %4d  refusal p99 %8v  timeouts %4d",
		s.sent, s.goodput, s.ok, s.okP99.Round(10*time.Microsecond), s.refused, s.refusedP99.Round(10*time.Microsecond), s.timeouts)
}

func p99(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[(len(ds)*99+99)/100-1]
}

func summarise(samples []sample, dur time.Duration) loadStats {
	st := loadStats{sent: len(samples)}
	var ok, refused []time.Duration
	for _, s := range samples {
		switch {
		case s.code == http.StatusOK:
			ok = append(ok, s.lat)
			if s.lat <= clientWait {
				st.good++
			}
		case s.code == http.StatusServiceUnavailable:
			refused = append(refused, s.lat)
		default:
			st.timeouts++
		}
	}
	st.ok, st.refused = len(ok), len(refused)
	st.okP99, st.refusedP99 = p99(ok), p99(refused)
	st.goodput = float64(st.good) / dur.Seconds()
	return st
}

// newLoadClient returns a client that keeps enough idle connections for
// the load, closed when the test ends.
func newLoadClient(t *testing.T) *http.Client {
	tr := &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func fetchOnce(c *http.Client, url string) sample {
	ctx, cancel := context.WithTimeout(context.Background(), clientWait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return sample{}
	}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return sample{lat: time.Since(start)}
	}
	_, err = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	lat := time.Since(start)
	if err != nil {
		return sample{lat: lat}
	}
	return sample{lat: lat, code: resp.StatusCode}
}

// closedLoop measures the server unloaded: capacity clients, each sending
// its next request when the last returns, n requests in all.
func closedLoop(c *http.Client, url string, n int) ([]sample, time.Duration) {
	return closedLoopN(c, url, capacity, n)
}

// closedLoopN is closedLoop with clients clients.
func closedLoopN(c *http.Client, url string, clients, n int) ([]sample, time.Duration) {
	var (
		mu      sync.Mutex
		samples []sample
		left    atomic.Int64
		wg      sync.WaitGroup
	)
	left.Store(int64(n))
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				s := fetchOnce(c, url)
				mu.Lock()
				samples = append(samples, s)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return samples, time.Since(start)
}

// openLoop offers rate requests a second for offerFor, each from a client
// of its own, whatever the server answers: how load arrives from many
// independent users. It returns when every request has ended (each within
// clientWait).
func openLoop(c *http.Client, url string, rate float64) []sample {
	n := int(rate * offerFor.Seconds())
	samples := make([]sample, n)
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	var wg sync.WaitGroup
	for i := range n {
		<-tick.C
		wg.Go(func() { samples[i] = fetchOnce(c, url) })
	}
	wg.Wait()
	return samples
}

// timedRefusals wraps h to time, on the server, the requests it answers
// with 503: how long the middleware took to refuse.
func timedRefusals(h http.Handler, mu *sync.Mutex, out *[]time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		cw := &codeWriter{ResponseWriter: w}
		h.ServeHTTP(cw, r)
		if cw.code == http.StatusServiceUnavailable {
			d := time.Since(start)
			mu.Lock()
			*out = append(*out, d)
			mu.Unlock()
		}
	})
}

type codeWriter struct {
	http.ResponseWriter
	code int
}

func (w *codeWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// overloadRun is one measurement of the three servers.
type overloadRun struct {
	unloaded, unprotected, protected loadStats
	capacity, offered                float64
	serverRefusalP99                 time.Duration
}

func measureOverload(t *testing.T) overloadRun {
	client := newLoadClient(t)
	var run overloadRun

	// Unloaded: capacity clients in a closed loop.
	plain := httptest.NewServer(newWorkers())
	defer plain.Close()
	_, _ = closedLoop(client, plain.URL, 2*capacity) // warm the connections
	samples, elapsed := closedLoop(client, plain.URL, 200)
	run.unloaded = summarise(samples, elapsed)
	run.capacity = run.unloaded.goodput
	run.offered = overload * run.capacity

	// Unprotected: the same handler, offered 3× its capacity.
	run.unprotected = summarise(openLoop(client, plain.URL, run.offered), offerFor)

	// Protected: a bulkhead of capacity slots refusing at once, so no
	// request ever waits for a worker.
	bh, err := bulkhead.New(bulkhead.Config{Name: "workers", MaxConcurrent: capacity})
	require.NoError(t, err)
	srv, err := httpx.NewServer(httpx.ServerConfig{Name: "workers", Policy: bh, RetryAfter: time.Second})
	require.NoError(t, err)
	var (
		mu          sync.Mutex
		serverTimes []time.Duration
	)
	guarded := httptest.NewServer(timedRefusals(srv.Middleware(newWorkers()), &mu, &serverTimes))
	defer guarded.Close()
	_, _ = closedLoop(client, guarded.URL, 2*capacity)
	run.protected = summarise(openLoop(client, guarded.URL, run.offered), offerFor)
	mu.Lock()
	run.serverRefusalP99 = p99(serverTimes)
	mu.Unlock()
	client.CloseIdleConnections()
	return run
}

func (r overloadRun) log(t *testing.T) {
	t.Logf("capacity %d × %v, offered %.0f/s (%d× the %.1f/s measured unloaded) for %v, client deadline %v",
		capacity, work, r.offered, overload, r.capacity, offerFor, clientWait)
	t.Logf("unloaded    %v", r.unloaded)
	t.Logf("unprotected %v", r.unprotected)
	t.Logf("protected   %v", r.protected)
	t.Logf("protected: goodput %.0f%% of capacity, admitted p99 %.2f× unloaded p99, refusal p99 %v at the client, %v in the middleware",
		100*r.protected.goodput/r.capacity, float64(r.protected.okP99)/float64(r.unloaded.okP99),
		r.protected.refusedP99.Round(time.Microsecond), r.serverRefusalP99.Round(time.Microsecond))
	t.Logf("unprotected: goodput %.0f%% of capacity, %.0f%% of requests timed out",
		100*r.unprotected.goodput/r.capacity, 100*float64(r.unprotected.timeouts)/float64(r.unprotected.sent))
}

// misses returns the thresholds r misses; none when it shows what it must.
func (r overloadRun) misses() []string {
	var out []string
	check := func(ok bool, what string, args ...any) {
		if !ok {
			out = append(out, fmt.Sprintf(what, args...))
		}
	}
	p, u := r.protected, r.unprotected
	check(r.unloaded.good == r.unloaded.sent, "unloaded: %d of %d in time", r.unloaded.good, r.unloaded.sent)
	check(p.goodput >= 0.8*r.capacity, "protected goodput %.1f/s < 80%% of %.1f/s", p.goodput, r.capacity)
	check(p.okP99 <= 3*r.unloaded.okP99, "protected admitted p99 %v > 3× unloaded %v", p.okP99, r.unloaded.okP99)
	check(p.refused > 0, "protected: nothing refused")
	check(r.serverRefusalP99 < time.Millisecond, "refusal p99 in the middleware %v >= 1ms", r.serverRefusalP99)
	check(p.refusedP99 < r.unloaded.okP99/4, "refusal p99 at the client %v >= unloaded p99 / 4", p.refusedP99)
	check(u.goodput < p.goodput, "unprotected goodput %.1f/s >= protected %.1f/s", u.goodput, p.goodput)
	check(u.timeouts > u.sent/2, "unprotected: only %d of %d timed out", u.timeouts, u.sent)
	return out
}

// TestOverloadProtectedKeepsGoodputUnprotectedCollapses is the server
// side's reason to exist, on real loopback servers: offered three times
// what it can serve, a server without protection queues work until its
// clients' deadlines pass, and one behind the middleware serves what it
// can at the unloaded latency and refuses the rest at once.
//
// Thresholds come from the unloaded measurement of the same run, so a
// slow machine moves them together. Asserted: protected goodput at least
// 80% of the unloaded capacity, protected admitted p99 at most 3× the
// unloaded p99, refusal time p99 in the middleware under 1ms, client-side
// refusal p99 under the unloaded p99 / 4 (a refusal costs a round trip,
// no work), the unprotected goodput below the protected one and most of
// its requests timed out. The client-side refusal p99 against 1ms is
// logged, not asserted: on a loaded 2-core machine the loopback round
// trip alone can exceed it. A machine shared with other work can stall
// any of the three phases for tens of milliseconds, so the measurement
// is made up to three times (about 6s each) and must meet every
// threshold once; every run is logged.
func TestOverloadProtectedKeepsGoodputUnprotectedCollapses(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: several seconds")
	}
	const attempts = 3
	var misses []string
	for i := 1; i <= attempts; i++ {
		r := measureOverload(t)
		t.Logf("run %d of at most %d:", i, attempts)
		r.log(t)
		if misses = r.misses(); len(misses) == 0 {
			return
		}
		t.Logf("run %d missed: %v", i, misses)
	}
	assert.Empty(t, misses, "every run missed a threshold")
}
