package retry

import (
	"fmt"
	"math"
	"sync/atomic"
	"time"
)

// BudgetConfig configures a Budget. The zero value is DefaultBudgetConfig.
type BudgetConfig struct {
	// Ratio is the most extra attempts (retries, hedges) as a fraction of
	// the calls: 0.2 lets retries add at most 20% to the load on the
	// dependency. It applies twice, to the calls in flight now and to the
	// calls of the recent Window (see Budget). Zero: 0.2. It must be a
	// finite number in (0, 10].
	Ratio float64

	// MinConcurrent is how many extra attempts may be in flight at once
	// whatever the number of calls in flight: Envoy's
	// min_retry_concurrency. Zero: 3. Negative values are an error.
	MinConcurrent int

	// MinPerSecond is a floor on the rate of extra attempts over the
	// Window, for a caller with few calls: over a Window, Ratio × calls
	// + MinPerSecond × Window seconds extra attempts are allowed. Zero: 10
	// (Finagle's minRetriesPerSec). Negative, NaN and infinite values are
	// an error.
	MinPerSecond float64

	// Window is how far back the budget counts calls and extra attempts.
	// Zero: 10s. It must be at least 10ms when set.
	Window time.Duration
}

// DefaultBudgetConfig is the budget of a Retry whose Config.Budget is nil,
// and what the zero fields of a BudgetConfig mean: 20% of the calls (in
// flight and over 10 s), at least 3 retries in flight and 10 per second.
var DefaultBudgetConfig = BudgetConfig{Ratio: 0.2, MinConcurrent: 3, MinPerSecond: 10, Window: 10 * time.Second}

// A Budget bounds the extra attempts (retries, hedges) that the policies
// sharing it may make, as a fraction of the calls they guard, so that
// retries cannot multiply the load on a dependency that is failing. An
// extra attempt is allowed only when both of these hold:
//
//   - In flight (Envoy's retry budget): retries in flight < max(MinConcurrent,
//     Ratio × calls in flight). A retry is in flight from the moment the
//     budget grants it until its attempt returns (its backoff included).
//   - Over the Window (Finagle's RetryBudget, which deposits Ratio per call
//     and MinPerSecond per second): retries granted since the window began
//   - 1 <= Ratio × calls since then + MinPerSecond × span, where span is
//     the window's length in seconds, at least Window/2 (a reserve for a
//     caller that has just started) and at most Window. When the counts
//     span more than Window (the budget was idle), both counts are scaled
//     by Window / span, as if they had been spread evenly.
//
// The first rule alone fails a caller with few calls in flight: calls that
// fail at once are never many in flight, so MinConcurrent retries at a time
// would be granted without end (a gap failsafe-go users have asked about).
// The second rule alone lets a burst of slow calls retry together. Both
// together bound the total: over a run of T seconds from the budget's
// making (Window/2 <= T <= Window), attempts <= (1 + Ratio) × calls +
// MinPerSecond × T.
//
// The window is two anchors, (time, calls, retries) snapshots taken at most
// every Window/2, so the counts span between Window/2 and Window.
//
// # The calls a Retry or a Hedge counts
//
// CallStart and CallEnd count every call. A Retry and a Hedge count their
// calls with a Count instead (Begin), which counts a call only while extra
// attempts are being asked for, so that a dependency that answers costs
// them no write to the shared budget (two atomic adds per call would be
// most of their cost, and on many cores the counter's cache line would
// move between them at every call):
//
//   - From the first extra attempt asked for (TryAcquire, by any policy),
//     every Count counts its call from its start to its end, as CallStart
//     and CallEnd would.
//   - A call that started while they did not count is counted from the
//     moment it asks for an extra attempt (Count.TryAcquire: a retry after
//     a failure, a hedge after the delay) until it ends.
//   - When no extra attempt has been asked for over a Window, they stop
//     counting (a Count looks every 256 calls it counts). The next extra
//     attempt asked for begins the window afresh, at that moment: the
//     calls not counted are missing from the old window, and no extra
//     attempt granted in the last Window is lost by it.
//
// Every call that asks for an extra attempt is therefore counted, and the
// bound above holds over the calls counted, from the moment the window
// began afresh: calls not counted never pay for an extra attempt. What it
// costs: calls on their first attempt when counting resumes are not in
// flight for the first rule, and a burst of failures after a quiet Window
// starts from the floors (MinConcurrent, MinPerSecond × Window/2) until
// the calls counted since pay for more.
//
// Counting a call is one atomic add at its start and one at its end, no
// lock and no clock; granting an extra attempt (TryAcquire) reads the
// clock once and uses compare-and-swap loops, no lock. A Budget is safe
// for concurrent use. Make one with NewBudget; the zero value is not
// usable: it refuses every extra attempt, and New refuses it in
// Config.Budget.
type Budget struct {
	// calls packs the calls in flight (low 32 bits) and the calls started
	// since the budget was made, modulo 2^32 (high 32 bits).
	calls    atomic.Uint64
	inFlight atomic.Int64  // extra attempts granted and not released
	granted  atomic.Uint64 // extra attempts granted since made
	refused  atomic.Uint64 // extra attempts refused since made
	win      atomic.Pointer[anchors]

	// How Counts count their calls (see Budget).
	counting atomic.Bool  // Counts count their calls now
	lastAsk  atomic.Int64 // when an extra attempt was last asked for, in Unix ns; 0: never
	skips    atomic.Bool  // Counts (a Retry, a Hedge) draw from the budget

	ratio   float64
	minConc int64
	perSec  float64
	window  time.Duration
}

