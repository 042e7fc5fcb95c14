package ratelimit

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/internal/step"
)

// Config configures a Limiter. Only Rate has no usable zero value.
type Config struct {
	// Name names the limiter in its errors and in the Events it reports.
	// Zero: unnamed; refusals say "ratelimit: limited".
	Name string

	// Rate is how many calls a second the limiter lets through on average:
	// tokens come back at this rate. Required: it must be positive and
	// finite (a rate below one a second is fine: 0.5 is one call every two
	// seconds).
	Rate float64

	// Burst is how many tokens the limiter holds at most, and so how many
	// calls may go through at once after a quiet spell. Zero: 1. Negative
	// values are an error.
	Burst int

	// MaxWait is the longest a caller waits for a token when none is free,
	// before it is refused with ErrLimited. Zero: a caller is refused at
	// once. Negative values are an error. A caller is refused at once, even
	// with MaxWait set, when the next token will not be free within MaxWait.
	MaxWait time.Duration

	// Observer is told of each refusal (EventRejected, with Err the
	// refusal) and of each wait that ended with a token (EventWait, with
	// Latency the time waited). Nil: nothing is reported.
	Observer resilience.Observer
}

// A Limiter lets calls through at Config.Rate a second on average, with
// bursts of up to Config.Burst, on a golang.org/x/time/rate.Limiter. A
// call that finds no token free waits for one, at most Config.MaxWait and
// no longer than its context lives, and is otherwise refused with an error
// matching ErrLimited and resilience.ErrRejected that carries the wait for
// the next token (resilience.RetryAfter).
//
// A refused or cancelled caller never holds or gives back a token: a
// token is taken only by a call that runs, so refusals under any
// concurrency waste none (see the package doc).
//
// A Limiter is safe for concurrent use. It starts no goroutine. Make one
// with New; the zero value is not usable.
type Limiter struct {
	lim      *rate.Limiter
	rate     float64
	maxWait  time.Duration
	name     string
	obs      resilience.Observer
	errLimit error
	rejected atomic.Uint64
}

// New returns a Limiter configured by cfg, or an error naming the first
// field of cfg that is out of range. The limiter starts with Burst tokens.
func New(cfg Config) (*Limiter, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return newLimiter(cfg), nil
}

func newLimiter(cfg Config) *Limiter {
	burst := cfg.Burst
	if burst == 0 {
		burst = 1
	}
	l := &Limiter{
		lim:     rate.NewLimiter(rate.Limit(cfg.Rate), burst),
		rate:    cfg.Rate,
		maxWait: cfg.MaxWait,
		name:    cfg.Name,
		obs:     cfg.Observer,
	}
	l.errLimit = newLimitedError(l, cfg.Name)
	return l
}

func (cfg *Config) validate() error {
	switch {
	case !(cfg.Rate > 0) || math.IsInf(cfg.Rate, 0):
		return fmt.Errorf("ratelimit: Config.Rate must be positive and finite, got %v", cfg.Rate)
	case cfg.Burst < 0:
		return fmt.Errorf("ratelimit: Config.Burst must be >= 0 (zero: 1), got %d", cfg.Burst)
	case cfg.MaxWait < 0:
		return fmt.Errorf("ratelimit: Config.MaxWait must be >= 0, got %v", cfg.MaxWait)
	}
	return nil
}

// Execute runs call when a token is free and returns its error, or refuses
// it: when no token comes free within Config.MaxWait it returns an error
// matching ErrLimited (and resilience.ErrRejected) without running call;
// when ctx ends while it waits, it returns ctx.Err() without running call.
// A free token is taken without looking at ctx. call gets ctx unchanged.
//
// A nil ctx or call, a nil *Limiter or a zero Limiter (not made by New) is
// a programming error: Execute returns an error matching
// resilience.ErrMisuse (and resilience.ErrNilContext, ErrNilFunc or
// ErrNilPolicy) without running call or taking a token.
func (l *Limiter) Execute(ctx context.Context, call func(context.Context) error) error {
	if call == nil {
		return l.nilCall()
	}
	if err := l.Take(ctx); err != nil {
		return err
	}
	return call(ctx)
}

// Programming errors of the limiter's user (see Execute).
var (
	errNilLimiter  = fmt.Errorf("ratelimit: nil *Limiter: %w", resilience.ErrNilPolicy)
	errZeroLimiter = fmt.Errorf("ratelimit: zero Limiter (make one with New): %w", resilience.ErrMisuse)
	errNilContext  = fmt.Errorf("ratelimit: nil context: %w", resilience.ErrNilContext)
	errNilCall     = fmt.Errorf("ratelimit: nil call: %w", resilience.ErrNilFunc)
)

