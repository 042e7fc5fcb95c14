package adaptive

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/go-resilience/resilience"
)

// An Algorithm is how a Limiter moves its limit at the end of each sample
// window.
type Algorithm uint8

const (
	// Gradient compares the window's average latency (short-term) with a
	// long-term estimate of the latency without queueing: while calls are
	// no slower than Tolerance times the long-term latency the limit grows
	// by QueueSize a window; beyond that it shrinks in proportion, never
	// below half a window; each step is smoothed by Smoothing. It is the
	// shape of Netflix's Gradient2 (see the package doc for where it
	// differs). It reads latency only: failures leave it unmoved.
	Gradient Algorithm = iota
	// AIMD adds one to the limit after a window in which the limit was
	// used (at least half of it in flight) and nothing went wrong, and
	// multiplies it by Backoff after a window with a failure or a call at
	// least SlowCallThreshold slow: additive increase, multiplicative
	// decrease, at most one of either per window.
	AIMD
)

func (a Algorithm) String() string {
	switch a {
	case Gradient:
		return "gradient"
	case AIMD:
		return "aimd"
	}
	return "algorithm(" + strconv.Itoa(int(a)) + ")"
}

// Config configures a Limiter. The zero value is valid: a Gradient limiter
// starting at 20, between 1 and 1000, that refuses at once.
type Config struct {
	// Name names the limiter in its errors and in the Events it reports.
	// Zero: unnamed; refusals are ErrLimited itself.
	Name string

	// Algorithm is how the limit moves. Zero: Gradient.
	Algorithm Algorithm

	// InitialLimit is the limit before anything is measured. Zero: 20, or
	// MinLimit or MaxLimit when 20 is outside them. Otherwise it must be in
	// [MinLimit, MaxLimit].
	InitialLimit int

	// MinLimit is the lowest the limit goes. Zero: 1. Otherwise it must be
	// positive and at most MaxLimit.
	MinLimit int

	// MaxLimit is the highest the limit goes. Zero: 1000. Otherwise it
	// must be positive and at most math.MaxInt32.
	MaxLimit int

	// MaxWait is the longest a caller waits for a call to finish when the
	// limit is reached, before it is refused with ErrLimited. Zero: a
	// caller is refused at once. Negative values are an error. Keep it
	// short: the point of the limit is not to queue.
	MaxWait time.Duration

	// SlowCallThreshold (AIMD) counts a call that took at least this long
	// as a reason to decrease, like a failure. Zero: only failures
	// decrease the limit. Negative values are an error. Gradient ignores
	// it.
	SlowCallThreshold time.Duration

	// Backoff (AIMD) is what the limit is multiplied by after a window
	// with a failure or a slow call. Zero: 0.9. Otherwise it must be in
	// (0, 1).
	Backoff float64

	// Tolerance (Gradient) is how much slower than the long-term latency
	// the window's latency may be before the limit shrinks. Zero: 1.5.
	// Otherwise it must be at least 1 and finite.
	Tolerance float64

	// QueueSize (Gradient) is how many calls beyond what the latency
	// ratio allows the limit adds each window: the room it keeps for
	// probing. Zero: 4. Negative values are an error.
	QueueSize int

	// Smoothing (Gradient) is the weight of each window's new estimate in
	// the limit: limit = (1-Smoothing)·limit + Smoothing·estimate. Zero:
	// 0.2. Otherwise it must be in (0, 1].
	Smoothing float64

	// LongWindow (Gradient) is over how many windows the long-term latency
	// rises to follow a slower dependency (it falls at once to a faster
	// window). Zero: 600. Negative values are an error.
	LongWindow int

	// Classifier decides whether a call's error is a success, a failure
	// or neither, after the rules of resilience.Classifier.Classify: the
	// caller's own cancellation or deadline and the library's refusals are
	// ignored, and ignored calls never move the limit. Zero:
	// resilience.DefaultClassifier.
	Classifier resilience.Classifier

	// Observer is told of the initial limit (by New) and of each change
	// of the limit (EventLimitChange, with Limit the limit), of each refusal (EventRejected) and, like
	// a bulkhead's, of each slot taken and given back (EventAcquire,
	// EventRelease) and each wait that ended with a slot (EventWait). Nil:
	// nothing is reported.
	Observer resilience.Observer
}

// settings is a validated Config with its zero values filled in.
type settings struct {
	Config
}

func bad(field, want string, got any) error {
	return fmt.Errorf("adaptive: Config.%s must be %s, got %v", field, want, got)
}

func (cfg Config) validate() (*settings, error) {
	s := &settings{cfg}
	if s.MinLimit == 0 {
		s.MinLimit = 1
	}
	if s.MaxLimit == 0 {
		s.MaxLimit = 1000
	}
	switch {
	case cfg.Algorithm > AIMD:
		return nil, bad("Algorithm", "Gradient or AIMD", cfg.Algorithm)
	case s.MaxLimit < 0 || s.MaxLimit > math.MaxInt32:
		return nil, bad("MaxLimit", fmt.Sprintf("in (0, %d] (or zero: 1000)", math.MaxInt32), cfg.MaxLimit)
	case s.MinLimit < 0 || s.MinLimit > s.MaxLimit:
		return nil, bad("MinLimit", fmt.Sprintf("in (0, MaxLimit=%d] (or zero: 1)", s.MaxLimit), cfg.MinLimit)
	}
	if s.InitialLimit == 0 {
		s.InitialLimit = min(max(20, s.MinLimit), s.MaxLimit)
	}
	switch {
	case s.InitialLimit < s.MinLimit || s.InitialLimit > s.MaxLimit:
		return nil, bad("InitialLimit", fmt.Sprintf("in [MinLimit=%d, MaxLimit=%d] (or zero)", s.MinLimit, s.MaxLimit), cfg.InitialLimit)
	case cfg.MaxWait < 0:
		return nil, bad("MaxWait", ">= 0", cfg.MaxWait)
	case cfg.SlowCallThreshold < 0:
		return nil, bad("SlowCallThreshold", ">= 0", cfg.SlowCallThreshold)
	case cfg.Backoff != 0 && !(cfg.Backoff > 0 && cfg.Backoff < 1):
		return nil, bad("Backoff", "in (0, 1) (or zero: 0.9)", cfg.Backoff)
	case cfg.Tolerance != 0 && !(cfg.Tolerance >= 1 && !math.IsInf(cfg.Tolerance, 1)):
		return nil, bad("Tolerance", ">= 1 and finite (or zero: 1.5)", cfg.Tolerance)
	case cfg.QueueSize < 0:
		return nil, bad("QueueSize", ">= 0 (zero: 4)", cfg.QueueSize)
	case cfg.Smoothing != 0 && !(cfg.Smoothing > 0 && cfg.Smoothing <= 1):
		return nil, bad("Smoothing", "in (0, 1] (or zero: 0.2)", cfg.Smoothing)
	case cfg.LongWindow < 0:
		return nil, bad("LongWindow", ">= 0 (zero: 600)", cfg.LongWindow)
	}
	if s.Backoff == 0 {
		s.Backoff = 0.9
	}
	if s.Tolerance == 0 {
		s.Tolerance = 1.5
	}
	if s.QueueSize == 0 {
		s.QueueSize = 4
	}
	if s.Smoothing == 0 {
		s.Smoothing = 0.2
	}
	if s.LongWindow == 0 {
		s.LongWindow = 600
	}
	return s, nil
}
