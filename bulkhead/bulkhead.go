package bulkhead

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/internal/step"
)

// Config configures a Bulkhead. Only MaxConcurrent has no usable zero value.
type Config struct {
	// Name names the bulkhead in its errors and in the Events it reports.
	// Zero: unnamed; refusals are ErrFull itself.
	Name string

	// MaxConcurrent is the most calls the bulkhead lets run at once.
	// Required: it must be in (0, math.MaxInt32].
	MaxConcurrent int

	// MaxWait is the longest a caller waits for a slot when all are taken,
	// before it is refused with ErrFull. Zero: a caller is refused at once,
	// without waiting. Negative values are an error.
	MaxWait time.Duration

	// Observer is told of each slot taken (EventAcquire) and given back
	// (EventRelease), of each wait that ended with a slot (EventWait, with
	// Latency the time waited) and of each refusal (EventRejected, with Err
	// the refusal). Nil: nothing is reported, and the bulkhead reads no
	// clock for it.
	Observer resilience.Observer
}

// A Bulkhead bounds how many calls run at once. A call that finds every slot
// taken waits for one, at most Config.MaxWait and no longer than its context
// lives, and is otherwise refused with an error matching ErrFull and
// resilience.ErrRejected.
//
// A Bulkhead is safe for concurrent use. It starts no goroutine. Make one
// with New; the zero value is not usable.
type Bulkhead struct {
	// state packs the slots in use (low 32 bits) and the callers queued
	// waiting for one (high 32 bits), so that both are read and changed in
	// one atomic step. While anyone is queued every slot is in use: a slot
	// given back then goes straight to the first in the queue.
	state atomic.Uint64

	rejected atomic.Uint64

	mu    sync.Mutex // guards the queue
	queue waitQueue

	max     uint64
	maxWait time.Duration
	name    string
	obs     resilience.Observer
	errFull error
}

// New returns a Bulkhead configured by cfg, or an error naming the first
// field of cfg that is out of range.
func New(cfg Config) (*Bulkhead, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Bulkhead{
		max:     uint64(cfg.MaxConcurrent),
		maxWait: cfg.MaxWait,
		name:    cfg.Name,
		obs:     cfg.Observer,
		errFull: newFullError(cfg.Name),
	}, nil
}

func (cfg *Config) validate() error {
	switch {
	case cfg.MaxConcurrent <= 0 || cfg.MaxConcurrent > math.MaxInt32:
		return fmt.Errorf("bulkhead: Config.MaxConcurrent must be in (0, %d], got %d", math.MaxInt32, cfg.MaxConcurrent)
	case cfg.MaxWait < 0:
		return fmt.Errorf("bulkhead: Config.MaxWait must be >= 0, got %v", cfg.MaxWait)
	}
	return nil
}

// Execute runs call in a slot of the bulkhead and returns its error, or
// refuses it: when no slot comes free within Config.MaxWait it returns an
// error matching ErrFull (and resilience.ErrRejected) without running call;
// when ctx ends while it waits, it returns ctx.Err() without running call.
// A free slot is taken without looking at ctx.
//
// call gets ctx unchanged. The slot is given back when call returns, panics
// (the panic goes on to the caller unchanged) or exits its goroutine, and
// when the Observer panics (the panic goes on the same way).
//
// A nil ctx or call, a nil *Bulkhead or a zero Bulkhead (not made by New)
// is a programming error: Execute returns an error matching
// resilience.ErrMisuse (and resilience.ErrNilContext, ErrNilFunc or
// ErrNilPolicy) without running call or taking a slot.
func (b *Bulkhead) Execute(ctx context.Context, call func(context.Context) error) error {
	return b.execute(ctx, nil, call)
}

// Programming errors of the bulkhead's user (see Execute).
var (
	errNilBulkhead  = fmt.Errorf("bulkhead: nil *Bulkhead: %w", resilience.ErrNilPolicy)
	errZeroBulkhead = fmt.Errorf("bulkhead: zero Bulkhead (make one with New): %w", resilience.ErrMisuse)
	errNilContext   = fmt.Errorf("bulkhead: nil context: %w", resilience.ErrNilContext)
	errNilCall      = fmt.Errorf("bulkhead: nil call: %w", resilience.ErrNilFunc)
)

// check returns the programming error that keeps b from running any call,
// or nil.
func (b *Bulkhead) check() error {
	switch {
	case b == nil:
		return errNilBulkhead
	case b.max == 0:
		return errZeroBulkhead
	}
	return nil
}

// Wrap returns a Policy that runs next inside the bulkhead:
// b.Wrap(next).Execute(ctx, call) holds a slot around
// next.Execute(ctx, call). It makes no allocation per call; resilience.Chain
// composes the library's policies with it. Wrap(nil) behaves as b.
func (b *Bulkhead) Wrap(next resilience.Policy) resilience.Policy {
	return &wrapped{b, next}
}

type wrapped struct {
	b    *Bulkhead
	next resilience.Policy
}

func (w *wrapped) Execute(ctx context.Context, call func(context.Context) error) error {
	return w.b.execute(ctx, w.next, call)
}

// Check reports a bulkhead that cannot run any call, for resilience.Chain.
func (w *wrapped) Check() error { return w.b.check() }

// Enter and Exit are execute in two steps, for resilience.Do (see
// internal/step).
func (w *wrapped) Enter(ctx context.Context) (context.Context, step.Ticket, error) {
	return ctx, step.Ticket{}, w.b.Acquire(ctx)
}

func (w *wrapped) Exit(_, _ context.Context, _ step.Ticket, err error, _ bool) error {
	w.b.Release()
	return err
}

func (b *Bulkhead) execute(ctx context.Context, next resilience.Policy, call func(context.Context) error) error {
	if call == nil {
		if err := b.check(); err != nil {
			return err
		}
		return errNilCall
	}
	if err := b.Acquire(ctx); err != nil {
		return err
	}
	defer b.Release()
	if next == nil {
		return call(ctx)
	}
	return next.Execute(ctx, call)
}

// Name returns Config.Name.
func (b *Bulkhead) Name() string { return b.name }

// MaxConcurrent returns Config.MaxConcurrent.
func (b *Bulkhead) MaxConcurrent() int { return int(b.max) }

// InFlight returns how many slots are taken now: calls running, and slots
// held through Acquire and not yet given back.
func (b *Bulkhead) InFlight() int { return int(b.state.Load() & inFlightMask) }

// Waiting returns how many callers are waiting for a slot now.
func (b *Bulkhead) Waiting() int { return int(b.state.Load() >> waitingShift) }

// Rejected returns how many calls the bulkhead has refused with ErrFull
// since it was made. Callers whose own context ended while they waited are
// not counted.
func (b *Bulkhead) Rejected() uint64 { return b.rejected.Load() }
