// Package step lets resilience.Do run the call of a Chain of this module's
// policies in its own frame, in two steps per policy: each admits the call
// (Enter) and then finishes it (Exit). Do can then call fn itself and keep
// its typed result in a local variable, so a call through such a chain
// needs no closure and no per-call object to carry the result.
//
// A policy offers it on the value its Wrap method returns, a type of its own
// package that users never see. Enter followed by the call and Exit must
// behave exactly as Execute does; the policies implement Execute with the
// same code.
package step

import "context"

// A Layer is one policy of a Chain, run in two steps.
type Layer interface {
	// Enter admits a call made with ctx. It returns the context for what
	// runs inside (ctx, or one derived from it) and a Ticket for Exit, or
	// the error Execute would return when it refuses: then nothing runs
	// inside and Exit is not called.
	Enter(ctx context.Context) (context.Context, Ticket, error)

	// Exit finishes a call Enter admitted: ctx is the context given to
	// Enter, inner the one Enter returned, err what ran inside returned.
	// It gives back what the call held and returns the error Execute
	// would have returned. When what ran inside panicked (or exited its
	// goroutine), panicked is true, err is nil and the result is unused:
	// Exit gives back what the call held and lets the panic go on.
	Exit(ctx, inner context.Context, t Ticket, err error, panicked bool) error
}

// A Ticket is what a Layer keeps between Enter and Exit, on the caller's
// stack. P holds a pointer or a func (so storing it allocates nothing).
type Ticket struct {
	P any
	N int64
}

// A Checker is a Layer (the value a policy's Wrap returns) that can tell
// at composition that its policy cannot run any call: the zero value of a
// policy type, made without its constructor. resilience.Chain asks it once,
// and a chain with such an element refuses every call with the error
// Check returns (one matching resilience.ErrMisuse).
type Checker interface {
	Check() error
}

// A Repeater is a Layer that may run what is inside it more than once (a
// retry). After what ran inside returned a non-nil err without panicking,
// the runner calls Again before Exit, with the Ticket Enter (or the last
// Again) returned. When Again returns true, everything inside runs once
// more (each inner Layer entered and exited again) with the same inner
// context, and Again is asked again about its error; when it returns
// false, Exit is called as usual with the last error and the last Ticket.
// Again may wait (a backoff). A call that succeeds never reaches Again, so
// a Repeater costs nothing more than a Layer when the first run succeeds.
type Repeater interface {
	Layer
	Again(ctx, inner context.Context, t Ticket, err error) (Ticket, bool)
}
