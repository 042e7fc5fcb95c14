package timeout

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/internal/step"
)

// Config configures a Timeout. Only Timeout has no usable zero value.
type Config struct {
	// Name names the policy in its errors and in the Events it reports.
	// Zero: unnamed; its errors are ErrTimeout and ErrTooManyAbandoned
	// themselves.
	Name string

	// Timeout is how long a call is given: at Timeout its context is
	// cancelled. In cooperative mode (Abandon false) Execute then waits
	// for the call to return, so a callee that ignores its context runs,
	// and keeps its caller waiting, past Timeout; in abandon mode Execute
	// returns at Timeout whatever the call does. Required: it must be > 0.
	Timeout time.Duration

	// Abandon turns on abandon mode, for callees that ignore their
	// context: each call runs in a goroutine of its own, and Execute
	// returns at the deadline (or when the caller's context ends) whether
	// the call has returned or not, leaving it to finish in the
	// background (see the package doc). It requires MaxAbandoned. False:
	// cooperative mode, where the call runs on the caller's goroutine and
	// Execute returns when it does.
	Abandon bool

	// MaxAbandoned bounds, in abandon mode, the calls abandoned (still
	// running after Execute returned without them): while at least that
	// many are, Execute refuses new calls at once with an error matching
	// ErrTooManyAbandoned. Required with Abandon: it must be > 0. Without
	// Abandon it must be zero, since it would do nothing.
	MaxAbandoned int

	// Observer is told of each timeout of the policy's own deadline
	// (EventTimeout, with Err the error returned), and in abandon mode of
	// each call left running (EventAbandon), of each such call that has
	// since returned (EventAbandonDone, with Err the call's error) and of
	// each call refused at the cap (EventRejected). Nil: nothing is
	// reported.
	Observer resilience.Observer
}

// A Timeout bounds how long calls take. Each call gets a context whose
// deadline is the earlier of its caller's and Config.Timeout from now.
//
// A Timeout is safe for concurrent use. In cooperative mode (the default)
// it starts no goroutine; in abandon mode (Config.Abandon) each call runs
// in a goroutine of its own. Make one with New; the zero value is not
// usable (a call through it returns an error matching
// resilience.ErrMisuse).
type Timeout struct {
	d            time.Duration
	maxAbandoned int64
	name         string
	obs          resilience.Observer
	errTimeout   *timeoutError // the policy's own deadline, preallocated
	errTooMany   error         // the refusal at the cap, preallocated

	abandoned atomic.Int64 // abandoned calls still running
}

// New returns a Timeout configured by cfg, or an error naming the first
// field of cfg that is out of range.
func New(cfg Config) (*Timeout, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	t := &Timeout{
		d:            cfg.Timeout,
		maxAbandoned: int64(cfg.MaxAbandoned),
		name:         cfg.Name,
		obs:          cfg.Observer,
		errTimeout:   ErrTimeout.(*timeoutError),
		errTooMany:   ErrTooManyAbandoned,
	}
	if cfg.Name != "" {
		p := prefix(cfg.Name)
		t.errTimeout = &timeoutError{msg: p + "deadline exceeded"}
		t.errTooMany = &tooManyError{msg: p + "too many abandoned calls"}
	}
	return t, nil
}

func (cfg *Config) validate() error {
	switch {
	case cfg.Timeout <= 0:
		return fmt.Errorf("timeout: Config.Timeout must be > 0, got %v", cfg.Timeout)
	case cfg.Abandon && cfg.MaxAbandoned <= 0:
		return fmt.Errorf("timeout: Config.MaxAbandoned must be > 0 with Config.Abandon, got %d", cfg.MaxAbandoned)
	case !cfg.Abandon && cfg.MaxAbandoned != 0:
		return fmt.Errorf("timeout: Config.MaxAbandoned must be zero without Config.Abandon (set Abandon to turn abandon mode on), got %d", cfg.MaxAbandoned)
	}
	return nil
}

// Execute runs call with a context whose deadline is the earlier of ctx's
// and Config.Timeout from now, and returns call's error, except that:
//
//   - when the policy's own deadline has passed by the time call returns an
//     error, Execute returns an error that matches ErrTimeout and
//     context.DeadlineExceeded and keeps call's error reachable with
//     errors.Is and errors.As;
//   - in abandon mode, Execute returns at the deadline, or when ctx ends,
//     without waiting for call (see the package doc), and refuses calls with
//     an error matching ErrTooManyAbandoned while Config.MaxAbandoned calls
//     are abandoned.
//
// In cooperative mode Execute returns when call does: a call that ignores
// its context runs on past the deadline, and Execute with it, then returns
// the timeout error if call failed, or nil if it succeeded late.
//
// When ctx's own deadline passes first, or ctx is cancelled, Execute returns
// call's error as it is (in abandon mode, ctx.Err()): the caller gave up,
// which says nothing about the dependency. A panic in call reaches the
// caller of Execute unchanged.
//
// A nil ctx or call, a nil *Timeout or a zero Timeout (not made by New) is
// a programming error: Execute returns an error matching
// resilience.ErrMisuse (and resilience.ErrNilContext, ErrNilFunc or
// ErrNilPolicy) without running call.
func (t *Timeout) Execute(ctx context.Context, call func(context.Context) error) error {
	return t.execute(ctx, nil, call)
}

// Programming errors of the timeout's user (see Execute).
var (
	errNilTimeout  = fmt.Errorf("timeout: nil *Timeout: %w", resilience.ErrNilPolicy)
	errZeroTimeout = fmt.Errorf("timeout: zero Timeout (make one with New): %w", resilience.ErrMisuse)
	errNilContext  = fmt.Errorf("timeout: nil context: %w", resilience.ErrNilContext)
	errNilCall     = fmt.Errorf("timeout: nil call: %w", resilience.ErrNilFunc)
)

