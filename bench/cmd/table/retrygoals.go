package main

import "fmt"

// retryGoals are the goals of the retry scenarios: a first-attempt success
// through the retry policy costs little over the chain without it and far
// less than failsafe-go's retry.
func retryGoals(scens []*scenario, ours string) []verdict {
	out := []verdict{versus(scens, ours, "RetrySuccess: ≥ 10× faster than failsafe-go's retry", "RetrySuccess", "failsafe", 0.1)}
	{
		v := verdict{goal: "RetryChain: the retry layer adds ≤ 15 ns and 0 allocs/op to a first-attempt success"}
		s := findScenario(scens, "RetryChain")
		if s != nil && s.lib(ours) != nil && s.lib(ours+"-noretry") != nil {
			with, without := s.lib(ours), s.lib(ours+"-noretry")
			d := diff(with, without)
			allocs := median(with.allocs)
			v.measured, v.met = true, d <= 15 && allocs == 0
			v.detail = fmt.Sprintf("%s %s ns, %s allocs/op; %s-noretry %s ns: +%s ns (needs ≤ 15 ns, 0 allocs/op)",
				ours, fmtNs(median(with.ns)), fmtCount(allocs), ours, fmtNs(median(without.ns)), fmtNs(d))
		} else {
			v.detail = "needs RetryChain/lib=" + ours + " and /lib=" + ours + "-noretry"
		}
		out = append(out, v)
	}
	return out
}

// diff is a's ns/op minus b's: the median of the differences within each
// run when both have the same runs, else the difference of the medians.
func diff(a, b *result) float64 {
	if len(a.ns) == 0 || len(a.ns) != len(b.ns) {
		return median(a.ns) - median(b.ns)
	}
	ds := make([]float64, len(a.ns))
	for i := range a.ns {
		ds[i] = a.ns[i] - b.ns[i]
	}
	return median(ds)
}
