package breaker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/internal/step"
	"github.com/sony/gobreaker/v2"
)

// A Breaker is a circuit breaker: a resilience.Policy that stops calling a
// dependency that keeps failing, and probes it back. See the package
// documentation for its rules and states.
//
// Make one with New; the zero Breaker is not usable. A Breaker is safe for
// concurrent use.
type Breaker struct {
	// rec is the current state period. It is replaced, never changed, at
	// every change of state; a call reads it once to know what to do.
	rec atomic.Pointer[period]

	s     *settings
	key   string // key in a Set, or ""
	label string // name given to OnStateChange

	// npending counts changes of state not yet reported.
	npending atomic.Int32

	// used is the Set's recency tick of the last Get that found this
	// breaker; lastUse is when the Set last saw it used (guarded by the
	// Set's mutex).
	used    atomic.Uint64
	lastUse time.Time

	// mu guards changes of rec and pending; it is taken inside gobreaker's
	// mutex, never around it (except to prime an unpublished instance).
	mu      sync.Mutex
	pending []transition

	// reporting is held by the goroutine reporting pending changes, so
	// that they are reported one at a time and in order.
	reporting sync.Mutex
}

// A period is one stretch of a breaker's life in one state.
type period struct {
	state State
	inst  *instance
	// until is when an Open period ends, or when a HalfOpen one times out.
	until time.Time
	// step is the open duration of the growth schedule that led here (the
	// Retry-After hint aside); the next failed probe doubles it.
	step time.Duration
	// rej refuses calls in Open, HalfOpen and ForcedOpen.
	rej *RejectedError
	// probes counts the probes out in a HalfOpen period.
	probes atomic.Uint32
	// near is set by a timer shortly before until: until then, a call
	// need not read the clock to know that the period goes on.
	near atomic.Bool
}

// maxLead bounds how long before a period's end its timer sets near.
const maxLead = 5 * time.Millisecond

// withTimer returns p, an Open or HalfOpen period lasting d, with its timer
// started. The timer fires a little before the end, so that near is set
// by the time the end comes even when its goroutine runs late; and under
// testing/synctest, where time moves on only once every goroutine (the
// timer's too) is blocked, it is always set by then. Reading time.Now on
// every refused call would cost more than the rest of the refusal.
func (p *period) withTimer(d time.Duration) *period {
	lead := min(d/2, maxLead)
	time.AfterFunc(d-lead, func() { p.near.Store(true) })
	return p
}

// A transition is a change of state waiting to be reported: until is the
// new period's end (zero for Closed and the forced states), followed is set
// when Follow made it.
type transition struct {
	from, to State
	until    time.Time
	followed bool
}

// New returns a closed Breaker configured by cfg, or an error naming the
// first field of cfg that is invalid.
func New(cfg Config) (*Breaker, error) {
	s, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	return newBreaker(s, "", false), nil
}

func newBreaker(s *settings, key string, inSet bool) *Breaker {
	b := &Breaker{s: s, key: key, label: s.name}
	if inSet && key != "" {
		b.label = key
		if s.name != "" {
			b.label = s.name + "/" + key
		}
	}
	b.rec.Store(&period{state: Closed, inst: newInstance(b, false)})
	return b
}

// Name returns Config.Name.
func (b *Breaker) Name() string {
	if b.check() != nil {
		return ""
	}
	return b.s.name
}

// Key returns the breaker's key in a Set, or "" outside one.
func (b *Breaker) Key() string {
	if b.check() != nil {
		return ""
	}
	return b.key
}

// Execute runs call, or refuses to with a *RejectedError (matching ErrOpen
// or ErrTooManyProbes, and resilience.ErrRejected) without running it.
// It returns call's error unchanged, and counts the outcome as the
// Classifier says with ctx: a call that fails once ctx is done (the caller
// gave up), or with a refusal of the library, is ignored.
//
// call gets ctx itself. Execute does not look at ctx first: on a done ctx,
// call still runs (and should return at once), and its failure is
// ignored. A panic in call counts as a failure, and then propagates to the
// caller unchanged. So does a panic in Config.Classifier: the call counts
// as a failure, a half-open probe is given back, and the panic goes on. A
// panic in OnStateChange or the Observer goes on to the caller the same
// way, after the breaker has given back what the call held.
//
// A nil ctx or call, a nil *Breaker or a zero Breaker (not made by New) is
// a programming error: Execute returns an error matching
// resilience.ErrMisuse (and resilience.ErrNilContext, ErrNilFunc or
// ErrNilPolicy) without running call, and counts nothing. Execute is safe
// for concurrent use.
func (b *Breaker) Execute(ctx context.Context, call func(context.Context) error) error {
	return b.execute(ctx, nil, call)
}

