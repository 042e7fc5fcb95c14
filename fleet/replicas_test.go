package fleet_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/fleet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// upstream is a failing httptest server that notes when each request
// came.
type upstream struct {
	*httptest.Server
	n     atomic.Int64
	mu    sync.Mutex
	times []time.Time
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		u.n.Add(1)
		u.mu.Lock()
		u.times = append(u.times, time.Now())
		u.mu.Unlock()
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(u.Close)
	return u
}

// since returns the times of the requests that came at or after t0.
func (u *upstream) since(t0 time.Time) []time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	var ts []time.Time
	for _, t := range u.times {
		if !t.Before(t0) {
			ts = append(ts, t)
		}
	}
	return ts
}

// maxIn returns the most of ts (sorted) that fall in any window of d.
func maxIn(ts []time.Time, d time.Duration) int {
	most := 0
	for i, j := 0, 0; j < len(ts); j++ {
		for ts[j].Sub(ts[i]) >= d {
			i++
		}
		most = max(most, j-i+1)
	}
	return most
}

// tenResult is what one run of ten replicas against the failing upstream
// measured.
type tenResult struct {
	firstOpen, allOpen int64 // upstream requests when the first, and the last, replica opened
	probes             int   // upstream requests in the probing phase
	probing            time.Duration
	maxPerPeriod       int           // most probes in any window of half an open period
	faults             uint64        // Redis errors and dropped changes the fleets reported
	slowest            time.Duration // the slowest backstop read of the fleets
	stall              time.Duration // the longest gap between calls until every replica was open
}

// linkWatch is an Observer that notes the slowest read of the fleets'
// store.
type linkWatch struct{ slowest atomic.Int64 }

func (w *linkWatch) Observe(ev resilience.Event) {
	if ev.Kind != resilience.EventSync {
		return
	}
	for old := w.slowest.Load(); int64(ev.Latency) > old && !w.slowest.CompareAndSwap(old, int64(ev.Latency)); old = w.slowest.Load() {
	}
}

const (
	tenReplicas   = 10
	tenThreshold  = 5
	tenOpen       = 400 * time.Millisecond
	tenProbing    = 2 * time.Second
	tenCallPacing = 2 * time.Millisecond
)

// runTen runs ten replicas (ten sets, each with its own Redis client and
// fleet when srv is not nil) against one failing upstream: a load
// balancer sends each call to a replica at random, one call every
// tenCallPacing, until every replica's breaker is open, and then for
// tenProbing more.
func runTen(t *testing.T, srv *redisServer, fcfg fleet.Config) tenResult {
	up := newUpstream(t)
	hc := up.Client()
	var opened, firstOpen, allOpen atomic.Int64
	var link linkWatch
	fcfg.Observer = &link
	rs := make([]*replica, tenReplicas)
	for i := range rs {
		var once sync.Once
		cfg := breaker.Config{
			ConsecutiveFailures: tenThreshold,
			OpenTimeout:         tenOpen,
			HalfOpenProbes:      1,
			OnStateChange: func(_ string, _, to breaker.State) {
				if to != breaker.Open {
					return
				}
				once.Do(func() {
					switch opened.Add(1) {
					case 1:
						firstOpen.Store(up.n.Load())
					case tenReplicas:
						allOpen.Store(up.n.Load())
					}
				})
			},
		}
		fcfg.Replica = fmt.Sprint("r", i)
		rs[i] = newReplica(t, srv, cfg, fcfg)
		rs[i].set.Get("up")
	}
	call := func(r *replica) {
		_ = r.set.Execute(context.Background(), "up", func(ctx context.Context) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, up.URL, nil)
			if err != nil {
				return err
			}
			resp, err := hc.Do(req)
			if err != nil {
				return err
			}
			_ = resp.Body.Close()
			if resp.StatusCode >= 500 {
				return errDown
			}
			return nil
		})
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	tick := time.NewTicker(tenCallPacing)
	defer tick.Stop()
	deadline := time.Now().Add(waitFor)
	var stall time.Duration
	for last := time.Now(); opened.Load() < tenReplicas; {
		require.True(t, time.Now().Before(deadline), "only %d replicas opened", opened.Load())
		call(rs[rnd.IntN(tenReplicas)])
		<-tick.C
		now := time.Now()
		stall, last = max(stall, now.Sub(last)), now
	}
	start := time.Now()
	for time.Since(start) < tenProbing {
		call(rs[rnd.IntN(tenReplicas)])
		<-tick.C
	}
	probes := up.since(start)
	var faults uint64
	for _, r := range rs {
		if r.fleet != nil {
			h := r.fleet.Health()
			faults += h.Errors + h.Dropped
			require.NoError(t, r.fleet.Close()) // so that the next run has the machine
		}
	}
	return tenResult{
		faults:       faults,
		slowest:      time.Duration(link.slowest.Load()),
		stall:        stall,
		firstOpen:    firstOpen.Load(),
		allOpen:      allOpen.Load(),
		probes:       len(probes),
		probing:      time.Since(start),
		maxPerPeriod: maxIn(probes, tenOpen/2),
	}
}

