package adaptive

import (
	"sync"
	"sync/atomic"
)

// window gathers what the timed calls of one sample window measured, with
// atomic adds and no lock, and moves the limit when it closes: once per
// window, in one short critical section (mu, taken with TryLock, so a
// caller never waits for it).
type window struct {
	start  atomic.Int64 // when the window opened, in ns since the epoch
	count  atomic.Int64 // timed successful calls
	sum    atomic.Int64 // their latencies, in ns
	slow   atomic.Bool  // (AIMD) a timed call was at least SlowCallThreshold slow
	failed atomic.Bool  // a call failed
	most   atomic.Int64 // the most calls in flight seen at a timed admission

	mu   sync.Mutex
	est  float64 // the limit, unrounded
	long float64 // (Gradient) long-term latency, ns; zero until measured
}

// add records a timed successful call that took rtt.
func (w *window) add(rtt int64, s *settings) {
	w.count.Add(1)
	w.sum.Add(rtt)
	if s.SlowCallThreshold > 0 && rtt >= int64(s.SlowCallThreshold) && !w.slow.Load() {
		w.slow.Store(true)
	}
}

// fail records a failed call.
func (w *window) fail() {
	if !w.failed.Load() {
		w.failed.Store(true)
	}
}

// peak records n calls in flight.
func (w *window) peak(n int64) {
	for {
		m := w.most.Load()
		if n <= m || w.most.CompareAndSwap(m, n) {
			return
		}
	}
}

// close ends the window at now (ns since the epoch) and opens the next,
// unless another caller is closing it. It returns the limit before and
// after, and whether it changed.
func (w *window) close(now int64, s *settings, limit int64) (old, next int, changed bool) {
	if !w.mu.TryLock() {
		return 0, 0, false
	}
	defer w.mu.Unlock()
	if now < w.start.Load() {
		return 0, 0, false
	}
	w.start.Store(now)
	count, sum := w.count.Swap(0), w.sum.Swap(0)
	slow, failed := w.slow.Swap(false), w.failed.Swap(false)
	most := w.most.Swap(0)
	// The limit was used when at least half of it was in flight: only
	// then does a calm window say the limit could be higher.
	used := most*2 >= limit

	switch s.Algorithm {
	case AIMD:
		switch {
		case slow || failed:
			w.est *= s.Backoff
		case used:
			w.est++
		}
	case Gradient:
		if count == 0 {
			break
		}
		short := float64(sum) / float64(count)
		// The long-term latency falls at once to a faster window, and
		// rises towards a slower one only when the limit was not used:
		// then the latency is the dependency's own, not the queue this
		// limit lets build, and following it does not ratchet the limit
		// up (see the package doc).
		switch {
		case w.long == 0 || short < w.long:
			w.long = short
		case !used:
			w.long += (short - w.long) / float64(s.LongWindow)
		}
		gradient := min(max(s.Tolerance*w.long/short, 0.5), 1)
		if gradient == 1 && !used {
			break
		}
		target := w.est*gradient + float64(s.QueueSize)
		w.est = (1-s.Smoothing)*w.est + s.Smoothing*target
	}
	w.est = min(max(w.est, float64(s.MinLimit)), float64(s.MaxLimit))
	next = int(w.est)
	return int(limit), next, int64(next) != limit
}
