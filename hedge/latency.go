package hedge

import (
	"sync/atomic"
	"time"
)

// latencies keeps the durations of the last n successful attempts in a ring
// of atomics and the delay computed from them, so that recording one is an
// atomic add and store (no lock), and memory stays n words. Every n/8
// records, the recorder that completes the batch recomputes the percentile
// from a copy of the ring on its stack (O(n) by selection) and stores it;
// concurrent recomputations may overlap, and the last store wins, each
// computed from a recent window.
type latencies struct {
	ring  []atomic.Int64 // duration+1 of a success; 0: empty slot
	next  atomic.Uint64  // successes recorded
	delay atomic.Int64   // the current delay, in ns
	every uint64         // recompute every this many records
	q     float64
	lo    int64
	hi    int64
}

func newLatencies(n int, q float64, lo, hi time.Duration) *latencies {
	l := &latencies{ring: make([]atomic.Int64, n), every: uint64(max(1, n/8)), q: q, lo: int64(lo), hi: int64(hi)}
	l.delay.Store(l.hi)
	return l
}

// record notes the duration of a successful attempt.
func (l *latencies) record(d time.Duration) {
	i := l.next.Add(1)
	l.ring[(i-1)%uint64(len(l.ring))].Store(int64(d) + 1)
	if i%l.every == 0 {
		l.recompute()
	}
}

func (l *latencies) recompute() {
	var buf [maxWindow]int64
	k := 0
	for i := range l.ring {
		if v := l.ring[i].Load(); v > 0 {
			buf[k] = v - 1
			k++
		}
	}
	if k == 0 {
		return
	}
	s := buf[:k]
	idx := int(l.q*float64(k)+0.999999999) - 1 // ceil(q k) - 1
	idx = min(max(idx, 0), k-1)
	d := nth(s, idx)
	l.delay.Store(min(max(d, l.lo), l.hi))
}

// nth returns the value that would be at s[k] were s sorted, reordering s
// (Hoare's selection, the middle element as pivot).
func nth(s []int64, k int) int64 {
	lo, hi := 0, len(s)-1
	for lo < hi {
		p := s[lo+(hi-lo)/2]
		i, j := lo, hi
		for i <= j {
			for s[i] < p {
				i++
			}
			for s[j] > p {
				j--
			}
			if i <= j {
				s[i], s[j] = s[j], s[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return s[k]
		}
	}
	return s[k]
}
