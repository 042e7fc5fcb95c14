package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sample = `goos: linux
goarch: amd64
pkg: github.com/go-resilience/resilience/bench
BenchmarkBreakerSuccess/lib=resilience-2   	 1000000	       100.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkBreakerSuccess/lib=gobreaker-2    	 1000000	       120.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkBreakerSuccess/lib=resilience-2   	 1000000	       300.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkBreakerSuccess/lib=gobreaker-2    	 1000000	       140.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkBreakerSuccess/lib=resilience-2   	 1000000	       110.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkBreakerSuccess/lib=gobreaker-2    	 1000000	       130.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkChainOpen/lib=resilience-2        	 1000000	        20.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkChainOpen/lib=hand-2              	 1000000	         5.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkChainOpen/lib=failsafe-2          	 1000000	      1800 ns/op	     768 B/op	      22 allocs/op
BenchmarkChainOpen/lib=eapache-2           	 1000000	        50.0 ns/op	       8 B/op	       1 allocs/op
BenchmarkChain/lib=broken-2
--- FAIL: BenchmarkChain/lib=broken-2
    chain_test.go:1: boom
BenchmarkOther-2                           	 1000000	        1.0 ns/op
PASS
`

func TestParseGroupsRunsByScenarioAndLibInOrderOfAppearance(t *testing.T) {
	scens, err := parse(strings.NewReader(sample))
	require.NoError(t, err)
	require.Len(t, scens, 2)
	assert.Equal(t, "BreakerSuccess", scens[0].name)
	assert.Equal(t, "ChainOpen", scens[1].name)
	require.Len(t, scens[0].libs, 2)
	assert.Equal(t, "resilience", scens[0].libs[0].lib)
	assert.Equal(t, []float64{100, 300, 110}, scens[0].libs[0].ns)
	assert.Equal(t, []float64{0, 0, 0}, scens[0].libs[0].allocs)
	assert.Equal(t, []string{"resilience", "hand", "failsafe", "eapache"}, libNames(scens[1]))
}

func TestParseIgnoresLinesThatAreNotResults(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"a failed benchmark prints its name alone", "BenchmarkX/lib=a-2\n--- FAIL: BenchmarkX/lib=a-2\n"},
		{"a benchmark without lib=", "BenchmarkX-2  100  1.0 ns/op\n"},
		{"a nested sub-benchmark under lib=", "BenchmarkX/lib=a/b-2  100  1.0 ns/op\n"},
		{"output printed on the result line", "BenchmarkX/lib=a-2  hello from the benchmark\n"},
		{"headers and PASS", "goos: linux\nPASS\nok  pkg 1.0s\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scens, err := parse(strings.NewReader(tc.in))
			require.NoError(t, err)
			assert.Empty(t, scens)
		})
	}
}

func TestParseRejectsAMalformedResultLine(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"a value without its unit", "BenchmarkX/lib=a-2  100  1.0 ns/op 5\n"},
		{"a value that is not a number", "BenchmarkX/lib=a-2  100  fast ns/op\n"},
		{"no ns/op", "BenchmarkX/lib=a-2  100  0 B/op\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(strings.NewReader(tc.in))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "line 1")
		})
	}
}

func TestParseKeepsScenariosThatDifferOnlyInProcs(t *testing.T) {
	scens, err := parse(strings.NewReader("BenchmarkX/lib=a-16  100  2.0 ns/op\nBenchmarkX/lib=a  100  4.0 ns/op\n"))
	require.NoError(t, err)
	require.Len(t, scens, 1)
	assert.Equal(t, []float64{2, 4}, scens[0].libs[0].ns, "the -GOMAXPROCS suffix is not part of the name")
}

func TestMedianAndSpread(t *testing.T) {
	assert.Equal(t, 110.0, median([]float64{300, 100, 110}))
	assert.Equal(t, 2.5, median([]float64{4, 1, 3, 2}))
	assert.True(t, math.IsNaN(median(nil)))
	assert.InDelta(t, 190.0/110, spread([]float64{300, 100, 110}), 1e-9)
	assert.True(t, math.IsNaN(spread([]float64{0, 0})), "no spread around a zero median")
}

func TestRatioPairsTheRunsWhenItCan(t *testing.T) {
	// Run 2 was slowed down for both libraries: paired, it still says 0.5.
	ours := &result{ns: []float64{10, 100, 10}}
	peer := &result{ns: []float64{20, 200, 20}}
	assert.Equal(t, 0.5, ratio(ours, peer))
	// A load burst that hit only ours in one run does not move the median.
	ours = &result{ns: []float64{10, 90, 10, 10}}
	peer = &result{ns: []float64{20, 20, 20, 20}}
	assert.Equal(t, 0.5, ratio(ours, peer))
	// Unequal run counts: the ratio of the medians.
	assert.Equal(t, 0.5, ratio(&result{ns: []float64{10, 10, 10}}, &result{ns: []float64{20, 20}}))
}

