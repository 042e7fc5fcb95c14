package metrics

import (
	"sync/atomic"

	"github.com/go-resilience/resilience"
	"github.com/prometheus/client_golang/prometheus"
)

// injectDescs are the descriptors of the series of fault injectors
// (package inject), counted apart from the calls and failures that
// breakers report, so that a fault made on purpose is never read as a
// failure of the dependency.
type injectDescs struct {
	faults, errors, delay *prometheus.Desc
}

func newInjectDescs(desc func(name, help string, extra ...string) *prometheus.Desc) injectDescs {
	return injectDescs{
		faults: desc("injected_faults_total",
			"Faults injected on purpose by a fault injector (delays, errors, or both)."),
		errors: desc("injected_errors_total",
			"Injected faults that failed the call (an error, an HTTP abort, a gRPC code)."),
		delay: desc("injected_delay_seconds_total",
			"Latency added on purpose by a fault injector."),
	}
}

func (d *injectDescs) describe(ch chan<- *prometheus.Desc) {
	ch <- d.faults
	ch <- d.errors
	ch <- d.delay
}

// injectCounts are the values of one (policy, key) pair of an injector.
type injectCounts struct {
	faults  atomic.Uint64
	errors  atomic.Uint64
	delayNs atomic.Int64
}

// observeInjected records an EventInjected.
func (c *Collector) observeInjected(ev resilience.Event) {
	if c == nil {
		return
	}
	s := c.lookup(ev.Policy, ev.Key)
	if ev.Err != nil {
		s.injected.errors.Add(1)
	}
	if ev.Latency > 0 {
		s.injected.delayNs.Add(int64(ev.Latency))
	}
	s.injected.faults.Add(1) // last: a pair with faults has its other counts
}

// collect sends the pair's injector series, once it has reported a fault.
func (n *injectCounts) collect(c *Collector, s *series, ch chan<- prometheus.Metric) {
	faults := n.faults.Load()
	if faults == 0 {
		return
	}
	send := func(d *prometheus.Desc, v float64) {
		m, err := prometheus.NewConstMetric(d, prometheus.CounterValue, v, s.policy, s.key)
		if err != nil {
			m = prometheus.NewInvalidMetric(d, err)
		}
		ch <- m
	}
	send(c.inject.faults, float64(faults))
	send(c.inject.errors, float64(n.errors.Load()))
	send(c.inject.delay, float64(n.delayNs.Load())/1e9)
}
