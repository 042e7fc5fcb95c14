package inject

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/internal/step"
)

// Config configures an Injector. The zero value is valid and injects
// nothing: set Share, and Delay or Err (or both).
type Config struct {
	// Name names the Injector in the Events it reports (Event.Policy).
	// Zero: "inject".
	Name string

	// Share is the fraction of eligible calls that get the fault, drawn
	// independently for each call: 0 none, 0.25 about one in four, 1
	// every one. It must be in [0, 1] (NaN is an error).
	Share float64

	// MarkedOnly makes only the calls whose context carries Mark (or, in
	// the httpx and grpcx adapters, whose request carries the header or
	// metadata they name) eligible for the fault; Share is then the
	// fraction of those that get it. False: every call is eligible.
	MarkedOnly bool

	// Delay is the latency added to a call that gets the fault, before the
	// call runs (or before Err is returned). Zero: none. Negative: an
	// error.
	Delay time.Duration

	// DelayMax, when set, makes the added latency uniform over
	// [Delay, DelayMax] instead of Delay exactly, drawn once per fault.
	// Zero: the latency is Delay. It must otherwise be at least Delay.
	DelayMax time.Duration

	// Err is returned, after the delay, by a call that gets the fault,
	// instead of running it. Use any error: ErrInjected, or one that
	// looks like what the dependency fails with, to see the breakers and
	// fallbacks that guard it react. Nil: the call runs after the delay.
	Err error

	// Seed, when not zero, draws every choice from one generator seeded
	// with it (math/rand/v2's PCG, under a lock), so that a run makes the
	// same sequence of choices: N calls get exactly the same number of
	// faults on every run. Zero: the runtime's random source, which takes
	// no lock.
	Seed uint64

	// Observer is told of every fault injected: an EventInjected with
	// Latency the delay added and Err the error returned (nil for a delay
	// alone). The metrics package counts them apart from real failures.
	// Nil: nothing is reported.
	Observer resilience.Observer
}

func (cfg *Config) validate() error {
	switch {
	case math.IsNaN(cfg.Share) || cfg.Share < 0 || cfg.Share > 1:
		return fmt.Errorf("inject: Config.Share must be in [0, 1], got %v", cfg.Share)
	case cfg.Delay < 0:
		return fmt.Errorf("inject: Config.Delay must be >= 0, got %v", cfg.Delay)
	case cfg.DelayMax != 0 && cfg.DelayMax < cfg.Delay:
		return fmt.Errorf("inject: Config.DelayMax must be zero or at least Config.Delay (%v), got %v", cfg.Delay, cfg.DelayMax)
	}
	return nil
}

// An Injector is a resilience.Policy that injects faults on purpose: for
// Config.Share of the calls it sees (or of those marked, with
// Config.MarkedOnly) it adds latency, returns an error, or both. It is
// off until Enable is called, and then does nothing but one atomic load
// per call.
//
// An Injector is safe for concurrent use, and may be enabled and disabled
// at any time while calls run. It starts no goroutine. Make one with New;
// the zero value is not usable.
type Injector struct {
	on atomic.Bool

	name       string
	share      float64
	markedOnly bool
	delay      time.Duration
	spread     time.Duration // DelayMax - Delay, or 0
	err        error
	obs        resilience.Observer

	mu  sync.Mutex // guards rng
	rng *rand.Rand // nil: the runtime's source
}

// New returns an Injector configured by cfg, disabled, or an error naming
// the first field of cfg that is out of range.
func New(cfg Config) (*Injector, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	in := &Injector{
		name:       cfg.Name,
		share:      cfg.Share,
		markedOnly: cfg.MarkedOnly,
		delay:      cfg.Delay,
		err:        cfg.Err,
		obs:        cfg.Observer,
	}
	if in.name == "" {
		in.name = "inject"
	}
	if cfg.DelayMax > cfg.Delay {
		in.spread = cfg.DelayMax - cfg.Delay
	}
	if cfg.Seed != 0 {
		in.rng = rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	}
	return in, nil
}

// Enable turns fault injection on, for the calls that start from now on.
func (in *Injector) Enable() { in.on.Store(true) }

// Disable turns fault injection off, for the calls that start from now
// on. A call already waiting out an injected delay finishes it.
func (in *Injector) Disable() { in.on.Store(false) }

// Enabled reports whether fault injection is on.
func (in *Injector) Enabled() bool { return in.on.Load() }

// Name returns Config.Name, or "inject".
func (in *Injector) Name() string { return in.name }

// A Fault is what an Injector decided for one call: wait Delay, then fail
// with Err, or run the call when Err is nil.
type Fault struct {
	Delay time.Duration
	Err   error
}

