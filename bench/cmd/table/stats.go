package main

import (
	"math"
	"slices"
)

// median returns the median of xs, or NaN when xs is empty.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// spread returns how far the sample farthest from the median lies from it,
// as a fraction of the median: 0.05 means every run was within 5%.
func spread(xs []float64) float64 {
	m := median(xs)
	if len(xs) == 0 || m == 0 {
		return math.NaN()
	}
	var d float64
	for _, x := range xs {
		d = max(d, math.Abs(x-m))
	}
	return d / m
}

// ratio returns a's ns/op over b's. When both have one sample per run of
// the benchmark binary (run.sh runs every library of a scenario back to
// back, once per run), it is the median of the runs' own ratios, so that a
// burst of load from elsewhere that slows one run slows both sides of its
// ratio; otherwise it is the ratio of the medians.
func ratio(a, b *result) float64 {
	if len(a.ns) == 0 || len(a.ns) != len(b.ns) {
		return median(a.ns) / median(b.ns)
	}
	rs := make([]float64, len(a.ns))
	for i := range a.ns {
		rs[i] = a.ns[i] / b.ns[i]
	}
	return median(rs)
}