// Programming errors of the breaker's user (see Execute).
var (
	errNilBreaker  = fmt.Errorf("breaker: nil *Breaker: %w", resilience.ErrNilPolicy)
	errZeroBreaker = fmt.Errorf("breaker: zero Breaker (make one with New): %w", resilience.ErrMisuse)
	errNilContext  = fmt.Errorf("breaker: nil context: %w", resilience.ErrNilContext)
	errNilCall     = fmt.Errorf("breaker: nil call: %w", resilience.ErrNilFunc)
)

// check returns the programming error that keeps b from running any call,
// or nil.
func (b *Breaker) check() error {
	switch {
	case b == nil:
		return errNilBreaker
	case b.s == nil:
		return errZeroBreaker
	}
	return nil
}

// misuse returns the programming error of a call through b with ctx and
// call, or nil.
func (b *Breaker) misuse(ctx context.Context, call func(context.Context) error) error {
	if err := b.check(); err != nil {
		return err
	}
	if ctx == nil {
		return errNilContext
	}
	if call == nil {
		return errNilCall
	}
	return nil
}

// Wrap returns a Policy that runs next inside b: what resilience.Chain uses
// to compose policies without a closure per call. next may be nil: the
// result then behaves as b.
func (b *Breaker) Wrap(next resilience.Policy) resilience.Policy { return &wrapped{b, next} }

type wrapped struct {
	b    *Breaker
	next resilience.Policy
}

func (w *wrapped) Execute(ctx context.Context, call func(context.Context) error) error {
	return w.b.execute(ctx, w.next, call)
}

// Check reports a breaker that cannot run any call, for resilience.Chain.
func (w *wrapped) Check() error { return w.b.check() }

// Enter and Exit are execute in two steps, for resilience.Do (see
// internal/step).
func (w *wrapped) Enter(ctx context.Context) (context.Context, step.Ticket, error) {
	r, start, err := w.b.enter(ctx)
	if err != nil {
		return ctx, step.Ticket{}, err
	}
	return ctx, step.Ticket{P: r, N: int64(start)}, nil
}

func (w *wrapped) Exit(ctx, _ context.Context, t step.Ticket, err error, panicked bool) error {
	w.b.exit(ctx, t.P.(*period), time.Duration(t.N), err, panicked)
	return err
}

func run(ctx context.Context, next resilience.Policy, call func(context.Context) error) error {
	if next == nil {
		return call(ctx)
	}
	return next.Execute(ctx, call)
}

// errCallPanicked is the Err of the EventCall of a call that panicked.
var errCallPanicked = errors.New("breaker: call panicked")

func (b *Breaker) execute(ctx context.Context, next resilience.Policy, call func(context.Context) error) error {
	if b == nil || b.s == nil || ctx == nil || call == nil {
		return b.misuse(ctx, call)
	}
	r, start, err := b.enter(ctx)
	if err != nil {
		return err
	}
	returned := false
	defer func() {
		if !returned {
			b.exit(ctx, r, start, nil, true)
		}
	}()
	err = run(ctx, next, call)
	returned = true
	b.exit(ctx, r, start, err, false)
	return err
}

// enter admits a call, or refuses it (the refusal reported). It returns
// the period the call runs in and, when the call is to be timed, when it
// started (b.s.clock()). The two common cases, a call through a closed
// breaker that needs no timing and a refusal while open with nothing to
// report, are decided without a further call.
func (b *Breaker) enter(ctx context.Context) (*period, time.Duration, error) {
	r := b.rec.Load()
	switch {
	case r.state == Closed && !b.s.timed:
		return r, 0, nil
	case r.state == Open && !r.near.Load() && b.s.observer == nil && b.npending.Load() == 0:
		return nil, 0, r.rej // nothing to report
	}
	return b.enterSlow(ctx, r)
}

func (b *Breaker) enterSlow(ctx context.Context, r *period) (*period, time.Duration, error) {
	if r.state != Closed {
		var rej *RejectedError
		if r, rej = b.admit(r); rej != nil {
			return nil, 0, b.refuse(ctx, rej)
		}
		if b.npending.Load() != 0 {
			b.reportAdmitted(ctx, r) // open to half-open: say so before the probe runs
			if cur := b.rec.Load(); cur != r && cur.rej != nil {
				// A callback moved the breaker on (forced it open, say):
				// refuse as the new state does.
				if r.state == HalfOpen {
					r.probes.Add(^uint32(0))
				}
				return nil, 0, b.refuse(ctx, cur.rej)
			}
		}
	}
	var start time.Duration
	if b.timed(r) {
		start = b.s.clock()
	}
	return r, start, nil
}