// Sleep waits f.Delay, and returns nil; when ctx ends first it returns
// ctx.Err() at once. A zero Delay returns nil without looking at ctx.
func (f Fault) Sleep(ctx context.Context) error {
	if f.Delay <= 0 {
		return nil
	}
	t := time.NewTimer(f.Delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Decide is for adapters that inject faults in their own way (an HTTP
// status, a gRPC code): it reports whether a call gets a fault and which,
// and tells the Observer of it, with key as Event.Key. marked says
// whether the call carries a marker (Mark on its context, or a header the
// adapter honours); it matters only with Config.MarkedOnly. When the
// Injector is disabled it returns false at once. Decide itself never
// sleeps: the caller applies the Fault (see Fault.Sleep).
func (in *Injector) Decide(key string, marked bool) (Fault, bool) {
	if !in.on.Load() {
		return Fault{}, false
	}
	return in.decide(key, marked)
}

func (in *Injector) decide(key string, marked bool) (Fault, bool) {
	if in.markedOnly && !marked {
		return Fault{}, false
	}
	var f Fault
	switch {
	case in.share <= 0:
		return Fault{}, false
	case in.share >= 1 && in.spread == 0:
		f.Delay = in.delay
	default:
		hit, extra := in.draw()
		if !hit {
			return Fault{}, false
		}
		f.Delay = in.delay + extra
	}
	f.Err = in.err
	if in.obs != nil {
		in.obs.Observe(resilience.Event{Kind: resilience.EventInjected, Policy: in.name, Key: key, Latency: f.Delay, Err: f.Err})
	}
	return f, true
}

// draw decides whether a call gets the fault and, if so, the latency
// above Delay.
func (in *Injector) draw() (hit bool, extra time.Duration) {
	if in.rng != nil {
		in.mu.Lock()
		defer in.mu.Unlock()
		if in.share < 1 && in.rng.Float64() >= in.share {
			return false, 0
		}
		if in.spread > 0 {
			extra = time.Duration(in.rng.Uint64N(uint64(in.spread) + 1))
		}
		return true, extra
	}
	if in.share < 1 && rand.Float64() >= in.share {
		return false, 0
	}
	if in.spread > 0 {
		extra = time.Duration(rand.Uint64N(uint64(in.spread) + 1))
	}
	return true, extra
}

// enter decides the fault of a call with ctx and applies it: it returns
// the error the call must end with instead of running, or nil to run it.
func (in *Injector) enter(ctx context.Context) error {
	if !in.on.Load() {
		return nil
	}
	f, ok := in.decide("", in.markedOnly && Marked(ctx))
	if !ok {
		return nil
	}
	if err := f.Sleep(ctx); err != nil {
		return err
	}
	return f.Err
}

// Execute runs call, or fails it on purpose. While the Injector is
// disabled it runs call(ctx) at once. Enabled, for a call that gets the
// fault it waits the delay, then returns Config.Err without running call,
// or runs call when Err is nil; other calls run at once.
//
// When ctx ends during an injected delay, Execute returns ctx.Err()
// without running call. A panic in call goes on to the caller unchanged.
func (in *Injector) Execute(ctx context.Context, call func(context.Context) error) error {
	if err := in.enter(ctx); err != nil {
		return err
	}
	return call(ctx)
}

// Wrap returns a Policy that runs next inside the Injector:
// in.Wrap(next).Execute(ctx, call) is in.Execute with next.Execute(ctx,
// call) as its call. It makes no allocation per call; resilience.Chain
// composes the library's policies with it, so an Injector may sit at any
// place in a Chain: inside a breaker, to see it open; outside a fallback's
// chain, to see the fallback answer. Wrap(nil) behaves as in.
func (in *Injector) Wrap(next resilience.Policy) resilience.Policy {
	return &wrapped{in, next}
}

type wrapped struct {
	in   *Injector
	next resilience.Policy
}

func (w *wrapped) Execute(ctx context.Context, call func(context.Context) error) error {
	if err := w.in.enter(ctx); err != nil {
		return err
	}
	if w.next == nil {
		return call(ctx)
	}
	return w.next.Execute(ctx, call)
}

// Enter and Exit are Execute in two steps, for resilience.Do (see
// internal/step).
func (w *wrapped) Enter(ctx context.Context) (context.Context, step.Ticket, error) {
	return ctx, step.Ticket{}, w.in.enter(ctx)
}

func (w *wrapped) Exit(_, _ context.Context, _ step.Ticket, err error, _ bool) error {
	return err
}