// Ten replicas of a service call one failing upstream. Without the fleet,
// each replica's breaker learns of the outage on its own (ten times the
// threshold in failing calls) and probes on its own schedule (ten probes
// per open period). With it, the first breaker to open opens all of them,
// and one replica at a time probes. With the failures pooled too, the
// fleet stops after about the threshold in failing calls, fleet-wide.
func TestTenReplicasAgainstAFailingUpstream(t *testing.T) {
	srv := startRedis(t)
	alone := runTen(t, nil, fleet.Config{})
	// A fleet whose Redis link failed or crawled (a machine so loaded that
	// Redis answers in tens of milliseconds, or not at all) works as local
	// breakers do, by design; the faults tests cover that. Here the link
	// must hold, and the machine must run the replicas' goroutines when
	// they are due: the bounds below count calls made while a change
	// travels, one every tenCallPacing, and a machine that stalls the
	// load balancer's goroutine for five of those stalls the fleets' too.
	// A run where either did not hold is run again, once.
	withFleet := func(fcfg fleet.Config) tenResult {
		r := runTen(t, srv, fcfg)
		if r.faults > 0 || r.slowest > 25*time.Millisecond || r.stall > 5*tenCallPacing {
			t.Logf("%s: the fleets reported %d Redis errors or dropped changes, slowest read %v; the longest gap between calls was %v; running again",
				fcfg.Namespace, r.faults, r.slowest, r.stall)
			fcfg.Namespace += "/again"
			r = runTen(t, srv, fcfg)
		}
		return r
	}
	shared := withFleet(fleet.Config{Namespace: t.Name()})
	pooled := withFleet(fleet.Config{Namespace: t.Name() + "/pooled", PooledFailures: tenThreshold})
	periods := func(r tenResult) float64 { return float64(r.probing) / float64(tenOpen) }
	for _, row := range []struct {
		name string
		r    tenResult
	}{{"local breakers", alone}, {"fleet", shared}, {"fleet, pooled", pooled}} {
		t.Logf("%-14s failing calls before every replica was open: %3d (first open at %2d, then %2d more); probes: %3d in %v = %.1f per open period of %v, at most %d in any %v; slowest Redis read %v, longest gap between calls %v",
			row.name, row.r.allOpen, row.r.firstOpen, row.r.allOpen-row.r.firstOpen,
			row.r.probes, row.r.probing.Round(time.Millisecond), float64(row.r.probes)/periods(row.r), tenOpen,
			row.r.maxPerPeriod, tenOpen/2, row.r.slowest.Round(time.Microsecond), row.r.stall.Round(time.Microsecond))
	}
	// Without the fleet every replica needs its own threshold of failures.
	assert.Equal(t, int64(tenReplicas*tenThreshold), alone.allOpen)
	// With it, once one replica opens the others follow at once: the few
	// calls made while the push travels reach the upstream, no more (0 to
	// 2 on a quiet machine, up to 4 beside two CPU burners; replicas left
	// to their backstop reads would let a dozen or more through, and
	// breakers alone 33).
	assert.LessOrEqual(t, shared.allOpen-shared.firstOpen, int64(5))
	assert.Less(t, shared.allOpen, alone.allOpen)
	// Pooled, the threshold counts fleet-wide: a few calls more, made
	// while the count and the push travel (one or two here; the bound
	// leaves room for a loaded machine).
	assert.LessOrEqual(t, pooled.allOpen, int64(tenThreshold+5))
	// One probe per open period, fleet-wide, against one per replica.
	for _, r := range []tenResult{shared, pooled} {
		assert.LessOrEqual(t, r.maxPerPeriod, 1)
		assert.Less(t, r.probes*3, alone.probes)
	}
	assert.Greater(t, alone.maxPerPeriod, 3)
}
