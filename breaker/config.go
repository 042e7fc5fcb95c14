package breaker

import (
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/go-resilience/resilience"
)

// Config configures a Breaker. The zero value is a valid configuration: it
// trips after 5 consecutive failures, stays open 30s, then lets one probe
// through.
//
// A Config is read once by New; changing it afterwards has no effect.
type Config struct {
	// Name identifies the breaker in errors, events and OnStateChange.
	// Zero: "".
	Name string

	// ConsecutiveFailures trips the breaker after this many failures in a
	// row (a success resets the run; ignored calls do not). Zero: 5 when
	// FailureRate is zero, otherwise this rule is off.
	ConsecutiveFailures uint32

	// FailureRate trips the breaker when failures/calls reaches this rate
	// over the last Window, once at least MinCalls calls were counted in it
	// (ignored calls are not counted). Zero: the rule is off. Otherwise it
	// must be in (0, 1].
	FailureRate float64

	// MinCalls is the number of calls the FailureRate rule needs in its
	// window before it can trip. Zero: 10. It belongs to the FailureRate
	// rule: setting it while FailureRate is zero is an error, since it
	// would do nothing.
	MinCalls uint32

	// Window is the rolling window of the FailureRate rule, kept in ten
	// buckets of Window/10 each (gobreaker's BucketPeriod), so calls leave
	// it a tenth of a window at a time. Zero: 60s. Otherwise it must be
	// at least 10ms (ten buckets of 1ms: a shorter window forgets calls
	// before the next one comes, and would never trip) and at most 100
	// years. It belongs to the FailureRate rule: setting it while
	// FailureRate is zero is an error, since it would do nothing. When
	// FailureRate is set, consecutive failures older than the window are
	// forgotten too.
	Window time.Duration

	// SlowCallThreshold counts a call that took at least this long as a
	// failure even when it returned no error. Zero: off.
	SlowCallThreshold time.Duration

	// OpenTimeout is how long the breaker stays open (refusing every call)
	// before it lets probes through. Zero: 30s.
	OpenTimeout time.Duration

	// MaxOpenTimeout makes the open duration grow: it doubles each time a
	// probe fails (or the half-open state times out), up to MaxOpenTimeout,
	// and returns to OpenTimeout once the breaker closes. It also caps the
	// Retry-After hint. Zero: the open duration is always OpenTimeout.
	// Otherwise it must be at least OpenTimeout.
	MaxOpenTimeout time.Duration

	// HalfOpenProbes is how many calls the half-open breaker lets through
	// at once; all of them must succeed for it to close, and any failure
	// opens it again. Other calls are refused with ErrTooManyProbes.
	// Zero: 1.
	HalfOpenProbes uint32

	// HalfOpenTimeout is the longest the breaker waits in half-open for its
	// probes to report. When it passes (a probe hangs, or a caller of Allow
	// never calls done), the next call finds the breaker open again, as if
	// a probe had failed. Zero: OpenTimeout.
	HalfOpenTimeout time.Duration

	// Classifier decides whether a call's error is a success, a failure, or
	// ignored (counted as neither). It is applied through
	// resilience.Classifier.Classify, so the caller's own cancellation or
	// deadline and the library's refusals (resilience.ErrRejected) are
	// always ignored. Zero: resilience.DefaultClassifier.
	Classifier resilience.Classifier

	// OnStateChange is called after every change of state, automatic or
	// forced, in order, on the goroutine of a call or method that observed
	// it, never under a lock: it may call State, Counts, or even Execute.
	// It must be safe for concurrent use with the breaker's other methods.
	// In a Set, name is Name + "/" + key (just the key when Name is
	// empty, just Name for the overflow breaker).
	// Zero: nothing is called.
	OnStateChange func(name string, from, to State)

	// Observer is told of every call let through (EventCall), refusal
	// (EventRejected) and change of state (EventStateChange), with Policy
	// set to Name and Key to the key in a Set. Zero: nil, which costs
	// nothing.
	Observer resilience.Observer
}

// Defaults applied to zero fields.
const (
	defaultConsecutiveFailures = 5
	defaultMinCalls            = 10
	defaultWindow              = 60 * time.Second
	defaultOpenTimeout         = 30 * time.Second
	defaultHalfOpenProbes      = 1
	windowBuckets              = 10
	// maxWindow keeps gobreaker's bucket arithmetic from overflowing.
	maxWindow = 100 * 365 * 24 * time.Hour
	// minWindow holds ten buckets of 1ms: a shorter window forgets every
	// call before the next one comes, and never trips.
	minWindow = windowBuckets * time.Millisecond
)

