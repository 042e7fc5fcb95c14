package health

import (
	"encoding/json"
	"time"
)

// A Link is a replica's connection to state it shares with the others, such
// as a *fleet.Fleet's link to Redis, given to Config.Links as it is. The
// service keeps running on local state without it, so a broken link makes
// the report Degraded, never Down: taking every replica out of rotation
// because the shared store is away would turn a Redis outage into a
// service outage. Its methods must be safe for concurrent use and must not
// block (read memory, not the network).
type Link interface {
	// Name names the link in the report.
	Name() string
	// LinkHealth reports whether the link works now, how stale the shared
	// state may be, and, when it does not work, the last error.
	LinkHealth() (ok bool, lag time.Duration, err error)
}

// A LinkReport is the state of one Link.
type LinkReport struct {
	// Name is the link's Name.
	Name string
	// OK is true while the link works.
	OK bool
	// Lag is how stale the shared state may be.
	Lag time.Duration
	// Err is the last error when the link does not work, or nil.
	Err error
}

// MarshalJSON encodes r as {"name": …, "ok": …, "lag_seconds": …} with
// "error" added when there is one.
func (r LinkReport) MarshalJSON() ([]byte, error) {
	type link struct {
		Name  string  `json:"name"`
		OK    bool    `json:"ok"`
		Lag   float64 `json:"lag_seconds"`
		Error string  `json:"error,omitempty"`
	}
	l := link{Name: r.Name, OK: r.OK, Lag: r.Lag.Seconds()}
	if r.Err != nil {
		l.Error = r.Err.Error()
	}
	return json.Marshal(l)
}

// appendLinks appends a report for each link, and returns the status st
// becomes: at least Degraded while any link is broken.
func (c *Checker) appendLinks(rs []LinkReport, st Status) ([]LinkReport, Status) {
	for _, l := range c.cfg.Links {
		ok, lag, err := l.LinkHealth()
		rs = append(rs, LinkReport{Name: l.Name(), OK: ok, Lag: lag, Err: err})
		if !ok && st == OK {
			st = Degraded
		}
	}
	return rs, st
}
