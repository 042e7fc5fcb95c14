package dashboard

import (
	"cmp"
	"encoding/json"
	"slices"
	"time"

	"github.com/go-resilience/resilience/breaker"
)

// historyLen is how many samples of rates each series keeps for the
// page's sparklines: two minutes at the default Interval.
const historyLen = 120

// counts are a series' counters at one moment.
type counts struct{ calls, failures, rejected uint64 }

// rates are per second, between two samples.
type rates struct{ calls, failures, rejected float64 }

func (s *series) counts() counts {
	c := counts{calls: s.calls.Load(), failures: s.failures.Load()}
	for i := range s.rejected {
		c.rejected += s.rejected[i].Load()
	}
	return c
}

// sampleLocked takes a sample of every series' rates, when at least half
// an interval has passed since the last one, and moves the latency window
// on. r.sampleMu must be held.
func (r *Recorder) sampleLocked(now time.Time, interval, window time.Duration) {
	if r.lastSample.IsZero() || now.Sub(r.lastSample) >= interval/2 {
		secs := now.Sub(r.lastSample).Seconds()
		first := r.lastSample.IsZero()
		for _, s := range r.all() {
			c := s.counts()
			if !first && secs > 0 {
				s.rate = rates{
					calls:    float64(c.calls-s.last.calls) / secs,
					failures: float64(c.failures-s.last.failures) / secs,
					rejected: float64(c.rejected-s.last.rejected) / secs,
				}
				s.history[s.next] = s.rate
				s.next = (s.next + 1) % historyLen
				s.nhist = min(s.nhist+1, historyLen)
			}
			s.last = c
		}
		r.lastSample = now
	}
	switch e := now.Sub(r.lastHalf); {
	case r.lastHalf.IsZero():
		r.lastHalf = now
	case e >= window:
		// Both halves are older than the window.
		for _, s := range r.all() {
			clearHalf(s, 0)
			clearHalf(s, 1)
		}
		r.lastHalf = now
	case e >= window/2:
		// Clear the older half, then fill it: the newer is kept.
		h := r.half.Load()
		for _, s := range r.all() {
			clearHalf(s, (h+1)&1)
		}
		r.half.Store(h + 1)
		r.lastHalf = now
	}
}

func clearHalf(s *series, h uint32) {
	for i := range s.latency[h] {
		s.latency[h][i].Store(0)
	}
}

// The message, as streamed and as snapshot.json; documented in doc.go.
type message struct {
	Time           time.Time      `json:"time"`
	Title          string         `json:"title"`
	IntervalMs     int64          `json:"interval_ms"`
	WindowMs       int64          `json:"window_ms"`
	Status         string         `json:"status"`
	Breakers       []breakerTile  `json:"breakers"`
	BreakersMore   int            `json:"breakers_more"`
	Bulkheads      []bulkheadTile `json:"bulkheads"`
	BulkheadsMore  int            `json:"bulkheads_more"`
	Policies       []policyTile   `json:"policies"`
	PoliciesMore   int            `json:"policies_more"`
	Timeline       []change       `json:"timeline"`
	Streams        int            `json:"streams"`
	StreamsDropped uint64         `json:"streams_dropped"`
}

type stats struct {
	CallsPerSec    float64           `json:"calls_per_sec"`
	FailuresPerSec float64           `json:"failures_per_sec"`
	RejectedPerSec float64           `json:"rejected_per_sec"`
	Calls          uint64            `json:"calls"`
	Failures       uint64            `json:"failures"`
	Rejected       map[string]uint64 `json:"rejected"`
	Timeouts       uint64            `json:"timeouts"`
	Fallbacks      uint64            `json:"fallbacks"`
	P50Ms          float64           `json:"p50_ms"`
	P90Ms          float64           `json:"p90_ms"`
	P99Ms          float64           `json:"p99_ms"`
	History        [][3]float64      `json:"history,omitempty"`
}

type breakerTile struct {
	Name  string `json:"name"`
	Key   string `json:"key"`
	State string `json:"state"`
	stats
}

type bulkheadTile struct {
	Name          string  `json:"name"`
	InFlight      int     `json:"in_flight"`
	MaxConcurrent int     `json:"max_concurrent"`
	Waiting       int     `json:"waiting"`
	Saturation    float64 `json:"saturation"`
	RejectedTotal uint64  `json:"rejected_total"`
	stats
}

type policyTile struct {
	Policy string `json:"policy"`
	Key    string `json:"key"`
	stats
}

