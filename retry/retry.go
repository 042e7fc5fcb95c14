package retry

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/internal/step"
)

// A Retry runs a call again when it fails, with backoff, within the
// caller's deadline and a shared budget. See the package doc for the
// rules.
//
// A Retry is safe for concurrent use. It starts no goroutine. Make one with
// New; the zero value is not usable.
type Retry struct {
	name        string
	maxAttempts int
	base        time.Duration // negative: no delay
	maxDelay    time.Duration
	mult        float64
	noJitter    bool
	maxDuration time.Duration
	retryable   func(error) bool
	budget      *Budget
	obs         resilience.Observer

	// estimate is a moving average of attempt latency in nanoseconds (an
	// exponentially weighted moving average with weight 1/8 for each new
	// sample, as TCP's smoothed RTT); zero until the first sample.
	estimate atomic.Int64
}

// New returns a Retry configured by cfg, or an error naming the first field
// of cfg that is out of range.
func New(cfg Config) (*Retry, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	r := &Retry{
		name:        cfg.Name,
		maxAttempts: cfg.MaxAttempts,
		base:        cfg.BaseDelay,
		maxDelay:    cfg.MaxDelay,
		mult:        cfg.Multiplier,
		noJitter:    cfg.NoJitter,
		maxDuration: cfg.MaxDuration,
		retryable:   cfg.Retryable,
		budget:      cfg.Budget,
		obs:         cfg.Observer,
	}
	if r.maxAttempts == 0 {
		r.maxAttempts = DefaultMaxAttempts
	}
	if r.base == 0 {
		r.base = DefaultBaseDelay
	}
	if r.maxDelay == 0 {
		r.maxDelay = max(DefaultMaxDelay, r.base)
	}
	if r.mult == 0 {
		r.mult = DefaultMultiplier
	}
	if r.retryable == nil {
		r.retryable = DefaultRetryable
	}
	if r.budget == nil {
		r.budget, _ = NewBudget(DefaultBudgetConfig)
	}
	r.budget.skips.Store(true)
	return r, nil
}

// Name returns Config.Name.
func (r *Retry) Name() string { return r.name }

// MaxAttempts returns the most attempts a call makes, the first included.
func (r *Retry) MaxAttempts() int { return r.maxAttempts }

// Budget returns the budget the policy draws its retries from:
// Config.Budget, or its own.
func (r *Retry) Budget() *Budget { return r.budget }

// Estimate returns the policy's moving estimate of how long an attempt
// takes, from the attempts it has timed (retries, and while retries are
// being asked for, the first attempts of calls with a deadline), or zero
// before the first.
func (r *Retry) Estimate() time.Duration { return time.Duration(r.estimate.Load()) }

// Execute runs call, and runs it again while it fails with a retryable
// error, until an attempt succeeds, MaxAttempts have run, the next attempt
// could not finish before the caller's deadline or MaxDuration, a
// retry-after hint asks for more than that, or the budget refuses a retry.
// It returns the last attempt's error; nil when one succeeded.
//
// When ctx ends during a delay, Execute returns ctx.Err() at once, without
// another attempt. Each attempt gets ctx (with MaxDuration's deadline when
// that is set); call must honour it. A panic in call reaches the caller of
// Execute unchanged, after the policy has given back what it held.
//
// A nil ctx or call, a nil *Retry or a zero Retry (not made by New) is a
// programming error: Execute returns an error matching
// resilience.ErrMisuse (and resilience.ErrNilContext, ErrNilFunc or
// ErrNilPolicy) without running call.
func (r *Retry) Execute(ctx context.Context, call func(context.Context) error) error {
	return r.execute(ctx, nil, call)
}

// Programming errors of the policy's user (see Execute).
var (
	errNilRetry   = fmt.Errorf("retry: nil *Retry: %w", resilience.ErrNilPolicy)
	errZeroRetry  = fmt.Errorf("retry: zero Retry (make one with New): %w", resilience.ErrMisuse)
	errNilContext = fmt.Errorf("retry: nil context: %w", resilience.ErrNilContext)
	errNilCall    = fmt.Errorf("retry: nil call: %w", resilience.ErrNilFunc)
)

