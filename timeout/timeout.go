package timeout

import (
	"context"
	"fmt"
	"sync"
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

	// Timeout is the longest a call may take. Required: it must be > 0.
	Timeout time.Duration

	// MaxAbandoned turns on abandon mode, for callees that ignore their
	// context, and caps how many calls may be abandoned (still running after
	// Execute returned without them) at once. Zero: cooperative mode only,
	// where Execute waits for the call to return. Negative values are an
	// error.
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
// it starts no goroutine; in abandon mode (Config.MaxAbandoned > 0) each
// call runs in a goroutine of its own. Make one with New; the zero value is
// not usable.
type Timeout struct {
	d            time.Duration
	maxAbandoned int64
	name         string
	obs          resilience.Observer
	errTimeout   *timeoutError // the policy's own deadline, preallocated
	errTooMany   error         // the refusal at the cap, preallocated

	abandoned atomic.Int64 // abandoned calls still running, and reservations for calls being abandoned

	mu    sync.Mutex
	freed chan struct{} // closed when an abandoned call returns; nil when no one waits for it
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
	case cfg.MaxAbandoned < 0:
		return fmt.Errorf("timeout: Config.MaxAbandoned must be >= 0, got %d", cfg.MaxAbandoned)
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
// When ctx's own deadline passes first, or ctx is cancelled, Execute returns
// call's error as it is (in abandon mode, ctx.Err()): the caller gave up,
// which says nothing about the dependency. A panic in call reaches the
// caller of Execute unchanged.
func (t *Timeout) Execute(ctx context.Context, call func(context.Context) error) error {
	return t.execute(ctx, nil, call)
}

// Wrap returns a Policy that runs next under the timeout:
// t.Wrap(next).Execute(ctx, call) runs next.Execute with the call's context
// and call. It adds no allocation per call beyond the deadline's context;
// resilience.Chain composes the library's policies with it. Wrap(nil)
// behaves as t.
func (t *Timeout) Wrap(next resilience.Policy) resilience.Policy {
	if t.maxAbandoned > 0 {
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

func run(ctx context.Context, next resilience.Policy, call func(context.Context) error) error {
	if next == nil {
		return call(ctx)
	}
	return next.Execute(ctx, call)
}

func (t *Timeout) execute(ctx context.Context, next resilience.Policy, call func(context.Context) error) error {
	if t.maxAbandoned > 0 {
		return t.executeAbandon(ctx, next, call)
	}
	cctx, cancel := t.enter(ctx)
	if cancel == nil {
		return run(ctx, next, call)
	}
	defer cancel()
	return t.result(ctx, cctx, run(cctx, next, call))
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
	err = t.result(ctx, cctx, err)
	cancel()
	return err
}

// result is what Execute returns for err, returned by a call made with
// cctx, derived from the caller's ctx.
func (t *Timeout) result(ctx, cctx context.Context, err error) error {
	// cctx done and ctx not: the policy's own deadline passed.
	if err == nil || cctx.Err() == nil || ctx.Err() != nil {
		return err
	}
	var terr error = t.errTimeout
	if err != context.DeadlineExceeded && err != ErrTimeout {
		terr = &timeoutError{msg: t.errTimeout.msg, err: err}
	}
	if t.obs != nil {
		t.observe(resilience.EventTimeout, terr)
	}
	return terr
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
