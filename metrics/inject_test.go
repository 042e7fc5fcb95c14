package metrics_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/inject"
	"github.com/go-resilience/resilience/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Injected faults are counted in series of their own, never as calls or
// failures of the dependency.
func TestInjectedFaultsAreCountedApart(t *testing.T) {
	c := newCollector(t, metrics.Config{})
	c.Observe(resilience.Event{Kind: resilience.EventInjected, Policy: "faults", Key: "api", Latency: 250 * time.Millisecond})
	c.Observe(resilience.Event{Kind: resilience.EventInjected, Policy: "faults", Key: "api", Latency: 250 * time.Millisecond, Err: inject.ErrInjected})
	c.Observe(resilience.Event{Kind: resilience.EventInjected, Policy: "faults", Key: "api", Err: inject.ErrInjected})
	compare(t, c, `
# HELP resilience_injected_delay_seconds_total Latency added on purpose by a fault injector.
# TYPE resilience_injected_delay_seconds_total counter
resilience_injected_delay_seconds_total{key="api",policy="faults"} 0.5
# HELP resilience_injected_errors_total Injected faults that failed the call (an error, an HTTP abort, a gRPC code).
# TYPE resilience_injected_errors_total counter
resilience_injected_errors_total{key="api",policy="faults"} 2
# HELP resilience_injected_faults_total Faults injected on purpose by a fault injector (delays, errors, or both).
# TYPE resilience_injected_faults_total counter
resilience_injected_faults_total{key="api",policy="faults"} 3
`)
	assert.Equal(t, 3, testutil.CollectAndCount(c), "no call, failure or breaker series")
}

// An Injector with the Collector as its Observer, inside a breaker that
// reports to the same Collector: the faults show as injected, and the
// breaker's failures are counted as calls.
func TestInjectorReportsToCollector(t *testing.T) {
	c := newCollector(t, metrics.Config{})
	in, err := inject.New(inject.Config{Name: "faults", Share: 1, Err: errors.New("down"), Observer: c})
	require.NoError(t, err)
	in.Enable()
	for range 4 {
		require.Error(t, in.Execute(context.Background(), func(context.Context) error { return nil }))
	}
	in.Disable()
	require.NoError(t, in.Execute(context.Background(), func(context.Context) error { return nil }))
	compare(t, c, `
# HELP resilience_injected_errors_total Injected faults that failed the call (an error, an HTTP abort, a gRPC code).
# TYPE resilience_injected_errors_total counter
resilience_injected_errors_total{key="",policy="faults"} 4
# HELP resilience_injected_faults_total Faults injected on purpose by a fault injector (delays, errors, or both).
# TYPE resilience_injected_faults_total counter
resilience_injected_faults_total{key="",policy="faults"} 4
`, "resilience_injected_faults_total", "resilience_injected_errors_total")
}

func TestForgetDropsInjectedSeries(t *testing.T) {
	c := newCollector(t, metrics.Config{})
	c.Observe(resilience.Event{Kind: resilience.EventInjected, Policy: "faults", Key: "k"})
	assert.Equal(t, 3, testutil.CollectAndCount(c))
	c.Forget("faults", "k")
	assert.Zero(t, testutil.CollectAndCount(c))
}

func TestObserveInjectedDoesNotAllocateOnceSeen(t *testing.T) {
	c := newCollector(t, metrics.Config{})
	ev := resilience.Event{Kind: resilience.EventInjected, Policy: "faults", Key: "k", Latency: time.Millisecond, Err: inject.ErrInjected}
	c.Observe(ev)
	assert.Zero(t, testing.AllocsPerRun(100, func() { c.Observe(ev) }))
}

func TestInjectedSeriesPassThePedanticRegistry(t *testing.T) {
	c := newCollector(t, metrics.Config{})
	c.Observe(resilience.Event{Kind: resilience.EventInjected, Policy: "faults", Latency: time.Second})
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	_, err := reg.Gather()
	require.NoError(t, err)
}
