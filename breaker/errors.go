package breaker

import (
	"strconv"
	"time"

	"github.com/go-resilience/resilience"
)

// ErrOpen is matched (errors.Is) by the error of a call refused because the
// breaker is open or forced open. It matches resilience.ErrRejected too.
// The error actually returned is a *RejectedError.
var ErrOpen error = &sentinel{"breaker: open"}

// ErrTooManyProbes is matched (errors.Is) by the error of a call refused
// because the breaker is half-open and all its probes are out. It matches
// resilience.ErrRejected too. The error actually returned is a
// *RejectedError.
var ErrTooManyProbes error = &sentinel{"breaker: half-open probe limit"}

// sentinel is a refusal kind: it wraps resilience.ErrRejected while keeping
// its own message.
type sentinel struct{ msg string }

func (e *sentinel) Error() string { return e.msg }
func (e *sentinel) Unwrap() error { return resilience.ErrRejected }

// A RejectedError is what a refused call returns. It matches (errors.Is)
// ErrOpen or ErrTooManyProbes, and resilience.ErrRejected.
//
// One RejectedError is made per state period and shared by every call it
// refuses, so refusing allocates nothing: treat it as read-only, and do
// not compare it with == (use errors.Is or errors.As).
type RejectedError struct {
	// Name is the breaker's Config.Name.
	Name string
	// Key is the breaker's key in a Set, or "".
	Key string
	// State is the state that refused the call: Open, HalfOpen or
	// ForcedOpen.
	State State

	kind  error     // ErrOpen or ErrTooManyProbes
	until time.Time // when the breaker probes again; zero: unknown
}

func newRejectedError(name, key string, st State, until time.Time) *RejectedError {
	kind := ErrOpen
	if st == HalfOpen {
		kind = ErrTooManyProbes
	}
	return &RejectedError{Name: name, Key: key, State: st, kind: kind, until: until}
}

// Error returns the refusal's message, such as
// `breaker: open (name "payments", key "api.example.com")`.
func (e *RejectedError) Error() string {
	msg := e.kind.Error()
	switch {
	case e.Name != "" && e.Key != "":
		msg += " (name " + strconv.Quote(e.Name) + ", key " + strconv.Quote(e.Key) + ")"
	case e.Name != "":
		msg += " (name " + strconv.Quote(e.Name) + ")"
	case e.Key != "":
		msg += " (key " + strconv.Quote(e.Key) + ")"
	}
	return msg
}

// Unwrap returns ErrOpen or ErrTooManyProbes.
func (e *RejectedError) Unwrap() error { return e.kind }

// Is reports whether target is resilience.ErrRejected, which e matches
// without unwrapping (it matches ErrOpen or ErrTooManyProbes through
// Unwrap). A refusal says so in one call: fallback.Do, which must tell a
// refusal from a programming error before it answers, asks it that way.
func (e *RejectedError) Is(target error) bool { return target == resilience.ErrRejected }

// RetryAfter returns how long from now until the breaker lets a call
// through again: for Open, until its open duration ends; for HalfOpen,
// until its half-open state times out at the latest (a probe may close it
// sooner). It returns zero when that is unknown (ForcedOpen) or already
// past. Adapters send it as Retry-After.
func (e *RejectedError) RetryAfter() time.Duration {
	if e.until.IsZero() {
		return 0
	}
	return max(time.Until(e.until), 0)
}
