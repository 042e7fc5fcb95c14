// Package admit is the admission logic the server-side adapters (httpx's
// server middleware, grpcx's server interceptors) share: the refusals of
// a request before it runs (its deadline, the bound on waiters), the CoDel
// rule that stops a queue from standing, the shedding state a health
// report reads, and the Events they report.
//
// The adapters drive a Gate in three steps around the Policy's Execute:
// Enter before it, Begin as the first thing the call does, Leave after
// Execute returns. A Request carries a request through the Policy and
// takes the last two steps for them (Gate.Execute, Run): an adapter embeds
// it in a pooled struct of its own that serves the request. Nothing here
// allocates.
package admit

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/ratelimit"
)

// ErrShortDeadline is the refusal of a request whose remaining deadline is
// already past or shorter than the configured minimum.
var ErrShortDeadline error = &refusal{msg: "server: deadline too short to serve the request"}

// ErrQueueFull is the refusal of a request that found the most waiters
// allowed already waiting.
var ErrQueueFull error = &refusal{msg: "server: too many requests waiting"}

// ErrStandingQueue is the refusal, by the CoDel rule, of a request that
// waited longer than the queue's target while the queue stood above it.
var ErrStandingQueue error = &refusal{msg: "server: waited too long in a standing queue"}

type refusal struct{ msg string }

func (e *refusal) Error() string { return e.msg }

// Is reports whether target is resilience.ErrRejected: these are refusals.
func (e *refusal) Is(target error) bool { return target == resilience.ErrRejected }

// A Reason is why a request was shed.
type Reason uint8

const (
	// Overload: the Policy refused (a full bulkhead, an open breaker, a
	// concurrency limit), or the request's context ended while it waited.
	Overload Reason = iota
	// RateLimit: a rate limiter refused (ratelimit.ErrLimited).
	RateLimit
	// Deadline: ErrShortDeadline.
	Deadline
	// Queue: ErrQueueFull or ErrStandingQueue.
	Queue
)

// ReasonNames are the reasons' names, indexed by Reason: the reason label
// of metrics' server_shed_total and the error.type of otelx's.
var ReasonNames = [...]string{
	Overload:  "overload",
	RateLimit: "rate_limit",
	Deadline:  "deadline",
	Queue:     "queue",
}

// ReasonOf returns the reason of a refusal.
func ReasonOf(err error) Reason {
	switch {
	case err == ErrShortDeadline:
		return Deadline
	case err == ErrQueueFull, err == ErrStandingQueue:
		return Queue
	case errors.Is(err, ratelimit.ErrLimited):
		return RateLimit
	}
	return Overload
}

// DefaultQueueInterval is Config.QueueInterval when it is zero.
const DefaultQueueInterval = 100 * time.Millisecond

// ShedHold is how long after its last refusal a Gate still reports that it
// is shedding: a burst of refusals a second apart is one episode.
const ShedHold = time.Second

// Config configures a Gate; the adapters copy their ServerConfig into it.
type Config struct {
	Name          string
	MinDeadline   time.Duration
	MaxWaiting    int
	QueueTarget   time.Duration
	QueueInterval time.Duration
	Observer      resilience.Observer
}

// Validate returns an error naming the first field of cfg out of range,
// as a field of prefix (an adapter's "httpx: ServerConfig"), or nil.
func (cfg Config) Validate(prefix string) error {
	switch {
	case cfg.MinDeadline < 0:
		return fmt.Errorf("%s.MinDeadline must be >= 0, got %v", prefix, cfg.MinDeadline)
	case cfg.MaxWaiting < 0:
		return fmt.Errorf("%s.MaxWaiting must be >= 0, got %d", prefix, cfg.MaxWaiting)
	case cfg.QueueTarget < 0:
		return fmt.Errorf("%s.QueueTarget must be >= 0, got %v", prefix, cfg.QueueTarget)
	case cfg.QueueInterval < 0:
		return fmt.Errorf("%s.QueueInterval must be >= 0, got %v", prefix, cfg.QueueInterval)
	}
	return nil
}

// A Gate admits or refuses requests. It is safe for concurrent use.
type Gate struct {
	cfg   Config
	epoch time.Time // monotonic origin of the nanosecond times below

	waiting    atomic.Int64 // requests between Enter and Begin (or Leave)
	aboveSince atomic.Int64 // when waits went above target and stayed there; 0: they are not
	shedSince  atomic.Int64 // start of the current shedding episode
	lastShed   atomic.Int64 // time of the last refusal; 0: never
}

