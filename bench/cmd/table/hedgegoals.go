package main

import "fmt"

// hedgeGoals are the goals of the hedge scenarios: a call whose first
// attempt answers before the delay adds to the call no more than setting
// and stopping one time.AfterFunc timer would (issue 16), and costs far
// less than failsafe-go's hedge policy.
func hedgeGoals(scens []*scenario, ours string) []verdict {
	out := []verdict{versus(scens, ours, "HedgeFirstAnswers: ≥ 2× faster than failsafe-go's hedge", "HedgeFirstAnswers", "failsafe", 0.5)}
	{
		v := verdict{goal: "HedgeFirstAnswers: the hedge adds at most a timer's set and stop (≤ 1.0×), 0 goroutines (issue 16; goroutines: hedge TestFirstAnswerStartsNoGoroutine)"}
		if s := findScenario(scens, "HedgeFirstAnswers"); s != nil && s.lib(ours) != nil && s.lib("timer") != nil && s.lib("bare") != nil {
			h, tm := diff(s.lib(ours), s.lib("bare")), diff(s.lib("timer"), s.lib("bare"))
			v.measured, v.met = true, h <= tm
			v.detail = fmt.Sprintf("%s +%s ns over bare, timer +%s ns: %s (needs ≤ 1.000×)", ours, fmtNs(h), fmtNs(tm), fmtGoalRatio(h/tm))
		} else {
			v.detail = "needs HedgeFirstAnswers/lib=" + ours + ", /lib=timer and /lib=bare"
		}
		out = append(out, v)
	}
	return out
}