// reportAdmitted reports pending changes of state for a call just
// admitted in r. When OnStateChange or the Observer panics, the call does
// not run: the probe it holds in a HalfOpen r is given back, and the panic
// goes on.
func (b *Breaker) reportAdmitted(ctx context.Context, r *period) {
	reported := false
	defer func() {
		if !reported && r.state == HalfOpen {
			r.probes.Add(^uint32(0))
		}
	}()
	b.report(ctx)
	reported = true
}

// timed reports whether a call in r needs its latency: to judge it slow,
// or for the Observer (which also sees calls of a forced-closed breaker).
func (b *Breaker) timed(r *period) bool {
	if r.state == ForcedClosed {
		return b.s.observer != nil
	}
	return b.s.timed
}

// exit records the outcome of a call that enter let through in r: err,
// or a failure when it panicked (or exited its goroutine). A call let
// through while the breaker was forced closed is observed, not counted.
// Outcomes reach gobreaker as a call that returns them at once, unless the
// state has moved on since the call was let through (gobreaker drops
// results from an earlier state the same way).
func (b *Breaker) exit(ctx context.Context, r *period, start time.Duration, err error, panicked bool) {
	var latency time.Duration
	if b.timed(r) {
		latency = b.s.clock() - start
	}
	var (
		outcome resilience.Outcome
		mark    error
	)
	switch {
	case panicked:
		outcome, mark, err = resilience.Failure, errFailure, errCallPanicked
	case err == nil && b.s.classifier == nil && b.s.slowCallThreshold == 0:
		outcome = resilience.Success // what classify says, without the calls
	default:
		classified := false
		defer func() {
			if !classified { // the Classifier panicked: a failure, and the panic goes on
				b.record(r, resilience.Failure, errFailure)
			}
		}()
		outcome, mark = b.classify(ctx, err, latency)
		classified = true
	}
	b.record(r, outcome, mark)
	if b.s.observer != nil {
		b.s.observer.Observe(resilience.Event{Kind: resilience.EventCall, Policy: b.s.name, Key: b.key, Outcome: outcome, Latency: latency, Err: err, Ctx: ctx})
	}
	if b.npending.Load() != 0 {
		b.report(ctx)
	}
}

// record tells gobreaker the outcome of a call let through in r (mark is
// its marker), and gives back the probe of an ignored call in a HalfOpen
// r (a counted one ends the half-open state).
func (b *Breaker) record(r *period, outcome resilience.Outcome, mark error) {
	if r.state != ForcedClosed && b.rec.Load() == r {
		_, _ = r.inst.cb.Execute(func() (struct{}, error) {
			if b.rec.Load() != r {
				return struct{}{}, errIgnored
			}
			return struct{}{}, mark
		})
	}
	if outcome == resilience.Ignored && r.state == HalfOpen {
		r.probes.Add(^uint32(0)) // an ignored probe gives its place back
	}
	if outcome == resilience.Failure && r.state == Closed {
		b.failed() // see WatchFailures
	}
}

// classify returns the outcome of a call and the marker that tells
// gobreaker about it.
func (b *Breaker) classify(ctx context.Context, err error, latency time.Duration) (resilience.Outcome, error) {
	outcome := b.s.classifier.Classify(ctx, err)
	if outcome == resilience.Success && b.s.slowCallThreshold > 0 && latency >= b.s.slowCallThreshold {
		outcome = resilience.Failure
	}
	switch outcome {
	case resilience.Success:
		return outcome, nil
	case resilience.Failure:
		if err != nil {
			if h, ok := errors.AsType[retryAfterError](err); ok {
				if d := h.RetryAfter(); d > 0 {
					return outcome, &hintedFailure{d}
				}
			}
		}
		return outcome, errFailure
	}
	return resilience.Ignored, errIgnored
}

// retryAfterError is an error carrying a dependency's hint of when to try
// again, such as an HTTP response's Retry-After.
type retryAfterError interface {
	error
	RetryAfter() time.Duration
}

// refuse reports a refusal, and returns it. It writes nothing shared: an
// unobserved refusal is a few atomic loads, and refusals on every core at
// once do not contend (an Observer, such as metrics.Collector, counts them).
func (b *Breaker) refuse(ctx context.Context, rej *RejectedError) error {
	if b.s.observer != nil {
		b.observeRefusal(ctx, rej)
	}
	if b.npending.Load() != 0 {
		b.report(ctx)
	}
	return rej
}

