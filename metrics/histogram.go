package metrics

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// histogram counts durations in classic Prometheus buckets, more cheaply
// than client_golang's: a duration finds its bucket by integer comparison
// and is added to the sum as integer nanoseconds, two atomic adds in all
// (no compare-and-swap loop on a float, no separate count: the count is
// the buckets' total). Collect exports it as a constant histogram.
type histogram struct {
	bounds  []int64         // upper bounds in nanoseconds, shared
	buckets []atomic.Uint64 // len(bounds)+1, the last for +Inf; not cumulative
	sumNs   atomic.Uint64   // wraps; folded into sumSecs at each collection

	mu      sync.Mutex // guards the fold
	lastNs  uint64
	sumSecs float64
}

// nsBounds converts bucket bounds in seconds to the largest whole number
// of nanoseconds a duration may have to fall in each bucket.
func nsBounds(secs []float64) []int64 {
	ns := make([]int64, len(secs))
	for i, s := range secs {
		switch v := math.Floor(s * 1e9); {
		case v >= math.MaxInt64:
			ns[i] = math.MaxInt64
		case v <= math.MinInt64:
			ns[i] = math.MinInt64
		default:
			ns[i] = int64(v)
		}
	}
	return ns
}

func (h *histogram) init(bounds []int64) {
	h.bounds = bounds
	h.buckets = make([]atomic.Uint64, len(bounds)+1)
}

func (h *histogram) observe(d time.Duration) {
	i := 0
	for i < len(h.bounds) && int64(d) > h.bounds[i] {
		i++
	}
	h.buckets[i].Add(1)
	if d > 0 {
		h.sumNs.Add(uint64(d))
	}
}

// count returns how many durations h has counted.
func (h *histogram) count() uint64 {
	var n uint64
	for i := range h.buckets {
		n += h.buckets[i].Load()
	}
	return n
}

// addTo adds the count of each bucket of h to counts.
func (h *histogram) addTo(counts []uint64) {
	for i := range h.buckets {
		counts[i] += h.buckets[i].Load()
	}
}

// sum returns the sum of the durations h has counted, in seconds. The sum
// in nanoseconds is folded into a float at each call, so it could only
// wrap if 584 years of durations were observed between two collections.
func (h *histogram) sum() float64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	ns := h.sumNs.Load()
	h.sumSecs += float64(ns-h.lastNs) / 1e9
	h.lastNs = ns
	return h.sumSecs
}

// histogramMetric returns the histogram of hs merged, with the upper
// bounds upper (in seconds, as configured).
func histogramMetric(desc *prometheus.Desc, upper []float64, hs []*histogram, labels ...string) prometheus.Metric {
	counts := make([]uint64, len(upper)+1)
	var sum float64
	for _, h := range hs {
		h.addTo(counts)
		sum += h.sum()
	}
	cumulative := make(map[float64]uint64, len(upper))
	var total uint64
	for i, ub := range upper {
		total += counts[i]
		cumulative[ub] = total
	}
	total += counts[len(upper)]
	m, err := prometheus.NewConstHistogram(desc, total, sum, cumulative, labels...)
	if err != nil {
		return prometheus.NewInvalidMetric(desc, err)
	}
	return m
}
