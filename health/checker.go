package health

import (
	"fmt"

	"github.com/go-resilience/resilience/adaptive"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
)

// Config says what a Checker watches and how its handler answers. The zero
// value is valid: a Checker that watches nothing and reports OK.
type Config struct {
	// Breakers are reported each under its Name, and count towards Status.
	// Zero: none. Elements must not be nil.
	Breakers []*breaker.Breaker

	// Sets are keyed breaker sets, reported breaker by breaker under the
	// set's Name and each key, sorted by key. Every breaker a set holds at
	// the time of the report counts towards Status; keys it has not created
	// yet, or has evicted, do not. Zero: none. Elements must not be nil.
	Sets []*breaker.Set

	// Bulkheads are reported with their slots in use, callers waiting and
	// saturation. They do not change Status: a full bulkhead is the bound
	// doing its job, not a failing dependency. Zero: none. Elements must
	// not be nil.
	Bulkheads []*bulkhead.Bulkhead

	// Sources are groups of breakers and bulkheads that grow as calls
	// need them: an *httpx.Transport or *grpcx.Interceptors, given as they
	// are. Each report reads them again, so breakers and per-key bulkheads
	// made after New are reported: breakers under their Name and key,
	// sorted by key; bulkheads with their key, sorted by key. Zero: none.
	// Elements must not be nil.
	Sources []Source

	// Covered names the breakers (by their Config.Name) whose calls a
	// fallback answers while they refuse: an open covered breaker is
	// Degraded, not Down. Its dependency is down, but the service still
	// answers for it, so it must not take the instance out of rotation; the
	// report still shows the breaker open, with Covered set. For the
	// breakers of an httpx.Transport or grpcx.Interceptors, the name is the
	// Transport's or Interceptors' Config.Name (or their Breaker.Name).
	// Zero: none, every open breaker is Down.
	Covered []string

	// Limiters are adaptive concurrency limiters, reported beside the
	// bulkheads with their current limit, calls in flight and saturation
	// (see adaptive.go). Like bulkheads, they do not change Status. Zero:
	// none. Elements must not be nil.
	Limiters []*adaptive.Limiter

	// UnavailableWhenDegraded makes the handler answer 503 Service
	// Unavailable when the status is Degraded, not only when it is Down.
	// Zero: 503 only when Down.
	//
	// A readiness probe that fails takes the instance out of its load
	// balancer. When one dependency out of several is unavailable, the
	// instance can usually still serve (with fallbacks), and every instance
	// sees the same dependency, so failing readiness on Degraded would take
	// all of them out at once; hence the default.
	UnavailableWhenDegraded bool

	// Shedders are servers that refuse requests when overloaded
	// (*httpx.Server, *grpcx.Server). While one is shedding it is listed
	// in Report.Shedding with the time it began, and the status is at
	// least Degraded. Zero: none. Elements must not be nil.
	Shedders []Shedder

	// UnavailableWhenShedding makes the status Down, and the handler
	// answer 503, while any of Shedders is shedding, so that a readiness
	// probe takes the overloaded instance out of rotation until it
	// recovers. Zero: shedding is Degraded.
	UnavailableWhenShedding bool

	// Links are replicas' connections to shared state (*fleet.Fleet),
	// each listed in Report.Links. A broken one makes the status at least
	// Degraded, never Down (see Link). Zero: none. Elements must not be
	// nil.
	Links []Link
}

// A Checker reports the state of breakers and bulkheads, as a Go value
// (Report) and as JSON over HTTP (ServeHTTP, for readiness probes and
// dashboards).
//
// A Checker reads the policies through their own read methods (State,
// Range, InFlight and the like), takes no lock of its own and starts no
// goroutine. Reading an open breaker whose open duration has passed finds
// it half-open, as a call would (see breaker.Breaker.State). A Checker is
// safe for concurrent use. Make one with New; the zero value watches
// nothing.
type Checker struct {
	cfg     Config
	covered map[string]bool // Config.Covered; read only
}

