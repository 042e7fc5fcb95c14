package fleet_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/fleet"
	"github.com/stretchr/testify/require"
)

// Five replicas, eight callers each, half the calls failing, for a
// bounded time, while Redis is killed and started again: then the
// dependency heals, and every replica's breaker must close (no replica
// is left open by a lease, a lost push or a stale record).
func TestHammerWithRedisRestartsThenEveryReplicaCloses(t *testing.T) {
	srv := startRedis(t)
	const (
		replicas = 5
		callers  = 8
		probes   = 2
	)
	cfg := breaker.Config{ConsecutiveFailures: 3, OpenTimeout: 100 * time.Millisecond, HalfOpenProbes: probes}
	rs := make([]*replica, replicas)
	for i := range rs {
		rs[i] = newReplica(t, srv, cfg, fleet.Config{Namespace: t.Name()})
	}
	var healthy atomic.Bool
	call := func(i int, rnd *rand.Rand) {
		b := rs[i].set.Get("api")
		_ = b.Execute(context.Background(), func(context.Context) error {
			if healthy.Load() || rnd.IntN(2) == 0 {
				return nil
			}
			return errDown
		})
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range rs {
		for c := range callers {
			wg.Go(func() {
				rnd := rand.New(rand.NewPCG(uint64(i), uint64(c)))
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					call(i, rnd)
					if n%16 == 15 {
						time.Sleep(time.Millisecond) // a bounded load
					}
				}
			})
		}
	}
	time.Sleep(300 * time.Millisecond) // load, not a wait for a state
	srv.kill()
	time.Sleep(300 * time.Millisecond)
	srv.start()
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()

	healthy.Store(true)
	rnd := rand.New(rand.NewPCG(9, 9))
	deadline := time.Now().Add(waitFor)
	for {
		closed := 0
		for i, r := range rs {
			call(i, rnd)
			if st, _ := r.set.Get("api").Period(); st == breaker.Closed {
				closed++
			}
		}
		if closed == replicas {
			break
		}
		require.True(t, time.Now().Before(deadline), "only %d of %d replicas closed once the dependency healed", closed, replicas)
		time.Sleep(5 * time.Millisecond) // paces the calls
	}
	for _, r := range rs {
		t.Logf("replica health: %+v", r.fleet.Health())
	}
}
