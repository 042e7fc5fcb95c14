package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRetryGoals(t *testing.T) {
	in := `BenchmarkRetrySuccess/lib=resilience-2  1  20 ns/op  0 B/op  0 allocs/op
BenchmarkRetrySuccess/lib=failsafe-2  1  600 ns/op  488 B/op  15 allocs/op
BenchmarkRetryChain/lib=resilience-2  1  180 ns/op  0 B/op  0 allocs/op
BenchmarkRetryChain/lib=resilience-noretry-2  1  160 ns/op  0 B/op  0 allocs/op
`
	vs := retryGoals(mustParse(t, in), "resilience")
	assert.Equal(t, "met", find(t, vs, "RetrySuccess").status())
	assert.Contains(t, find(t, vs, "RetrySuccess").detail, "0.033×")
	chain := find(t, vs, "RetryChain")
	assert.Equal(t, "missed", chain.status())
	assert.Contains(t, chain.detail, "+20.0 ns")
	assert.Equal(t, "not measured", find(t, retryGoals(nil, "resilience"), "RetryChain").status())
}
