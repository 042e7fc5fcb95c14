package metrics

import (
	"iter"

	"github.com/go-resilience/resilience/bulkhead"
	"github.com/prometheus/client_golang/prometheus"
)

// A Source yields bulkheads with their keys, as many as it has at the
// moment: *httpx.Transport and *grpcx.Interceptors are Sources (their
// per-key bulkheads are made as keys are first seen), and so is any
// health.Source.
type Source interface {
	Bulkheads() iter.Seq2[string, *bulkhead.Bulkhead]
}

// WatchBulkheads has every Collect read the capacity (MaxConcurrent) and
// the callers waiting for a slot (Waiting) of each of bs, exported as
//
//	resilience_bulkhead_capacity{policy,key}  gauge
//	resilience_bulkhead_waiting{policy,key}   gauge
//
// with policy the bulkhead's Name and key "". An Event cannot carry
// these (a caller giving up its wait reports nothing), so they are read
// from the bulkhead itself when Prometheus scrapes, as package health does.
// Nil elements are skipped. It is safe to call at any time, concurrently
// with Collect and Observe.
func (c *Collector) WatchBulkheads(bs ...*bulkhead.Bulkhead) {
	if c == nil {
		return
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	for _, b := range bs {
		if b != nil {
			c.watched = append(c.watched, b)
		}
	}
}

// WatchSource is WatchBulkheads for the bulkheads of src, iterated again at
// every Collect, so that per-key bulkheads made later are exported too,
// each with its key. A nil src is ignored.
func (c *Collector) WatchSource(src Source) {
	if c == nil || src == nil {
		return
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.sources = append(c.sources, src)
}

// collectWatched sends the capacity and waiting series of the watched
// bulkheads, each (policy, key) pair once: the first bulkhead found for a
// pair wins, as two series with the same labels could not be scraped.
func (c *Collector) collectWatched(ch chan<- prometheus.Metric) {
	c.wmu.Lock()
	watched, sources := c.watched, c.sources
	c.wmu.Unlock()
	if len(watched) == 0 && len(sources) == 0 {
		return
	}
	seen := map[[2]string]bool{}
	send := func(key string, b *bulkhead.Bulkhead) {
		if b == nil {
			return
		}
		lv := [2]string{labelValue(b.Name()), labelValue(key)}
		if seen[lv] {
			return
		}
		seen[lv] = true
		ch <- constGauge(c.capacity, float64(b.MaxConcurrent()), lv[:])
		ch <- constGauge(c.waiting, float64(b.Waiting()), lv[:])
	}
	for _, b := range watched {
		send("", b)
	}
	for _, src := range sources {
		for key, b := range src.Bulkheads() {
			send(key, b)
		}
	}
}

func constGauge(d *prometheus.Desc, v float64, labels []string) prometheus.Metric {
	m, err := prometheus.NewConstMetric(d, prometheus.GaugeValue, v, labels...)
	if err != nil {
		return prometheus.NewInvalidMetric(d, err)
	}
	return m
}