// An anchor is a snapshot of a Budget's counts.
type anchor struct {
	at      time.Time
	calls   uint32
	granted uint64
}

// anchors are the two last snapshots; old begins the window.
type anchors struct{ old, cur anchor }

// NewBudget returns a Budget configured by cfg, or an error naming the
// first field of cfg that is out of range.
func NewBudget(cfg BudgetConfig) (*Budget, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.fill()
	b := &Budget{ratio: cfg.Ratio, minConc: int64(cfg.MinConcurrent), perSec: cfg.MinPerSecond, window: cfg.Window}
	a := anchor{at: time.Now()}
	b.win.Store(&anchors{a, a})
	return b, nil
}

func (cfg *BudgetConfig) validate() error {
	switch {
	case math.IsNaN(cfg.Ratio) || cfg.Ratio < 0 || cfg.Ratio > 10:
		return fmt.Errorf("retry: BudgetConfig.Ratio must be in (0, 10] (0: %v), got %v", DefaultBudgetConfig.Ratio, cfg.Ratio)
	case cfg.MinConcurrent < 0 || cfg.MinConcurrent > math.MaxInt32:
		return fmt.Errorf("retry: BudgetConfig.MinConcurrent must be in [0, %d], got %d", math.MaxInt32, cfg.MinConcurrent)
	case math.IsNaN(cfg.MinPerSecond) || math.IsInf(cfg.MinPerSecond, 0) || cfg.MinPerSecond < 0:
		return fmt.Errorf("retry: BudgetConfig.MinPerSecond must be a finite number >= 0, got %v", cfg.MinPerSecond)
	case cfg.Window < 0 || (cfg.Window > 0 && cfg.Window < 10*time.Millisecond):
		return fmt.Errorf("retry: BudgetConfig.Window must be 0 or at least 10ms, got %v", cfg.Window)
	}
	return nil
}

func (cfg *BudgetConfig) fill() {
	d := DefaultBudgetConfig
	if cfg.Ratio == 0 {
		cfg.Ratio = d.Ratio
	}
	if cfg.MinConcurrent == 0 {
		cfg.MinConcurrent = d.MinConcurrent
	}
	if cfg.MinPerSecond == 0 {
		cfg.MinPerSecond = d.MinPerSecond
	}
	if cfg.Window == 0 {
		cfg.Window = d.Window
	}
}

// CallStart counts a call starting: a first attempt, not an extra one.
// Each CallStart must be followed by one CallEnd. Retry and Hedge count
// their calls with a Count instead (see Begin); call CallStart and CallEnd
// for calls of your own whose extra attempts draw from this budget, or use
// a Count for them too.
func (b *Budget) CallStart() { b.calls.Add(1<<32 | 1) }

// CallEnd counts the end of a call counted by CallStart.
func (b *Budget) CallEnd() { b.calls.Add(^uint64(0)) }

// A Count is one call's place in a Budget, for a policy that asks the
// budget for extra attempts of its calls: a Hedge holds one for each call,
// and a Retry counts its calls the same way. Unlike CallStart and CallEnd,
// a Count counts its call only while the budget is counting (see "The
// calls a Retry or a Hedge counts"): when no extra attempt has been asked
// for lately, Begin and End write nothing shared. A Count belongs to one
// call; its methods are not safe for concurrent use.
type Count struct {
	b       *Budget
	counted bool
}

// Begin returns the Count of a call that starts now. End it with End.
func (b *Budget) Begin() Count {
	if !b.skips.Load() {
		b.skips.Store(true)
	}
	return Count{b, b.start()}
}

// TryAcquire asks for an extra attempt of c's call, as Budget.TryAcquire
// does; the call is counted first, from now until End, if it was not. A
// granted attempt must be given back with Budget.Release.
func (c *Count) TryAcquire() bool {
	if c.b == nil { // a zero Count
		return false
	}
	return c.b.tryRetry(&c.counted)
}

// End ends c's call in the budget's counts: call it once, when the call is
// over (its extra attempts may still be returning; they give back their
// grants with Release).
func (c *Count) End() {
	if c.counted {
		c.counted = false
		c.b.CallEnd()
	}
}

