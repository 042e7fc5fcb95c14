package fleet_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/fleet"
	"github.com/go-resilience/resilience/health"
)

// A *Fleet is a health.Link as it is.
var _ health.Link = (*fleet.Fleet)(nil)

func TestHealthShowsTheRedisLinkBrokenWhileRedisIsDownAndMendedAfter(t *testing.T) {
	srv := startRedis(t)
	r := newReplica(t, srv, breaker.Config{}, fleet.Config{Namespace: t.Name(), Name: "orders-fleet"})
	r.set.Get("api")
	checker, err := health.New(health.Config{Sets: []*breaker.Set{r.set}, Links: []health.Link{r.fleet}})
	require.NoError(t, err)

	// until polls the Checker as a readiness probe would, bounded by waitFor.
	until := func(what string, ok func(health.Report) bool) health.Report {
		t.Helper()
		for deadline := time.Now().Add(waitFor); ; {
			rep := checker.Report()
			if ok(rep) {
				return rep
			}
			require.True(t, time.Now().Before(deadline), "%s: last report %+v", what, rep)
			time.Sleep(interval / 5) // a background goroutine's read of a real server
		}
	}
	linked := func(rep health.Report) bool { return len(rep.Links) == 1 && rep.Links[0].OK }

	rep := until("linked at start", linked)
	assert.Equal(t, health.OK, rep.Status)
	assert.Equal(t, "orders-fleet", rep.Links[0].Name)

	srv.kill()
	rep = until("broken after kill", func(rep health.Report) bool { return !linked(rep) })
	assert.Equal(t, health.Degraded, rep.Status, "Redis down degrades, never takes the replica out")
	assert.Error(t, rep.Links[0].Err)

	srv.start()
	rep = until("mended after restart", linked)
	assert.Equal(t, health.OK, rep.Status)
}

func TestNilFleetIsABrokenLink(t *testing.T) {
	var f *fleet.Fleet
	ok, _, err := f.LinkHealth()
	assert.False(t, ok)
	assert.ErrorIs(t, err, fleet.ErrClosed)
}
