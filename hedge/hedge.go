package hedge

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/retry"
)

// A Hedge sends extra attempts of a slow call and keeps the first good
// answer. Run calls through it with Do (or DoDrop). A Hedge is safe for
// concurrent use; make one with New, the zero value is not usable. It
// starts no goroutine of its own: a hedge runs on the goroutine of the
// timer that sends it. It keeps stopped timers between calls, so a Hedge
// used in a testing/synctest bubble must be made in that bubble.
type Hedge struct {
	name      string
	fixed     time.Duration // Config.Delay; 0: the percentile
	lat       *latencies    // nil with a fixed delay
	maxHedges int
	budget    *retry.Budget
	fatal     func(error) bool
	obs       resilience.Observer
	calls     sync.Pool // of *call[T] (usually of one T), their timers stopped
}

// New returns a Hedge configured by cfg, or an error naming the first field
// of cfg that is out of range.
func New(cfg Config) (*Hedge, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	h := &Hedge{name: cfg.Name, fixed: cfg.Delay, maxHedges: cfg.MaxHedges, budget: cfg.Budget, fatal: cfg.Fatal, obs: cfg.Observer}
	if h.maxHedges == 0 {
		h.maxHedges = 1
	}
	if h.fatal == nil {
		h.fatal = DefaultFatal
	}
	if h.budget == nil {
		b, err := retry.NewBudget(retry.BudgetConfig{})
		if err != nil {
			return nil, fmt.Errorf("hedge: Config.Budget: %w", err)
		}
		h.budget = b
	}
	if h.fixed == 0 {
		q, lo, hi, n := cfg.Percentile, cfg.MinDelay, cfg.MaxDelay, cfg.Window
		if q == 0 {
			q = DefaultPercentile
		}
		if lo == 0 {
			lo = DefaultMinDelay
		}
		if hi == 0 {
			hi = max(DefaultMaxDelay, lo)
		}
		if n == 0 {
			n = DefaultWindow
		}
		h.lat = newLatencies(n, q, lo, hi)
	}
	return h, nil
}

// Delay returns how long a call's first attempt runs alone before a hedge
// is sent, now: Config.Delay, or the percentile of recent successful
// attempts between Config.MinDelay and Config.MaxDelay.
func (h *Hedge) Delay() time.Duration {
	if h.lat == nil {
		return h.fixed
	}
	return time.Duration(h.lat.delay.Load())
}

// Budget returns the budget the Hedge's hedges draw from: Config.Budget or
// its own.
func (h *Hedge) Budget() *retry.Budget { return h.budget }

func (h *Hedge) observe(ctx context.Context, kind resilience.EventKind, attempt int, d time.Duration, err error) {
	if h.obs != nil {
		h.obs.Observe(resilience.Event{Kind: kind, Policy: h.name, Attempt: attempt, Latency: d, Err: err, Ctx: ctx})
	}
}