// check returns the programming error that keeps r from running any call,
// or nil.
func (r *Retry) check() error {
	switch {
	case r == nil:
		return errNilRetry
	case r.budget == nil:
		return errZeroRetry
	}
	return nil
}

// Wrap returns a Policy that runs next under the retry: each attempt runs
// next.Execute(ctx, call), so with next a breaker, a bulkhead and a timeout
// every attempt passes the breaker, takes a slot and gets its own timeout.
// It makes no allocation per call when the first attempt succeeds (and
// MaxDuration is zero); resilience.Chain composes the library's policies
// with it. Wrap(nil) behaves as r.
func (r *Retry) Wrap(next resilience.Policy) resilience.Policy {
	return &wrapped{r, next}
}

// wrapped is a Retry around next; it is also a step.Repeater, for
// resilience.Do.
type wrapped struct {
	r    *Retry
	next resilience.Policy
}

func (w *wrapped) Execute(ctx context.Context, call func(context.Context) error) error {
	return w.r.execute(ctx, w.next, call)
}

// Check reports a retry policy that cannot run any call, for
// resilience.Chain.
func (w *wrapped) Check() error { return w.r.check() }

// Enter and Exit repeat the fast paths of enter and exit, to save a call
// on every call through resilience.Do.
func (w *wrapped) Enter(ctx context.Context) (context.Context, step.Ticket, error) {
	r := w.r
	counted := r.budget.start()
	if r.maxDuration == 0 {
		if !counted {
			return ctx, step.Ticket{}, nil
		}
		if _, ok := ctx.Deadline(); !ok {
			return ctx, step.Ticket{N: countedUntimed}, nil
		}
	}
	return r.enterTimed(ctx, counted)
}

func (w *wrapped) Again(ctx, _ context.Context, t step.Ticket, err error) (step.Ticket, bool) {
	if t.P != nil {
		again := w.r.again(ctx, &t, err)
		return t, again
	}
	// The first failure: again makes the call's state, which may count the
	// call in the budget. When the Observer panics in again, Exit gets the
	// Ticket given here, which does not know of the state: give back the
	// count the state holds that this Ticket does not.
	next, ok := t, false
	defer func() {
		if !ok {
			w.r.dropCount(t, next)
		}
	}()
	again := w.r.again(ctx, &next, err)
	ok = true
	return next, again
}

// dropCount gives back the budget count of next's state when the Ticket t
// it was made from does not hold one.
func (r *Retry) dropCount(t, next step.Ticket) {
	c, _ := next.P.(*call)
	if counted, _ := unticket(t.N); c != nil && c.counted && !counted {
		c.counted = false
		r.budget.CallEnd()
	}
}

func (w *wrapped) Exit(_, _ context.Context, t step.Ticket, err error, panicked bool) error {
	if t.P == nil && t.N == 0 {
		return err
	}
	return w.r.exitSlow(t, err, panicked)
}

func (r *Retry) execute(ctx context.Context, next resilience.Policy, call func(context.Context) error) error {
	if r == nil || r.budget == nil || ctx == nil || call == nil {
		if err := r.check(); err != nil {
			return err
		}
		if ctx == nil {
			return errNilContext
		}
		return errNilCall
	}
	inner, t, _ := r.enter(ctx)
	exited := false
	defer func() {
		if !exited {
			r.exit(t, nil, true)
		}
	}()
	err := run(inner, next, call)
	for err != nil && r.again(ctx, &t, err) {
		err = run(inner, next, call)
	}
	exited = true
	return r.exit(t, err, false)
}

func run(ctx context.Context, next resilience.Policy, call func(context.Context) error) error {
	if next == nil {
		return call(ctx)
	}
	return next.Execute(ctx, call)
}

// A call is the state of a call that has failed at least once (or runs
// under MaxDuration); a Ticket's P points to it. A call that succeeds at
// once has none: its Ticket's N says whether the budget counted it and
// when it began (see ticket).
type call struct {
	counted  bool               // the budget counts it: CallEnd when it ends
	start    time.Time          // when the call began; zero: not timed
	deadline time.Time          // MaxDuration's, or zero
	cancel   context.CancelFunc // of MaxDuration's context, or nil
	attempts int                // attempts made so far
	began    time.Time          // when the running attempt began; zero: not timed
	holding  bool               // a budget grant is held for the running attempt
	err      error              // what to return instead of the last error (the caller's, when it gave up during a delay)
}