func TestTablesShowMediansAndOurRatioToEachLibrary(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out, strings.NewReader(sample), nil, "resilience"))
	got := out.String()
	assert.Contains(t, got, "Medians of 3 runs.")
	assert.Contains(t, got, "### BreakerSuccess\n")
	assert.Contains(t, got, "| resilience | 110 | 173% | 0 | 0 | — |\n")
	assert.Contains(t, got, "| gobreaker | 130 | 8% | 0 | 0 | 0.85× |\n")
	assert.Contains(t, got, "| failsafe | 1,800 | 0% | 768 | 22 | 0.011× |\n")
	assert.Contains(t, got, "| hand | 5.00 | 0% | 0 | 0 | 4.00× |\n")
	assert.NotContains(t, got, "broken")
}

func TestTableRowsAreOursThenBaselinesThenPeersWhateverTheRunOrder(t *testing.T) {
	in := `BenchmarkX/lib=rubyist-2  100  9.0 ns/op
BenchmarkX/lib=hand-2  100  2.0 ns/op
BenchmarkX/lib=resilience-exec-2  100  1.5 ns/op
BenchmarkX/lib=failsafe-2  100  8.0 ns/op
BenchmarkX/lib=resilience-2  100  1.0 ns/op
BenchmarkX/lib=bare-2  100  0.5 ns/op
`
	scens, err := parse(strings.NewReader(in))
	require.NoError(t, err)
	var out bytes.Buffer
	writeTables(&out, scens, "resilience")
	var got []string
	for _, line := range strings.Split(out.String(), "\n") {
		if name, ok := strings.CutPrefix(line, "| "); ok && !strings.HasPrefix(name, "lib ") {
			got = append(got, strings.Fields(name)[0])
		}
	}
	assert.Equal(t, []string{"resilience", "resilience-exec", "bare", "hand", "failsafe", "rubyist"}, got)
}

func TestGoalsAreJudgedOnMediansAgainstTheRightRows(t *testing.T) {
	vs := evaluate(mustParse(t, sample), "resilience")
	open := find(t, vs, "ChainOpen")
	assert.Equal(t, "met", open.status(), "20 ns is 0.40× eapache's 50 ns, the fastest peer; hand is a baseline, not a peer")
	assert.Contains(t, open.detail, "fastest peer eapache 50.0 ns: 0.400×")
	assert.Equal(t, "not measured", find(t, vs, "ChainSuccess: ≤ 1.1×").status())
	assert.Equal(t, "not measured", find(t, vs, "ChainCallerDeadline").status())
	success := find(t, vs, "BreakerSuccess: ≤ 1.1×")
	assert.Equal(t, "met", success.status(), "110 ns is 0.85× gobreaker's 130 ns")
	assert.Contains(t, success.detail, "resilience 110 ns, gobreaker 130 ns: 0.846× (needs ≤ 1.100×)")

	const ourOpen = "ChainOpen/lib=resilience-2        	 1000000	        20.0 ns/op	       0 B/op	       0 allocs/op"
	require.Contains(t, sample, ourOpen)
	nearOpen := strings.Replace(sample, ourOpen, "ChainOpen/lib=resilience-2 1000000 40.0 ns/op 0 B/op 0 allocs/op", 1)
	open = find(t, evaluate(mustParse(t, nearOpen), "resilience"), "ChainOpen")
	assert.Equal(t, "met", open.status(), "40 ns is 0.80× the fastest peer: faster than every peer")
	assert.Contains(t, open.detail, "(needs < 1.000×, 0 allocs/op)")

	slowOpen := strings.Replace(sample, ourOpen, "ChainOpen/lib=resilience-2 1000000 50.0 ns/op 0 B/op 0 allocs/op", 1)
	open = find(t, evaluate(mustParse(t, slowOpen), "resilience"), "ChainOpen")
	assert.Equal(t, "missed", open.status(), "as fast as the fastest peer is not faster than every peer")

	allocating := strings.Replace(sample, ourOpen, "ChainOpen/lib=resilience-2 1000000 20.0 ns/op 64 B/op 1 allocs/op", 1)
	open = find(t, evaluate(mustParse(t, allocating), "resilience"), "ChainOpen")
	assert.Equal(t, "missed", open.status(), "one allocation misses the goal however fast")
}

