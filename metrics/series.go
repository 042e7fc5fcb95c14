package metrics

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/go-resilience/resilience"
	"github.com/prometheus/client_golang/prometheus"
)

// A pair is the (policy, key) an Event is about, as the policy reported it.
type pair struct{ policy, key string }

// hotSize is how many pairs are found by a linear scan before the map: a
// policy passes the same Name string with every Event, so comparing it is
// a length and pointer check, cheaper than hashing it.
const hotSize = 8

// An index maps pairs to their series. It is never modified once
// published: adding or forgetting a pair publishes a new one.
type index struct {
	hot    [hotSize]hotPair // the first pairs of byPair, in the order added
	nhot   int
	byPair map[pair]*series
	all    []*series // each series once, for Collect
	owned  int       // series counted against Config.MaxKeys
}

type hotPair struct {
	pair
	s *series
}

// withoutHot returns hot without the entries of s, in the same order.
func withoutHot(idx *index, s *series) (hot [hotSize]hotPair, n int) {
	for _, h := range idx.hot[:idx.nhot] {
		if h.s != s {
			hot[n] = h
			n++
		}
	}
	return hot, n
}

// stateNames are the breaker states, as Event.From and Event.To name them.
var stateNames = [...]string{"closed", "half-open", "open", "forced-open", "forced-closed"}

// series holds the values of one (policy, key) pair. Each group of values
// is exported once the pair has reported an Event that sets it, so that a
// policy shows only the series it reports.
type series struct {
	policy, key string // label values: valid UTF-8
	other       bool   // the overflow series of a policy (Config.MaxKeys)

	// Breakers.
	state   atomic.Pointer[string] // nil until the pair is known to be a breaker
	timed   atomic.Pointer[timed]  // nil until the pair is known to be a breaker
	ignored atomic.Uint64          // calls with outcome Ignored
	tmu     sync.Mutex
	trans   map[[2]string]uint64 // transitions by from, to; guarded by tmu

	// Refusals, timeouts, fallbacks: exported when not zero.
	rejected  [numReasons]atomic.Uint64
	timeouts  atomic.Uint64
	fallbacks atomic.Uint64

	// Bulkheads.
	wait     atomic.Pointer[histogram] // nil until the pair is known to be a bulkhead
	inFlight atomic.Int64

	// Timeouts in abandon mode.
	abandonSeen atomic.Bool
	abandoned   atomic.Int64

	// Fault injectors.
	injected injectCounts
	// Adaptive limiters (adaptive.go).
	adaptive adaptiveSeries

	// Server-side adapters.
	server serverCounts
	// Retries.
	retry retryCounts

	// Hedges.
	hedge hedgeCounts

	// Fleets (their link to the store).
	synced syncCounts
}

// lookup returns the series of (policy, key), creating it on first use.
func (c *Collector) lookup(policy, key string) *series {
	idx := c.index.Load()
	for i := range idx.nhot {
		if h := &idx.hot[i]; h.policy == policy && h.key == key {
			return h.s
		}
	}
	if s, ok := idx.byPair[pair{policy, key}]; ok {
		return s
	}
	if idx.owned >= c.cfg.MaxKeys {
		if s, ok := idx.byPair[pair{policy, otherKey}]; ok {
			return s
		}
	}
	return c.add(policy, key)
}

// add publishes an index with the series of (policy, key): a new one, the
// one of a pair with the same label values (after invalid UTF-8 is
// replaced), or, beyond Config.MaxKeys, the policy's "_other" series.
func (c *Collector) add(policy, key string) *series {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.index.Load()
	if s, ok := old.byPair[pair{policy, key}]; ok {
		return s
	}
	lp, lk := labelValue(policy), labelValue(key)
	var s *series
	owned := old.owned
	for _, t := range old.all {
		if t.policy == lp && t.key == lk {
			s = t
			break
		}
	}
	switch {
	case s != nil:
	case old.owned < c.cfg.MaxKeys:
		s = &series{policy: lp, key: lk}
		owned++
	default:
		// Beyond MaxKeys: the pair is not indexed, only the policy's
		// overflow series is.
		if t, ok := old.byPair[pair{policy, otherKey}]; ok {
			return t
		}
		s = &series{policy: lp, key: otherKey, other: true}
		key = otherKey
	}
	next := &index{hot: old.hot, nhot: old.nhot, byPair: make(map[pair]*series, len(old.byPair)+1), all: old.all, owned: owned}
	for p, t := range old.byPair {
		next.byPair[p] = t
	}
	next.byPair[pair{policy, key}] = s
	if !containsSeries(old.all, s) {
		next.all = append(old.all[:len(old.all):len(old.all)], s)
	}
	if next.nhot < hotSize {
		next.hot[next.nhot] = hotPair{pair{policy, key}, s}
		next.nhot++
	}
	c.index.Store(next)
	return s
}

func containsSeries(all []*series, s *series) bool {
	for _, t := range all {
		if t == s {
			return true
		}
	}
	return false
}

