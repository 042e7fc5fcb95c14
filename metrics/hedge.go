package metrics

import (
	"sync/atomic"

	"github.com/go-resilience/resilience"
	"github.com/prometheus/client_golang/prometheus"
)

// hedgeDescs are the descriptors of the hedge policy's series.
type hedgeDescs struct {
	sent, won, refused *prometheus.Desc
}

func newHedgeDescs(desc func(name, help string, extra ...string) *prometheus.Desc) hedgeDescs {
	return hedgeDescs{
		sent: desc("hedges_total",
			"Extra attempts a hedge policy sent because the attempts before them were slow."),
		won: desc("hedge_wins_total",
			"Calls a hedge (not the first attempt) answered first."),
		refused: desc("hedge_budget_refusals_total",
			"Hedges the budget refused; the call ran on with the attempts it had."),
	}
}

func (d hedgeDescs) all() []*prometheus.Desc {
	return []*prometheus.Desc{d.sent, d.won, d.refused}
}

// hedgeCounts are the hedge counters of a series.
type hedgeCounts struct {
	sent, won, refused atomic.Uint64
}

// isHedgeEvent reports whether kind is one of the hedge policy's.
func isHedgeEvent(kind resilience.EventKind) bool {
	return kind == resilience.EventHedgeSent || kind == resilience.EventHedgeWon || kind == resilience.EventHedgeRefused
}

// observeHedge records EventHedgeSent, EventHedgeWon and EventHedgeRefused.
func (s *series) observeHedge(kind resilience.EventKind) {
	switch kind {
	case resilience.EventHedgeSent:
		s.hedge.sent.Add(1)
	case resilience.EventHedgeWon:
		s.hedge.won.Add(1)
	case resilience.EventHedgeRefused:
		s.hedge.refused.Add(1)
	}
}

// collectHedge sends the hedge counters that are not zero.
func (s *series) collectHedge(c *Collector, send func(d *prometheus.Desc, t prometheus.ValueType, v float64, extra ...string)) {
	for _, m := range [...]struct {
		d *prometheus.Desc
		n *atomic.Uint64
	}{{c.hedge.sent, &s.hedge.sent}, {c.hedge.won, &s.hedge.won}, {c.hedge.refused, &s.hedge.refused}} {
		if n := m.n.Load(); n > 0 {
			send(m.d, prometheus.CounterValue, float64(n))
		}
	}
}
