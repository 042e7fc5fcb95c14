package fleet

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/redis/go-redis/v9"
)

// A Fleet shares the state of breakers with the other replicas of a
// service through Redis. Join a breaker.Set (or a single Breaker) to it;
// see the package documentation for what is shared and how.
//
// A Fleet runs two goroutines of its own from New until Close: one that
// listens for the other replicas' changes, and one that does every other
// Redis operation. Calls through the joined breakers never wait for them.
//
// Make one with New; the zero Fleet is not usable. A Fleet is safe for
// concurrent use.
type Fleet struct {
	s *settings

	ctx    context.Context // done at Close; parent of every Redis operation
	cancel context.CancelFunc
	wg     sync.WaitGroup
	pubsub *redis.PubSub

	// changes carries the joined breakers' own changes of state from the
	// calls that made them to the worker. A call never waits on it: when
	// it is full, the change is dropped (and counted), and the next
	// backstop read finds it.
	changes chan change
	// failures carries the joined breakers' failures to the worker, for
	// PooledFailures, the same way.
	failures chan failure

	mu     sync.Mutex // guards groups, their key states, and closed
	groups map[string]*group
	closed bool

	started    time.Time
	lastSync   atomic.Int64 // Unix ns of the last backstop read that succeeded
	errs       atomic.Uint64
	dropped    atomic.Uint64
	lastErr    atomic.Pointer[error]
	subscribed atomic.Bool
}

// maxPending is the capacity of Fleet.changes.
const maxPending = 1024

// New returns a Fleet configured by cfg, with its goroutines started, or
// an error naming the first invalid field of cfg. It does no Redis I/O
// itself: a Redis that is down or slow does not delay it.
func New(cfg Config) (*Fleet, error) {
	s, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	f := &Fleet{
		s:        s,
		changes:  make(chan change, maxPending),
		failures: make(chan failure, maxPending),
		groups:   map[string]*group{},
		started:  time.Now(),
	}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	f.pubsub = s.client.Subscribe(f.ctx) // no channel yet: no I/O
	f.wg.Add(2)
	go f.listen()
	go f.work()
	return f, nil
}

// Close stops the fleet's goroutines and waits for them, and stops
// watching the joined breakers, which go on with their local state. It
// does not close Config.Client. Close is safe to call more than once and
// concurrently; it always returns nil.
func (f *Fleet) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	groups := f.snapshot()
	f.mu.Unlock()
	for _, g := range groups {
		g.watch(nil)
		g.watchFailures(nil)
	}
	f.cancel()
	_ = f.pubsub.Close()
	f.wg.Wait()
	return nil
}

// Health is a snapshot of the fleet's link to Redis, for health checks
// and metrics.
type Health struct {
	// Subscribed is true while the fleet is subscribed to the other
	// replicas' pushed changes.
	Subscribed bool
	// LastSync is when the last backstop read of the shared state
	// succeeded; zero if none has yet.
	LastSync time.Time
	// Lag is how long ago that was (or how long ago New was, if none has
	// succeeded yet): how stale the replica's view of the fleet may be. It
	// is about SyncInterval while Redis is healthy, and grows while it is
	// not.
	Lag time.Duration
	// Errors counts the Redis operations that failed.
	Errors uint64
	// LastError is the last of them, or nil.
	LastError error
	// Dropped counts the changes of state that were not pushed at once
	// because too many were waiting (the backstop read pushes them), and
	// the failures not pooled for the same reason.
	Dropped uint64
}

// Health returns a snapshot of the fleet's link to Redis. It reads only
// memory. Safe for concurrent use.
func (f *Fleet) Health() Health {
	h := Health{
		Subscribed: f.subscribed.Load(),
		Errors:     f.errs.Load(),
		Dropped:    f.dropped.Load(),
	}
	if p := f.lastErr.Load(); p != nil {
		h.LastError = *p
	}
	since := f.started
	if ns := f.lastSync.Load(); ns != 0 {
		h.LastSync = time.Unix(0, ns)
		since = h.LastSync
	}
	h.Lag = max(time.Since(since), 0)
	return h
}