// labelValue returns s with invalid UTF-8 replaced, as Prometheus requires
// of label values.
func labelValue(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

func utf8Valid(s string) bool { return utf8.ValidString(s) }

// timed holds the durations of a breaker's answered calls, by outcome, so
// that counting a call and timing it is one histogram observation: the
// success and failure counts of calls_total are these histograms' counts,
// and call_duration_seconds is the two merged.
type timed struct {
	success, failure histogram
}

// call records an EventCall.
func (s *series) call(c *Collector, o resilience.Outcome, latency time.Duration) {
	t := s.timed.Load()
	if t == nil {
		t = s.breakerSeen(c)
	}
	switch o {
	case resilience.Success:
		t.success.observe(latency)
	case resilience.Failure:
		t.failure.observe(latency)
	case resilience.Ignored:
		s.ignored.Add(1)
	}
}

// breakerSeen makes the series a breaker's: its call counters and duration
// are exported from now on, and its state, unless a transition set it
// already, is closed (the state every breaker starts in).
func (s *series) breakerSeen(c *Collector) *timed {
	t := &timed{}
	t.success.init(c.nsBounds)
	t.failure.init(c.nsBounds)
	s.timed.CompareAndSwap(nil, t)
	if !s.other {
		s.state.CompareAndSwap(nil, &stateNames[0])
	}
	return s.timed.Load()
}

// transition records an EventStateChange.
func (s *series) transition(c *Collector, from, to string) {
	if s.timed.Load() == nil {
		s.breakerSeen(c)
	}
	k := [2]string{labelValue(from), labelValue(to)}
	s.tmu.Lock()
	if s.trans == nil {
		s.trans = map[[2]string]uint64{}
	}
	s.trans[k]++
	s.tmu.Unlock()
	if !s.other {
		s.state.Store(stateName(k[1]))
	}
}

// stateName returns the shared copy of a known state name, so that storing
// it allocates nothing, or a copy of an unknown one.
func stateName(to string) *string {
	for i := range stateNames {
		if stateNames[i] == to {
			return &stateNames[i]
		}
	}
	return &to
}

func (s *series) bulkheadSeen(c *Collector) *histogram {
	h := &histogram{}
	h.init(c.nsWait)
	s.wait.CompareAndSwap(nil, h)
	return s.wait.Load()
}

// collect sends the series' metrics.
func (s *series) collect(c *Collector, ch chan<- prometheus.Metric) {
	pk := [2]string{s.policy, s.key}
	send := func(d *prometheus.Desc, t prometheus.ValueType, v float64, extra ...string) {
		m, err := prometheus.NewConstMetric(d, t, v, append(pk[:], extra...)...)
		if err != nil {
			m = prometheus.NewInvalidMetric(d, err)
		}
		ch <- m
	}
	if cur := s.state.Load(); cur != nil {
		known := false
		for _, name := range stateNames {
			v := 0.0
			if name == *cur {
				v, known = 1, true
			}
			send(c.state, prometheus.GaugeValue, v, name)
		}
		if !known {
			send(c.state, prometheus.GaugeValue, 1, *cur)
		}
	}
	if t := s.timed.Load(); t != nil {
		send(c.calls, prometheus.CounterValue, float64(t.success.count()), resilience.Success.String())
		send(c.calls, prometheus.CounterValue, float64(t.failure.count()), resilience.Failure.String())
		send(c.calls, prometheus.CounterValue, float64(s.ignored.Load()), resilience.Ignored.String())
		ch <- histogramMetric(c.duration, c.cfg.Buckets, []*histogram{&t.success, &t.failure}, pk[:]...)
	}
	s.tmu.Lock()
	for k, n := range s.trans {
		send(c.transitions, prometheus.CounterValue, float64(n), k[0], k[1])
	}
	s.tmu.Unlock()
	for r := range s.rejected {
		if n := s.rejected[r].Load(); n > 0 {
			send(c.rejections, prometheus.CounterValue, float64(n), reasonNames[r])
		}
	}
	if n := s.timeouts.Load(); n > 0 {
		send(c.timeouts, prometheus.CounterValue, float64(n))
	}
	if n := s.fallbacks.Load(); n > 0 {
		send(c.fallbacks, prometheus.CounterValue, float64(n))
	}
	if h := s.wait.Load(); h != nil {
		send(c.inFlight, prometheus.GaugeValue, float64(s.inFlight.Load()))
		ch <- histogramMetric(c.wait, c.cfg.WaitBuckets, []*histogram{h}, pk[:]...)
	}
	if s.abandonSeen.Load() {
		send(c.abandoned, prometheus.GaugeValue, float64(s.abandoned.Load()))
	}
	s.injected.collect(c, s, ch)
	s.collectAdaptive(c, send)
	s.server.collect(c, s, ch)
	s.collectRetry(c, send)
	s.collectHedge(c, send)
	s.synced.collect(c, s, ch)
}
