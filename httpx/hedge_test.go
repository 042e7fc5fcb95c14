package httpx_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/hedge"
	"github.com/go-resilience/resilience/httpx"
	"github.com/go-resilience/resilience/retry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tailServer answers 5% of requests after 200ms and the rest after 2ms,
// and counts the slow requests that saw their context cancelled.
type tailServer struct {
	hits, slow, slowCancelled, slowDone atomic.Int64
}

func (s *tailServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.hits.Add(1)
	d := 2 * time.Millisecond
	slow := rand.IntN(100) < 5
	if slow {
		s.slow.Add(1)
		d = 200 * time.Millisecond
	}
	select {
	case <-time.After(d):
	case <-r.Context().Done():
		if slow {
			s.slowCancelled.Add(1)
		}
		return
	}
	if slow {
		s.slowDone.Add(1)
	}
	io.WriteString(w, "ok")
}

// quantiles returns the q-quantiles of ds, which it sorts.
func quantiles(ds []time.Duration, qs ...float64) []time.Duration {
	slices.Sort(ds)
	out := make([]time.Duration, len(qs))
	for i, q := range qs {
		k := int(math.Ceil(q*float64(len(ds)))) - 1
		out[i] = ds[min(max(k, 0), len(ds)-1)]
	}
	return out
}

// TestHedgeCutsTheTailOfARealServer: 2,000 requests to a loopback server
// whose responses take 200ms 5% of the time and 2ms otherwise, without
// and with Config.Hedge (the p95 delay up to 10ms, two hedges, a 20%
// budget; the test
// logs the quantiles side by side and the request counts): the hedged
// p99 is at most a quarter of the unhedged one, the extra requests stay
// within the budget, and the server sees the losers' requests cancelled.
func TestHedgeCutsTheTailOfARealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("a few seconds of real traffic")
	}
	const requests, workers = 2000, 4
	const ratio = 0.2
	srv := &tailServer{}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	run := func(cfg httpx.Config) (lat []time.Duration, hits, slow, cancelled, slowDone int64) {
		base := &http.Transport{MaxIdleConnsPerHost: 2 * workers}
		defer base.CloseIdleConnections()
		cfg.Base = base
		cfg.DisableBreaker = true
		client := &http.Client{Transport: newTransport(t, cfg)}
		h0, s0, c0, d0 := srv.hits.Load(), srv.slow.Load(), srv.slowCancelled.Load(), srv.slowDone.Load()
		lat = make([]time.Duration, requests)
		var next atomic.Int64
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for i := next.Add(1) - 1; i < requests; i = next.Add(1) - 1 {
					start := time.Now()
					code, err := fetch(t, client, ts.URL)
					lat[i] = time.Since(start)
					if !assert.NoError(t, err) || !assert.Equal(t, http.StatusOK, code) {
						return
					}
				}
			})
		}
		wg.Wait()
		base.CloseIdleConnections()
		ts.CloseClientConnections() // the handlers of cancelled requests have returned
		return lat, srv.hits.Load() - h0, srv.slow.Load() - s0, srv.slowCancelled.Load() - c0, srv.slowDone.Load() - d0
	}

	plain, plainHits, _, _, _ := run(httpx.Config{})
	// The ratio is the bound; MinConcurrent lets each worker have a hedge
	// in flight at once, and MinPerSecond adds (next to) nothing to it.
	budget, err := retry.NewBudget(retry.BudgetConfig{Ratio: ratio, MinConcurrent: workers, MinPerSecond: 1e-9})
	require.NoError(t, err)
	obs := &hedgeEvents{}
	// The p95 delay of a 2ms service with a 10ms ceiling, and up to two
	// hedges, as one would set them: on a loaded machine (this one is
	// shared) the fast responses' own tail grows, the ceiling keeps hedges
	// for the slow ones early, and a second hedge answers for a first one
	// that the load slowed too.
	hcfg := &hedge.Config{MaxDelay: 10 * time.Millisecond, MaxHedges: 2, Budget: budget}
	hedged, hedgedHits, slow, cancelled, slowDone := run(httpx.Config{Hedge: hcfg, Observer: obs})

	qs := []float64{0.5, 0.95, 0.99, 0.999}
	p, h := quantiles(plain, qs...), quantiles(hedged, qs...)
	var b strings.Builder
	fmt.Fprintf(&b, "%d requests, %d workers; server: 5%% at 200ms, else 2ms\n", requests, workers)
	fmt.Fprintf(&b, "%-8s %12s %12s\n", "", "unhedged", "hedged")
	for i, q := range qs {
		fmt.Fprintf(&b, "p%-7s %12v %12v\n", fmt.Sprint(q*100), p[i].Round(10*time.Microsecond), h[i].Round(10*time.Microsecond))
	}
	fmt.Fprintf(&b, "server requests: unhedged %d, hedged %d (%d extra, %.1f%%; budget %.0f%%); hedges sent %d, won %d, refused %d\n",
		plainHits, hedgedHits, hedgedHits-requests, 100*float64(hedgedHits-requests)/requests, 100*ratio,
		obs.n[resilience.EventHedgeSent].Load(), obs.n[resilience.EventHedgeWon].Load(), obs.n[resilience.EventHedgeRefused].Load())
	fmt.Fprintf(&b, "slow requests while hedged: %d, cancelled by the client %d, ran to the end %d", slow, cancelled, slowDone)
	t.Log("\n" + b.String())

	assert.EqualValues(t, requests, plainHits, "no hedge without Config.Hedge")
	assert.LessOrEqual(t, h[2], p[2]/4, "hedged p99 at most a quarter of the unhedged p99")
	assert.LessOrEqual(t, float64(hedgedHits-requests), ratio*requests+1, "extra requests within the budget")
	assert.LessOrEqual(t, hedgedHits-requests, obs.n[resilience.EventHedgeSent].Load(), "every extra request is a hedge sent (some are cancelled before they reach the server)")
	assert.Positive(t, cancelled, "the server saw losers cancelled")
	assert.GreaterOrEqual(t, cancelled, slow/2, "most slow requests lost to a hedge and were cancelled")
}

