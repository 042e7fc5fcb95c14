package adaptive

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/internal/step"
)

// The layout of Limiter.state: calls in flight in the low 32 bits, a count
// of admissions in the high 32 that picks which calls are timed.
const (
	inFlightMask = 1<<32 - 1
	seqShift     = 32
	// admitOne added to state admits one call: one more in flight, one
	// more admission.
	admitOne = 1<<seqShift + 1
	// sampleEvery: one admission in this many is timed (a power of two).
	sampleEvery = 16
)

// A Limiter bounds how many calls run at once, like a bulkhead, but moves
// the bound (its limit) by what it measures: the latency of the calls it
// lets through, and their failures. A call that finds the limit reached
// waits for a call to finish, at most Config.MaxWait and no longer than its
// context lives, and is otherwise refused with an error matching
// ErrLimited and resilience.ErrRejected.
//
// A Limiter is safe for concurrent use. It starts no goroutine. Make one
// with New; the zero value is not usable.
type Limiter struct {
	// state packs the calls in flight and a count of admissions (see
	// inFlightMask), changed in one atomic step.
	state atomic.Uint64
	// limit is the current limit, read by every admission.
	limit atomic.Int64

	w window

	rejected atomic.Uint64
	waiters  atomic.Int32
	qmu      sync.Mutex // guards queue
	queue    []chan struct{}

	s        *settings
	obs      resilience.Observer   // s.Observer, kept at hand for the hot path
	classify resilience.Classifier // s.Classifier, likewise
	epoch    time.Time             // the origin of the times in tickets and windows
	errLimit error
}

// New returns a Limiter configured by cfg, or an error naming the first
// field of cfg that is out of range.
func New(cfg Config) (*Limiter, error) {
	s, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	l := &Limiter{s: s, obs: s.Observer, classify: s.Classifier, epoch: time.Now(), errLimit: newRejectError(cfg.Name, ErrLimited)}
	l.limit.Store(int64(s.InitialLimit))
	l.w.est = float64(s.InitialLimit)
	if l.obs != nil {
		// The initial limit, so that an Observer knows it from the start.
		l.obs.Observe(resilience.Event{Kind: resilience.EventLimitChange, Policy: s.Name, Limit: s.InitialLimit})
	}
	return l, nil
}

// Execute runs call when fewer calls than the limit are in flight and
// returns its error, or refuses it: when the limit is reached and no call
// finishes within Config.MaxWait it returns an error matching ErrLimited
// (and resilience.ErrRejected) without running call; when ctx ends while it
// waits, it returns ctx.Err() without running call. Room under the limit
// is taken without looking at ctx.
//
// call gets ctx unchanged. Its slot is given back when it returns, panics
// (the panic goes on to the caller unchanged; the call does not count
// towards the limit) or exits its goroutine, and when the Observer panics
// (the panic goes on the same way).
//
// A nil ctx or call, a nil *Limiter or a zero Limiter (not made by New) is
// a programming error: Execute returns an error matching
// resilience.ErrMisuse (and resilience.ErrNilContext, ErrNilFunc or
// ErrNilPolicy) without running call or taking a slot.
func (l *Limiter) Execute(ctx context.Context, call func(context.Context) error) error {
	return l.execute(ctx, nil, call)
}

// Programming errors of the limiter's user (see Execute).
var (
	errNilLimiter  = fmt.Errorf("adaptive: nil *Limiter: %w", resilience.ErrNilPolicy)
	errZeroLimiter = fmt.Errorf("adaptive: zero Limiter (make one with New): %w", resilience.ErrMisuse)
	errNilContext  = fmt.Errorf("adaptive: nil context: %w", resilience.ErrNilContext)
	errNilCall     = fmt.Errorf("adaptive: nil call: %w", resilience.ErrNilFunc)
)

// check returns the programming error that keeps l from running any call,
// or nil.
func (l *Limiter) check() error {
	switch {
	case l == nil:
		return errNilLimiter
	case l.s == nil:
		return errZeroLimiter
	}
	return nil
}

// Wrap returns a Policy that runs next inside the limiter:
// l.Wrap(next).Execute(ctx, call) holds a slot around next.Execute(ctx,
// call), and measures it. It makes no allocation per call;
// resilience.Chain composes the library's policies with it. Wrap(nil)
// behaves as l.
func (l *Limiter) Wrap(next resilience.Policy) resilience.Policy {
	return &wrapped{l, next}
}