// Name returns Config.Name: the fleet's name in a health report.
func (f *Fleet) Name() string {
	if f == nil {
		return ""
	}
	return f.s.name
}

// LinkHealth reports whether the fleet's link to Redis works now: it is
// subscribed to the other replicas' pushes and its last backstop read is
// at most three sync intervals old. lag is Health().Lag, and err the last
// Redis error while the link does not work. It makes a *Fleet a
// health.Link. It reads only memory. Safe for concurrent use; a nil Fleet
// reports a broken link.
func (f *Fleet) LinkHealth() (ok bool, lag time.Duration, err error) {
	if f == nil {
		return false, 0, ErrClosed
	}
	h := f.Health()
	if h.Subscribed && h.Lag <= 3*f.s.interval {
		return true, h.Lag, nil
	}
	return false, h.Lag, h.LastError
}

// fail records a failed Redis operation.
func (f *Fleet) fail(err error) {
	if f.ctx.Err() != nil {
		return // closing: not Redis's fault
	}
	f.errs.Add(1)
	f.lastErr.Store(&err)
	if f.s.observer != nil {
		f.s.observer.Observe(resilience.Event{Kind: resilience.EventSyncError, Policy: f.s.name, Err: err, Ctx: context.Background()})
	}
}

// synced records a backstop read that succeeded and took d.
func (f *Fleet) synced(d time.Duration) {
	f.lastSync.Store(time.Now().UnixNano())
	if f.s.observer != nil {
		f.s.observer.Observe(resilience.Event{Kind: resilience.EventSync, Policy: f.s.name, Latency: d, Ctx: context.Background()})
	}
}

// op returns the context of one Redis operation.
func (f *Fleet) op() (context.Context, context.CancelFunc) {
	return context.WithTimeout(f.ctx, f.s.timeout)
}

// snapshot returns the joined groups. f.mu is held.
func (f *Fleet) snapshot() []*group {
	gs := make([]*group, 0, len(f.groups))
	for _, g := range f.groups {
		gs = append(gs, g)
	}
	return gs
}

// listen receives the other replicas' changes until Close. The PubSub
// reconnects and subscribes again by itself after a fault; the backstop
// read covers what was published meanwhile.
func (f *Fleet) listen() {
	defer f.wg.Done()
	asked := false
	for f.ctx.Err() == nil {
		if !asked {
			// Records the channel even when it fails, so that a later
			// reconnection subscribes to it.
			if err := f.pubsub.Subscribe(f.ctx, f.s.channel()); err != nil {
				f.fail(err)
				f.pause()
				asked = true // the PubSub subscribes on its own when it reconnects
				continue
			}
			asked = true
		}
		msg, err := f.pubsub.ReceiveTimeout(f.ctx, f.s.interval)
		if err != nil {
			if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
				continue // nothing published: the link may be fine
			}
			f.subscribed.Store(false)
			f.fail(err)
			f.pause()
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			f.subscribed.Store(m.Kind == "subscribe")
		case *redis.Message:
			f.subscribed.Store(true)
			f.receive(m.Payload)
		}
	}
}

// pause waits a sync interval, or until Close.
func (f *Fleet) pause() {
	t := time.NewTimer(f.s.interval)
	defer t.Stop()
	select {
	case <-f.ctx.Done():
	case <-t.C:
	}
}

// work does every Redis operation but the subscription, until Close: it
// pushes the breakers' own changes as they come, and every half sync
// interval takes the probe leases that are due; every sync interval it
// reads the shared state back.
func (f *Fleet) work() {
	defer f.wg.Done()
	t := time.NewTicker(f.s.interval / 2)
	defer t.Stop()
	for n := 0; ; {
		select {
		case <-f.ctx.Done():
			return
		case c := <-f.changes:
			f.push(c)
		case fl := <-f.failures:
			f.pool(fl)
			// A trip the count made is shared before more failures are
			// counted: select would pick between them at random.
			select {
			case c := <-f.changes:
				f.push(c)
			default:
			}
		case <-t.C:
			n++
			f.mu.Lock()
			groups := f.snapshot()
			f.mu.Unlock()
			for _, g := range groups {
				f.tick(g, n%2 == 0)
			}
		}
	}
}