// check returns the programming error that keeps l from running any call,
// or nil.
func (l *Limiter) check() error {
	switch {
	case l == nil:
		return errNilLimiter
	case l.lim == nil:
		return errZeroLimiter
	}
	return nil
}

func (l *Limiter) nilCall() error {
	if err := l.check(); err != nil {
		return err
	}
	return errNilCall
}

// Wrap returns a Policy that runs next once the limiter lets the call
// through: l.Wrap(next).Execute(ctx, call) is l.Take(ctx) followed by
// next.Execute(ctx, call). It makes no allocation per call;
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
	if call == nil {
		return w.l.nilCall()
	}
	if err := w.l.Take(ctx); err != nil {
		return err
	}
	if w.next == nil {
		return call(ctx)
	}
	return w.next.Execute(ctx, call)
}

// Check reports a limiter that cannot run any call, for resilience.Chain.
func (w *wrapped) Check() error { return w.l.check() }

// Enter and Exit are Execute in two steps, for resilience.Do (see
// internal/step). A token, once taken, is never given back: Exit has
// nothing to do.
func (w *wrapped) Enter(ctx context.Context) (context.Context, step.Ticket, error) {
	return ctx, step.Ticket{}, w.l.Take(ctx)
}

func (w *wrapped) Exit(_, _ context.Context, _ step.Ticket, err error, _ bool) error {
	return err
}

// Take takes a token for one call, for callers that run the call
// themselves. A free token is taken at once, without looking at ctx. When
// none is free, Take waits for one at most Config.MaxWait: it returns an
// error matching ErrLimited (and resilience.ErrRejected) at once when
// MaxWait is zero or the next token will not be free within it, or when
// MaxWait passes; and ctx.Err() as soon as ctx ends first. On error no
// token is taken.
//
// Taking a free token and refusing allocate nothing; a caller that waits
// allocates a timer. A nil ctx, a nil *Limiter or a zero Limiter takes no
// token and returns an error matching resilience.ErrMisuse.
func (l *Limiter) Take(ctx context.Context) error {
	if l == nil || l.lim == nil || ctx == nil {
		if err := l.check(); err != nil {
			return err
		}
		return errNilContext
	}
	now := time.Now()
	if l.lim.AllowN(now, 1) {
		return nil
	}
	if l.maxWait == 0 {
		return l.refuse()
	}
	return l.wait(ctx, now)
}

// wait waits for a token from start, at most maxWait. It takes a token
// only when one is free now (AllowN), never a reservation of a future one:
// a reservation cancelled after a later one was made gives back no token
// (x/time/rate's Reservation.Cancel restores only what nobody reserved
// since), so cancelled waiters would starve the limiter. The price is that
// waiters are not served in arrival order: at each token, whoever asks
// first gets it.
func (l *Limiter) wait(ctx context.Context, start time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	deadline := start.Add(l.maxWait)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	now := start
	for {
		d := l.nextToken(now)
		if now.Add(d).After(deadline) {
			return l.refuse()
		}
		if timer == nil {
			timer = time.NewTimer(d)
		} else {
			timer.Reset(d)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
		now = time.Now()
		if l.lim.AllowN(now, 1) {
			if l.obs != nil {
				l.obs.Observe(resilience.Event{Kind: resilience.EventWait, Policy: l.name, Latency: now.Sub(start)})
			}
			return nil
		}
	}
}

// nextToken returns how long from now until a token is free; at least one
// nanosecond.
func (l *Limiter) nextToken(now time.Time) time.Duration {
	missing := 1 - l.lim.TokensAt(now)
	if missing <= 0 {
		return 1
	}
	d := time.Duration(math.Ceil(missing / l.rate * float64(time.Second)))
	if d <= 0 {
		return 1
	}
	return d
}

// refuse counts and reports a refusal and returns its error.
func (l *Limiter) refuse() error {
	l.rejected.Add(1)
	if l.obs != nil {
		l.obs.Observe(resilience.Event{Kind: resilience.EventRejected, Policy: l.name, Err: l.errLimit})
	}
	return l.errLimit
}

// Name returns Config.Name.
func (l *Limiter) Name() string { return l.name }

// Rate returns Config.Rate.
func (l *Limiter) Rate() float64 { return l.rate }

// Burst returns the burst in effect: Config.Burst, or 1 when it was zero.
func (l *Limiter) Burst() int { return l.lim.Burst() }

// Tokens returns how many tokens are free now (fractions included).
func (l *Limiter) Tokens() float64 { return l.lim.TokensAt(time.Now()) }

// Rejected returns how many calls the limiter has refused with ErrLimited
// since it was made. Callers whose own context ended while they waited are
// not counted.
func (l *Limiter) Rejected() uint64 { return l.rejected.Load() }
