package hedge

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/retry"
)

// Defaults for the zero fields of a Config.
const (
	// DefaultPercentile is the percentile of a Config with neither Delay
	// nor Percentile set.
	DefaultPercentile = 0.95
	// DefaultMinDelay is the floor of the percentile delay of a Config
	// with MinDelay zero.
	DefaultMinDelay = time.Millisecond
	// DefaultMaxDelay is the ceiling of the percentile delay of a Config
	// with MaxDelay zero.
	DefaultMaxDelay = time.Second
	// DefaultWindow is how many recent successful attempts the percentile
	// is taken over, for a Config with Window zero.
	DefaultWindow = 128
)

// Bounds on Config fields, small enough to keep a call's state and the
// percentile's working copy on the stack.
const (
	maxWindow    = 1024
	maxMaxHedges = 16
)

// Config configures a Hedge. The zero value hedges once, after the 95th
// percentile of the latency of the last 128 successful attempts (between
// 1ms and 1s), under a budget of its own (retry.DefaultBudgetConfig).
type Config struct {
	// Name names the policy in the Events it reports.
	Name string

	// Delay, when positive, is how long an attempt runs alone before the
	// next one is sent. Zero: the delay follows Percentile of the recent
	// successful attempts. Negative: an error.
	Delay time.Duration

	// Percentile is the latency percentile of recent successful attempts
	// after which a hedge is sent, when Delay is zero: 0.95 hedges roughly
	// the slowest 5% of calls. It must be in (0, 1), and zero when Delay is
	// set. Zero: DefaultPercentile (0.95).
	Percentile float64

	// MinDelay is the floor of the percentile delay, so that a dependency
	// that answers in microseconds is not hedged on every call. Zero:
	// DefaultMinDelay (1ms). Negative: an error. Ignored with Delay.
	MinDelay time.Duration

	// MaxDelay is the ceiling of the percentile delay, and the delay used
	// until Window/8 successful attempts have been seen. Zero:
	// DefaultMaxDelay (1s), or MinDelay when that is longer. It must not be
	// negative, nor less than MinDelay. Ignored with Delay.
	MaxDelay time.Duration

	// Window is how many recent successful attempts the percentile is
	// taken over; the delay is recomputed every Window/8 of them (at least
	// every one), so it follows a change of latency within about
	// Window + Window/8 successful attempts. Zero: DefaultWindow (128).
	// It must be in [0, 1024].
	Window int

	// MaxHedges is the most extra attempts a call may send, one every
	// delay while every attempt so far is still running. Zero: 1. It must
	// be in [0, 16].
	MaxHedges int

	// Budget bounds the hedges of every call made through the Hedge, with
	// the retries of any retry.Retry sharing it: each hedge is an extra
	// attempt that must be granted by Budget.TryAcquire, and a call whose
	// hedge is refused runs on with the attempts it has. Hedge counts its
	// calls in it with a retry.Count (Budget.Begin): only while extra
	// attempts are being asked for. Nil: a budget of the Hedge's own
	// with retry.DefaultBudgetConfig (hedges add at most 20% to the load).
	Budget *retry.Budget

	// Fatal says which errors of an attempt end the whole call at once:
	// the other attempts are cancelled and the call returns that error.
	// Other errors let the attempts still running win. Whatever Fatal
	// says, an attempt that returns after the caller's context is done
	// ends the call. It is called on the attempt's goroutine and must be
	// safe for concurrent use. Nil: DefaultFatal.
	Fatal func(err error) bool

	// Observer is told of each hedge sent (EventHedgeSent), each call a
	// hedge won (EventHedgeWon), and each hedge the budget refused
	// (EventHedgeRefused). Every event of a call is reported before Do
	// returns, so an Observer may add them to the caller's span. Nil:
	// nothing is reported.
	Observer resilience.Observer
}

// DefaultFatal is Config.Fatal when it is nil: a refusal of this module's
// policies (an error matching resilience.ErrRejected: a breaker that is
// open, a full bulkhead) ends the call at once, as an open breaker must;
// every other error lets another attempt win.
func DefaultFatal(err error) bool { return errors.Is(err, resilience.ErrRejected) }

func (cfg *Config) validate() error {
	bad := func(field, rule string, got any) error {
		return fmt.Errorf("hedge: Config.%s must be %s, got %v", field, rule, got)
	}
	switch p := cfg.Percentile; {
	case cfg.Delay < 0:
		return bad("Delay", ">= 0 (0: a percentile of recent latencies)", cfg.Delay)
	case math.IsNaN(p) || p < 0 || p >= 1:
		return bad("Percentile", "in (0, 1) (0: 0.95)", p)
	case cfg.Delay > 0 && p != 0:
		return fmt.Errorf("hedge: Config.Percentile must be zero when Config.Delay is set, got %v", p)
	case cfg.MinDelay < 0:
		return bad("MinDelay", ">= 0", cfg.MinDelay)
	case cfg.MaxDelay < 0:
		return bad("MaxDelay", ">= 0", cfg.MaxDelay)
	case cfg.MaxDelay > 0 && cfg.MaxDelay < cfg.MinDelay:
		return fmt.Errorf("hedge: Config.MaxDelay must be >= Config.MinDelay (%v), got %v", cfg.MinDelay, cfg.MaxDelay)
	case cfg.MaxDelay > 0 && cfg.MinDelay == 0 && cfg.MaxDelay < DefaultMinDelay:
		return fmt.Errorf("hedge: Config.MaxDelay must be >= Config.MinDelay (0: %v), got %v", DefaultMinDelay, cfg.MaxDelay)
	case cfg.Window < 0 || cfg.Window > maxWindow:
		return bad("Window", fmt.Sprintf("in [0, %d]", maxWindow), cfg.Window)
	case cfg.MaxHedges < 0 || cfg.MaxHedges > maxMaxHedges:
		return bad("MaxHedges", fmt.Sprintf("in [0, %d] (0: 1)", maxMaxHedges), cfg.MaxHedges)
	case cfg.Budget != nil && cfg.Budget.Config().Window == 0:
		return errors.New("hedge: Config.Budget must be made by retry.NewBudget, got a zero Budget")
	}
	return nil
}
