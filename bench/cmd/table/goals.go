package main

import (
	"fmt"
	"math"
	"strings"
)

// baselines are the rows that are not a peer library: the call alone, and
// the parts written by hand.
var baselines = map[string]bool{
	"bare":      true, // the call, or the HTTP transport, alone
	"hand":      true, // gobreaker + x/sync semaphore + context.WithTimeout, by hand
	"semaphore": true, // x/sync semaphore by hand
	"context":   true, // context.WithTimeout by hand
	"bulkhead":  true, // this module's bulkhead, the baseline of its adaptive limiter
	"timer":     true, // one time.AfterFunc set and stopped
}

// isPeer reports whether lib is another library (not ours, not one of our
// variants such as resilience-exec, not a baseline).
func isPeer(lib, ours string) bool {
	return lib != ours && !strings.HasPrefix(lib, ours+"-") && !baselines[lib]
}

// A verdict says whether one goal is met by the numbers at hand.
type verdict struct {
	goal     string
	measured bool // the scenarios the goal needs were in the input
	met      bool
	detail   string
}

func (v verdict) status() string {
	switch {
	case !v.measured:
		return "not measured"
	case v.met:
		return "met"
	}
	return "missed"
}

// findScenario returns the scenario called name, or nil.
func findScenario(scens []*scenario, name string) *scenario {
	for _, s := range scens {
		if s.name == name {
			return s
		}
	}
	return nil
}

// versus is the goal that ours ÷ lib ≤ limit in scenario scen.
func versus(scens []*scenario, ours, goal, scen, lib string, limit float64) verdict {
	v := verdict{goal: goal}
	s := findScenario(scens, scen)
	if s == nil || s.lib(ours) == nil || s.lib(lib) == nil {
		v.detail = fmt.Sprintf("needs %s/lib=%s and /lib=%s", scen, ours, lib)
		return v
	}
	o, p, r := median(s.lib(ours).ns), median(s.lib(lib).ns), ratio(s.lib(ours), s.lib(lib))
	v.measured, v.met = true, r <= limit
	v.detail = fmt.Sprintf("%s %s ns, %s %s ns: %s (needs ≤ %s)",
		ours, fmtNs(o), lib, fmtNs(p), fmtGoalRatio(r), fmtGoalRatio(limit))
	v.detail += variant(s, ours, s.lib(lib))
	return v
}

// evaluate checks each goal of the benchmark issue against the medians.
func evaluate(scens []*scenario, ours string) []verdict {
	find := func(name string) *scenario { return findScenario(scens, name) }
	against := func(goal, scen, lib string, limit float64) verdict {
		return versus(scens, ours, goal, scen, lib, limit)
	}

	var out []verdict

	// The full chain with its breaker open answers from the fallback faster
	// than every peer (the fastest of them included), with 0 allocs.
	{
		v := verdict{goal: "ChainOpen: fallback served faster than every peer, 0 allocs/op"}
		if s := find("ChainOpen"); s != nil && s.lib(ours) != nil {
			var fastest *result
			for _, r := range s.libs {
				if isPeer(r.lib, ours) && (fastest == nil || median(r.ns) < median(fastest.ns)) {
					fastest = r
				}
			}
			if fastest != nil {
				o, p, allocs := median(s.lib(ours).ns), median(fastest.ns), median(s.lib(ours).allocs)
				r := ratio(s.lib(ours), fastest)
				v.measured = true
				v.met = r < 1 && allocs == 0
				v.detail = fmt.Sprintf("%s %s ns, %s allocs/op; fastest peer %s %s ns: %s (needs < 1.000×, 0 allocs/op)",
					ours, fmtNs(o), fmtCount(allocs), fastest.lib, fmtNs(p), fmtGoalRatio(r))
				v.detail += variant(s, ours, fastest)
			}
		}
		if !v.measured {
			v.detail = "needs ChainOpen/lib=" + ours + " and a peer"
		}
		out = append(out, v)
	}

	out = append(out,
		against("ChainSuccess: ≤ 1.1× the same parts composed by hand", "ChainSuccess", "hand", 1.1),
		against("ChainSuccess: ≥ 2× faster than failsafe-go", "ChainSuccess", "failsafe", 0.5),
	)

	// When the caller's deadline is earlier than the policy's, the chain
	// makes no timer and allocates nothing. The timer is checked by
	// TestChainCallerDeadlineMakesNoTimer; the table sees allocations only.
	{
		v := verdict{goal: "ChainCallerDeadline: 0 allocs/op (no timer: see TestChainCallerDeadlineMakesNoTimer)"}
		if s := find("ChainCallerDeadline"); s != nil && s.lib(ours) != nil {
			allocs := median(s.lib(ours).allocs)
			v.measured = !math.IsNaN(allocs)
			v.met = allocs == 0
			v.detail = fmt.Sprintf("%s %s allocs/op, %s B/op", ours, fmtCount(allocs), fmtCount(median(s.lib(ours).bytes)))
			if r := s.lib(ours + "-exec"); r != nil {
				v.detail += fmt.Sprintf(" (%s-exec: %s allocs/op)", ours, fmtCount(median(r.allocs)))
			}
		}
		if !v.measured {
			v.detail = "needs ChainCallerDeadline/lib=" + ours + " with -benchmem"
		}
		out = append(out, v)
	}

	out = append(out,
		// A closed breaker's success path is gobreaker plus our bookkeeping:
		// within 1.1× of gobreaker alone, serially and in parallel.
		against("BreakerSuccess: ≤ 1.1× gobreaker alone", "BreakerSuccess", "gobreaker", 1.1),
		against("BreakerSuccessParallel: ≤ 1.1× gobreaker alone", "BreakerSuccessParallel", "gobreaker", 1.1),
		against("BreakerOpenParallel: throughput no worse than gobreaker alone", "BreakerOpenParallel", "gobreaker", 1),
		against("Adaptive: acquire+release ≤ 2× the bulkhead's", "Adaptive", "bulkhead", 2),
		against("AdaptiveParallel: acquire+release ≤ 2× the bulkhead's", "AdaptiveParallel", "bulkhead", 2),
	)
	out = append(out, retryGoals(scens, ours)...)
	out = append(out, hedgeGoals(scens, ours)...)
	return out
}

// fmtGoalRatio shows a ratio to three decimals, so that one just over a
// limit does not print as the limit.
func fmtGoalRatio(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "—"
	}
	return fmt.Sprintf("%.3f×", r)
}

// variant returns, for a scenario that also has our -exec row (the chain
// run with Execute, without resilience.Do), that row's ratio to peer, so
// that the cost of Do can be told from the cost of the policies.
func variant(s *scenario, ours string, peer *result) string {
	e := s.lib(ours + "-exec")
	if e == nil {
		return ""
	}
	return fmt.Sprintf("; %s-exec %s ns, %s allocs/op: %s", ours, fmtNs(median(e.ns)), fmtCount(median(e.allocs)), fmtGoalRatio(ratio(e, peer)))
}