// statsOf returns the figures of s (zero ones for nil). The Recorder's
// sampleMu must be held.
func statsOf(s *series, history bool) stats {
	st := stats{Rejected: map[string]uint64{}}
	if s == nil {
		return st
	}
	st.CallsPerSec, st.FailuresPerSec, st.RejectedPerSec = s.rate.calls, s.rate.failures, s.rate.rejected
	st.Calls, st.Failures = s.calls.Load(), s.failures.Load()
	for r := range s.rejected {
		if n := s.rejected[r].Load(); n > 0 {
			st.Rejected[reasonNames[r]] = n
		}
	}
	st.Timeouts, st.Fallbacks = s.timeouts.Load(), s.fallbacks.Load()
	var lat [numBuckets]uint64
	var total uint64
	for h := range s.latency {
		for i := range s.latency[h] {
			n := s.latency[h][i].Load()
			lat[i] += n
			total += n
		}
	}
	ms := func(q float64) float64 { return float64(percentile(&lat, total, q)) / 1e6 }
	st.P50Ms, st.P90Ms, st.P99Ms = ms(0.50), ms(0.90), ms(0.99)
	if history {
		st.History = make([][3]float64, 0, s.nhist)
		for i := range s.nhist {
			r := s.history[(s.next-s.nhist+i+historyLen)%historyLen]
			st.History = append(st.History, [3]float64{r.calls, r.failures, r.rejected})
		}
	}
	return st
}

// stateRank orders breakers for the page: the ones keeping calls away
// first, then probing, then letting calls through.
func stateRank(s breaker.State) int {
	switch s {
	case breaker.Open, breaker.ForcedOpen:
		return 0
	case breaker.HalfOpen:
		return 1
	}
	return 2
}

// build returns the message for now, listing at most limit entries of
// each list.
func (d *Dashboard) build(now time.Time, limit int, history bool) message {
	r := d.rec
	r.sampleMu.Lock()
	defer r.sampleMu.Unlock()
	r.sampleLocked(now, d.cfg.Interval, d.cfg.Window)
	m := message{
		Time:       now.UTC(),
		Title:      d.cfg.Title,
		IntervalMs: d.cfg.Interval.Milliseconds(),
		WindowMs:   d.cfg.Window.Milliseconds(),
		Breakers:   []breakerTile{},
		Bulkheads:  []bulkheadTile{},
		Policies:   []policyTile{},
		Timeline:   r.timeline.changes(),
	}
	m.Streams, m.StreamsDropped = d.hub.stats()

	type watched struct {
		b  *breaker.Breaker
		st breaker.State
	}
	var bs []watched
	for _, b := range d.cfg.Breakers {
		bs = append(bs, watched{b, b.State()})
	}
	for _, s := range d.cfg.Sets {
		s.Range(func(_ string, b *breaker.Breaker) bool {
			bs = append(bs, watched{b, b.State()})
			return true
		})
	}
	var up, down int
	for _, w := range bs {
		switch stateRank(w.st) {
		case 0:
			down++
		case 2:
			up++
		}
	}
	switch {
	case up == len(bs):
		m.Status = "ok"
	case down == len(bs):
		m.Status = "down"
	default:
		m.Status = "degraded"
	}
	slices.SortStableFunc(bs, func(a, b watched) int { return cmp.Compare(stateRank(a.st), stateRank(b.st)) })
	shown := make(map[pair]bool, len(bs)+len(d.cfg.Bulkheads))
	for _, w := range bs {
		p := pair{w.b.Name(), w.b.Key()}
		shown[p] = true
		if len(m.Breakers) == limit {
			m.BreakersMore++
			continue
		}
		m.Breakers = append(m.Breakers, breakerTile{Name: p.policy, Key: p.key, State: w.st.String(), stats: statsOf(r.get(p), history)})
	}
	for _, b := range d.cfg.Bulkheads {
		p := pair{b.Name(), ""}
		shown[p] = true
		if len(m.Bulkheads) == limit {
			m.BulkheadsMore++
			continue
		}
		t := bulkheadTile{Name: p.policy, InFlight: b.InFlight(), MaxConcurrent: b.MaxConcurrent(), Waiting: b.Waiting(),
			RejectedTotal: b.Rejected(), stats: statsOf(r.get(p), history)}
		if t.MaxConcurrent > 0 {
			t.Saturation = float64(t.InFlight) / float64(t.MaxConcurrent)
		}
		m.Bulkheads = append(m.Bulkheads, t)
	}
	for _, s := range r.all() {
		if shown[s.pair] {
			continue
		}
		if len(m.Policies) == limit {
			m.PoliciesMore++
			continue
		}
		m.Policies = append(m.Policies, policyTile{Policy: s.policy, Key: s.key, stats: statsOf(s, history)})
	}
	return m
}

// encode returns the message for now as JSON.
func (d *Dashboard) encode(now time.Time, limit int, history bool) []byte {
	b, err := json.Marshal(d.build(now, limit, history))
	if err != nil { // cannot happen: every value is encodable (no NaN)
		return []byte(`{}`)
	}
	return b
}