// TryAcquire grants one extra attempt (a retry or a hedge) and reports
// true, or refuses it and reports false when the budget is spent (see
// Budget for the rules). A granted attempt must be given back with
// Release when it has returned. It never blocks.
func (b *Budget) TryAcquire() bool {
	now := time.Now()
	b.wake(now)
	return b.grant(now)
}

// tryRetry is TryAcquire for a Count's call: the call is counted first if
// it was not when it started (*counted false), so that it is counted from
// now until it ends.
func (b *Budget) tryRetry(counted *bool) bool {
	now := time.Now()
	b.wake(now)
	if !*counted {
		b.calls.Add(1<<32 | 1)
		*counted = true
	}
	return b.grant(now)
}

// grant applies the rules to an extra attempt asked for at now.
func (b *Budget) grant(now time.Time) bool {
	if b.window == 0 { // a zero Budget, not made by NewBudget
		b.refused.Add(1)
		return false
	}
	calls := b.calls.Load()
	limit := max(b.minConc, int64(b.ratio*float64(uint32(calls))))
	for {
		n := b.inFlight.Load()
		if n >= limit {
			b.refused.Add(1)
			return false
		}
		if b.inFlight.CompareAndSwap(n, n+1) {
			break
		}
	}
	a := b.anchorsAt(now, uint32(calls>>32))
	span := now.Sub(a.old.at)
	scale := 1.0
	if span > b.window {
		scale = float64(b.window) / float64(span)
	}
	allowed := b.ratio*float64(uint32(calls>>32)-a.old.calls)*scale + b.perSec*min(max(span, b.window/2), b.window).Seconds()
	for {
		g := b.granted.Load()
		if float64(g-a.old.granted)*scale+1 > allowed {
			b.inFlight.Add(-1)
			b.refused.Add(1)
			return false
		}
		if b.granted.CompareAndSwap(g, g+1) {
			return true
		}
	}
}

// quietCheck is how often, in calls counted, a Count reads the clock to
// see whether the budget can stop counting.
const quietCheck = 256

// wake notes that an extra attempt is asked for at now, and makes the
// Counts count their calls again if they had stopped. When Counts draw
// from the budget and none was asked for over the last Window, the window
// begins afresh at now: the calls they did not count are missing from the
// old one, and no extra attempt it granted is still in it.
func (b *Budget) wake(now time.Time) {
	last := b.lastAsk.Swap(now.UnixNano())
	if b.counting.Load() {
		return
	}
	if b.skips.Load() && now.UnixNano()-last >= int64(b.window) {
		a := anchor{at: now, calls: uint32(b.calls.Load() >> 32), granted: b.granted.Load()}
		b.win.Store(&anchors{a, a})
	}
	b.counting.Store(true)
}

// start counts a call of a Count when the budget is counting, and reports
// whether it did. Every quietCheck-th call it counts, it stops the
// counting when no extra attempt was asked for over the last Window. A
// call start counted must end with CallEnd.
func (b *Budget) start() bool {
	if !b.counting.Load() {
		return false
	}
	if n := b.calls.Add(1<<32 | 1); uint32(n>>32)%quietCheck == 0 &&
		time.Now().UnixNano()-b.lastAsk.Load() >= int64(b.window) {
		b.counting.Store(false)
	}
	return true
}

// Release gives back an extra attempt granted by TryAcquire, once it has
// returned.
func (b *Budget) Release() { b.inFlight.Add(-1) }

// anchorsAt returns the window's anchors at now, taking a new snapshot
// when the last one is Window/2 old.
func (b *Budget) anchorsAt(now time.Time, started uint32) *anchors {
	for {
		a := b.win.Load()
		if now.Sub(a.cur.at) < b.window/2 {
			return a
		}
		next := &anchors{old: a.cur, cur: anchor{at: now, calls: started, granted: b.granted.Load()}}
		if b.win.CompareAndSwap(a, next) {
			return next
		}
	}
}

// InFlight returns the calls counted in flight (see "The calls a Retry or
// a Hedge counts") and the extra attempts in flight now.
func (b *Budget) InFlight() (calls, extra int) {
	return int(uint32(b.calls.Load())), int(b.inFlight.Load())
}

// Granted returns how many extra attempts the budget has granted since it
// was made.
func (b *Budget) Granted() uint64 { return b.granted.Load() }

// Refused returns how many extra attempts the budget has refused since it
// was made.
func (b *Budget) Refused() uint64 { return b.refused.Load() }

// Config returns the configuration the budget was made with, its zero
// fields filled in; the zero BudgetConfig for a zero Budget (not made by
// NewBudget), which refuses every extra attempt and which retry.New and
// hedge.New refuse.
func (b *Budget) Config() BudgetConfig {
	return BudgetConfig{Ratio: b.ratio, MinConcurrent: int(b.minConc), MinPerSecond: b.perSec, Window: b.window}
}