// enter begins a call: the budget counts it when it is counting (see
// Budget), and the call is timed when MaxDuration is set, or when it is
// counted and the caller has a deadline (while no retry is asked for, the
// estimate that timing feeds is not needed). Its Ticket's P is a *call
// when MaxDuration is set; otherwise its N is as ticket says.
func (r *Retry) enter(ctx context.Context) (context.Context, step.Ticket, error) {
	counted := r.budget.start()
	if r.maxDuration == 0 {
		if !counted {
			return ctx, step.Ticket{}, nil
		}
		if _, ok := ctx.Deadline(); !ok {
			return ctx, ticket(true, 0), nil
		}
	}
	return r.enterTimed(ctx, counted)
}

// enterTimed is enter for a call that is timed.
func (r *Retry) enterTimed(ctx context.Context, counted bool) (context.Context, step.Ticket, error) {
	if r.maxDuration > 0 {
		now := time.Now()
		c := &call{counted: counted, start: now, began: now, deadline: now.Add(r.maxDuration)}
		ctx, c.cancel = context.WithDeadline(ctx, c.deadline)
		return ctx, step.Ticket{P: c}, nil
	}
	return ctx, ticket(counted, time.Now().UnixNano()), nil
}

// countedUntimed is the Ticket N of a call the budget counted and that is
// not timed.
const countedUntimed = -1

// ticket returns the Ticket of a call without state: its N is 0 when the
// call is neither counted nor timed, countedUntimed, the start in Unix
// nanoseconds when it is timed, or the start negated when it is timed and
// counted. Unix nanoseconds are positive: the encodings do not overlap.
func ticket(counted bool, start int64) step.Ticket {
	switch {
	case start == 0 && counted:
		return step.Ticket{N: countedUntimed}
	case counted:
		return step.Ticket{N: -start}
	}
	return step.Ticket{N: start}
}

// unticket decodes the N of a call without state (see ticket); start is
// 0 when the call is not timed.
func unticket(n int64) (counted bool, start int64) {
	switch {
	case n == countedUntimed:
		return true, 0
	case n < 0:
		return true, -n
	}
	return false, n
}

// state returns t's call, making it on the first failure.
func (r *Retry) state(t *step.Ticket) *call {
	if c, ok := t.P.(*call); ok {
		return c
	}
	c := &call{}
	counted, start := unticket(t.N)
	c.counted = counted
	if start != 0 {
		c.start = time.Unix(0, start)
		c.began = c.start
	}
	t.P = c
	return c
}

// exit ends a call: it gives back what the call holds in the budget and
// returns its error.
func (r *Retry) exit(t step.Ticket, err error, panicked bool) error {
	if t.P == nil && t.N == 0 {
		return err
	}
	return r.exitSlow(t, err, panicked)
}

// exitSlow is exit for a call that failed once, is timed or was counted.
func (r *Retry) exitSlow(t step.Ticket, err error, panicked bool) error {
	c, _ := t.P.(*call)
	if c == nil {
		counted, start := unticket(t.N)
		if counted {
			r.budget.CallEnd()
		}
		if start != 0 && !panicked {
			r.sample(time.Since(time.Unix(0, start)))
		}
		return err
	}
	if c.counted {
		c.counted = false
		r.budget.CallEnd()
	}
	if c.holding {
		c.holding = false
		r.budget.Release()
	}
	if c.cancel != nil {
		c.cancel()
	}
	if panicked {
		return nil
	}
	if c.err != nil {
		return c.err
	}
	if err == nil && !c.began.IsZero() {
		r.sample(time.Since(c.began))
	}
	return err
}

