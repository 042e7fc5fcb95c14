package timeout_test

import (
	"testing"

	"github.com/go-resilience/resilience/internal/eventlog"
	"github.com/go-resilience/resilience/timeout"
	"github.com/stretchr/testify/require"
)

func mustNew(t testing.TB, cfg timeout.Config) *timeout.Timeout {
	t.Helper()
	p, err := timeout.New(cfg)
	require.NoError(t, err)
	return p
}

// recorder is an Observer that keeps every event.
type recorder = eventlog.Recorder
