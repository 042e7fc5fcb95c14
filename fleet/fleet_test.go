package fleet_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/fleet"
	"github.com/go-resilience/resilience/internal/eventlog"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Short intervals keep the tests bounded; waits are bounded by
// waitFor, generous for a loaded machine.
const (
	interval = 50 * time.Millisecond
	waitFor  = 5 * time.Second
)

var errDown = errors.New("upstream down")

// A replica is one process of a service: its own set of breakers, its own
// Redis client, its own fleet (nil when not joined).
type replica struct {
	set     *breaker.Set
	fleet   *fleet.Fleet
	changed chan struct{} // signalled at every change of state
}

// newReplica makes a replica whose set uses cfg, joined as "upstream" to a
// fleet on srv (none when srv is nil), all closed at cleanup.
func newReplica(t *testing.T, srv *redisServer, cfg breaker.Config, fcfg fleet.Config) *replica {
	t.Helper()
	r := &replica{changed: make(chan struct{}, 1)}
	user := cfg.OnStateChange
	cfg.OnStateChange = func(name string, from, to breaker.State) {
		if user != nil {
			user(name, from, to)
		}
		select {
		case r.changed <- struct{}{}:
		default:
		}
	}
	set, err := breaker.NewSet(breaker.KeyedConfig{Config: cfg})
	require.NoError(t, err)
	r.set = set
	if srv == nil {
		return r
	}
	fcfg.Client = srv.client()
	if fcfg.SyncInterval == 0 {
		fcfg.SyncInterval = interval
	}
	if fcfg.Timeout == 0 {
		fcfg.Timeout = 2 * time.Second // generous: calls never wait on it
	}
	r.fleet, err = fleet.New(fcfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, r.fleet.Close()) })
	require.NoError(t, r.fleet.JoinSet("upstream", set))
	return r
}

// await returns once key's breaker is in state st (as Period says), or
// fails t after waitFor. It waits on the breaker's own state changes.
func (r *replica) await(t *testing.T, key string, st breaker.State) time.Duration {
	t.Helper()
	start := time.Now()
	timer := time.NewTimer(waitFor)
	defer timer.Stop()
	for {
		if got, _ := r.set.Get(key).Period(); got == st {
			return time.Since(start)
		}
		select {
		case <-r.changed:
		case <-timer.C:
			got, _ := r.set.Get(key).Period()
			t.Fatalf("breaker %q: state %v after %v, want %v", key, got, waitFor, st)
		}
	}
}

func failN(t *testing.T, r *replica, key string, n int) {
	t.Helper()
	for range n {
		require.ErrorIs(t, r.set.Execute(context.Background(), key, func(context.Context) error { return errDown }), errDown)
	}
}

func TestAnOpenBreakerOpensEveryReplicaUntilOneSharedEnd(t *testing.T) {
	srv := startRedis(t)
	cfg := breaker.Config{ConsecutiveFailures: 3, OpenTimeout: 2 * time.Second}
	rs := make([]*replica, 3)
	for i := range rs {
		rs[i] = newReplica(t, srv, cfg, fleet.Config{Namespace: t.Name()})
		rs[i].set.Get("api") // each replica keeps the key
	}

	failN(t, rs[0], "api", 3)
	for _, r := range rs[1:] {
		d := r.await(t, "api", breaker.Open)
		t.Logf("opened by the fleet after %v", d)
	}
	_, end := rs[1].set.Get("api").Period()
	_, own := rs[0].set.Get("api").Period()
	assert.WithinDuration(t, own, end, time.Millisecond, "the tripping replica's end, to Redis's millisecond")
	_, other := rs[2].set.Get("api").Period()
	assert.True(t, other.Equal(end), "one shared end: %v and %v", other, end)
	err := rs[2].set.Execute(context.Background(), "api", func(context.Context) error { return nil })
	assert.ErrorIs(t, err, breaker.ErrOpen, "a replica that saw no failure refuses")
}

