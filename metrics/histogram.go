package metrics

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// histogram is a classic Prometheus histogram of durations, cheaper to
// observe than client_golang's: a duration lands in its bucket by integer
// comparison, and is added to the sum as integer nanoseconds, each with one
// atomic add and no compare-and-swap loop. Collect exports it as a constant
// histogram.
type histogram struct {
	bounds  []int64         // upper bounds in nanoseconds, shared
	buckets []atomic.Uint64 // len(bounds)+1: the last is +Inf; not cumulative
	sumNs   atomic.Uint64   // wraps; folded into sum at each collection

	mu       sync.Mutex // guards the fold
	lastNs   uint64
	sumSecs  float64
	upperSec []float64 // the bounds in seconds, as configured, shared
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

func newHistogram(secs []float64, ns []int64) *histogram {
	return &histogram{bounds: ns, upperSec: secs, buckets: make([]atomic.Uint64, len(ns)+1)}
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

// metric returns the histogram's current value. The sum in nanoseconds is
// folded into a float of seconds at each call, so it only wraps if 584
// years of durations are observed between two collections.
func (h *histogram) metric(desc *prometheus.Desc, labels ...string) prometheus.Metric {
	cumulative := make(map[float64]uint64, len(h.upperSec))
	var count uint64
	for i, ub := range h.upperSec {
		count += h.buckets[i].Load()
		cumulative[ub] = count
	}
	count += h.buckets[len(h.upperSec)].Load()
	h.mu.Lock()
	ns := h.sumNs.Load()
	h.sumSecs += float64(ns-h.lastNs) / 1e9
	h.lastNs = ns
	sum := h.sumSecs
	h.mu.Unlock()
	m, err := prometheus.NewConstHistogram(desc, count, sum, cumulative, labels...)
	if err != nil {
		return prometheus.NewInvalidMetric(desc, err)
	}
	return m
}
