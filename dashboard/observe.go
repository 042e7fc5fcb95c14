package dashboard

import (
	"errors"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/timeout"
)

// A Recorder is a resilience.Observer that keeps what a Dashboard shows of
// the Events of policies: counts by (policy, key), rates, refusals by
// reason, timeouts, fallbacks, latencies, and the timeline of changes of
// state. Make it before the policies, put it in the Observer field of
// each one's Config (and give it to fallback.Observe), then give it to
// the Dashboard that watches them (Config.Recorder).
//
// The zero Recorder is ready to use. A Recorder is safe for concurrent
// use; its memory is bounded by MaxKeys. Its methods on a nil *Recorder do
// nothing.
type Recorder struct {
	// MaxKeys is the most (policy, key) pairs the Recorder keeps counts
	// for; Events of further pairs are counted together under the policy
	// name "_other". Zero or negative: 1024. Set it before the first
	// Observe; changing it later has no effect.
	MaxKeys int

	// index is read without a lock by Observe; replaced under indexMu.
	index   atomic.Pointer[index]
	indexMu sync.Mutex
	maxKeys int // MaxKeys as read at the first Observe; guarded by indexMu
	// half is which half of the latency window Observe fills.
	half atomic.Uint32

	timeline timeline

	// sampleMu guards the sampled fields of every series and these.
	sampleMu   sync.Mutex
	lastSample time.Time
	lastHalf   time.Time
}

// Observe records ev. It implements resilience.Observer. It finds the
// counters of the event's policy and key without a lock, adds to them
// atomically, reads no clock (durations come from Event.Latency), never
// blocks, and allocates nothing once the pair has been seen. Only a change
// of state takes a short lock, to add it to the timeline. Events of kinds
// it does not know are ignored.
func (r *Recorder) Observe(ev resilience.Event) {
	if r == nil || ev.Kind == 0 || ev.Kind > resilience.EventFallback {
		return
	}
	s := r.lookup(ev.Policy, ev.Key)
	switch ev.Kind {
	case resilience.EventCall:
		s.calls.Add(1)
		switch ev.Outcome {
		case resilience.Failure:
			s.failures.Add(1)
		case resilience.Ignored:
			return
		}
		s.latency[r.half.Load()&1][latencyBucket(ev.Latency)].Add(1)
	case resilience.EventRejected:
		s.rejected[reasonOf(ev.Err)].Add(1)
	case resilience.EventTimeout:
		s.timeouts.Add(1)
	case resilience.EventFallback:
		s.fallbacks.Add(1)
	case resilience.EventStateChange:
		r.timeline.add(change{At: time.Now(), Policy: ev.Policy, Key: ev.Key, From: ev.From, To: ev.To})
	}
}

// A pair is the (policy, key) an Event is about.
type pair struct{ policy, key string }

// otherPolicy is the policy name of the pairs beyond Config.MaxKeys.
const otherPolicy = "_other"

// An index maps pairs to their series. It is never modified once
// published: adding a pair publishes a copy.
type index struct {
	byPair map[pair]*series // at most Config.MaxKeys
	other  *series          // the overflow series, once a pair found no room
	all    []*series        // byPair's series in the order added, then other
}

// series holds the counters of one (policy, key) pair. The counters are
// written by Observe; the sampled fields are guarded by Recorder.sampleMu.
type series struct {
	pair
	calls, failures atomic.Uint64
	rejected        [numReasons]atomic.Uint64
	timeouts        atomic.Uint64
	fallbacks       atomic.Uint64
	// latency counts the latencies of answered calls, in two halves of
	// the window: Recorder.half says which one is being filled.
	latency [2][numBuckets]atomic.Uint64

	// Sampled.
	last    counts // the counters at the last sample
	rate    rates  // per second, between the last two samples
	history [historyLen]rates
	nhist   int // samples in history, at most historyLen
	next    int // where the next sample goes in history
}

// lookup returns the series of (policy, key), creating it on first use.
func (r *Recorder) lookup(policy, key string) *series {
	idx := r.index.Load()
	if idx == nil {
		return r.add(policy, key)
	}
	if s, ok := idx.byPair[pair{policy, key}]; ok {
		return s
	}
	if idx.other != nil {
		return idx.other // full: no pair is added any more
	}
	return r.add(policy, key)
}

