package metrics

import (
	"sync/atomic"

	"github.com/go-resilience/resilience"
	"github.com/prometheus/client_golang/prometheus"
)

// retryDescs are the descriptors of the retry policy's series.
type retryDescs struct {
	retries, refused, gaveUp *prometheus.Desc
}

func newRetryDescs(desc func(name, help string, extra ...string) *prometheus.Desc) retryDescs {
	return retryDescs{
		retries: desc("retries_total",
			"Attempts a retry policy started after a failed one."),
		refused: desc("retry_budget_refusals_total",
			"Retries the retry budget refused; the call returned its last error."),
		gaveUp: desc("retry_give_ups_total",
			"Calls that stopped retrying a retryable error: attempts used up, the deadline could not fit another, or the hint asked for too long."),
	}
}

func (d retryDescs) all() []*prometheus.Desc {
	return []*prometheus.Desc{d.retries, d.refused, d.gaveUp}
}

// retryCounts are the retry counters of a series.
type retryCounts struct {
	retries, refused, gaveUp atomic.Uint64
}

// observeRetry records EventRetry, EventRetryRefused and EventRetryGiveUp.
func (s *series) observeRetry(kind resilience.EventKind) {
	switch kind {
	case resilience.EventRetry:
		s.retry.retries.Add(1)
	case resilience.EventRetryRefused:
		s.retry.refused.Add(1)
	case resilience.EventRetryGiveUp:
		s.retry.gaveUp.Add(1)
	}
}

// isRetryEvent reports whether kind is one of the retry policy's.
func isRetryEvent(kind resilience.EventKind) bool {
	return kind == resilience.EventRetry || kind == resilience.EventRetryRefused || kind == resilience.EventRetryGiveUp
}

// collectRetry sends the retry counters that are not zero.
func (s *series) collectRetry(c *Collector, send func(d *prometheus.Desc, t prometheus.ValueType, v float64, extra ...string)) {
	for _, m := range [...]struct {
		d *prometheus.Desc
		n *atomic.Uint64
	}{{c.retry.retries, &s.retry.retries}, {c.retry.refused, &s.retry.refused}, {c.retry.gaveUp, &s.retry.gaveUp}} {
		if n := m.n.Load(); n > 0 {
			send(m.d, prometheus.CounterValue, float64(n))
		}
	}
}
