package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestHedgeGoals(t *testing.T) {
	in := `BenchmarkHedgeFirstAnswers/lib=resilience-2  1  140 ns/op  24 B/op  1 allocs/op
BenchmarkHedgeFirstAnswers/lib=timer-2  1  180 ns/op  112 B/op  1 allocs/op
BenchmarkHedgeFirstAnswers/lib=bare-2  1  3 ns/op  0 B/op  0 allocs/op
BenchmarkHedgeFirstAnswers/lib=failsafe-2  1  2500 ns/op  1328 B/op  26 allocs/op
`
	vs := hedgeGoals(mustParse(t, in), "resilience")
	assert.Equal(t, "met", find(t, vs, "HedgeFirstAnswers: ≥ 2×").status())
	assert.Contains(t, find(t, vs, "HedgeFirstAnswers: ≥ 2×").detail, "0.056×")
	assert.Equal(t, "met", find(t, vs, "HedgeFirstAnswers: the hedge").status())
	assert.Contains(t, find(t, vs, "HedgeFirstAnswers: the hedge").detail, "resilience +137 ns over bare, timer +177 ns: 0.774× (needs ≤ 1.000×)")
	level := hedgeGoals(mustParse(t, strings.Replace(in, "140 ns/op", "180 ns/op", 1)), "resilience")
	assert.Equal(t, "met", find(t, level, "HedgeFirstAnswers: the hedge").status(), "as much as a timer")
	slow := hedgeGoals(mustParse(t, strings.Replace(in, "140 ns/op", "221 ns/op", 1)), "resilience")
	assert.Equal(t, "missed", find(t, slow, "HedgeFirstAnswers: the hedge").status(), "1.24× a timer (the pooled timer with an unpooled 320 B call state)")
	assert.Equal(t, "not measured", find(t, hedgeGoals(nil, "resilience"), "HedgeFirstAnswers: the hedge").status())
}
