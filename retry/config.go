package retry

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/go-resilience/resilience"
)

// Defaults for the zero fields of a Config.
const (
	// DefaultMaxAttempts is the total number of attempts (the first one
	// included) of a Config with MaxAttempts zero.
	DefaultMaxAttempts = 3
	// DefaultBaseDelay is the cap of the first backoff of a Config with
	// BaseDelay zero.
	DefaultBaseDelay = 100 * time.Millisecond
	// DefaultMaxDelay is the longest delay of a Config with MaxDelay zero.
	DefaultMaxDelay = 10 * time.Second
	// DefaultMultiplier is the growth of the backoff cap per attempt of a
	// Config with Multiplier zero.
	DefaultMultiplier = 2.0
)

// maxAttemptsLimit bounds Config.MaxAttempts: far more than any sane retry
// policy, small enough that the backoff arithmetic cannot overflow.
const maxAttemptsLimit = 1000

// Config configures a Retry. The zero value is a sound retry policy: three
// attempts in all, full-jitter exponential backoff from 100ms doubling up
// to 10s, failures of the dependency retried, and a budget of its own
// (DefaultBudgetConfig) so that retries can never multiply the load on a
// dependency that is down.
type Config struct {
	// Name names the policy in the Events it reports.
	Name string

	// MaxAttempts is the most attempts a call makes, the first one
	// included: 3 means one call and up to two retries. Zero:
	// DefaultMaxAttempts (3). 1 disables retries. Negative values, and
	// values above 1000, are an error.
	MaxAttempts int

	// BaseDelay caps the delay before the first retry; the cap grows by
	// Multiplier for each retry after it, up to MaxDelay. With full jitter
	// (the default) the delay before retry n (n = 1, 2, ...) is drawn
	// uniformly from [0, min(MaxDelay, BaseDelay × Multiplier^(n-1))].
	// Zero: DefaultBaseDelay (100ms). Negative: retry at once, with no
	// delay (as a negative net.Dialer.KeepAlive disables keep-alives); a
	// Retry-After hint is still honoured.
	BaseDelay time.Duration

	// MaxDelay is the longest the policy waits between two attempts. A
	// retry-after hint longer than MaxDelay ends the retries (the
	// dependency asked for more patience than the policy has) rather than
	// retrying sooner than asked. Zero: DefaultMaxDelay (10s), or
	// BaseDelay when that is longer. It must not be negative, nor less
	// than a positive BaseDelay.
	MaxDelay time.Duration

	// Multiplier is the factor by which the backoff cap grows per retry.
	// Zero: DefaultMultiplier (2). It must be a finite number >= 1 (1
	// keeps the cap at BaseDelay).
	Multiplier float64

	// NoJitter waits exactly the cap, min(MaxDelay, BaseDelay ×
	// Multiplier^(n-1)), instead of a uniform draw from [0, cap]. Without
	// jitter, callers that failed together retry together; keep it false
	// unless a test needs an exact schedule.
	NoJitter bool

	// MaxDuration bounds the whole call, every attempt and every delay:
	// the attempts run with a context whose deadline is MaxDuration after
	// the call began (or the caller's, when that is earlier), and no
	// retry is started that could not finish before it. Zero: no bound
	// beyond the caller's deadline, and no extra context per call.
	// Negative values are an error.
	MaxDuration time.Duration

	// Retryable says whether a failed attempt's error is worth another
	// attempt. Nil: DefaultRetryable, failures of the dependency. Two
	// rules come first and cannot be overridden: when the caller's own
	// context is done (cancelled, or its deadline passed) nothing is
	// retried, and a negative retry-after hint (a gRPC pushback asking not
	// to retry) is never retried. A Retryable that returns true for the
	// library's own refusals (resilience.ErrRejected) should still say no
	// to an open breaker's: the breaker is open so that callers fail fast.
	// It is called on the caller's goroutine and must be safe for
	// concurrent use.
	Retryable func(err error) bool

	// Budget is the retry budget the policy draws each retry from. Share
	// one Budget among the policies (and hedges) that call the same
	// dependency, so that their extra attempts together stay a fraction of
	// the calls. Nil: the policy gets a Budget of its own made with
	// DefaultBudgetConfig; unbounded retries are never the default.
	Budget *Budget

	// Observer is told of each retry (EventRetry, with Attempt the number
	// of the attempt about to start and Latency the delay before it), of
	// each retry the budget refused (EventRetryRefused) and of each call
	// that gave up retrying a retryable error (EventRetryGiveUp, with
	// Attempt the attempts made and Err the last error). Nil: nothing is
	// reported.
	Observer resilience.Observer
}

// DefaultRetryable reports whether err is a failure of the dependency, as
// resilience.DefaultClassifier says: not nil, not a cancellation, and not a
// refusal of this library (resilience.ErrRejected: an open breaker, a full
// bulkhead), which is local overload that retrying would only worsen. A
// per-attempt timeout (timeout.ErrTimeout) is a failure and is retried:
// that is why the timeout goes inside the retry. The caller's own deadline
// is never retried, by the rule that comes before any Retryable.
func DefaultRetryable(err error) bool {
	return err != nil &&
		resilience.DefaultClassifier(err) == resilience.Failure &&
		!errors.Is(err, resilience.ErrRejected)
}

func (cfg *Config) validate() error {
	switch {
	case cfg.MaxAttempts < 0 || cfg.MaxAttempts > maxAttemptsLimit:
		return fmt.Errorf("retry: Config.MaxAttempts must be in [0, %d] (0: %d), got %d", maxAttemptsLimit, DefaultMaxAttempts, cfg.MaxAttempts)
	case cfg.MaxDelay < 0:
		return fmt.Errorf("retry: Config.MaxDelay must be >= 0, got %v", cfg.MaxDelay)
	case cfg.MaxDelay > 0 && cfg.BaseDelay > 0 && cfg.MaxDelay < cfg.BaseDelay:
		return fmt.Errorf("retry: Config.MaxDelay must be >= Config.BaseDelay (%v), got %v", cfg.BaseDelay, cfg.MaxDelay)
	case math.IsNaN(cfg.Multiplier) || math.IsInf(cfg.Multiplier, 0) || (cfg.Multiplier != 0 && cfg.Multiplier < 1):
		return fmt.Errorf("retry: Config.Multiplier must be a finite number >= 1 (0: %v), got %v", DefaultMultiplier, cfg.Multiplier)
	case cfg.MaxDuration < 0:
		return fmt.Errorf("retry: Config.MaxDuration must be >= 0, got %v", cfg.MaxDuration)
	case cfg.Budget != nil && cfg.Budget.Config().Window == 0:
		return errors.New("retry: Config.Budget must be made by NewBudget, got a zero Budget")
	}
	return nil
}
