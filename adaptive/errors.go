package adaptive

import (
	"strconv"

	"github.com/go-resilience/resilience"
)

// ErrLimited is matched, with errors.Is, by the error of a call a Limiter
// refused: as many calls as its current limit were running, and none
// finished within Config.MaxWait (or at once, when MaxWait is zero). The
// error also matches resilience.ErrRejected. A Limiter with a Name returns
// its own error value, naming it, that matches both; it is made once in
// New, so a refusal allocates nothing.
var ErrLimited error = &rejectError{msg: "adaptive: limit reached", sentinel: 1}

// ErrThrottled is matched, with errors.Is, by the error of a call a
// Throttler refused: it drew the call for refusal with the probability its
// recent failures call for. The error also matches resilience.ErrRejected.
// Named throttlers return their own value, made once in NewThrottler.
var ErrThrottled error = &rejectError{msg: "adaptive: throttled", sentinel: 2}

// rejectError is the refusal of one Limiter or Throttler (or one of the
// sentinels themselves).
type rejectError struct {
	msg      string
	sentinel uint8 // 1: ErrLimited, 2: ErrThrottled
}

func (e *rejectError) Error() string { return e.msg }

// Is reports whether target is the sentinel e stands for, or
// resilience.ErrRejected.
func (e *rejectError) Is(target error) bool {
	switch target {
	case resilience.ErrRejected:
		return true
	case ErrLimited:
		return e.sentinel == 1
	case ErrThrottled:
		return e.sentinel == 2
	}
	return false
}

func newRejectError(name string, sentinel error) error {
	if name == "" {
		return sentinel
	}
	s := sentinel.(*rejectError)
	msg := "limit reached"
	if s.sentinel == 2 {
		msg = "throttled"
	}
	return &rejectError{msg: "adaptive " + strconv.Quote(name) + ": " + msg, sentinel: s.sentinel}
}
