// Package bench compares the resilience policies with the Go peers that
// do the same job, scenario by scenario, in one run.
//
// Every scenario is a Benchmark whose sub-benchmarks are named lib=NAME, so
// that benchstat and cmd/table group them:
//
//	BenchmarkBreakerSuccess/lib=resilience
//	BenchmarkBreakerSuccess/lib=gobreaker
//	BenchmarkBreakerSuccess/lib=failsafe
//
// The package holds no code of its own outside tests; run.sh runs the
// benchmarks and prints the comparison. See README.md.
package bench
