package adaptive

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

// ThrottlerConfig configures a Throttler. The zero value is valid: the
// Google SRE book's K = 2 over 2 minutes, rejecting at most 80% of calls,
// once 20 calls have been seen.
type ThrottlerConfig struct {
	// Name names the throttler in its errors and in the Events it reports.
	// Zero: unnamed; refusals are ErrThrottled itself.
	Name string

	// K is how many calls per accepted call the throttler lets through
	// before it starts refusing: it refuses with probability
	// (requests − K·accepts)/(requests + 1). Lower is more aggressive. Zero:
	// 2. Otherwise it must be at least 1 (below 1 it would refuse calls to
	// a dependency that fails none) and finite.
	K float64

	// Window is how far back requests and accepts are counted, in ten
	// slices that expire one by one. Zero: 2 minutes. Otherwise it must be
	// at least 10 ns (one per slice).
	Window time.Duration

	// MaxRejectionProbability caps the probability of refusing a call, so
	// that some calls always reach the dependency and see it recover. It
	// also sets how long recovery takes: refused calls count as requests
	// (as the SRE book has it), so after a long outage the probability
	// falls back to zero about (1 + ln(1/(1−MaxRejectionProbability)))/K
	// windows after the dependency recovers, give or take a tenth of the
	// Window (it forgets a slice at a time, and refuses at random): 1.3
	// windows with the defaults, 0.85 with 0.5. Zero: 0.8. Otherwise it
	// must be in (0, 1].
	MaxRejectionProbability float64

	// MinRequests is how many requests the window must hold before the
	// throttler refuses anything. Zero: 20. Negative values are an error.
	MinRequests int

	// Classifier decides whether a call's error is a success (an accept),
	// a failure, or neither, after the rules of
	// resilience.Classifier.Classify: the caller's own cancellation and
	// the library's refusals are neither, and are not counted at all.
	// Zero: resilience.DefaultClassifier.
	Classifier resilience.Classifier

	// Observer is told of each refusal (EventRejected, with Err the
	// refusal). Nil: nothing is reported.
	Observer resilience.Observer
}

const throttleSlices = 10

// A Throttler refuses calls at random, with a probability that grows as
// the share of calls the dependency accepts falls: Google's client-side
// adaptive throttling (Site Reliability Engineering, "Handling Overload").
// Where a breaker stops every call, a throttler sheds just enough of them
// that the dependency is not sent more than K calls for each it accepts:
// a gentler answer to a dependency that fails some of its calls.
//
// Over the last Config.Window it counts requests (calls offered to it,
// refused ones included) and accepts (calls that succeeded), and refuses a
// call with probability min(MaxRejectionProbability,
// max(0, (requests − K·accepts)/(requests + 1))), with an error matching
// ErrThrottled and resilience.ErrRejected.
//
// Counting is lock-free; the window's slices are turned over under a mutex
// once per slice (Window/10). A Throttler is safe for concurrent use and
// starts no goroutine. Make one with NewThrottler.
type Throttler struct {
	requests, accepts atomic.Int64 // totals over the live slices
	slices            [throttleSlices]slice
	mu                sync.Mutex // turns slices over

	k, maxP  float64
	minReq   int64
	width    int64 // of a slice, ns
	epoch    time.Time
	name     string
	classify resilience.Classifier
	obs      resilience.Observer
	err      error
	rejected atomic.Uint64
}

type slice struct {
	n                 atomic.Int64 // which slice of time this is: (now-epoch)/width
	requests, accepts atomic.Int64
}

// NewThrottler returns a Throttler configured by cfg, or an error naming
// the first field of cfg that is out of range.
func NewThrottler(cfg ThrottlerConfig) (*Throttler, error) {
	bad := func(field, want string, got any) error {
		return fmt.Errorf("adaptive: ThrottlerConfig.%s must be %s, got %v", field, want, got)
	}
	switch {
	case cfg.K != 0 && !(cfg.K >= 1 && !math.IsInf(cfg.K, 1)):
		return nil, bad("K", ">= 1 and finite (or zero: 2)", cfg.K)
	case cfg.Window != 0 && cfg.Window < throttleSlices:
		return nil, bad("Window", "at least 10ns (or zero: 2m)", cfg.Window)
	case cfg.MaxRejectionProbability != 0 && !(cfg.MaxRejectionProbability > 0 && cfg.MaxRejectionProbability <= 1):
		return nil, bad("MaxRejectionProbability", "in (0, 1] (or zero: 0.8)", cfg.MaxRejectionProbability)
	case cfg.MinRequests < 0:
		return nil, bad("MinRequests", ">= 0 (zero: 20)", cfg.MinRequests)
	}
	t := &Throttler{
		k: cfg.K, maxP: cfg.MaxRejectionProbability, minReq: int64(cfg.MinRequests),
		width: int64(cfg.Window) / throttleSlices, epoch: time.Now(), name: cfg.Name,
		classify: cfg.Classifier, obs: cfg.Observer, err: newRejectError(cfg.Name, ErrThrottled),
	}
	if t.k == 0 {
		t.k = 2
	}
	if t.maxP == 0 {
		t.maxP = 0.8
	}
	if t.minReq == 0 {
		t.minReq = 20
	}
	if t.width == 0 {
		t.width = int64(2*time.Minute) / throttleSlices
	}
	return t, nil
}