// check returns the programming error that keeps t from running any call,
// or nil.
func (t *Timeout) check() error {
	switch {
	case t == nil:
		return errNilTimeout
	case t.d == 0:
		return errZeroTimeout
	}
	return nil
}

// misuse returns the programming error of a call through t with ctx and
// call, or nil.
func (t *Timeout) misuse(ctx context.Context, call func(context.Context) error) error {
	if err := t.check(); err != nil {
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

// Wrap returns a Policy that runs next under the timeout:
// t.Wrap(next).Execute(ctx, call) runs next.Execute with the call's context
// and call. It adds no allocation per call beyond the deadline's context;
// resilience.Chain composes the library's policies with it. Wrap(nil)
// behaves as t.
func (t *Timeout) Wrap(next resilience.Policy) resilience.Policy {
	if t != nil && t.maxAbandoned > 0 {
		return &abandoning{t, next}
	}
	return &wrapped{t, next}
}

// wrapped is a cooperative Timeout around next. It also runs a call in two
// steps, for resilience.Do (see internal/step).
type wrapped struct {
	t    *Timeout
	next resilience.Policy
}

func (w *wrapped) Execute(ctx context.Context, call func(context.Context) error) error {
	return w.t.execute(ctx, w.next, call)
}

// Check reports a timeout that cannot run any call, for resilience.Chain.
func (w *wrapped) Check() error { return w.t.check() }

func (w *wrapped) Enter(ctx context.Context) (context.Context, step.Ticket, error) {
	cctx, cancel := w.t.enter(ctx)
	return cctx, step.Ticket{P: cancel}, nil
}

func (w *wrapped) Exit(ctx, cctx context.Context, tk step.Ticket, err error, panicked bool) error {
	cancel, _ := tk.P.(context.CancelFunc)
	if panicked {
		if cancel != nil {
			cancel()
		}
		return nil
	}
	return w.t.exit(ctx, cctx, cancel, err)
}

// abandoning is a Timeout in abandon mode around next: it has no two-step
// form, since the call may outlive Execute.
type abandoning struct {
	t    *Timeout
	next resilience.Policy
}

func (a *abandoning) Execute(ctx context.Context, call func(context.Context) error) error {
	return a.t.execute(ctx, a.next, call)
}

// Check reports a timeout that cannot run any call, for resilience.Chain.
func (a *abandoning) Check() error { return a.t.check() }

func run(ctx context.Context, next resilience.Policy, call func(context.Context) error) error {
	if next == nil {
		return call(ctx)
	}
	return next.Execute(ctx, call)
}

func (t *Timeout) execute(ctx context.Context, next resilience.Policy, call func(context.Context) error) error {
	if t == nil || t.d == 0 || ctx == nil || call == nil {
		return t.misuse(ctx, call)
	}
	if t.maxAbandoned > 0 {
		return t.executeAbandon(ctx, next, call)
	}
	cctx, cancel := t.enter(ctx)
	if cancel == nil {
		return run(ctx, next, call)
	}
	defer cancel()
	err, timedOut := t.result(ctx, cctx, run(cctx, next, call))
	if timedOut && t.obs != nil {
		t.observe(resilience.EventTimeout, err)
	}
	return err
}

// enter returns the context a call runs with, and the cancel func of the
// deadline it adds; none (ctx itself and a nil cancel) when ctx's own
// deadline comes no later than the policy's. When ctx has a later
// deadline, the clock read to compare them also sets the policy's: one
// read fewer than WithTimeoutCause after the comparison would make.
func (t *Timeout) enter(ctx context.Context) (context.Context, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok {
		return context.WithTimeoutCause(ctx, t.d, ErrTimeout)
	}
	now := time.Now()
	if dl.Sub(now) <= t.d {
		return ctx, nil
	}
	return context.WithDeadlineCause(ctx, now.Add(t.d), ErrTimeout)
}

// exit is what a cooperative call made with the context and cancel func
// from enter returns for err.
func (t *Timeout) exit(ctx, cctx context.Context, cancel context.CancelFunc, err error) error {
	if cancel == nil {
		return err
	}
	err, timedOut := t.result(ctx, cctx, err)
	cancel() // before the Observer, which may panic
	if timedOut && t.obs != nil {
		t.observe(resilience.EventTimeout, err)
	}
	return err
}

// result is what Execute returns for err, returned by a call made with
// cctx, derived from the caller's ctx, and whether it is the policy's own
// timeout (to be reported as an EventTimeout).
func (t *Timeout) result(ctx, cctx context.Context, err error) (error, bool) {
	// cctx done and ctx not: the policy's own deadline passed.
	if err == nil || cctx.Err() == nil || ctx.Err() != nil {
		return err, false
	}
	if err == context.DeadlineExceeded || err == ErrTimeout {
		return t.errTimeout, true
	}
	return &timeoutError{msg: t.errTimeout.msg, err: err}, true
}

// Name returns Config.Name.
func (t *Timeout) Name() string { return t.name }

// Timeout returns Config.Timeout.
func (t *Timeout) Timeout() time.Duration { return t.d }

// Abandoned returns how many calls are abandoned now: Execute has returned
// (or is about to return) without them, and they have not returned yet. A
// call is counted before its Execute returns, and stops counting as it
// returns; one that returns just as Execute gives up on it may be counted
// for an instant. It is always zero in cooperative mode. Safe to call at
// any time.
func (t *Timeout) Abandoned() int { return int(t.abandoned.Load()) }

func (t *Timeout) observe(kind resilience.EventKind, err error) {
	t.obs.Observe(resilience.Event{Kind: kind, Policy: t.name, Err: err})
}
