package resilience

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// An Outcome is what a finished call says about the dependency's health.
type Outcome uint8

const (
	// Success: the dependency answered well.
	Success Outcome = iota
	// Failure: the dependency failed or was too slow; breakers count it.
	Failure
	// Ignored: the call says nothing about the dependency (the caller gave up,
	// or a policy of this library refused it); breakers do not count it.
	Ignored
)

func (o Outcome) String() string {
	switch o {
	case Success:
		return "success"
	case Failure:
		return "failure"
	case Ignored:
		return "ignored"
	}
	return "outcome(" + strconv.Itoa(int(o)) + ")"
}

// A Classifier maps a call's error to an Outcome. A nil Classifier is
// DefaultClassifier. Policies that classify (breaker) and the adapters take
// one in their Config; it is called once per finished call, on the caller's
// goroutine, so it must be fast and safe for concurrent use.
//
// Three rules are applied before any Classifier and cannot be overridden
// (see Classifier.Classify): the caller's own cancellation or deadline, the
// library's own refusals, and the caller's programming errors (ErrMisuse)
// are Ignored.
type Classifier func(err error) Outcome

// DefaultClassifier says nil is Success, an error matching context.Canceled
// is Ignored (someone gave up on the call; the dependency did not fail), and
// every other error is Failure, timeouts of the library's own included.
func DefaultClassifier(err error) Outcome {
	switch {
	case err == nil:
		return Success
	case errors.Is(err, context.Canceled):
		return Ignored
	}
	return Failure
}

// Classify returns the outcome of a call made with ctx that returned err.
// It is Ignored when err is not nil and ctx is done (the caller cancelled,
// or its own deadline passed: the dependency was not given the time the
// policy allows; a deadline that has passed by the clock counts even
// before ctx's timer has fired, as it may late on a loaded machine), when
// err matches ErrRejected (a refusal of this library is local overload,
// not a failing dependency), or when err matches ErrMisuse (a programming
// error of the caller, found by a policy inside: counting it would open
// the breaker and let a fallback hide it). Otherwise it is c(err), or
// DefaultClassifier(err) when c is nil.
func (c Classifier) Classify(ctx context.Context, err error) Outcome {
	if err != nil && (callerDone(ctx) || errors.Is(err, ErrRejected) || errors.Is(err, ErrMisuse)) {
		return Ignored
	}
	if c == nil {
		return DefaultClassifier(err)
	}
	return c(err)
}

// callerDone reports whether the caller has given up on ctx: it is done,
// or its deadline has passed and its timer has not fired yet. The clock is
// read only for a failed call with a deadline.
func callerDone(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}