type wrapped struct {
	l    *Limiter
	next resilience.Policy
}

func (w *wrapped) Execute(ctx context.Context, call func(context.Context) error) error {
	return w.l.execute(ctx, w.next, call)
}

// Check reports a limiter that cannot run any call, for resilience.Chain.
func (w *wrapped) Check() error { return w.l.check() }

// Enter and Exit are execute in two steps, for resilience.Do (see
// internal/step).
func (w *wrapped) Enter(ctx context.Context) (context.Context, step.Ticket, error) {
	t, err := w.l.acquire(ctx)
	return ctx, step.Ticket{N: t}, err
}

func (w *wrapped) Exit(ctx, _ context.Context, t step.Ticket, err error, panicked bool) error {
	w.l.release(ctx, t.N, err, panicked)
	return err
}

func (l *Limiter) execute(ctx context.Context, next resilience.Policy, call func(context.Context) error) (err error) {
	if call == nil {
		if err := l.check(); err != nil {
			return err
		}
		return errNilCall
	}
	t, err := l.acquire(ctx)
	if err != nil {
		return err
	}
	panicked := true
	defer func() {
		if panicked {
			l.release(ctx, t, nil, true)
		}
	}()
	if next == nil {
		err = call(ctx)
	} else {
		err = next.Execute(ctx, call)
	}
	panicked = false
	l.release(ctx, t, err, false)
	return err
}

// acquire takes a slot. Its result is the call's ticket: zero for a call
// that is not timed, otherwise one more than the call's start in
// nanoseconds since l.epoch.
func (l *Limiter) acquire(ctx context.Context) (int64, error) {
	if l == nil || l.s == nil || ctx == nil {
		if err := l.check(); err != nil {
			return 0, err
		}
		return 0, errNilContext
	}
	for {
		s := l.state.Load()
		if int64(s&inFlightMask) >= l.limit.Load() {
			return l.acquireSlow(ctx)
		}
		if l.state.CompareAndSwap(s, s+admitOne) {
			t := l.admitted(s + admitOne)
			if l.obs != nil {
				l.observeHeld(resilience.EventAcquire, 0)
			}
			return t, nil
		}
	}
}

// admitted finishes the admission that left the limiter in state s: it
// times one call in sampleEvery, and returns the call's ticket.
func (l *Limiter) admitted(s uint64) int64 {
	if (s>>seqShift)%sampleEvery != 1 { // the first admission is timed
		return 0
	}
	l.w.peak(int64(s & inFlightMask))
	return int64(time.Since(l.epoch)) + 1
}

