package slogx

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-resilience/resilience"
)

// Config configures an Observer. The zero value is valid: records go to
// slog.Default(), and at most one refusal and one timeout record per policy
// every 10 seconds.
type Config struct {
	// Logger receives the records. Nil: slog.Default(), looked up at each
	// record, so that a later slog.SetDefault applies.
	Logger *slog.Logger

	// Interval is how often at most a refusal, and a timeout, of one
	// policy is logged: the first at once, those within Interval after it
	// only counted, their number given with the next record ("suppressed").
	// State changes are never left out. Zero: 10 seconds. Negative: an
	// error.
	Interval time.Duration
}

const defaultInterval = 10 * time.Second

// An Observer logs breaker state changes, refusals and timeouts through
// log/slog, refusals and timeouts rate-limited (see the package
// documentation). It implements resilience.Observer.
//
// It is safe for concurrent use. Records are written on the goroutine of
// the event, through the Logger's handler: give it a handler that does not
// block for long. Make one with New; the zero value is not usable, and
// Observe on a nil *Observer does nothing.
type Observer struct {
	logger   *slog.Logger
	interval time.Duration

	limits atomic.Pointer[[]limitEntry] // copied on insert, under mu
	mu     sync.Mutex
}

// New returns an Observer configured by cfg, or an error naming the field
// of cfg that is invalid.
func New(cfg Config) (*Observer, error) {
	switch {
	case cfg.Interval < 0:
		return nil, fmt.Errorf("slogx: Config.Interval must be >= 0, got %v", cfg.Interval)
	case cfg.Interval == 0:
		cfg.Interval = defaultInterval
	}
	o := &Observer{logger: cfg.Logger, interval: cfg.Interval}
	o.limits.Store(&[]limitEntry{})
	return o, nil
}

// limitKey is what one rate limit counts: a kind of event of one policy.
type limitKey struct {
	policy string
	kind   resilience.EventKind
}

type limitEntry struct {
	limitKey
	l *limit
}

// A limit lets one record through per interval and counts the others.
// Only the caller that turns quiet on touches timer, and timer only turns
// it off, so a left-out event costs an atomic load and an atomic add: no
// clock read, no lock.
type limit struct {
	quiet      atomic.Bool // a record was let through less than an interval ago
	suppressed atomic.Uint64
	timer      *time.Timer // turns quiet off an interval after it was turned on
}

// Observe logs ev if it is a state change, or a refusal or timeout that
// its rate limit lets through, and otherwise does nothing.
func (o *Observer) Observe(ev resilience.Event) {
	if o == nil {
		return
	}
	switch ev.Kind {
	case resilience.EventStateChange:
		level := slog.LevelInfo
		if ev.To == "open" || ev.To == "forced-open" {
			level = slog.LevelWarn
		}
		o.log(level, "breaker state changed", ev, 0, slog.String("from", ev.From), slog.String("to", ev.To))
	case resilience.EventRejected:
		if n, ok := o.allow(ev); ok {
			o.log(slog.LevelWarn, "call refused", ev, n, errAttr(ev.Err))
		}
	case resilience.EventTimeout:
		if n, ok := o.allow(ev); ok {
			o.log(slog.LevelWarn, "call timed out", ev, n, errAttr(ev.Err))
		}
	}
}

// allow reports whether ev may be logged now, and how many of its kind
// were left out before it.
func (o *Observer) allow(ev resilience.Event) (uint64, bool) {
	l := o.limit(limitKey{ev.Policy, ev.Kind})
	if l.quiet.Load() || !l.quiet.CompareAndSwap(false, true) {
		l.suppressed.Add(1)
		return 0, false
	}
	if l.timer == nil {
		l.timer = time.AfterFunc(o.interval, func() { l.quiet.Store(false) })
	} else {
		l.timer.Reset(o.interval)
	}
	return l.suppressed.Swap(0), true
}

// limit returns the limit of k, making it on first use. The limits are
// few (two per policy) and found by a linear scan of a list published
// without a lock and copied under mu when one is added.
func (o *Observer) limit(k limitKey) *limit {
	for _, e := range *o.limits.Load() {
		if e.kind == k.kind && e.policy == k.policy {
			return e.l
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	old := *o.limits.Load()
	for _, e := range old {
		if e.limitKey == k {
			return e.l
		}
	}
	l := &limit{}
	next := append(old[:len(old):len(old)], limitEntry{k, l})
	o.limits.Store(&next)
	return l
}

func (o *Observer) log(level slog.Level, msg string, ev resilience.Event, suppressed uint64, attrs ...slog.Attr) {
	logger := o.logger
	if logger == nil {
		logger = slog.Default()
	}
	ctx := context.Background()
	if !logger.Enabled(ctx, level) {
		return
	}
	all := make([]slog.Attr, 0, 5)
	all = append(all, slog.String("policy", ev.Policy))
	if ev.Key != "" {
		all = append(all, slog.String("key", ev.Key))
	}
	all = append(all, attrs...)
	if suppressed > 0 {
		all = append(all, slog.Uint64("suppressed", suppressed))
	}
	logger.LogAttrs(ctx, level, msg, all...)
}

func errAttr(err error) slog.Attr {
	if err == nil {
		return slog.String("err", "")
	}
	return slog.String("err", err.Error())
}