// New returns a Checker for cfg, or an error naming the first nil element
// of cfg. It copies the slices of cfg: changing them later changes nothing.
func New(cfg Config) (*Checker, error) {
	for i, b := range cfg.Breakers {
		if b == nil {
			return nil, fmt.Errorf("health: Config.Breakers[%d] is nil", i)
		}
	}
	for i, s := range cfg.Sets {
		if s == nil {
			return nil, fmt.Errorf("health: Config.Sets[%d] is nil", i)
		}
	}
	for i, b := range cfg.Bulkheads {
		if b == nil {
			return nil, fmt.Errorf("health: Config.Bulkheads[%d] is nil", i)
		}
	}
	for i, src := range cfg.Sources {
		if src == nil {
			return nil, fmt.Errorf("health: Config.Sources[%d] is nil", i)
		}
	}
	cfg.Breakers = append([]*breaker.Breaker(nil), cfg.Breakers...)
	cfg.Sets = append([]*breaker.Set(nil), cfg.Sets...)
	cfg.Bulkheads = append([]*bulkhead.Bulkhead(nil), cfg.Bulkheads...)
	cfg.Sources = append([]Source(nil), cfg.Sources...)
	if err := checkLimiters(cfg.Limiters); err != nil {
		return nil, err
	}
	cfg.Limiters = append([]*adaptive.Limiter(nil), cfg.Limiters...)
	for i, s := range cfg.Shedders {
		if s == nil {
			return nil, fmt.Errorf("health: Config.Shedders[%d] is nil", i)
		}
	}
	cfg.Shedders = append([]Shedder(nil), cfg.Shedders...)
	for i, l := range cfg.Links {
		if l == nil {
			return nil, fmt.Errorf("health: Config.Links[%d] is nil", i)
		}
	}
	cfg.Links = append([]Link(nil), cfg.Links...)
	c := &Checker{cfg: cfg}
	if len(cfg.Covered) > 0 {
		c.covered = make(map[string]bool, len(cfg.Covered))
		for _, name := range cfg.Covered {
			c.covered[name] = true
		}
	}
	return c, nil
}

// Report reads every watched breaker and bulkhead now and sums them up.
// Breakers come in the order of Config.Breakers, then those of each set of
// Config.Sets, then those of each of Config.Sources; bulkheads in the
// order of Config.Bulkheads, then those of each of Config.Sources. Each
// policy is read on its own, so a report taken while states change may mix
// moments a few nanoseconds apart.
func (c *Checker) Report() Report {
	r := Report{Breakers: []BreakerReport{}, Bulkheads: []BulkheadReport{}}
	if c == nil {
		return r
	}
	for _, b := range c.cfg.Breakers {
		r.Breakers = append(r.Breakers, c.breakerReport(b))
	}
	for _, s := range c.cfg.Sets {
		r.Breakers = c.appendSet(r.Breakers, s)
	}
	for _, src := range c.cfg.Sources {
		r.Breakers = c.appendSet(r.Breakers, src.Breakers())
	}
	for _, b := range c.cfg.Bulkheads {
		r.Bulkheads = append(r.Bulkheads, bulkheadReport("", b))
	}
	for _, src := range c.cfg.Sources {
		r.Bulkheads = appendSource(r.Bulkheads, src)
	}
	r.Limiters = limiterReports(c.cfg.Limiters)
	r.Status = overall(r.Breakers)
	r.Shedding, r.Status = c.appendShedding(r.Shedding, r.Status)
	r.Links, r.Status = c.appendLinks(r.Links, r.Status)
	return r
}

// appendSet appends the reports of the breakers s keeps, in key order. A
// nil s (an httpx.Transport without breakers) has none.
func (c *Checker) appendSet(rs []BreakerReport, s *breaker.Set) []BreakerReport {
	if s == nil {
		return rs
	}
	s.Range(func(_ string, b *breaker.Breaker) bool {
		rs = append(rs, c.breakerReport(b))
		return true
	})
	return rs
}

func (c *Checker) breakerReport(b *breaker.Breaker) BreakerReport {
	st := b.State()
	r := BreakerReport{Name: b.Name(), Key: b.Key(), State: st, Status: breakerStatus(st), Covered: c.covered[b.Name()]}
	if r.Covered && r.Status == Down {
		r.Status = Degraded
	}
	return r
}

// breakerStatus says what one breaker in state st says about its
// dependency: closed is OK, half-open Degraded (it is probing), open Down.
// A forced state counts as the state it forces.
func breakerStatus(st breaker.State) Status {
	switch st {
	case breaker.Closed, breaker.ForcedClosed:
		return OK
	case breaker.Open, breaker.ForcedOpen:
		return Down
	}
	return Degraded
}

// overall is OK when every breaker is, Down when every breaker is, and
// Degraded otherwise. No breaker at all is OK.
func overall(bs []BreakerReport) Status {
	var ok, down int
	for _, b := range bs {
		switch b.Status {
		case OK:
			ok++
		case Down:
			down++
		}
	}
	switch {
	case ok == len(bs):
		return OK
	case down == len(bs):
		return Down
	}
	return Degraded
}

func bulkheadReport(key string, b *bulkhead.Bulkhead) BulkheadReport {
	r := BulkheadReport{
		Name:          b.Name(),
		Key:           key,
		InFlight:      b.InFlight(),
		Waiting:       b.Waiting(),
		MaxConcurrent: b.MaxConcurrent(),
		Rejected:      b.Rejected(),
	}
	if r.MaxConcurrent > 0 {
		r.Saturation = float64(r.InFlight) / float64(r.MaxConcurrent)
	}
	return r
}