func TestAReplicaThatKeepsTheKeyLaterCatchesUpAtTheBackstopRead(t *testing.T) {
	srv := startRedis(t)
	cfg := breaker.Config{ConsecutiveFailures: 1, OpenTimeout: 5 * time.Second}
	a := newReplica(t, srv, cfg, fleet.Config{Namespace: t.Name()})
	b := newReplica(t, srv, cfg, fleet.Config{Namespace: t.Name()})
	failN(t, a, "api", 1)
	a.await(t, "api", breaker.Open)

	// b makes its breaker after the push: the backstop read opens it.
	d := b.await(t, "api", breaker.Open)
	t.Logf("caught up after %v (sync interval %v)", d, interval)
	_, ea := a.set.Get("api").Period()
	_, eb := b.set.Get("api").Period()
	assert.WithinDuration(t, ea, eb, time.Millisecond)
}

func TestAProbeThatSucceedsClosesEveryReplica(t *testing.T) {
	srv := startRedis(t)
	cfg := breaker.Config{ConsecutiveFailures: 1, OpenTimeout: 300 * time.Millisecond}
	rs := make([]*replica, 3)
	for i := range rs {
		rs[i] = newReplica(t, srv, cfg, fleet.Config{Namespace: t.Name()})
		rs[i].set.Get("api")
	}
	failN(t, rs[0], "api", 1)
	for _, r := range rs {
		r.await(t, "api", breaker.Open)
	}
	// Whichever replica won the lease probes; the others refuse until it
	// reports. Calls on every replica until one gets through.
	probes := 0
	for deadline := time.Now().Add(waitFor); probes == 0; {
		require.True(t, time.Now().Before(deadline), "no replica probed")
		for _, r := range rs {
			if r.set.Execute(context.Background(), "api", func(context.Context) error { probes++; return nil }) == nil {
				break
			}
		}
		if probes == 0 {
			select {
			case <-rs[0].changed:
			case <-rs[1].changed:
			case <-rs[2].changed:
			case <-time.After(interval / 5): // pace the calls
			}
		}
	}
	assert.Equal(t, 1, probes)
	for _, r := range rs {
		r.await(t, "api", breaker.Closed)
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer func() { _ = c.Close() }()
	for _, tc := range []struct {
		name  string
		cfg   fleet.Config
		field string
	}{
		{"no client", fleet.Config{}, "Config.Client"},
		{"braces in namespace", fleet.Config{Client: c, Namespace: "a{b}"}, "Config.Namespace"},
		{"interval too short", fleet.Config{Client: c, SyncInterval: time.Millisecond}, "Config.SyncInterval"},
		{"negative interval", fleet.Config{Client: c, SyncInterval: -time.Second}, "Config.SyncInterval"},
		{"negative timeout", fleet.Config{Client: c, Timeout: -1}, "Config.Timeout"},
		{"negative lease", fleet.Config{Client: c, ProbeLease: -1}, "Config.ProbeLease"},
		{"lease shorter than two sync intervals", fleet.Config{Client: c, SyncInterval: time.Second, ProbeLease: time.Second}, "Config.ProbeLease"},
		{"lease shorter than two default sync intervals", fleet.Config{Client: c, ProbeLease: time.Second}, "Config.ProbeLease"},
		{"negative ttl", fleet.Config{Client: c, RecordTTL: -1}, "Config.RecordTTL"},
		{"negative pooled failures", fleet.Config{Client: c, PooledFailures: -1}, "Config.PooledFailures"},
		{"negative pooled window", fleet.Config{Client: c, PooledWindow: -1}, "Config.PooledWindow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := fleet.New(tc.cfg)
			require.Error(t, err)
			assert.Nil(t, f)
			assert.Contains(t, err.Error(), "fleet: "+tc.field)
		})
	}
}

