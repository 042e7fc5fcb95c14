package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestHedgeGoals(t *testing.T) {
	in := `BenchmarkHedgeFirstAnswers/lib=resilience-2  1  330 ns/op  320 B/op  1 allocs/op
BenchmarkHedgeFirstAnswers/lib=timer-2  1  290 ns/op  112 B/op  1 allocs/op
BenchmarkHedgeFirstAnswers/lib=bare-2  1  3 ns/op  0 B/op  0 allocs/op
BenchmarkHedgeFirstAnswers/lib=failsafe-2  1  2500 ns/op  1328 B/op  26 allocs/op
`
	vs := hedgeGoals(mustParse(t, in), "resilience")
	assert.Equal(t, "met", find(t, vs, "HedgeFirstAnswers: ≥ 2×").status())
	assert.Contains(t, find(t, vs, "HedgeFirstAnswers: ≥ 2×").detail, "0.132×")
	assert.Equal(t, "met", find(t, vs, "HedgeFirstAnswers: the hedge").status())
	slow := hedgeGoals(mustParse(t, strings.Replace(in, "330 ns/op", "780 ns/op", 1)), "resilience")
	assert.Equal(t, "missed", find(t, slow, "HedgeFirstAnswers: the hedge").status(), "2.7× a timer")
	assert.Equal(t, "not measured", find(t, hedgeGoals(nil, "resilience"), "HedgeFirstAnswers: the hedge").status())
}
