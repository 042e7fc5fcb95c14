package metrics

import (
	"sync"
	"sync/atomic"

	"github.com/go-resilience/resilience/bulkhead"
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
// every policy a distinct Name (a breaker, a bulkhead and a timeout guarding
// the same dependency may share one: their metrics have different names).
// A policy appears in the output once it has reported its first Event.
//
// A Collector is safe for concurrent use. Observe never blocks and, once a
// (policy, key) pair has been seen, allocates nothing. Its methods on a nil
// *Collector do nothing.
type Collector struct {
	cfg      Config
	nsBounds []int64 // cfg.Buckets in nanoseconds
	nsWait   []int64 // cfg.WaitBuckets in nanoseconds

	state       *prometheus.Desc
	transitions *prometheus.Desc
	calls       *prometheus.Desc
	duration    *prometheus.Desc
	rejections  *prometheus.Desc
	timeouts    *prometheus.Desc
	abandoned   *prometheus.Desc
	inFlight    *prometheus.Desc
	wait        *prometheus.Desc
	fallbacks   *prometheus.Desc
	inject      injectDescs
	server      serverDescs
	sync        syncDescs
	capacity    *prometheus.Desc
	waiting     *prometheus.Desc
	adaptive    adaptiveDescs
	retry       retryDescs
	hedge       hedgeDescs

	// index is read without a lock on every Event and replaced, copied,
	// under mu when a pair is added or forgotten.
	index atomic.Pointer[index]
	mu    sync.Mutex

	// Bulkheads read at each Collect (WatchBulkheads, WatchSource).
	wmu     sync.Mutex
	watched []*bulkhead.Bulkhead
	sources []Source
}

// New returns a Collector configured by cfg, or an error naming the first
// invalid field of cfg.
func New(cfg Config) (*Collector, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	desc := func(name, help string, extra ...string) *prometheus.Desc {
		labels := append([]string{labelPolicy, labelKey}, extra...)
		return prometheus.NewDesc(cfg.Namespace+"_"+name, help, labels, cfg.ConstLabels)
	}
	c := &Collector{
		cfg:      cfg,
		nsBounds: nsBounds(cfg.Buckets),
		nsWait:   nsBounds(cfg.WaitBuckets),
		state: desc("breaker_state",
			"Breaker state: 1 for the state the breaker is in, 0 for the others.", labelState),
		transitions: desc("breaker_transitions_total",
			"Breaker state changes, forced ones included.", labelFrom, labelTo),
		calls: desc("calls_total",
			"Calls a breaker let through, by classified outcome (success, failure, ignored).", labelOutcome),
		duration: desc("call_duration_seconds",
			"Duration of calls a breaker let through that the dependency answered (success or failure)."),
		rejections: desc("rejections_total",
			"Calls refused without being started, by reason (breaker_open, probe_limit, bulkhead_full, abandon_limit, adaptive_limit, throttled, rate_limited, other).", labelReason),
		timeouts: desc("timeouts_total",
			"Calls whose timeout policy's own deadline passed."),
		abandoned: desc("abandoned_in_flight",
			"Calls a timeout abandoned past its deadline that have not returned yet."),
		inFlight: desc("bulkhead_in_flight",
			"Calls holding a bulkhead slot."),
		wait: desc("bulkhead_wait_seconds",
			"Time callers waited for a bulkhead slot, for callers that waited and got one."),
		fallbacks: desc("fallbacks_total",
			"Errors a fallback answered with a substitute."),
		capacity: desc("bulkhead_capacity",
			"Slots of a watched bulkhead (its MaxConcurrent)."),
		waiting: desc("bulkhead_waiting",
			"Callers waiting for a slot of a watched bulkhead."),
	}
	c.inject = newInjectDescs(desc)
	c.adaptive = newAdaptiveDescs(desc)
	c.server = newServerDescs(desc)
	c.retry = newRetryDescs(desc)
	c.hedge = newHedgeDescs(desc)
	c.sync = newSyncDescs(desc)
	c.index.Store(&index{byPair: map[pair]*series{}})
	return c, nil
}

// Describe sends the descriptors of every metric the Collector exports.
// It implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	if c == nil {
		return
	}
	for _, d := range []*prometheus.Desc{c.state, c.transitions, c.calls, c.duration, c.rejections,
		c.timeouts, c.abandoned, c.inFlight, c.wait, c.fallbacks, c.capacity, c.waiting} {
		ch <- d
	}
	c.inject.describe(ch)
	c.adaptive.describe(ch)
	c.server.describe(ch)
	for _, d := range c.retry.all() {
		ch <- d
	}
	for _, d := range c.hedge.all() {
		ch <- d
	}
	c.sync.describe(ch)
}

// Collect sends the current value of every series. It implements
// prometheus.Collector and is safe to call while Events are observed; each
// value is read atomically, but series are not read all at one instant.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	if c == nil {
		return
	}
	for _, s := range c.index.Load().all {
		s.collect(c, ch)
	}
	c.collectWatched(ch)
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
	next.hot, next.nhot = withoutHot(old, s)
	c.index.Store(next)
}
