// Package refusal names why a policy of this module refused a call, the
// same way for every exporter: the reason label of metrics'
// rejections_total and the error.type of otelx's spans and instruments.
// One table keeps the two from drifting apart when a policy is added.
package refusal

import (
	"errors"

	"github.com/go-resilience/resilience/adaptive"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/ratelimit"
	"github.com/go-resilience/resilience/timeout"
)

// A Reason is why a call was refused.
type Reason uint8

// The reasons, in the order of Names. Count is their number.
const (
	BreakerOpen Reason = iota
	ProbeLimit
	BulkheadFull
	AbandonLimit
	Other
	AdaptiveLimit
	Throttled
	RateLimited
	Count
)

// Names are the reasons' label values, indexed by Reason.
var Names = [Count]string{
	BreakerOpen:   "breaker_open",
	ProbeLimit:    "probe_limit",
	BulkheadFull:  "bulkhead_full",
	AbandonLimit:  "abandon_limit",
	Other:         "other",
	AdaptiveLimit: "adaptive_limit",
	Throttled:     "throttled",
	RateLimited:   "rate_limited",
}

// sentinels maps the policies' refusal errors to reasons, in the order
// they are tried.
var sentinels = [...]struct {
	err    error
	reason Reason
}{
	{breaker.ErrOpen, BreakerOpen},
	{breaker.ErrTooManyProbes, ProbeLimit},
	{bulkhead.ErrFull, BulkheadFull},
	{timeout.ErrTooManyAbandoned, AbandonLimit},
	{adaptive.ErrLimited, AdaptiveLimit},
	{adaptive.ErrThrottled, Throttled},
	{ratelimit.ErrLimited, RateLimited},
}

// Of returns the reason of a refusal error, Other for an error of no
// policy of this module.
func Of(err error) Reason {
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.reason
		}
	}
	return Other
}
