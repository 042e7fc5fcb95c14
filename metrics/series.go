package metrics

import (
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
)

// A pair is the (policy, key) an Event is about, as the policy reported it.
type pair struct{ policy, key string }

// An index maps pairs to their series. It is never modified once
// published: adding or forgetting a pair publishes a new one.
type index struct {
	byPair map[pair]*series
	all    []*series // each series once, for Collect
	owned  int       // series counted against Config.MaxKeys
}

// stateNames are the breaker states, as Event.From and Event.To name them.
var stateNames = [...]string{"closed", "half-open", "open", "forced-open", "forced-closed"}

// series holds the resolved children of one (policy, key) pair, created on
// first use so that a policy shows only the series it reports.
type series struct {
	policy, key string // label values: valid UTF-8
	other       bool   // the overflow series of a policy (Config.MaxKeys)

	calls    atomic.Pointer[callSeries]
	bulkhead atomic.Pointer[bulkheadSeries]
	rejected [numReasons]atomic.Pointer[counterRef]
	timeouts atomic.Pointer[counterRef]
	fallback atomic.Pointer[counterRef]

	state       atomic.Pointer[string] // breaker state; nil until the series is known to be a breaker's
	inFlight    atomic.Int64
	abandoned   atomic.Int64
	abandonSeen atomic.Bool
}

type callSeries struct {
	outcomes [3]prometheus.Counter // by resilience.Outcome
	duration prometheus.Observer
}

type bulkheadSeries struct {
	wait prometheus.Observer
}

type counterRef struct{ prometheus.Counter }

// lookup returns the series of (policy, key), creating it on first use.
func (c *Collector) lookup(policy, key string) *series {
	idx := c.index.Load()
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
	next := &index{byPair: make(map[pair]*series, len(old.byPair)+1), all: old.all, owned: owned}
	for p, t := range old.byPair {
		next.byPair[p] = t
	}
	next.byPair[pair{policy, key}] = s
	if !containsSeries(old.all, s) {
		next.all = append(old.all[:len(old.all):len(old.all)], s)
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

// callSeries returns the call counters and histogram, creating all three
// outcomes at zero on first use.
func (c *Collector) callSeries(s *series) *callSeries {
	if cs := s.calls.Load(); cs != nil {
		return cs
	}
	cs := &callSeries{duration: c.observer(c.duration, s)}
	for o := range cs.outcomes {
		cs.outcomes[o] = c.counter(c.calls, s, outcomeNames[o])
	}
	if s.calls.CompareAndSwap(nil, cs) {
		return cs
	}
	return s.calls.Load()
}

var outcomeNames = [3]string{"success", "failure", "ignored"}

func (c *Collector) bulkheadSeries(s *series) *bulkheadSeries {
	if bs := s.bulkhead.Load(); bs != nil {
		return bs
	}
	bs := &bulkheadSeries{wait: c.observer(c.wait, s)}
	if s.bulkhead.CompareAndSwap(nil, bs) {
		return bs
	}
	return s.bulkhead.Load()
}

// lazyCounter returns the counter held in p, resolving it from vec with
// the series' labels and extra (when not "") on first use.
func (c *Collector) lazyCounter(p *atomic.Pointer[counterRef], vec *prometheus.CounterVec, s *series, extra string) prometheus.Counter {
	if r := p.Load(); r != nil {
		return r.Counter
	}
	var r *counterRef
	if extra == "" {
		r = &counterRef{c.counter(vec, s)}
	} else {
		r = &counterRef{c.counter(vec, s, extra)}
	}
	if p.CompareAndSwap(nil, r) {
		return r.Counter
	}
	return p.Load().Counter
}

func (c *Collector) counter(vec *prometheus.CounterVec, s *series, extra ...string) prometheus.Counter {
	m, err := vec.GetMetricWithLabelValues(append([]string{s.policy, s.key}, extra...)...)
	if err != nil {
		// Unreachable: label values are counted and made valid above.
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "discarded"})
	}
	return m
}

func (c *Collector) observer(vec *prometheus.HistogramVec, s *series) prometheus.Observer {
	m, err := vec.GetMetricWithLabelValues(s.policy, s.key)
	if err != nil {
		// Unreachable: label values are counted and made valid above.
		return prometheus.ObserverFunc(func(float64) {})
	}
	return m
}
