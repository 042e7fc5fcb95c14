package resilience

// ErrMisuse is matched, with errors.Is, by every error that reports a
// programming error of the library's user rather than a failure of a
// dependency: a nil policy (ErrNilPolicy), a nil function where one is
// required (ErrNilFunc), a nil context (ErrNilContext), a policy that was
// not made by its constructor (the zero value of breaker.Breaker,
// bulkhead.Bulkhead or timeout.Timeout).
//
// Such a call is never run, and the error is returned on every call, the
// first one included, so the first test or request that goes through the
// mistake finds it. It is never answered by a fallback (fallback.Do, the
// adapters' fallbacks), and it is never counted by a breaker
// (Classifier.Classify says Ignored): a breaker that counted it would open,
// and a fallback would then answer the refusal, hiding the mistake.
var ErrMisuse error = &misuseError{msg: "resilience: misuse"}

// ErrNilFunc is matched by the error of a call made with a nil function
// where one is required: Execute(ctx, nil), Do(ctx, p, nil), a fallback
// helper given a nil func. It matches ErrMisuse.
var ErrNilFunc error = &misuseError{msg: "resilience: nil func"}

// ErrNilContext is matched by the error of a call made with a nil
// context.Context: Execute(nil, call) or Do(nil, p, fn). It matches
// ErrMisuse. (context.TODO is the context to pass when there is none yet.)
var ErrNilContext error = &misuseError{msg: "resilience: nil context"}

// misuseError is a programming error of the library's user: ErrMisuse,
// one of its kinds (ErrNilPolicy...), or a kind in a message of its own.
type misuseError struct {
	msg  string
	kind error // the kind it also matches, or nil
}

func (e *misuseError) Error() string { return e.msg }

// Is reports whether target is ErrMisuse, or the error's kind.
func (e *misuseError) Is(target error) bool {
	return target == ErrMisuse || (target == e.kind && e.kind != nil)
}
