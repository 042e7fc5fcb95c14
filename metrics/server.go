package metrics

import (
	"sync/atomic"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/internal/admit"
	"github.com/prometheus/client_golang/prometheus"
)

// serverDescs are the descriptors of the series of the server-side
// adapters (httpx.Server, grpcx.Server): requests admitted, requests shed
// by reason, and how long admitted requests waited for their Policy.
type serverDescs struct {
	admitted, shed, wait *prometheus.Desc
}

// shedReasons are the names of a server's refusal reasons, indexed by
// admit.Reason.
var shedReasons = admit.ReasonNames

func newServerDescs(desc func(name, help string, extra ...string) *prometheus.Desc) serverDescs {
	return serverDescs{
		admitted: desc("server_admitted_total",
			"Requests a server-side adapter let run."),
		shed: desc("server_shed_total",
			"Requests a server-side adapter refused at once, by reason (overload, rate_limit, deadline, queue).", labelReason),
		wait: desc("server_queue_wait_seconds",
			"Time admitted requests waited for the server's Policy."),
	}
}

func (d *serverDescs) describe(ch chan<- *prometheus.Desc) {
	ch <- d.admitted
	ch <- d.shed
	ch <- d.wait
}

// serverCounts are the values of one (policy, key) pair of a server.
type serverCounts struct {
	wait     atomic.Pointer[histogram] // nil until the pair is known to be a server
	admitted atomic.Uint64
	shed     [len(shedReasons)]atomic.Uint64
}

// observeServer records an EventAdmitted or EventShed.
func (c *Collector) observeServer(ev resilience.Event) {
	if c == nil {
		return
	}
	n := &c.lookup(ev.Policy, ev.Key).server
	h := n.wait.Load()
	if h == nil {
		h = &histogram{}
		h.init(c.nsWait)
		n.wait.CompareAndSwap(nil, h)
		h = n.wait.Load()
	}
	if ev.Kind == resilience.EventAdmitted {
		h.observe(ev.Latency)
		n.admitted.Add(1)
		return
	}
	n.shed[admit.ReasonOf(ev.Err)].Add(1)
}

// collect sends the pair's server series, once it has reported an event.
func (n *serverCounts) collect(c *Collector, s *series, ch chan<- prometheus.Metric) {
	h := n.wait.Load()
	if h == nil {
		return
	}
	send := func(d *prometheus.Desc, v float64, extra ...string) {
		m, err := prometheus.NewConstMetric(d, prometheus.CounterValue, v, append([]string{s.policy, s.key}, extra...)...)
		if err != nil {
			m = prometheus.NewInvalidMetric(d, err)
		}
		ch <- m
	}
	send(c.server.admitted, float64(n.admitted.Load()))
	for r, name := range shedReasons {
		send(c.server.shed, float64(n.shed[r].Load()), name)
	}
	ch <- histogramMetric(c.server.wait, c.cfg.WaitBuckets, []*histogram{h}, s.policy, s.key)
}
