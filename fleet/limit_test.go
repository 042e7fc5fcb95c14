package fleet_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/fleet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newFleet(t *testing.T, srv *redisServer, ns string) *fleet.Fleet {
	t.Helper()
	f, err := fleet.New(fleet.Config{Client: srv.client(), Namespace: ns, SyncInterval: interval, Timeout: 500 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, f.Close()) })
	return f
}

// Ten replicas share a limit of 1,000 calls/s for 5s, each asking far
// more often than its share: the fleet admits the rate and the burst,
// within 5%, and leases move whole batches, so that Redis sees few
// commands per admitted call.
func TestTenReplicasShareOneRateLimit(t *testing.T) {
	srv := startRedis(t)
	const (
		replicas = 10
		rate     = 1000.0
		burst    = 100
		run      = 5 * time.Second
	)
	ls := make([]*fleet.Limiter, replicas)
	for i := range ls {
		l, err := newFleet(t, srv, t.Name()).NewLimiter(fleet.LimitConfig{Name: "partner", Rate: rate, Burst: burst})
		require.NoError(t, err)
		ls[i] = l
	}
	var admitted, refused atomic.Int64
	var wg sync.WaitGroup
	stop := time.Now().Add(run)
	for _, l := range ls {
		wg.Go(func() {
			for time.Now().Before(stop) {
				for range 4 {
					if l.Allow() {
						admitted.Add(1)
					} else {
						refused.Add(1)
					}
				}
				time.Sleep(time.Millisecond) // about 4,000 asks/s a replica: a bounded load
			}
		})
	}
	wg.Wait()
	var commands, leased uint64
	for _, l := range ls {
		s := l.Stats()
		commands += s.Commands
		leased += s.Leased
	}
	want := rate*run.Seconds() + burst
	got := float64(admitted.Load())
	t.Logf("admitted %d of %d asks in %v (want %.0f ± 5%%: %.3f of it); %d tokens leased; %d Redis commands, %.3f per admitted call",
		admitted.Load(), admitted.Load()+refused.Load(), run, want, got/want, leased, commands, float64(commands)/got)
	assert.InDelta(t, want, got, want*0.05)
	assert.LessOrEqual(t, float64(commands)/got, 0.1)
}

func TestALimiterRefusesWithAHintAndFallsBackToItsLocalShareWithoutRedis(t *testing.T) {
	srv := startRedis(t)
	f := newFleet(t, srv, t.Name())
	l, err := f.NewLimiter(fleet.LimitConfig{Name: "partner", Rate: 10, Burst: 2, Batch: 2, LocalRate: 50})
	require.NoError(t, err)
	// Nothing is leased before the first ask: refused at once, with a hint.
	err = l.Execute(context.Background(), func(context.Context) error { return nil })
	require.ErrorIs(t, err, fleet.ErrLimited)
	require.ErrorIs(t, err, resilience.ErrRejected)
	hinted, ok := errors.AsType[resilience.Hinted](err)
	require.True(t, ok)
	assert.Positive(t, hinted.RetryAfter())

	srv.kill()
	// Without Redis the replica makes its own tokens at LocalRate.
	deadline := time.Now().Add(waitFor)
	admitted := 0
	for admitted < 5 {
		require.True(t, time.Now().Before(deadline), "no local tokens without Redis")
		if l.Allow() {
			admitted++
		}
		time.Sleep(time.Millisecond) // paces the asks
	}
	assert.Positive(t, f.Health().Errors)
}

func TestLimitConfigErrorsNameTheField(t *testing.T) {
	srv := startRedis(t)
	f := newFleet(t, srv, t.Name())
	for _, tc := range []struct {
		cfg   fleet.LimitConfig
		field string
	}{
		{fleet.LimitConfig{Rate: 1}, "Name"},
		{fleet.LimitConfig{Name: "x"}, "Rate"},
		{fleet.LimitConfig{Name: "x", Rate: -1}, "Rate"},
		{fleet.LimitConfig{Name: "x", Rate: 1, Burst: -1}, "Burst"},
		{fleet.LimitConfig{Name: "x", Rate: 1, Batch: -1}, "Batch"},
		{fleet.LimitConfig{Name: "x", Rate: 1, Burst: 2, Batch: 3}, "Batch"},
		{fleet.LimitConfig{Name: "x", Rate: 1, LeaseTTL: -1}, "LeaseTTL"},
	} {
		_, err := f.NewLimiter(tc.cfg)
		require.Error(t, err, tc.field)
		assert.Contains(t, err.Error(), "fleet: LimitConfig."+tc.field)
	}
}
