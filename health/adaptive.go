package health

import (
	"fmt"

	"github.com/go-resilience/resilience/adaptive"
)

// A LimiterReport is the occupancy of one adaptive concurrency limiter:
// a bulkhead whose size moves, so its saturation is against its current
// limit. In JSON:
//
//	{"name": "db", "limit": 24, "min_limit": 1, "max_limit": 200, "in_flight": 24, "saturation": 1, "rejected": 310}
type LimiterReport struct {
	// Name is the limiter's Config.Name.
	Name string `json:"name"`
	// Limit is how many calls the limiter lets run at once now.
	Limit int `json:"limit"`
	// MinLimit and MaxLimit are the bounds the limit moves within.
	MinLimit int `json:"min_limit"`
	MaxLimit int `json:"max_limit"`
	// InFlight is how many calls are running.
	InFlight int `json:"in_flight"`
	// Saturation is InFlight / Limit: 1 (or, while the limit falls below
	// the calls still running, more) when full.
	Saturation float64 `json:"saturation"`
	// Rejected is how many calls the limiter has refused since it was made.
	Rejected uint64 `json:"rejected"`
}

func checkLimiters(ls []*adaptive.Limiter) error {
	for i, l := range ls {
		if l == nil {
			return fmt.Errorf("health: Config.Limiters[%d] is nil", i)
		}
	}
	return nil
}

func limiterReports(ls []*adaptive.Limiter) []LimiterReport {
	if len(ls) == 0 {
		return nil
	}
	rs := make([]LimiterReport, 0, len(ls))
	for _, l := range ls {
		r := LimiterReport{
			Name:     l.Name(),
			Limit:    l.Limit(),
			MinLimit: l.MinLimit(),
			MaxLimit: l.MaxLimit(),
			InFlight: l.InFlight(),
			Rejected: l.Rejected(),
		}
		if r.Limit > 0 {
			r.Saturation = float64(r.InFlight) / float64(r.Limit)
		}
		rs = append(rs, r)
	}
	return rs
}
