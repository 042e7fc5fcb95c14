package metrics

import (
	"sync/atomic"

	"github.com/go-resilience/resilience"
	"github.com/prometheus/client_golang/prometheus"
)

// syncDescs are the descriptors of the series of a fleet (package
// fleet): the health of its link to the store (Redis) it shares state
// through. Calls never wait on that link; these series say how stale the
// replica's view of the fleet may be.
type syncDescs struct {
	syncs, seconds, errors *prometheus.Desc
}

func newSyncDescs(desc func(name, help string, extra ...string) *prometheus.Desc) syncDescs {
	return syncDescs{
		syncs: desc("fleet_syncs_total",
			"Reads of the fleet's shared state from its store that succeeded."),
		seconds: desc("fleet_sync_seconds_total",
			"Time those reads took, in all (divide by fleet_syncs_total for the mean)."),
		errors: desc("fleet_sync_errors_total",
			"Operations of a fleet on its store that failed (calls went on with local state)."),
	}
}

func (d *syncDescs) describe(ch chan<- *prometheus.Desc) {
	ch <- d.syncs
	ch <- d.seconds
	ch <- d.errors
}

// syncCounts are the values of one (policy, key) pair of a fleet.
type syncCounts struct {
	seen    atomic.Bool
	syncs   atomic.Uint64
	errors  atomic.Uint64
	totalNs atomic.Int64
}

// observeSync records an EventSync or EventSyncError.
func (c *Collector) observeSync(ev resilience.Event) {
	if c == nil {
		return
	}
	s := c.lookup(ev.Policy, ev.Key)
	if ev.Kind == resilience.EventSyncError {
		s.synced.errors.Add(1)
	} else {
		s.synced.totalNs.Add(int64(ev.Latency))
		s.synced.syncs.Add(1)
	}
	s.synced.seen.Store(true)
}

// collect sends the pair's fleet series, once it has reported.
func (n *syncCounts) collect(c *Collector, s *series, ch chan<- prometheus.Metric) {
	if !n.seen.Load() {
		return
	}
	send := func(d *prometheus.Desc, v float64) {
		m, err := prometheus.NewConstMetric(d, prometheus.CounterValue, v, s.policy, s.key)
		if err != nil {
			m = prometheus.NewInvalidMetric(d, err)
		}
		ch <- m
	}
	send(c.sync.syncs, float64(n.syncs.Load()))
	send(c.sync.seconds, float64(n.totalNs.Load())/1e9)
	send(c.sync.errors, float64(n.errors.Load()))
}
