package metrics

import (
	"errors"

	"github.com/go-resilience/resilience/adaptive"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/ratelimit"
	"github.com/go-resilience/resilience/timeout"
)

// A reason is why a call was refused: the value of the reason label of
// rejections_total.
type reason uint8

const (
	reasonBreakerOpen reason = iota
	reasonProbeLimit
	reasonBulkheadFull
	reasonAbandonLimit
	reasonOther
	reasonAdaptiveLimit
	reasonThrottled
	reasonRateLimited
	numReasons
)

var reasonNames = [numReasons]string{
	reasonBreakerOpen:  "breaker_open",
	reasonProbeLimit:   "probe_limit",
	reasonBulkheadFull: "bulkhead_full",
	reasonAbandonLimit: "abandon_limit",
	reasonOther:        "other",

	// adaptive and ratelimit
	reasonAdaptiveLimit: "adaptive_limit",
	reasonThrottled:     "throttled",
	reasonRateLimited:   "rate_limited",
}

// reasonSentinels maps the policies' refusal errors to reasons, in the
// order they are tried.
var reasonSentinels = [...]struct {
	err    error
	reason reason
}{
	{breaker.ErrOpen, reasonBreakerOpen},
	{breaker.ErrTooManyProbes, reasonProbeLimit},
	{bulkhead.ErrFull, reasonBulkheadFull},
	{timeout.ErrTooManyAbandoned, reasonAbandonLimit},
	{adaptive.ErrLimited, reasonAdaptiveLimit},
	{adaptive.ErrThrottled, reasonThrottled},
	{ratelimit.ErrLimited, reasonRateLimited},
}

// reasonOf returns the reason of a refusal error, "other" for an error of
// no policy of this module.
func reasonOf(err error) reason {
	for _, s := range reasonSentinels {
		if errors.Is(err, s.err) {
			return s.reason
		}
	}
	return reasonOther
}