// acquireSlow takes a slot when the limit was reached on the fast path: it
// refuses at once when MaxWait is zero, and otherwise waits for a call to
// finish (or the limit to rise), at most MaxWait.
func (l *Limiter) acquireSlow(ctx context.Context) (int64, error) {
	if l.s.MaxWait == 0 {
		return 0, l.refuse()
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	start := time.Now()
	timer := time.NewTimer(l.s.MaxWait)
	defer timer.Stop()
	for {
		ready := make(chan struct{}, 1)
		l.qmu.Lock()
		l.queue = append(l.queue, ready)
		l.qmu.Unlock()
		l.waiters.Add(1)
		// A slot given back between the fast path and joining the queue
		// woke nobody: look again now that releases will see us.
		if t, ok := l.tryAcquire(); ok {
			l.leave(ready)
			l.waited(start)
			return t, nil
		}
		select {
		case <-ready:
		case <-ctx.Done():
			l.leave(ready)
			return 0, ctx.Err()
		case <-timer.C:
			l.leave(ready)
			if t, ok := l.tryAcquire(); ok {
				l.waited(start)
				return t, nil
			}
			return 0, l.refuse()
		}
		l.waiters.Add(-1)
		if t, ok := l.tryAcquire(); ok {
			l.waited(start)
			return t, nil
		}
	}
}

// tryAcquire takes a slot if there is room under the limit. It reports
// nothing: the caller reports the slot (waited) once it has left the queue.
func (l *Limiter) tryAcquire() (int64, bool) {
	for {
		s := l.state.Load()
		if int64(s&inFlightMask) >= l.limit.Load() {
			return 0, false
		}
		if l.state.CompareAndSwap(s, s+admitOne) {
			return l.admitted(s + admitOne), true
		}
	}
}

// leave takes a waiter out of the queue, unless a release has already
// done so (and woken it: then the wake-up passes to the next in line).
func (l *Limiter) leave(ready chan struct{}) {
	l.qmu.Lock()
	for i, c := range l.queue {
		if c == ready {
			l.queue = append(l.queue[:i], l.queue[i+1:]...)
			l.qmu.Unlock()
			l.waiters.Add(-1)
			return
		}
	}
	l.qmu.Unlock()
	l.waiters.Add(-1)
	select {
	case <-ready:
		l.wake(1)
	default:
	}
}

// wake wakes up to n waiters, first come first woken.
func (l *Limiter) wake(n int) {
	l.qmu.Lock()
	for ; n > 0 && len(l.queue) > 0; n-- {
		c := l.queue[0]
		l.queue[0] = nil
		l.queue = l.queue[1:]
		c <- struct{}{}
	}
	l.qmu.Unlock()
}

// release gives back the slot of a call with ticket t that returned err
// (or panicked), and records what the call says about the dependency.
func (l *Limiter) release(ctx context.Context, t int64, err error, panicked bool) {
	l.giveBack()
	if l.obs != nil {
		l.observe(resilience.EventRelease, 0, nil)
	}
	if panicked || (t == 0 && err == nil && l.classify == nil) {
		return
	}
	switch l.classify.Classify(ctx, err) {
	case resilience.Success:
		if t != 0 {
			l.sample(t, false)
		}
	case resilience.Failure:
		l.w.fail()
		if t != 0 {
			l.sample(t, true)
		}
	}
}

// sample records a timed call that started at ticket t, and closes the
// window when the call began after the window opened: one round trip of
// the dependency has passed.
func (l *Limiter) sample(t int64, failed bool) {
	start := t - 1
	now := int64(time.Since(l.epoch))
	if !failed {
		l.w.add(now-start, l.s)
	}
	if start >= l.w.start.Load() {
		if old, now, changed := l.w.close(now, l.s, l.limit.Load()); changed {
			l.limit.Store(int64(now))
			if now > old && l.waiters.Load() > 0 {
				l.wake(now - old)
			}
			if l.obs != nil {
				l.obs.Observe(resilience.Event{Kind: resilience.EventLimitChange, Policy: l.s.Name, Limit: now})
			}
		}
	}
}

func (l *Limiter) refuse() error {
	l.rejected.Add(1)
	if l.obs != nil {
		l.observe(resilience.EventRejected, 0, l.errLimit)
	}
	return l.errLimit
}

func (l *Limiter) waited(start time.Time) {
	if l.obs != nil {
		l.observeHeld(resilience.EventWait, time.Since(start))
		l.observeHeld(resilience.EventAcquire, 0)
	}
}

// observeHeld reports an event about a slot just taken, and gives the slot
// back when the Observer panics (the panic goes on).
func (l *Limiter) observeHeld(kind resilience.EventKind, latency time.Duration) {
	ok := false
	defer func() {
		if !ok {
			l.giveBack()
		}
	}()
	l.observe(kind, latency, nil)
	ok = true
}

// giveBack gives back a slot without recording anything about the call.
func (l *Limiter) giveBack() {
	l.state.Add(^uint64(0))
	if l.waiters.Load() > 0 {
		l.wake(1)
	}
}

func (l *Limiter) observe(kind resilience.EventKind, latency time.Duration, err error) {
	l.obs.Observe(resilience.Event{Kind: kind, Policy: l.s.Name, Latency: latency, Err: err})
}

// Name returns Config.Name.
func (l *Limiter) Name() string { return l.s.Name }

// Limit returns the current limit: how many calls may be in flight at
// once now.
func (l *Limiter) Limit() int { return int(l.limit.Load()) }

// InFlight returns how many calls are running now.
func (l *Limiter) InFlight() int { return int(l.state.Load() & inFlightMask) }

// MinLimit and MaxLimit return the bounds of the limit in effect (the
// Config's, or their defaults).
func (l *Limiter) MinLimit() int { return l.s.MinLimit }

// MaxLimit: see MinLimit.
func (l *Limiter) MaxLimit() int { return l.s.MaxLimit }

// Rejected returns how many calls the limiter has refused with ErrLimited
// since it was made. Callers whose own context ended while they waited are
// not counted.
func (l *Limiter) Rejected() uint64 { return l.rejected.Load() }
