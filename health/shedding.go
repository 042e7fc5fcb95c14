package health

import "time"

// A Shedder is a server that refuses requests when it is overloaded:
// *httpx.Server and *grpcx.Server, given to Config.Shedders as they are.
// Its methods must be safe for concurrent use.
type Shedder interface {
	// Name names the server in the report.
	Name() string
	// Shedding reports whether the server is refusing requests now, and
	// since when.
	Shedding() (since time.Time, ok bool)
}

// A SheddingReport says that one server is shedding load, and since when.
type SheddingReport struct {
	// Name is the server's Name.
	Name string `json:"name"`
	// Since is when the server began refusing requests, with no pause of
	// note since.
	Since time.Time `json:"since"`
}

// appendShedding appends a report for each shedder that is shedding now,
// and returns the status st becomes: at least Degraded while any sheds,
// Down when Config.UnavailableWhenShedding says so.
func (c *Checker) appendShedding(rs []SheddingReport, st Status) ([]SheddingReport, Status) {
	for _, s := range c.cfg.Shedders {
		if since, ok := s.Shedding(); ok {
			rs = append(rs, SheddingReport{Name: s.Name(), Since: since})
		}
	}
	switch {
	case len(rs) == 0:
	case c.cfg.UnavailableWhenShedding:
		st = Down
	case st == OK:
		st = Degraded
	}
	return rs, st
}