func (b *Breaker) observeRefusal(ctx context.Context, rej *RejectedError) {
	b.s.observer.Observe(resilience.Event{Kind: resilience.EventRejected, Policy: b.s.name, Key: b.key, Err: rej, Ctx: ctx})
}

// admit decides whether a call may go through a breaker that is not
// closed, moving it on when its open or half-open period is over. It
// returns the period the call runs in, or the refusal. A call admitted in
// HalfOpen holds one of its probes.
func (b *Breaker) admit(r *period) (*period, *RejectedError) {
	var now time.Time
	for range 4 {
		switch r.state {
		case Closed, ForcedClosed:
			return r, nil
		case ForcedOpen:
			return r, r.rej
		}
		if r.near.Load() {
			if now.IsZero() {
				now = time.Now()
			}
			if !now.Before(r.until) {
				r = b.advance(r, now)
				continue
			}
		}
		if r.state == Open {
			return r, r.rej
		}
		for { // HalfOpen: take a probe if one is left
			n := r.probes.Load()
			if n >= b.s.halfOpenProbes {
				return r, r.rej
			}
			if r.probes.CompareAndSwap(n, n+1) {
				return r, nil
			}
		}
	}
	return r, r.rej // the state moved on four times in one call; refuse
}

// advance ends r, an Open or HalfOpen period whose time is up: an open
// breaker starts probing; a half-open one whose probes did not all report
// in time opens again, with a fresh gobreaker (the old one may be held by
// a probe that never returns). It returns the current period.
func (b *Breaker) advance(r *period, now time.Time) *period {
	var fresh *instance
	if r.state == HalfOpen {
		fresh = newInstance(b, true)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	cur := b.rec.Load()
	if cur != r {
		return cur
	}
	var next *period
	if r.state == Open {
		until := now.Add(b.s.halfOpenTimeout)
		next = (&period{state: HalfOpen, inst: r.inst, until: until, step: r.step,
			rej: newRejectedError(b.s.name, b.key, HalfOpen, until)}).withTimer(b.s.halfOpenTimeout)
	} else {
		next = b.openPeriod(r, fresh, 0, now)
	}
	b.setLocked(r, next)
	return next
}

// openPeriod returns the Open period that follows cur: the first of a run
// lasts OpenTimeout; each after a failed probe doubles, up to
// MaxOpenTimeout, when that is set. A positive hint replaces the duration
// (capped at MaxOpenTimeout, when set) without changing the schedule.
func (b *Breaker) openPeriod(cur *period, inst *instance, hint time.Duration, now time.Time) *period {
	step := b.s.openTimeout
	if cur.state == HalfOpen && b.s.maxOpenTimeout > 0 {
		step = b.s.maxOpenTimeout
		if cur.step <= b.s.maxOpenTimeout/2 {
			step = max(cur.step*2, b.s.openTimeout)
		}
	}
	d := step
	if hint > 0 {
		d = hint
		if b.s.maxOpenTimeout > 0 {
			d = min(d, b.s.maxOpenTimeout)
		}
	}
	until := now.Add(d)
	return (&period{state: Open, inst: inst, until: until, step: step,
		rej: newRejectedError(b.s.name, b.key, Open, until)}).withTimer(d)
}

// changed is gobreaker's OnStateChange, called under gobreaker's mutex:
// it follows gobreaker's trips and closings with the Breaker's own state.
func (b *Breaker) changed(inst *instance, to gobreaker.State) {
	b.mu.Lock()
	defer b.mu.Unlock()
	cur := b.rec.Load()
	if cur.inst != inst {
		return
	}
	switch {
	case to == gobreaker.StateOpen && (cur.state == Closed || cur.state == HalfOpen):
		b.setLocked(cur, b.openPeriod(cur, inst, inst.hint, time.Now()))
	case to == gobreaker.StateClosed && cur.state == HalfOpen:
		b.setLocked(cur, &period{state: Closed, inst: inst})
	}
}

// setLocked makes next the current period and queues the change for
// reporting. b.mu is held.
func (b *Breaker) setLocked(cur, next *period) {
	b.rec.Store(next)
	if cur.state != next.state {
		b.pending = append(b.pending, transition{from: cur.state, to: next.state, until: next.until})
		b.npending.Add(1)
	}
}

// report calls OnStateChange and the Observer for pending changes of
// state, in order, holding no lock but the reporting one (so that a
// callback may use the breaker; a change it causes is reported after it
// returns).
func (b *Breaker) report(ctx context.Context) {
	for b.npending.Load() != 0 {
		if !b.reporting.TryLock() {
			return // another goroutine is reporting; it will see ours
		}
		b.reportLocked(ctx)
	}
}

func (b *Breaker) reportLocked(ctx context.Context) {
	defer b.reporting.Unlock()
	for {
		b.mu.Lock()
		if len(b.pending) == 0 {
			b.mu.Unlock()
			return
		}
		t := b.pending[0]
		b.pending = b.pending[1:]
		if len(b.pending) == 0 {
			b.pending = nil
		}
		b.npending.Add(-1)
		b.mu.Unlock()

		if b.s.onStateChange != nil {
			b.s.onStateChange(b.label, t.from, t.to)
		}
		if b.s.observer != nil {
			b.s.observer.Observe(resilience.Event{Kind: resilience.EventStateChange, Policy: b.s.name, Key: b.key, From: t.from.String(), To: t.to.String(), Ctx: ctx})
		}
		if w := b.s.watch.Load(); w != nil {
			(*w)(Change{Breaker: b, From: t.from, To: t.to, Until: t.until, Followed: t.followed})
		}
	}
}

// State returns the breaker's state now. An open breaker whose open
// duration has passed is HalfOpen; a half-open one that has timed out is
// Open (State makes those moves, and reports them, as a call would). It is
// safe for concurrent use, including from OnStateChange.
//
// A nil *Breaker or a zero Breaker (not made by New), which refuses every
// call as a programming error, has no state: State returns Closed, Counts
// zero counts, Period (Closed, zero time); Force*, Unforce, Trip, Follow
// and the Watch methods do nothing (Trip and Follow return false).
func (b *Breaker) State() State {
	if b.check() != nil {
		return Closed
	}
	r := b.rec.Load()
	if r.state == Open || r.state == HalfOpen {
		now := time.Now()
		for i := 0; i < 2 && (r.state == Open || r.state == HalfOpen) && !now.Before(r.until); i++ {
			r = b.advance(r, now)
		}
		if b.npending.Load() != 0 {
			b.report(context.Background())
		}
	}
	return r.state
}

// Counts returns a snapshot of the breaker's counters (see Counts). It is
// safe for concurrent use, including from OnStateChange.
func (b *Breaker) Counts() Counts {
	if b.check() != nil {
		return Counts{}
	}
	cb := b.rec.Load().inst.cb
	cb.State() // let gobreaker drop calls that left its rolling window
	c := cb.Counts()
	return Counts{
		Requests:             c.Requests,
		TotalSuccesses:       c.TotalSuccesses,
		TotalFailures:        c.TotalFailures,
		TotalIgnored:         c.TotalExclusions,
		ConsecutiveSuccesses: c.ConsecutiveSuccesses,
		ConsecutiveFailures:  c.ConsecutiveFailures,
	}
}

// ForceOpen makes the breaker refuse every call with ErrOpen (State
// ForcedOpen, RetryAfter zero) until Unforce or ForceClosed, for
// maintenance or tests. Calls already running finish normally.
func (b *Breaker) ForceOpen() { b.force(ForcedOpen) }

// ForceClosed makes the breaker let every call through, uncounted (State
// ForcedClosed), until Unforce or ForceOpen.
func (b *Breaker) ForceClosed() { b.force(ForcedClosed) }

func (b *Breaker) force(st State) {
	if b.check() != nil {
		return
	}
	b.mu.Lock()
	cur := b.rec.Load()
	if cur.state != st {
		next := &period{state: st, inst: cur.inst}
		if st == ForcedOpen {
			next.rej = newRejectedError(b.s.name, b.key, ForcedOpen, time.Time{})
		}
		b.setLocked(cur, next)
	}
	b.mu.Unlock()
	b.report(context.Background())
}

// Unforce returns a forced breaker to automatic operation: it is Closed
// again, with its counts and its open-duration schedule started afresh.
// It does nothing to a breaker that is not forced.
func (b *Breaker) Unforce() {
	if b.check() != nil {
		return
	}
	fresh := newInstance(b, false)
	b.mu.Lock()
	if cur := b.rec.Load(); cur.state == ForcedOpen || cur.state == ForcedClosed {
		b.setLocked(cur, &period{state: Closed, inst: fresh})
	}
	b.mu.Unlock()
	b.report(context.Background())
}
