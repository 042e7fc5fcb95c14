package bulkhead_test

import (
	"sync/atomic"
	"testing"

	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/internal/eventlog"
	"github.com/stretchr/testify/require"
)

func mustNew(t testing.TB, cfg bulkhead.Config) *bulkhead.Bulkhead {
	t.Helper()
	b, err := bulkhead.New(cfg)
	require.NoError(t, err)
	return b
}

// peak tracks how many calls run at once, and the most that ever did.
type peak struct {
	cur, max atomic.Int64
}

func (p *peak) enter() {
	n := p.cur.Add(1)
	for {
		m := p.max.Load()
		if n <= m || p.max.CompareAndSwap(m, n) {
			return
		}
	}
}

func (p *peak) leave() { p.cur.Add(-1) }

// recorder is an Observer that keeps every event.
type recorder = eventlog.Recorder