func TestJoinRefusesBadNamesTwiceTheSameNameAndAClosedFleet(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer func() { _ = c.Close() }()
	f, err := fleet.New(fleet.Config{Client: c, SyncInterval: interval})
	require.NoError(t, err)
	set, err := breaker.NewSet(breaker.KeyedConfig{})
	require.NoError(t, err)
	assert.Error(t, f.JoinSet("", set))
	assert.Error(t, f.JoinSet("a\x00b", set))
	assert.Error(t, f.JoinSet("a", nil))
	require.NoError(t, f.JoinSet("a", set))
	assert.Error(t, f.JoinSet("a", set))
	require.NoError(t, f.Close())
	require.NoError(t, f.Close(), "twice")
	b, err := breaker.New(breaker.Config{})
	require.NoError(t, err)
	assert.ErrorIs(t, f.Join("b", b), fleet.ErrClosed)
}

func TestHealthReportsSyncsAndErrors(t *testing.T) {
	srv := startRedis(t)
	var rec eventlog.Recorder
	r := newReplica(t, srv, breaker.Config{}, fleet.Config{Namespace: t.Name(), Name: "fl", Observer: &rec})
	r.set.Get("api")
	// The first backstop read comes within a sync interval.
	for deadline := time.Now().Add(waitFor); r.fleet.Health().LastSync.IsZero(); {
		require.True(t, time.Now().Before(deadline))
		time.Sleep(interval / 5) // polls a background goroutine's first read, bounded
	}
	h := r.fleet.Health()
	assert.Zero(t, h.Errors)
	assert.Less(t, h.Lag, waitFor)
	srv.kill()
	for deadline := time.Now().Add(waitFor); r.fleet.Health().Errors == 0; {
		require.True(t, time.Now().Before(deadline))
		time.Sleep(interval / 5)
	}
	h = r.fleet.Health()
	assert.Error(t, h.LastError)
	var syncs, errs int
	for _, e := range rec.Events() {
		assert.Equal(t, "fl", e.Policy)
		switch e.Kind.String() {
		case "sync":
			syncs++
		case "sync_error":
			errs++
			assert.Error(t, e.Err)
		}
	}
	assert.Positive(t, syncs)
	assert.Positive(t, errs)
}

// A replica that took the probe lease and died holds nothing for long:
// the others keep their breakers open while the lease lives, then one of
// them takes it and probes, once, for the fleet.
func TestALeaseHeldByADeadReplicaExpiresAndAnotherProbes(t *testing.T) {
	srv := startRedis(t)
	r := ghostLease(t, srv, t.Name())
	// A replica whose lease request Redis (or the machine) does not answer
	// before its breaker's open period ends probes on its own, by design,
	// as when Redis is down; the faults tests cover that. Here the link
	// must hold: a run where it stalled past a sync interval is run again,
	// once. (Stopping redis-server for 200 ms as the lease expires gives
	// two probes, and a PING of 200 ms.)
	if len(r.probes) != 1 && r.ping > interval {
		t.Logf("%d probes, with the slowest PING %v; running again", len(r.probes), r.ping)
		r = ghostLease(t, srv, t.Name()+"/again")
	}
	t.Logf("open period ended %v before the ghost's lease; first probe %v after the lease expired; slowest PING %v",
		r.held.Sub(r.until).Round(time.Millisecond), r.probes[0].Sub(r.held).Round(time.Millisecond), r.ping.Round(time.Microsecond))
	assert.Len(t, r.probes, 1)
	assert.True(t, r.probes[0].After(r.until.Add(r.ghost/2)), "no probe while the dead replica's lease lived")
}

// ghostRun is what one run of the dead-replica scenario saw.
type ghostRun struct {
	until, held time.Time     // the end of the open period, and of the dead replica's lease
	ghost       time.Duration // how long the dead replica's lease lived
	probes      []time.Time   // the calls let through
	ping        time.Duration // the slowest PING to Redis while the replicas were called
}

