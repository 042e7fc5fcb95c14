package breaker

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/go-resilience/resilience"
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
func (b *Breaker) Allow(ctx context.Context) (done func(err error), err error) {
	r := b.rec.Load()
	if r.state != Closed {
		var rej *RejectedError
		if r, rej = b.admit(r); rej != nil {
			return nil, b.refuse(rej)
		}
		if b.npending.Load() != 0 {
			b.report()
		}
	}
	t := &ticket{b: b, r: r, ctx: ctx}
	if b.s.timed {
		t.start = b.s.clock()
	}
	return t.done, nil
}

// A ticket is one call let through by Allow.
type ticket struct {
	b        *Breaker
	r        *period
	ctx      context.Context
	start    time.Duration // b.s.clock() when let through
	finished atomic.Bool
}

func (t *ticket) done(err error) {
	if !t.finished.CompareAndSwap(false, true) {
		return
	}
	b, r := t.b, t.r
	var latency time.Duration
	if b.s.timed {
		latency = b.s.clock() - t.start
	}
	outcome, mark := b.classify(t.ctx, err, latency)
	if r.state != ForcedClosed && b.rec.Load() == r {
		// Report the outcome to gobreaker as a call that returns it at
		// once, unless the state has moved on since Allow (gobreaker drops
		// results from an earlier state the same way).
		_, _ = r.inst.cb.Execute(func() (struct{}, error) {
			if b.rec.Load() != r {
				return struct{}{}, errIgnored
			}
			return struct{}{}, mark
		})
	}
	if outcome == resilience.Ignored && r.state == HalfOpen {
		r.probes.Add(^uint32(0))
	}
	if b.s.observer != nil {
		b.s.observer.Observe(resilience.Event{Kind: resilience.EventCall, Policy: b.s.name, Key: b.key, Outcome: outcome, Latency: latency, Err: err})
	}
	if b.npending.Load() != 0 {
		b.report()
	}
}
