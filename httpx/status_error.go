package httpx

import (
	"strconv"
	"time"

	"github.com/go-resilience/resilience"
)

// A StatusError is how a Transport reports a response that its classifier
// did not call a Success: it is the error the breaker records for that
// request (and so what an Observer sees as Event.Err of the call), and the
// error a Config.Fallback is asked to answer. The caller of RoundTrip does
// not get it: the response itself is returned, body untouched.
//
// A StatusError holds no reference to the response or its body.
type StatusError struct {
	// StatusCode and Status are the response's, such as 503 and
	// "503 Service Unavailable".
	StatusCode int
	Status     string
	// Outcome is how the response was classified: Failure, or Ignored.
	Outcome resilience.Outcome

	retryAfter time.Duration
}

// Error reports the status, such as "httpx: 503 Service Unavailable".
func (e *StatusError) Error() string {
	s := e.Status
	if s == "" {
		s = strconv.Itoa(e.StatusCode)
	}
	return "httpx: " + s
}

// RetryAfter is the wait the server asked for with a Retry-After header on a
// 429 or 503 response, at most Config.MaxRetryAfter; zero when there was
// none, when it was invalid, or when Config.MaxRetryAfter is negative.
// A breaker that records this error stays open this long instead of its
// own open duration.
func (e *StatusError) RetryAfter() time.Duration { return e.retryAfter }
