package breaker

import "strconv"

// State is the state of a Breaker.
type State int8

const (
	// Closed: calls go through and are counted; a trip rule opens it.
	Closed State = iota
	// HalfOpen: up to Config.HalfOpenProbes calls go through as probes;
	// the others are refused with ErrTooManyProbes.
	HalfOpen
	// Open: every call is refused with ErrOpen until the open duration
	// has passed.
	Open
	// ForcedOpen: every call is refused with ErrOpen until Unforce.
	ForcedOpen
	// ForcedClosed: every call goes through, uncounted, until Unforce.
	ForcedClosed
)

var stateNames = [...]string{
	Closed:       "closed",
	HalfOpen:     "half-open",
	Open:         "open",
	ForcedOpen:   "forced-open",
	ForcedClosed: "forced-closed",
}

// String returns "closed", "half-open", "open", "forced-open" or
// "forced-closed", the names used in resilience.Event's From and To.
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// Counts is a snapshot of a breaker's counters, for health checks and
// metrics.
//
// Requests through ConsecutiveFailures count the current state only, as
// gobreaker keeps them: they start from zero at every change of state,
// and in Closed with a FailureRate they cover the rolling Window.
// Refusals are not counted here: the Observer is told of each one
// (resilience.EventRejected), and metrics.Collector counts them.
type Counts struct {
	// Requests is how many calls have been counted: a call let through is
	// counted when it finishes, whatever its outcome.
	Requests uint32
	// TotalSuccesses, TotalFailures and TotalIgnored count finished calls
	// by outcome.
	TotalSuccesses uint32
	TotalFailures  uint32
	TotalIgnored   uint32
	// ConsecutiveSuccesses and ConsecutiveFailures are the current runs;
	// ignored calls neither extend nor break them.
	ConsecutiveSuccesses uint32
	ConsecutiveFailures  uint32
}
