package grpcx_test

import (
	"testing"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/grpcx"
	"github.com/go-resilience/resilience/internal/eventlog"
	"github.com/stretchr/testify/require"
)

// recorder is an Observer that keeps every event.
type recorder = eventlog.Recorder

// transitions returns the breaker state changes of key, as "from>to".
func transitions(r *recorder, key string) []string {
	var out []string
	for _, ev := range r.OfKind(resilience.EventStateChange) {
		if ev.Key == key {
			out = append(out, ev.From+">"+ev.To)
		}
	}
	return out
}

// mustNew is grpcx.New for a config the test knows to be valid.
func mustNew(t testing.TB, cfg grpcx.Config) *grpcx.Interceptors {
	t.Helper()
	ic, err := grpcx.New(cfg)
	require.NoError(t, err)
	return ic
}
