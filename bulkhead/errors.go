package bulkhead

import (
	"strconv"

	"github.com/go-resilience/resilience"
)

// ErrFull is matched, with errors.Is, by the error of a call the bulkhead
// refused: every slot was taken and none came free within Config.MaxWait (or
// at once, when MaxWait is zero). The error also matches
// resilience.ErrRejected. A bulkhead with a Name returns its own error value,
// naming it, that matches both; it is made once in New, so a refusal
// allocates nothing.
var ErrFull error = &fullError{msg: "bulkhead: full"}

// fullError is the refusal of one bulkhead (or ErrFull itself).
type fullError struct{ msg string }

func (e *fullError) Error() string { return e.msg }

// Is reports whether target is ErrFull or resilience.ErrRejected.
func (e *fullError) Is(target error) bool {
	return target == ErrFull || target == resilience.ErrRejected
}

// newFullError returns the refusal error of the bulkhead called name.
func newFullError(name string) error {
	if name == "" {
		return ErrFull
	}
	return &fullError{msg: "bulkhead " + strconv.Quote(name) + ": full"}
}