type hedgeEvents struct{ n [256]atomic.Int64 }

func (e *hedgeEvents) Observe(ev resilience.Event) { e.n[ev.Kind].Add(1) }

// slowFirst answers its first request after its context ends (or 5s),
// then closes exited, and echoes the body of the others at once.
type slowFirst struct {
	hits      atomic.Int32
	cancelled atomic.Int32
	bodies    chan string
	exited    chan struct{}
}

func (s *slowFirst) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if s.hits.Add(1) == 1 {
		defer close(s.exited)
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
			s.cancelled.Add(1)
			return
		}
	}
	s.bodies <- string(body)
	io.WriteString(w, strings.Repeat("x", 1000))
}

func TestHedgeResendsTheBodyAndReleasesTheLoser(t *testing.T) {
	for _, proto := range protos {
		t.Run(proto.name, func(t *testing.T) {
			s := &slowFirst{bodies: make(chan string, 4), exited: make(chan struct{})}
			srv := newServer(t, proto.h2, s)
			tr := newTransport(t, httpx.Config{Base: srv.base, Bulkhead: bulkhead.Config{MaxConcurrent: 4},
				Hedge: &hedge.Config{Delay: 20 * time.Millisecond, Budget: hedgeBudget(t)}})
			req, err := http.NewRequestWithContext(testCtx(t), http.MethodPut, srv.URL, strings.NewReader("payload"))
			require.NoError(t, err)
			resp, err := (&http.Client{Transport: tr}).Do(req)
			require.NoError(t, err)
			assert.Equal(t, "payload", <-s.bodies, "the hedge sent the body again, from GetBody")
			b, err := io.ReadAll(resp.Body)
			require.NoError(t, err, "the winner's context lives until its body is read")
			assert.Len(t, b, 1000)
			require.NoError(t, resp.Body.Close())
			select {
			case <-s.exited:
			case <-testCtx(t).Done():
				t.Fatal("the loser's handler did not return")
			}
			assert.EqualValues(t, 2, s.hits.Load())
			assert.EqualValues(t, 1, s.cancelled.Load(), "the loser's request was cancelled")
			for _, bh := range tr.Bulkheads() {
				assert.Zero(t, bh.InFlight(), "every slot given back")
			}
		})
	}
}

func TestHedgeSendsNonIdempotentRequestsOnce(t *testing.T) {
	s := &slowFirst{bodies: make(chan string, 4), exited: make(chan struct{})}
	srv := newServer(t, false, s)
	tr := newTransport(t, httpx.Config{Base: srv.base, Hedge: &hedge.Config{Delay: time.Millisecond, Budget: hedgeBudget(t)}})
	ctx, cancel := context.WithTimeout(testCtx(t), 100*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader("once"))
	require.NoError(t, err)
	_, err = (&http.Client{Transport: tr}).Do(req)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	srv.CloseClientConnections()
	srv.Close()
	assert.EqualValues(t, 1, s.hits.Load(), "a POST is never hedged")
}

// scripted answers its requests by arrival: 503, then a hang until the
// client goes away, then 200 with the request's body.
type scripted struct {
	hits, cancelled atomic.Int32
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	switch s.hits.Add(1) {
	case 1:
		w.WriteHeader(http.StatusServiceUnavailable)
	case 2:
		<-r.Context().Done()
		s.cancelled.Add(1)
	default:
		w.Write(body)
	}
}

// With Retry and Hedge, the retry is outside: a 503 before the delay is
// retried, and the retry's slow attempt is hedged.
func TestHedgeInsideRetry(t *testing.T) {
	s := &scripted{}
	srv := newServer(t, false, s)
	obs := &hedgeEvents{}
	tr := newTransport(t, httpx.Config{Base: srv.base, Observer: obs,
		Retry: &retry.Config{BaseDelay: time.Millisecond, Budget: hedgeBudget(t)},
		// A delay far longer than the 503 takes, even on a loaded machine:
		// the first attempt is not hedged.
		Hedge: &hedge.Config{Delay: 200 * time.Millisecond, Budget: hedgeBudget(t)}})
	req, err := http.NewRequestWithContext(testCtx(t), http.MethodPut, srv.URL, strings.NewReader("payload"))
	require.NoError(t, err)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "payload", string(b), "the hedge of the retry sent the body from GetBody")
	srv.CloseClientConnections()
	srv.Close()
	assert.EqualValues(t, 3, s.hits.Load())
	assert.EqualValues(t, 1, s.cancelled.Load())
	assert.EqualValues(t, 1, obs.n[resilience.EventRetry].Load())
	assert.EqualValues(t, 1, obs.n[resilience.EventHedgeWon].Load())
}

func TestHedgeConfigErrorsNameTheField(t *testing.T) {
	_, err := httpx.New(httpx.Config{Hedge: &hedge.Config{MaxHedges: -1}})
	require.ErrorContains(t, err, "httpx: Config.Hedge: hedge: Config.MaxHedges")
}

func hedgeBudget(t *testing.T) *retry.Budget {
	b, err := retry.NewBudget(retry.BudgetConfig{Ratio: 10, MinConcurrent: 1000, MinPerSecond: 1e6})
	require.NoError(t, err)
	return b
}
