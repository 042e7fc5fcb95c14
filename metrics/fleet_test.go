package metrics_test

import (
	"errors"
	"testing"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/metrics"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
)

// A fleet's reads of its store and its errors are counted in series of
// their own.
func TestFleetSyncsAndErrorsAreCounted(t *testing.T) {
	c := newCollector(t, metrics.Config{})
	c.Observe(resilience.Event{Kind: resilience.EventSync, Policy: "fleet", Latency: 250 * time.Millisecond})
	c.Observe(resilience.Event{Kind: resilience.EventSync, Policy: "fleet", Latency: 250 * time.Millisecond})
	c.Observe(resilience.Event{Kind: resilience.EventSyncError, Policy: "fleet", Err: errors.New("connection refused")})
	compare(t, c, `
# HELP resilience_fleet_sync_errors_total Operations of a fleet on its store that failed (calls went on with local state).
# TYPE resilience_fleet_sync_errors_total counter
resilience_fleet_sync_errors_total{key="",policy="fleet"} 1
# HELP resilience_fleet_sync_seconds_total Time those reads took, in all (divide by fleet_syncs_total for the mean).
# TYPE resilience_fleet_sync_seconds_total counter
resilience_fleet_sync_seconds_total{key="",policy="fleet"} 0.5
# HELP resilience_fleet_syncs_total Reads of the fleet's shared state from its store that succeeded.
# TYPE resilience_fleet_syncs_total counter
resilience_fleet_syncs_total{key="",policy="fleet"} 2
`)
	assert.Equal(t, 3, testutil.CollectAndCount(c), "no call or breaker series")
}
