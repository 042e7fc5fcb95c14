package health

import (
	"encoding/json"
	"fmt"

	"github.com/go-resilience/resilience/breaker"
)

// A Report is the state of what a Checker watches at one moment. Its JSON
// form is what the Checker's handler serves:
//
//	{
//	  "status": "degraded",
//	  "breakers": [
//	    {"name": "payments", "state": "open", "status": "down"},
//	    {"name": "hosts", "key": "a.example", "state": "closed", "status": "ok"}
//	  ],
//	  "bulkheads": [
//	    {"name": "payments", "in_flight": 3, "waiting": 0, "max_concurrent": 8, "saturation": 0.375, "rejected": 12}
//	  ]
//	}
type Report struct {
	// Status sums up the breakers: OK when all are closed (or there are
	// none), Down when all are open and none is covered, Degraded
	// otherwise. A server that is shedding load (Config.Shedders) makes it
	// at least Degraded, and so does a broken link (Config.Links).
	Status Status `json:"status"`
	// Breakers holds one entry per breaker; never nil.
	Breakers []BreakerReport `json:"breakers"`
	// Bulkheads holds one entry per bulkhead; never nil.
	Bulkheads []BulkheadReport `json:"bulkheads"`
	// Limiters holds one entry per adaptive limiter (Config.Limiters);
	// omitted from the JSON when there are none.
	Limiters []LimiterReport `json:"limiters,omitempty"`
	// Shedding lists the Config.Shedders that are shedding load now;
	// omitted from the JSON when none is.
	Shedding []SheddingReport `json:"shedding,omitempty"`
	// Links holds one entry per Config.Links; omitted from the JSON when
	// there are none.
	Links []LinkReport `json:"links,omitempty"`
}

// A BreakerReport is the state of one breaker.
type BreakerReport struct {
	// Name is the breaker's Config.Name.
	Name string
	// Key is the breaker's key in its set, "" for a breaker on its own.
	Key string
	// State is the breaker's state; forced states are reported as such.
	State breaker.State
	// Status is what this breaker says about its dependency: OK when
	// closed or forced closed, Degraded when half-open, Down when open or
	// forced open, or Degraded when open and Covered.
	Status Status
	// Covered is true for a breaker named in Config.Covered: a fallback
	// answers its calls while it refuses them.
	Covered bool
}

// MarshalJSON encodes r with lower-case field names, the state as its
// String ("closed", "half-open", "open", "forced-open", "forced-closed"),
// no key for a breaker outside a set, and "covered": true only for a
// covered breaker.
func (r BreakerReport) MarshalJSON() ([]byte, error) {
	return json.Marshal(breakerJSON{Name: r.Name, Key: r.Key, State: r.State.String(), Status: r.Status, Covered: r.Covered})
}

// UnmarshalJSON decodes what MarshalJSON encodes, for clients that read a
// Report back.
func (r *BreakerReport) UnmarshalJSON(b []byte) error {
	var j breakerJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	for st := breaker.Closed; st <= breaker.ForcedClosed; st++ {
		if st.String() == j.State {
			*r = BreakerReport{Name: j.Name, Key: j.Key, State: st, Status: j.Status, Covered: j.Covered}
			return nil
		}
	}
	return fmt.Errorf("health: unknown breaker state %q", j.State)
}

type breakerJSON struct {
	Name    string `json:"name"`
	Key     string `json:"key,omitempty"`
	State   string `json:"state"`
	Status  Status `json:"status"`
	Covered bool   `json:"covered,omitempty"`
}

// A BulkheadReport is the occupancy of one bulkhead.
type BulkheadReport struct {
	// Name is the bulkhead's Config.Name.
	Name string `json:"name"`
	// Key is the bulkhead's key in its Source (per-key bulkheads), "" for
	// one on its own or shared by every key.
	Key string `json:"key,omitempty"`
	// InFlight is how many calls hold a slot.
	InFlight int `json:"in_flight"`
	// Waiting is how many callers wait for a slot.
	Waiting int `json:"waiting"`
	// MaxConcurrent is the number of slots.
	MaxConcurrent int `json:"max_concurrent"`
	// Saturation is InFlight / MaxConcurrent, from 0 (idle) to 1 (full).
	Saturation float64 `json:"saturation"`
	// Rejected is how many calls the bulkhead has refused since it was made.
	Rejected uint64 `json:"rejected"`
}
