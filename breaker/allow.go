package breaker

import (
	"context"
	"sync/atomic"
	"time"
)

// Allow is Execute in two steps, for calls that do not fit in a function:
// a stream, or an HTTP response whose body is read later. When the breaker
// lets the call through, Allow returns done, to be called once with the
// call's error when it has finished; otherwise it returns a *RejectedError
// as Execute does, and a nil done.
//
// done classifies its error with ctx, as Execute does. Calling it again
// has no effect. A call whose done is never called holds a probe of a
// half-open breaker until Config.HalfOpenTimeout passes. Allow allocates
// (about two small objects per call let through); Execute does not. It is
// safe for concurrent use, and done may be called from any goroutine.
//
// A panic in Config.Classifier, called by done, counts the call as a
// failure and gives back its probe before it goes on. A nil ctx, a nil
// *Breaker or a zero Breaker returns a nil done and an error matching
// resilience.ErrMisuse (see Execute).
func (b *Breaker) Allow(ctx context.Context) (done func(err error), err error) {
	if b == nil || b.s == nil || ctx == nil {
		return nil, b.misuse(ctx, succeedCall)
	}
	r, start, err := b.enter()
	if err != nil {
		return nil, err
	}
	t := &ticket{b: b, r: r, ctx: ctx, start: start}
	return t.done, nil
}

// A ticket is one call let through by Allow.
type ticket struct {
	b        *Breaker
	r        *period
	ctx      context.Context
	start    time.Duration // b.s.clock() when let through, if timed
	finished atomic.Bool
}

func (t *ticket) done(err error) {
	if t.finished.CompareAndSwap(false, true) {
		t.b.exit(t.ctx, t.r, t.start, err, false)
	}
}

// succeedCall stands for the call Allow has none of, for misuse.
func succeedCall(context.Context) error { return nil }