// Execute runs call unless the throttler draws it for refusal: then it
// returns an error matching ErrThrottled (and resilience.ErrRejected)
// without running call. call gets ctx unchanged; a panic in call goes on to
// the caller unchanged and is not counted.
//
// A nil ctx or call, a nil *Throttler or a zero Throttler (not made by
// NewThrottler) is a programming error: Execute returns an error matching
// resilience.ErrMisuse (and resilience.ErrNilContext, ErrNilFunc or
// ErrNilPolicy) without running call or counting it.
func (t *Throttler) Execute(ctx context.Context, call func(context.Context) error) error {
	return t.execute(ctx, nil, call)
}

// Programming errors of the throttler's user (see Execute).
var (
	errNilThrottler  = fmt.Errorf("adaptive: nil *Throttler: %w", resilience.ErrNilPolicy)
	errZeroThrottler = fmt.Errorf("adaptive: zero Throttler (make one with NewThrottler): %w", resilience.ErrMisuse)
)

// check returns the programming error that keeps t from running a call
// made with ctx and call, or nil.
func (t *Throttler) check(ctx context.Context, call func(context.Context) error) error {
	switch {
	case t == nil:
		return errNilThrottler
	case t.width == 0:
		return errZeroThrottler
	case ctx == nil:
		return errNilContext
	case call == nil:
		return errNilCall
	}
	return nil
}

// Wrap returns a Policy that runs next inside the throttler. It makes no
// allocation per call; resilience.Chain composes the library's policies
// with it. Wrap(nil) behaves as t.
func (t *Throttler) Wrap(next resilience.Policy) resilience.Policy {
	return &throttled{t, next}
}

type throttled struct {
	t    *Throttler
	next resilience.Policy
}

func (w *throttled) Execute(ctx context.Context, call func(context.Context) error) error {
	return w.t.execute(ctx, w.next, call)
}

// Check reports a throttler that cannot run any call, for resilience.Chain.
func (w *throttled) Check() error { return w.t.check(context.Background(), nop) }

func nop(context.Context) error { return nil }

// Enter and Exit are execute in two steps, for resilience.Do (see
// internal/step).
func (w *throttled) Enter(ctx context.Context) (context.Context, step.Ticket, error) {
	if err := w.t.check(ctx, nop); err != nil {
		return ctx, step.Ticket{}, err
	}
	return ctx, step.Ticket{}, w.t.admit(ctx)
}

func (w *throttled) Exit(ctx, _ context.Context, _ step.Ticket, err error, panicked bool) error {
	if !panicked {
		w.t.record(ctx, err)
	}
	return err
}

func (t *Throttler) execute(ctx context.Context, next resilience.Policy, call func(context.Context) error) error {
	if err := t.check(ctx, call); err != nil {
		return err
	}
	if err := t.admit(ctx); err != nil {
		return err
	}
	var err error
	if next == nil {
		err = call(ctx)
	} else {
		err = next.Execute(ctx, call)
	}
	t.record(ctx, err)
	return err
}

// admit draws whether to let a call through.
func (t *Throttler) admit(ctx context.Context) error {
	p := t.probability()
	if p > 0 && rand.Float64() < p {
		t.current().requests.Add(1)
		t.requests.Add(1)
		t.rejected.Add(1)
		if t.obs != nil {
			t.obs.Observe(resilience.Event{Kind: resilience.EventRejected, Policy: t.name, Err: t.err, Ctx: ctx})
		}
		return t.err
	}
	return nil
}

// record counts a call that ran and returned err.
func (t *Throttler) record(ctx context.Context, err error) {
	o := t.classify.Classify(ctx, err)
	if o == resilience.Ignored {
		return
	}
	s := t.current()
	s.requests.Add(1)
	t.requests.Add(1)
	if o == resilience.Success {
		s.accepts.Add(1)
		t.accepts.Add(1)
	}
}

// probability returns the probability of refusing a call now.
func (t *Throttler) probability() float64 {
	t.current()
	r, a := max(t.requests.Load(), 0), max(t.accepts.Load(), 0)
	if r < t.minReq {
		return 0
	}
	p := (float64(r) - t.k*float64(a)) / float64(r+1)
	return min(max(p, 0), t.maxP)
}

// current returns the slice of now, turning over the slices whose time has
// passed first.
func (t *Throttler) current() *slice {
	n := int64(time.Since(t.epoch)) / t.width
	s := &t.slices[n%throttleSlices]
	if s.n.Load() == n {
		return s
	}
	t.mu.Lock()
	for i := range t.slices {
		old := &t.slices[i]
		if m := old.n.Load(); m <= n-throttleSlices || (old == s && m != n) {
			t.requests.Add(-old.requests.Swap(0))
			t.accepts.Add(-old.accepts.Swap(0))
			// The latest slice of time at or before n that maps to i.
			old.n.Store(n - ((n-int64(i))%throttleSlices+throttleSlices)%throttleSlices)
		}
	}
	t.mu.Unlock()
	return s
}

// RejectionProbability returns the probability with which the throttler
// refuses a call now.
func (t *Throttler) RejectionProbability() float64 { return t.probability() }

// Requests and Accepts return the counts in the window now: calls offered
// (refused ones included) and calls that succeeded.
func (t *Throttler) Requests() int64 { t.current(); return max(t.requests.Load(), 0) }

// Accepts: see Requests.
func (t *Throttler) Accepts() int64 { t.current(); return max(t.accepts.Load(), 0) }

// Rejected returns how many calls the throttler has refused since it was
// made.
func (t *Throttler) Rejected() uint64 { return t.rejected.Load() }

// Name returns ThrottlerConfig.Name.
func (t *Throttler) Name() string { return t.name }
