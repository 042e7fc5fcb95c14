package fleet_test

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/fleet"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// latencies runs calls through the breaker of key on every replica, from
// one goroutine per replica, until stop is closed, and returns each
// call's latency.
func latencies(rs []*replica, key string, stop <-chan struct{}) func() []time.Duration {
	var (
		mu  sync.Mutex
		all []time.Duration
		wg  sync.WaitGroup
	)
	for _, r := range rs {
		wg.Go(func() {
			var own []time.Duration
			for n := 0; ; n++ {
				select {
				case <-stop:
					mu.Lock()
					all = append(all, own...)
					mu.Unlock()
					return
				default:
				}
				start := time.Now()
				_ = r.set.Execute(context.Background(), key, func(context.Context) error { return nil })
				own = append(own, time.Since(start))
				if n%64 == 63 {
					time.Sleep(time.Millisecond) // pace: a bounded load
				}
			}
		})
	}
	return func() []time.Duration { wg.Wait(); return all }
}

func p99(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[len(ds)*99/100]
}

// Redis dies during a run: calls go on as before and the local breakers
// still open on failures; when it comes back, empty, the fleet converges
// again: an open breaker that could not be shared while Redis was down
// reaches the other replicas.
func TestRedisKilledCallsGoOnLocalBreakersOpenAndTheFleetConvergesOnRestart(t *testing.T) {
	srv := startRedis(t)
	cfg := breaker.Config{ConsecutiveFailures: 3, OpenTimeout: 10 * time.Second}
	a := newReplica(t, srv, cfg, fleet.Config{Namespace: t.Name()})
	b := newReplica(t, srv, cfg, fleet.Config{Namespace: t.Name()})
	rs := []*replica{a, b}
	for _, r := range rs {
		r.set.Get("api")
		r.set.Get("load")
	}

	const phase = 300 * time.Millisecond
	stop := make(chan struct{})
	collect := latencies(rs, "load", stop)
	time.Sleep(phase) // a bounded run of load, not a wait for a state
	close(stop)
	healthy := collect()

	srv.kill()
	stop = make(chan struct{})
	collect = latencies(rs, "load", stop)
	failN(t, a, "api", 3)
	st, _ := a.set.Get("api").Period()
	assert.Equal(t, breaker.Open, st, "the local breaker opens without Redis")
	time.Sleep(phase)
	close(stop)
	down := collect()
	st, _ = b.set.Get("api").Period()
	assert.Equal(t, breaker.Closed, st, "nothing could reach b")
	t.Logf("calls' p99 with Redis up: %v (%d calls); with Redis killed: %v (%d calls); ratio %.2f",
		p99(healthy), len(healthy), p99(down), len(down), float64(p99(down))/float64(p99(healthy)))

	restarting := time.Now()
	srv.start()
	answered := time.Since(restarting)
	b.await(t, "api", breaker.Open)
	took := time.Since(restarting)
	t.Logf("converged %v after redis-server was started again (it answered PING after %v; sync interval %v)", took, answered, interval)
	_, ea := a.set.Get("api").Period()
	_, eb := b.set.Get("api").Period()
	assert.WithinDuration(t, ea, eb, time.Millisecond, "one shared end again")
}

// CLIENT PAUSE holds every command of every client for 2s: no call waits
// on it. The calls made meanwhile, a breaker opening among them, all
// return while a PING sent at the start of the pause still waits.
func TestClientPauseNoCallWaits(t *testing.T) {
	srv := startRedis(t)
	cfg := breaker.Config{ConsecutiveFailures: 3, OpenTimeout: 10 * time.Second}
	a := newReplica(t, srv, cfg, fleet.Config{Namespace: t.Name()})
	b := newReplica(t, srv, cfg, fleet.Config{Namespace: t.Name()})
	rs := []*replica{a, b}
	for _, r := range rs {
		r.set.Get("api")
		r.set.Get("load")
	}
	admin := redis.NewClient(&redis.Options{Addr: srv.addr(), MaxRetries: -1, ReadTimeout: 10 * time.Second})
	defer func() { _ = admin.Close() }()
	ctx := context.Background()
	require.NoError(t, admin.Do(ctx, "CLIENT", "PAUSE", 2000, "ALL").Err())
	paused := time.Now()
	var pingDone atomic.Bool
	pinged := make(chan struct{})
	prober := redis.NewClient(&redis.Options{Addr: srv.addr(), MaxRetries: -1, ReadTimeout: 10 * time.Second})
	defer func() { _ = prober.Close() }()
	go func() {
		defer close(pinged)
		_ = prober.Ping(ctx).Err()
		pingDone.Store(true)
	}()

	stop := make(chan struct{})
	collect := latencies(rs, "load", stop)
	failN(t, a, "api", 3)
	time.Sleep(300 * time.Millisecond) // a bounded run of load while paused
	close(stop)
	during := collect()
	assert.False(t, pingDone.Load(), "the calls all returned while Redis held a PING")
	st, _ := a.set.Get("api").Period()
	assert.Equal(t, breaker.Open, st)
	t.Logf("%d calls during the pause, p99 %v, slowest %v", len(during), p99(during), slices.Max(during))
	<-pinged
	t.Logf("PING waited %v", time.Since(paused).Round(time.Millisecond))

	d := b.await(t, "api", breaker.Open)
	t.Logf("b opened %v after the pause ended", d)
}
