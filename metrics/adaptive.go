package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// The series of adaptive concurrency limiters (package adaptive). Their
// other values are the bulkhead's and the common ones: bulkhead_in_flight
// (EventAcquire, EventRelease), bulkhead_wait_seconds (EventWait), and
// rejections_total with reason adaptive_limit. A Throttler's refusals are
// rejections_total with reason throttled, a rate limiter's with reason
// rate_limited (its waits, EventWait, go to bulkhead_wait_seconds).

// adaptiveDescs are the descriptors of the adaptive series.
type adaptiveDescs struct {
	limit *prometheus.Desc
}

func newAdaptiveDescs(desc func(name, help string, extra ...string) *prometheus.Desc) adaptiveDescs {
	return adaptiveDescs{
		limit: desc("adaptive_limit",
			"The concurrency limit an adaptive limiter allows now (bulkhead_in_flight is how much of it is used)."),
	}
}

func (d adaptiveDescs) describe(ch chan<- *prometheus.Desc) {
	ch <- d.limit
}

// adaptiveSeries holds the values of an adaptive limiter.
type adaptiveSeries struct {
	seen  atomic.Bool // an EventLimitChange was observed
	limit atomic.Int64
}

// limitChanged records an EventLimitChange.
func (s *series) limitChanged(limit int) {
	s.adaptive.limit.Store(int64(limit))
	if !s.adaptive.seen.Load() {
		s.adaptive.seen.Store(true)
	}
}

// collectAdaptive sends the adaptive series, once the pair is known to be
// an adaptive limiter.
func (s *series) collectAdaptive(c *Collector, send func(d *prometheus.Desc, t prometheus.ValueType, v float64, extra ...string)) {
	if s.adaptive.seen.Load() {
		send(c.adaptive.limit, prometheus.GaugeValue, float64(s.adaptive.limit.Load()))
	}
}