func TestGoalsOnAFullSetOfScenarios(t *testing.T) {
	in := `BenchmarkChainSuccess/lib=resilience-2  1  1050 ns/op  272 B/op  4 allocs/op
BenchmarkChainSuccess/lib=resilience-exec-2  1  990 ns/op  272 B/op  4 allocs/op
BenchmarkChainSuccess/lib=hand-2        1  1000 ns/op  272 B/op  4 allocs/op
BenchmarkChainSuccess/lib=failsafe-2    1  2000 ns/op  1224 B/op  29 allocs/op
BenchmarkChainCallerDeadline/lib=resilience-2  1  100 ns/op  16 B/op  1 allocs/op
BenchmarkChainCallerDeadline/lib=resilience-exec-2  1  90 ns/op  0 B/op  0 allocs/op
BenchmarkBreakerSuccess/lib=resilience-2  1  111 ns/op
BenchmarkBreakerSuccess/lib=gobreaker-2   1  100 ns/op
BenchmarkBreakerSuccessParallel/lib=resilience-2  1  106 ns/op
BenchmarkBreakerSuccessParallel/lib=gobreaker-2   1  100 ns/op
BenchmarkBreakerOpenParallel/lib=resilience-2  1  101 ns/op
BenchmarkBreakerOpenParallel/lib=gobreaker-2   1  100 ns/op
`
	vs := evaluate(mustParse(t, in), "resilience")
	for _, tc := range []struct{ goal, status, detail string }{
		{"ChainOpen", "not measured", "needs ChainOpen/lib=resilience"},
		{"ChainSuccess: ≤ 1.1×", "met", "resilience 1,050 ns, hand 1,000 ns: 1.050× (needs ≤ 1.100×); resilience-exec 990 ns, 4 allocs/op: 0.990×"},
		{"ChainSuccess: ≥ 2×", "missed", "resilience 1,050 ns, failsafe 2,000 ns: 0.525× (needs ≤ 0.500×)"},
		{"ChainCallerDeadline", "missed", "resilience 1 allocs/op, 16 B/op (resilience-exec: 0 allocs/op)"},
		{"BreakerSuccess: ≤ 1.1×", "missed", "resilience 111 ns, gobreaker 100 ns: 1.110× (needs ≤ 1.100×)"},
		{"BreakerSuccessParallel", "met", "resilience 106 ns, gobreaker 100 ns: 1.060× (needs ≤ 1.100×)"},
		{"BreakerOpenParallel", "missed", "1.010×"},
	} {
		t.Run(tc.goal, func(t *testing.T) {
			v := find(t, vs, tc.goal)
			assert.Equal(t, tc.status, v.status())
			assert.Contains(t, v.detail, tc.detail)
		})
	}
}

func TestRunReadsFilesAndReportsEmptyInput(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.txt"), filepath.Join(dir, "b.txt")
	require.NoError(t, os.WriteFile(a, []byte("BenchmarkX/lib=resilience-2  1  10 ns/op\n"), 0o600))
	require.NoError(t, os.WriteFile(b, []byte("BenchmarkX/lib=peer-2  1  20 ns/op\n"), 0o600))
	var out bytes.Buffer
	require.NoError(t, run(&out, strings.NewReader(""), []string{a, b}, "resilience"))
	assert.Contains(t, out.String(), "| peer | 20.0 | 0% | — | — | 0.50× |")

	err := run(&out, strings.NewReader("PASS\n"), nil, "resilience")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no benchmark results")

	err = run(&out, nil, []string{filepath.Join(dir, "missing.txt")}, "resilience")
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestFormatting(t *testing.T) {
	assert.Equal(t, "1,234,567", fmtNs(1234567.4))
	assert.Equal(t, "999", fmtNs(999))
	assert.Equal(t, "12.3", fmtNs(12.34))
	assert.Equal(t, "1.23", fmtNs(1.234))
	assert.Equal(t, "—", fmtNs(math.NaN()))
	assert.Equal(t, "0.5", fmtCount(0.5))
	assert.Equal(t, "1.50×", fmtRatio(1.5))
	assert.Equal(t, "0.011×", fmtRatio(0.0111))
	assert.Equal(t, "—", fmtRatio(math.Inf(1)))
}

func mustParse(t *testing.T, in string) []*scenario {
	t.Helper()
	scens, err := parse(strings.NewReader(in))
	require.NoError(t, err)
	return scens
}

// find returns the verdict whose goal starts with prefix.
func find(t *testing.T, vs []verdict, prefix string) verdict {
	t.Helper()
	for _, v := range vs {
		if strings.HasPrefix(v.goal, prefix) {
			return v
		}
	}
	require.Failf(t, "no such goal", "%q", prefix)
	return verdict{}
}

func libNames(s *scenario) []string {
	var names []string
	for _, r := range s.libs {
		names = append(names, r.lib)
	}
	return names
}