// New returns a Gate; cfg has been validated by the adapter.
func New(cfg Config) *Gate {
	if cfg.QueueInterval == 0 {
		cfg.QueueInterval = DefaultQueueInterval
	}
	return &Gate{cfg: cfg, epoch: time.Now()}
}

// now returns the time since the epoch, never 0.
func (g *Gate) now() int64 { return int64(time.Since(g.epoch)) + 1 }

// Enter decides whether a request with ctx may go on to the Policy. On
// nil the request counts as waiting until Begin or Leave; its arrival time
// is returned for Begin. On a refusal nothing is held. With checked, the
// adapter has already checked the deadline (one it has just set from a
// header) and ctx's is not looked at.
func (g *Gate) Enter(ctx context.Context, checked bool) (int64, error) {
	if d, ok := ctx.Deadline(); ok && !checked {
		if rem := time.Until(d); rem <= 0 || rem < g.cfg.MinDeadline {
			return 0, ErrShortDeadline
		}
	}
	if g.cfg.MaxWaiting > 0 {
		if g.waiting.Add(1) > int64(g.cfg.MaxWaiting) {
			g.waiting.Add(-1)
			return 0, ErrQueueFull
		}
	} else {
		g.waiting.Add(1)
	}
	if g.cfg.QueueTarget == 0 && g.cfg.Observer == nil {
		return 0, nil // no clock needed
	}
	return g.now(), nil
}

// Begin is called when the Policy runs the request, with what Enter
// returned. It applies the CoDel rule and reports EventAdmitted; on a
// refusal (ErrStandingQueue, already counted by Shed) the caller must not
// serve the request and must return the error from its call.
func (g *Gate) Begin(ctx context.Context, arrived int64, key string) error {
	g.waiting.Add(-1)
	if arrived == 0 {
		if g.cfg.Observer != nil {
			g.observe(ctx, resilience.EventAdmitted, key, 0, nil)
		}
		return nil
	}
	now := g.now()
	wait := time.Duration(now - arrived)
	if t := g.cfg.QueueTarget; t > 0 {
		if wait < t {
			if g.aboveSince.Load() != 0 {
				g.aboveSince.Store(0)
			}
		} else if since := g.aboveSince.Load(); since == 0 {
			g.aboveSince.CompareAndSwap(0, now)
		} else if time.Duration(now-since) >= g.cfg.QueueInterval {
			g.Shed(ctx, key, ErrStandingQueue)
			return ErrStandingQueue
		}
	}
	if g.cfg.Observer != nil {
		g.observe(ctx, resilience.EventAdmitted, key, wait, nil)
	}
	return nil
}

// Leave is called after Execute returned err without having run the
// request (Begin was never called) for a request made with ctx. It
// returns whether err is a refusal, which the adapter answers as such. A
// refusal is counted and reported as EventShed, except when the
// request's own context ended while it waited: its client has gone or
// given up, and nobody was refused.
func (g *Gate) Leave(ctx context.Context, key string, err error) bool {
	g.waiting.Add(-1)
	if err == nil {
		return false // a policy that let the request go without running it
	}
	if cerr := ctx.Err(); cerr != nil && errors.Is(err, cerr) {
		return true
	}
	g.Shed(ctx, key, err)
	return true
}

// Shed counts and reports a refusal made by Enter, Begin or the Policy.
func (g *Gate) Shed(ctx context.Context, key string, err error) {
	now := g.now()
	if last := g.lastShed.Swap(now); last == 0 || time.Duration(now-last) > ShedHold {
		g.shedSince.Store(now)
	}
	if g.cfg.Observer != nil {
		g.observe(ctx, resilience.EventShed, key, 0, err)
	}
}

// Shedding reports whether the gate has refused a request within the last
// ShedHold, and since when it has been refusing without such a pause.
func (g *Gate) Shedding() (since time.Time, ok bool) {
	last := g.lastShed.Load()
	if last == 0 || time.Duration(g.now()-last) > ShedHold {
		return time.Time{}, false
	}
	return g.epoch.Add(time.Duration(g.shedSince.Load() - 1)), true
}

// Waiting returns how many requests are waiting for the Policy now.
func (g *Gate) Waiting() int { return int(g.waiting.Load()) }

func (g *Gate) observe(ctx context.Context, kind resilience.EventKind, key string, latency time.Duration, err error) {
	g.cfg.Observer.Observe(resilience.Event{Kind: kind, Policy: g.cfg.Name, Key: key, Latency: latency, Err: err, Ctx: ctx})
}
