package breaker

import (
	"errors"
	"time"

	"github.com/sony/gobreaker/v2"
)

// An instance is one gobreaker state machine under a Breaker. It counts
// calls in the closed state, decides when to trip, and admits and judges
// half-open probes. The Breaker replaces it with a fresh one when its own
// rules take over (a half-open timeout, Unforce), so that a probe that
// never returns cannot hold it.
type instance struct {
	cb *gobreaker.CircuitBreaker[struct{}]
	b  *Breaker

	// priming is set while a new instance is tripped on purpose, before
	// it is published; its trip is not a change of the Breaker's state.
	priming bool
	// hint is the Retry-After hint of the result being recorded. It is
	// written by isExcluded and read by onStateChange, both called by
	// gobreaker under its mutex while it records one result.
	hint time.Duration
}

// Markers returned to gobreaker in place of the call's error: the outcome
// is decided by the Breaker (with the caller's context), and gobreaker only
// needs to know which of the three it is.
var (
	errIgnored = errors.New("breaker: ignored")
	errFailure = errors.New("breaker: failure")
)

// hintedFailure is a failure whose error carried a Retry-After hint. It is
// the only marker that allocates, and only for such failures.
type hintedFailure struct{ d time.Duration }

func (*hintedFailure) Error() string { return "breaker: failure with a retry-after hint" }

// newInstance returns a gobreaker for b, closed, or when primed, tripped
// already so that it admits probes once the Breaker's own open period ends.
func newInstance(b *Breaker, primed bool) *instance {
	inst := &instance{b: b, priming: primed}
	st := gobreaker.Settings{
		Name:          b.s.name,
		MaxRequests:   b.s.halfOpenProbes,
		Timeout:       time.Nanosecond, // the open period is the Breaker's own
		ReadyToTrip:   inst.readyToTrip,
		OnStateChange: inst.onStateChange,
		IsSuccessful:  isSuccessful,
		IsExcluded:    inst.isExcluded,
	}
	if b.s.failureRate > 0 {
		st.Interval = b.s.window
		st.BucketPeriod = b.s.window / windowBuckets
	}
	inst.cb = gobreaker.NewCircuitBreaker[struct{}](st)
	if primed {
		_, _ = inst.cb.Execute(func() (struct{}, error) { return struct{}{}, errFailure })
		inst.priming = false
	}
	return inst
}

func isSuccessful(err error) bool { return err == nil }

func (inst *instance) isExcluded(err error) bool {
	if h, ok := err.(*hintedFailure); ok {
		inst.hint = h.d
	} else if inst.hint != 0 {
		// Written only when it changes: inst.cb, on the same cache line,
		// is read by every call, on every core.
		inst.hint = 0
	}
	return err == errIgnored
}

func (inst *instance) readyToTrip(c gobreaker.Counts) bool {
	if inst.priming {
		return true
	}
	return inst.b.s.shouldTrip(c.ConsecutiveFailures, c.TotalSuccesses, c.TotalFailures)
}

func (inst *instance) onStateChange(_ string, _, to gobreaker.State) {
	if inst.priming {
		return
	}
	inst.b.changed(inst, to)
}

// shouldTrip applies the trip rules to a closed breaker's counts.
func (s *settings) shouldTrip(consecutiveFailures, successes, failures uint32) bool {
	if s.consecutiveFailures > 0 && consecutiveFailures >= s.consecutiveFailures {
		return true
	}
	if s.failureRate > 0 {
		calls := uint64(successes) + uint64(failures)
		if calls > 0 && calls >= uint64(s.minCalls) && float64(failures)/float64(calls) >= s.failureRate {
			return true
		}
	}
	return false
}
