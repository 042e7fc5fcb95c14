package metrics

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// A Collector turns the Events of resilience policies into Prometheus
// metrics. It is both a resilience.Observer, to put in the Observer field of
// every policy's Config (and to give fallback.Observe), and a
// prometheus.Collector, to register on a prometheus.Registerer of the
// caller's choice; New registers nothing anywhere.
//
// One Collector serves any number of policies: series are told apart by the
// policy and key labels, taken from Event.Policy and Event.Key, so give
// every policy a distinct Name. A policy appears in the output once it has
// reported its first Event.
//
// A Collector is safe for concurrent use. Observe never blocks and, once a
// (policy, key) pair has been seen, allocates nothing. Its methods on a nil
// *Collector do nothing.
type Collector struct {
	cfg Config

	stateDesc     *prometheus.Desc
	inFlightDesc  *prometheus.Desc
	abandonedDesc *prometheus.Desc

	calls       *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	transitions *prometheus.CounterVec
	rejections  *prometheus.CounterVec
	timeouts    *prometheus.CounterVec
	fallbacks   *prometheus.CounterVec
	wait        *prometheus.HistogramVec

	// index is read without a lock on every Event and replaced, copied,
	// under mu when a pair is added or forgotten.
	index atomic.Pointer[index]
	mu    sync.Mutex
}

// New returns a Collector configured by cfg, or an error naming the first
// invalid field of cfg.
func New(cfg Config) (*Collector, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ns, cl := cfg.Namespace, cfg.ConstLabels
	pk := []string{labelPolicy, labelKey}
	with := func(extra ...string) []string { return append(append([]string(nil), pk...), extra...) }
	counter := func(name, help string, labels []string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help, ConstLabels: cl}, labels)
	}
	histogram := func(name, help string, buckets []float64) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: name, Help: help, ConstLabels: cl, Buckets: buckets}, pk)
	}
	c := &Collector{
		cfg: cfg,
		stateDesc: prometheus.NewDesc(ns+"_breaker_state",
			"Breaker state: 1 for the state the breaker is in, 0 for the others.", with(labelState), cl),
		inFlightDesc: prometheus.NewDesc(ns+"_bulkhead_in_flight",
			"Calls holding a bulkhead slot.", pk, cl),
		abandonedDesc: prometheus.NewDesc(ns+"_abandoned_in_flight",
			"Calls a timeout abandoned past its deadline that have not returned yet.", pk, cl),
		calls: counter("calls_total",
			"Calls a breaker let through, by classified outcome (success, failure, ignored).", with(labelOutcome)),
		duration: histogram("call_duration_seconds",
			"Duration of calls a breaker let through that the dependency answered (success or failure).", cfg.Buckets),
		transitions: counter("breaker_transitions_total",
			"Breaker state changes, forced ones included.", with(labelFrom, labelTo)),
		rejections: counter("rejections_total",
			"Calls refused without being started, by reason (breaker_open, probe_limit, bulkhead_full, abandon_limit, other).", with(labelReason)),
		timeouts: counter("timeouts_total",
			"Calls whose timeout policy's own deadline passed.", pk),
		fallbacks: counter("fallbacks_total",
			"Errors a fallback answered with a substitute.", pk),
		wait: histogram("bulkhead_wait_seconds",
			"Time callers waited for a bulkhead slot, for callers that waited and got one.", cfg.WaitBuckets),
	}
	c.index.Store(&index{byPair: map[pair]*series{}})
	return c, nil
}

// Describe sends the descriptors of every metric the Collector exports.
// It implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	if c == nil {
		return
	}
	ch <- c.stateDesc
	ch <- c.inFlightDesc
	ch <- c.abandonedDesc
	for _, v := range c.vecs() {
		v.Describe(ch)
	}
}

// Collect sends the current value of every series. It implements
// prometheus.Collector and is safe to call while Events are observed.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	if c == nil {
		return
	}
	for _, s := range c.index.Load().all {
		if cur := s.state.Load(); cur != nil {
			known := false
			for _, name := range stateNames {
				v := 0.0
				if name == *cur {
					v, known = 1, true
				}
				ch <- c.constMetric(c.stateDesc, prometheus.GaugeValue, v, s.policy, s.key, name)
			}
			if !known {
				ch <- c.constMetric(c.stateDesc, prometheus.GaugeValue, 1, s.policy, s.key, *cur)
			}
		}
		if s.bulkhead.Load() != nil {
			ch <- c.constMetric(c.inFlightDesc, prometheus.GaugeValue, float64(s.inFlight.Load()), s.policy, s.key)
		}
		if s.abandonSeen.Load() {
			ch <- c.constMetric(c.abandonedDesc, prometheus.GaugeValue, float64(s.abandoned.Load()), s.policy, s.key)
		}
	}
	for _, v := range c.vecs() {
		v.Collect(ch)
	}
}

func (c *Collector) constMetric(d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) prometheus.Metric {
	m, err := prometheus.NewConstMetric(d, t, v, labels...)
	if err != nil {
		return prometheus.NewInvalidMetric(d, err)
	}
	return m
}

func (c *Collector) vecs() []prometheus.Collector {
	return []prometheus.Collector{c.calls, c.duration, c.transitions, c.rejections, c.timeouts, c.fallbacks, c.wait}
}

// Forget deletes every series of the pair (policy, key), for a policy that
// is gone or a key that a breaker set has evicted, and frees its place
// under Config.MaxKeys. An Event of the pair observed after Forget starts
// its series afresh; one observed while Forget runs may be lost.
func (c *Collector) Forget(policy, key string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.index.Load()
	s, ok := old.byPair[pair{policy, key}]
	if !ok {
		return
	}
	next := &index{byPair: make(map[pair]*series, len(old.byPair)), owned: old.owned}
	for p, t := range old.byPair {
		if t != s {
			next.byPair[p] = t
		}
	}
	for _, t := range old.all {
		if t != s {
			next.all = append(next.all, t)
		}
	}
	if !s.other {
		next.owned--
	}
	c.index.Store(next)
	labels := prometheus.Labels{labelPolicy: s.policy, labelKey: s.key}
	c.calls.DeletePartialMatch(labels)
	c.duration.DeletePartialMatch(labels)
	c.transitions.DeletePartialMatch(labels)
	c.rejections.DeletePartialMatch(labels)
	c.timeouts.DeletePartialMatch(labels)
	c.fallbacks.DeletePartialMatch(labels)
	c.wait.DeletePartialMatch(labels)
}