// add publishes an index with a series for (policy, key), or with the
// overflow series when MaxKeys pairs are kept.
func (r *Recorder) add(policy, key string) *series {
	r.indexMu.Lock()
	defer r.indexMu.Unlock()
	old := r.loadLocked()
	if s, ok := old.byPair[pair{policy, key}]; ok {
		return s
	}
	if old.other != nil {
		return old.other
	}
	next := &index{byPair: old.byPair, all: old.all[:len(old.all):len(old.all)]}
	var s *series
	if len(old.byPair) >= r.maxKeys {
		s = &series{pair: pair{policy: otherPolicy}}
		next.other = s
	} else {
		s = &series{pair: pair{policy, key}}
		next.byPair = make(map[pair]*series, len(old.byPair)+1)
		for q, t := range old.byPair {
			next.byPair[q] = t
		}
		next.byPair[s.pair] = s
	}
	next.all = append(next.all, s)
	r.index.Store(next)
	return s
}

// loadLocked returns the index, making the first one. r.indexMu must be
// held.
func (r *Recorder) loadLocked() *index {
	if idx := r.index.Load(); idx != nil {
		return idx
	}
	r.maxKeys = r.MaxKeys
	if r.maxKeys <= 0 {
		r.maxKeys = defaultMaxKeys
	}
	idx := &index{byPair: map[pair]*series{}}
	r.index.Store(idx)
	return idx
}

// all returns every series kept.
func (r *Recorder) all() []*series {
	if idx := r.index.Load(); idx != nil {
		return idx.all
	}
	return nil
}

// get returns the series of p, or nil.
func (r *Recorder) get(p pair) *series {
	if idx := r.index.Load(); idx != nil {
		return idx.byPair[p]
	}
	return nil
}

// A reason is why a call was refused, as the streamed JSON names it.
type reason uint8

const (
	reasonBreakerOpen reason = iota
	reasonProbeLimit
	reasonBulkheadFull
	reasonAbandonLimit
	reasonOther
	numReasons
)

var reasonNames = [numReasons]string{
	reasonBreakerOpen:  "breaker_open",
	reasonProbeLimit:   "probe_limit",
	reasonBulkheadFull: "bulkhead_full",
	reasonAbandonLimit: "abandon_limit",
	reasonOther:        "other",
}

// reasonOf returns the reason of a refusal error: the same reasons, with
// the same names, as the metrics package's rejections_total.
func reasonOf(err error) reason {
	switch {
	case errors.Is(err, breaker.ErrOpen):
		return reasonBreakerOpen
	case errors.Is(err, breaker.ErrTooManyProbes):
		return reasonProbeLimit
	case errors.Is(err, bulkhead.ErrFull):
		return reasonBulkheadFull
	case errors.Is(err, timeout.ErrTooManyAbandoned):
		return reasonAbandonLimit
	}
	return reasonOther
}

// Latency buckets: four per power of two, from 4µs (2^12 ns) to about
// 137s (2^37 ns); shorter and longer latencies go to the first and last.
const (
	minExp     = 12
	maxExp     = 37
	subBuckets = 4
	numBuckets = (maxExp - minExp) * subBuckets
)

// latencyBucket returns the bucket of d.
func latencyBucket(d time.Duration) int {
	if d < 1<<minExp {
		return 0
	}
	exp := bits.Len64(uint64(d)) - 1 // 2^exp <= d < 2^(exp+1)
	if exp >= maxExp {
		return numBuckets - 1
	}
	sub := int(uint64(d)>>(exp-2)) & (subBuckets - 1)
	return (exp-minExp)*subBuckets + sub
}

// bucketUpper returns the upper bound of bucket i.
func bucketUpper(i int) time.Duration {
	exp := minExp + i/subBuckets
	sub := i % subBuckets
	return time.Duration(uint64(1)<<exp + uint64(sub+1)<<(exp-2))
}

// percentile returns the latency below which a fraction q of the counts
// fall, as the upper bound of its bucket, or 0 for no counts.
func percentile(counts *[numBuckets]uint64, total uint64, q float64) time.Duration {
	if total == 0 {
		return 0
	}
	rank := uint64(q*float64(total) + 0.5)
	rank = max(rank, 1)
	var seen uint64
	for i, n := range counts {
		seen += n
		if seen >= rank {
			return bucketUpper(i)
		}
	}
	return bucketUpper(numBuckets - 1)
}
