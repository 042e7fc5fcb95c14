package main

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// An outcome is how one request ended, as its caller saw it.
type outcome int

const (
	ok      outcome = iota // a 200 from the upstream
	failed                 // a 5xx, a timeout or a transport error
	refused                // refused fast by the library: breaker open or bulkhead full
	cut                    // still waiting when the run ended, and cancelled then
)

// A result is one finished request.
type result struct {
	outcome  outcome
	fallback bool // answered from the cached price instead
	latency  time.Duration
	phase    phase // the upstream's phase when the request started
}

// counts are the requests of an interval or of a whole run.
type counts struct {
	Requests  int // started (in a row of the table, the row counts those that finished instead: Done)
	OK        int
	Failed    int
	Refused   int
	Fallbacks int // failed or refused requests answered with the cached price
}

// Done is how many requests finished: OK + Failed + Refused.
func (c counts) Done() int { return c.OK + c.Failed + c.Refused }

// A recorder keeps one client's counts. Safe for concurrent use.
type recorder struct {
	inFlight atomic.Int64

	mu         sync.Mutex
	interval   counts
	latencies  []time.Duration // of the requests finished in this interval
	total      counts
	all        []time.Duration // of every request, cut ones at their wait so far
	refusedIn  [numPhases]int
	failedIn   [numPhases]int
	okIn       [numPhases]int
	startedIn  [numPhases]int
	cut        int
	oldestCut  time.Duration
	peakFlight int64
}

func (r *recorder) started(ph phase) {
	n := r.inFlight.Add(1)
	r.mu.Lock()
	r.startedIn[ph]++
	r.interval.Requests++
	r.total.Requests++
	r.peakFlight = max(r.peakFlight, n)
	r.mu.Unlock()
}

func (r *recorder) finished(res result) {
	r.inFlight.Add(-1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if res.outcome == cut {
		// It never finished: its wait so far is a lower bound of its
		// latency, which the summary's percentiles include.
		r.cut++
		r.oldestCut = max(r.oldestCut, res.latency)
		r.all = append(r.all, res.latency)
		return
	}
	for _, c := range []*counts{&r.interval, &r.total} {
		switch res.outcome {
		case ok:
			c.OK++
		case failed:
			c.Failed++
		case refused:
			c.Refused++
		}
		if res.fallback {
			c.Fallbacks++
		}
	}
	switch res.outcome {
	case ok:
		r.okIn[res.phase]++
	case failed:
		r.failedIn[res.phase]++
	case refused:
		r.refusedIn[res.phase]++
	}
	r.latencies = append(r.latencies, res.latency)
	r.all = append(r.all, res.latency)
}

// take returns the counts and latencies of the interval that ends now and
// starts the next one.
func (r *recorder) take() (counts, []time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, l := r.interval, r.latencies
	r.interval, r.latencies = counts{}, nil
	return c, l
}

// percentile returns the p-th percentile (0 < p <= 1) of ds, sorting ds;
// zero when ds is empty.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(p*float64(len(ds))+0.999999) - 1
	return ds[max(0, min(i, len(ds)-1))]
}