// sample adds an attempt's latency to the moving estimate. Concurrent
// samples may overwrite each other; the estimate stays an average of
// recent samples, which is all it needs to be.
func (r *Retry) sample(d time.Duration) {
	if d < 0 {
		return
	}
	old := r.estimate.Load()
	if old == 0 {
		r.estimate.Store(int64(d) | 1)
		return
	}
	r.estimate.Store(old + (int64(d)-old)/8)
}

// again decides, after an attempt failed with err, whether to make
// another; when it says yes it has waited the delay before it.
func (r *Retry) again(ctx context.Context, t *step.Ticket, err error) bool {
	if t.P == nil && (ctx.Err() != nil || !r.retryable(err)) {
		return false // a first failure not to retry: no state to keep
	}
	c := r.state(t)
	c.attempts++
	var now time.Time
	if !c.began.IsZero() {
		now = time.Now()
		r.sample(now.Sub(c.began))
		c.began = time.Time{}
	}
	if c.holding {
		c.holding = false
		r.budget.Release()
	}
	if ctx.Err() != nil || !r.retryable(err) {
		return false
	}
	hint, hinted := resilience.RetryAfter(err)
	if hinted && hint < 0 {
		r.giveUp(ctx, c, err)
		return false
	}
	if c.attempts >= r.maxAttempts {
		r.giveUp(ctx, c, err)
		return false
	}
	var delay time.Duration
	switch {
	case hinted && hint > r.maxDelay:
		r.giveUp(ctx, c, err)
		return false
	case hinted:
		delay = hint
	default:
		delay = r.backoff(c.attempts)
	}
	// The deadline: the caller's, or MaxDuration's when earlier.
	deadline, ok := ctx.Deadline()
	if !c.deadline.IsZero() && (!ok || c.deadline.Before(deadline)) {
		deadline, ok = c.deadline, true
	}
	if ok {
		if now.IsZero() {
			now = time.Now()
		}
		// An attempt that cannot fit is not made: neither one that would
		// start after the deadline, nor one that the moving estimate
		// says would not finish before it.
		if !now.Add(delay + r.Estimate()).Before(deadline) {
			r.giveUp(ctx, c, err)
			return false
		}
	}
	if !r.budget.tryRetry(&c.counted) {
		r.observe(ctx, resilience.EventRetryRefused, c.attempts+1, 0, err)
		return false
	}
	c.holding = true
	r.reportRetry(ctx, c, delay, err)
	if delay > 0 {
		tm := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			tm.Stop()
			c.err = ctx.Err()
			return false
		case <-tm.C:
		}
	}
	c.began = time.Now()
	return true
}

// backoff returns the delay before retry n (n = 1, 2, ...).
func (r *Retry) backoff(n int) time.Duration {
	if r.base < 0 {
		return 0
	}
	limit := float64(r.base) * math.Pow(r.mult, float64(n-1))
	if limit > float64(r.maxDelay) || math.IsInf(limit, 0) || math.IsNaN(limit) {
		limit = float64(r.maxDelay)
	}
	if r.noJitter {
		return time.Duration(limit)
	}
	// Full jitter: uniform in [0, limit].
	return time.Duration(rand.Int64N(int64(limit) + 1))
}

func (r *Retry) giveUp(ctx context.Context, c *call, err error) {
	if r.maxAttempts > 1 { // with one attempt, there were no retries to give up
		r.observe(ctx, resilience.EventRetryGiveUp, c.attempts, 0, err)
	}
}

// reportRetry reports EventRetry while c holds a budget grant: when the
// Observer panics, the grant is given back before the panic goes on.
func (r *Retry) reportRetry(ctx context.Context, c *call, delay time.Duration, err error) {
	if r.obs == nil {
		return
	}
	reported := false
	defer func() {
		if !reported {
			c.holding = false
			r.budget.Release()
		}
	}()
	r.observe(ctx, resilience.EventRetry, c.attempts+1, delay, err)
	reported = true
}

func (r *Retry) observe(ctx context.Context, kind resilience.EventKind, attempt int, delay time.Duration, err error) {
	if r.obs == nil {
		return
	}
	r.obs.Observe(resilience.Event{Kind: kind, Policy: r.name, Attempt: attempt, Latency: delay, Err: err, Ctx: ctx})
}