// settings is a validated Config with its defaults applied, shared by every
// breaker of a Set.
type settings struct {
	name                string
	consecutiveFailures uint32
	failureRate         float64
	minCalls            uint32
	window              time.Duration
	slowCallThreshold   time.Duration
	openTimeout         time.Duration
	maxOpenTimeout      time.Duration
	halfOpenProbes      uint32
	halfOpenTimeout     time.Duration
	classifier          resilience.Classifier
	onStateChange       func(name string, from, to State)
	observer            resilience.Observer

	// timed: calls need their latency (for SlowCallThreshold or Observer).
	timed bool
	// epoch is read once so that timing a call takes two monotonic clock
	// reads (time.Since) instead of time.Now's wall and monotonic ones.
	epoch time.Time

	// watch is told of every change of state (see Set.Watch, Breaker.Watch).
	watch atomic.Pointer[func(Change)]
	// failWatch is told of every failure of a closed breaker (see
	// Set.WatchFailures).
	failWatch atomic.Pointer[func(*Breaker)]
}

// validate checks cfg and returns it with its defaults applied.
func (cfg Config) validate() (*settings, error) {
	bad := func(field, rule string, got any) error {
		return fmt.Errorf("breaker: Config.%s must be %s, got %v", field, rule, got)
	}
	switch {
	case math.IsNaN(cfg.FailureRate) || cfg.FailureRate < 0 || cfg.FailureRate > 1:
		return nil, bad("FailureRate", "in (0, 1] (or zero: off)", cfg.FailureRate)
	case cfg.Window < 0 || cfg.Window > maxWindow:
		return nil, bad("Window", "positive and at most 100 years (or zero: 60s)", cfg.Window)
	case cfg.Window > 0 && cfg.Window < minWindow:
		return nil, bad("Window", "at least 10ms, ten buckets of 1ms (or zero: 60s)", cfg.Window)
	case cfg.FailureRate == 0 && cfg.Window != 0:
		return nil, bad("Window", "zero when Config.FailureRate is zero (the window belongs to that rule, which is off)", cfg.Window)
	case cfg.FailureRate == 0 && cfg.MinCalls != 0:
		return nil, bad("MinCalls", "zero when Config.FailureRate is zero (it belongs to that rule, which is off)", cfg.MinCalls)
	case cfg.SlowCallThreshold < 0:
		return nil, bad("SlowCallThreshold", "positive (or zero: off)", cfg.SlowCallThreshold)
	case cfg.OpenTimeout < 0:
		return nil, bad("OpenTimeout", "positive (or zero: 30s)", cfg.OpenTimeout)
	case cfg.MaxOpenTimeout < 0:
		return nil, bad("MaxOpenTimeout", "positive (or zero: fixed open duration)", cfg.MaxOpenTimeout)
	case cfg.HalfOpenTimeout < 0:
		return nil, bad("HalfOpenTimeout", "positive (or zero: OpenTimeout)", cfg.HalfOpenTimeout)
	}
	s := &settings{
		name:                cfg.Name,
		consecutiveFailures: cfg.ConsecutiveFailures,
		failureRate:         cfg.FailureRate,
		minCalls:            cfg.MinCalls,
		window:              cfg.Window,
		slowCallThreshold:   cfg.SlowCallThreshold,
		openTimeout:         cfg.OpenTimeout,
		maxOpenTimeout:      cfg.MaxOpenTimeout,
		halfOpenProbes:      cfg.HalfOpenProbes,
		halfOpenTimeout:     cfg.HalfOpenTimeout,
		classifier:          cfg.Classifier,
		onStateChange:       cfg.OnStateChange,
		observer:            cfg.Observer,
	}
	if s.consecutiveFailures == 0 && s.failureRate == 0 {
		s.consecutiveFailures = defaultConsecutiveFailures
	}
	if s.failureRate > 0 {
		if s.minCalls == 0 {
			s.minCalls = defaultMinCalls
		}
		if s.window == 0 {
			s.window = defaultWindow
		}
	}
	if s.openTimeout == 0 {
		s.openTimeout = defaultOpenTimeout
	}
	if s.maxOpenTimeout != 0 && s.maxOpenTimeout < s.openTimeout {
		return nil, bad("MaxOpenTimeout", fmt.Sprintf("zero or at least OpenTimeout (%v)", s.openTimeout), cfg.MaxOpenTimeout)
	}
	if s.halfOpenProbes == 0 {
		s.halfOpenProbes = defaultHalfOpenProbes
	}
	if s.halfOpenTimeout == 0 {
		s.halfOpenTimeout = s.openTimeout
	}
	s.timed = s.slowCallThreshold > 0 || s.observer != nil
	if s.timed {
		s.epoch = time.Now()
	}
	return s, nil
}

// clock is the time since s was made, for timing calls.
func (s *settings) clock() time.Duration { return time.Since(s.epoch) }