// ghostLease opens the breakers of two replicas in namespace ns, plants
// a probe lease for a replica that is gone, and calls both replicas until
// one probes and both close again.
func ghostLease(t *testing.T, srv *redisServer, ns string) ghostRun {
	const open = 400 * time.Millisecond
	cfg := breaker.Config{ConsecutiveFailures: 1, OpenTimeout: open}
	a := newReplica(t, srv, cfg, fleet.Config{Namespace: ns})
	b := newReplica(t, srv, cfg, fleet.Config{Namespace: ns})
	b.set.Get("api")
	failN(t, a, "api", 1)
	a.await(t, "api", breaker.Open)
	b.await(t, "api", breaker.Open)
	r := ghostRun{ghost: 700 * time.Millisecond}
	_, r.until = b.set.Get("api").Period()

	// A replica that is gone holds the lease (the key as the fleet names
	// it) for a while past the open period.
	c := srv.client()
	defer func() { _ = c.Close() }()
	leaseKey := "{" + ns + "}:p:8:upstream:api"
	require.NoError(t, c.Set(context.Background(), leaseKey, "ghost", r.ghost).Err())
	r.held = time.Now().Add(r.ghost)

	// How long Redis, and the machine, take to answer meanwhile.
	stop, pinged := make(chan struct{}), make(chan time.Duration)
	go func() {
		var slowest time.Duration
		for {
			start := time.Now()
			_ = c.Ping(context.Background()).Err()
			slowest = max(slowest, time.Since(start))
			select {
			case <-stop:
				pinged <- slowest
				return
			case <-time.After(5 * time.Millisecond): // paces the PINGs
			}
		}
	}()
	deadline := time.Now().Add(waitFor)
	for len(r.probes) == 0 && time.Now().Before(deadline) {
		for _, x := range []*replica{a, b} {
			_ = x.set.Execute(context.Background(), "api", func(context.Context) error {
				r.probes = append(r.probes, time.Now())
				return nil
			})
		}
		time.Sleep(5 * time.Millisecond) // paces the callers: load, not a wait for a state
	}
	close(stop)
	r.ping = <-pinged
	require.NotEmpty(t, r.probes, "nobody probed")
	a.await(t, "api", breaker.Closed)
	b.await(t, "api", breaker.Closed)
	return r
}

func TestForcedBreakersNeitherFollowNorLead(t *testing.T) {
	srv := startRedis(t)
	cfg := breaker.Config{ConsecutiveFailures: 1, OpenTimeout: 5 * time.Second}
	a := newReplica(t, srv, cfg, fleet.Config{Namespace: t.Name()})
	b := newReplica(t, srv, cfg, fleet.Config{Namespace: t.Name()})
	c := newReplica(t, srv, cfg, fleet.Config{Namespace: t.Name()})
	a.set.Get("api").ForceOpen()
	b.set.Get("api").ForceClosed()
	c.set.Get("api")
	failN(t, b, "api", 1) // forced closed: counted by nobody
	c.set.Get("other")
	failN(t, a, "other", 1)
	c.await(t, "other", breaker.Open) // the fleet works, and has had time to share "api"
	st, _ := c.set.Get("api").Period()
	assert.Equal(t, breaker.Closed, st, "a forced-open breaker is not shared")
	failN(t, c, "api", 1)
	c.await(t, "api", breaker.Open)
	a.await(t, "other", breaker.Open)
	assert.Equal(t, breaker.ForcedOpen, a.set.Get("api").State())
	assert.Equal(t, breaker.ForcedClosed, b.set.Get("api").State())
}

// With PooledFailures, the breakers of a key count their failures
// together: three replicas failing once each open, though each would need
// five failures on its own; the open period starts the count afresh.
func TestPooledFailuresTripEveryReplicaOnTheFleetsCount(t *testing.T) {
	srv := startRedis(t)
	cfg := breaker.Config{ConsecutiveFailures: 5, OpenTimeout: 5 * time.Second}
	fcfg := fleet.Config{Namespace: t.Name(), PooledFailures: 3, PooledWindow: time.Minute}
	rs := make([]*replica, 3)
	for i := range rs {
		rs[i] = newReplica(t, srv, cfg, fcfg)
		rs[i].set.Get("api")
	}
	for _, r := range rs {
		failN(t, r, "api", 1)
	}
	for _, r := range rs {
		r.await(t, "api", breaker.Open)
	}
	_, err := srv.client().Get(context.Background(), "{"+t.Name()+"}:f:8:upstream:api").Result()
	assert.ErrorIs(t, err, redis.Nil, "the open period starts the count afresh")
}
