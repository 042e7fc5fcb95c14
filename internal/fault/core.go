package fault

import (
	"context"
	"hash/fnv"
	"math/rand/v2"
	"sync"
	"time"
)

// core is what the HTTP and gRPC servers share: the fault in force, the
// seeded generator, the stats and the closing signal.
type core struct {
	*tracker

	seed uint64

	mu    sync.Mutex // guards rng, fault, setAt
	rng   *rand.Rand
	fault Fault
	setAt time.Time

	closing   chan struct{} // closed by Close: every wait ends
	closeOnce sync.Once
}

func newCore(name string, seed uint64, f Fault) *core {
	if seed == 0 {
		h := fnv.New64a()
		h.Write([]byte(name))
		seed = h.Sum64()
	}
	if f == nil {
		f = OK()
	}
	return &core{
		tracker: newTracker(),
		seed:    seed,
		rng:     rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		fault:   f,
		setAt:   time.Now(),
		closing: make(chan struct{}),
	}
}

// Seed is the seed of the server's generator: the Config's, or the one
// derived from the test's name.
func (c *core) Seed() uint64 { return c.seed }

// Set makes f the fault for the requests that arrive from now on (a nil f
// is OK()), and restarts the clock of a Script or Cycle. Requests already
// in the handler carry on with the fault they drew. Safe for concurrent use.
func (c *core) Set(f Fault) {
	if f == nil {
		f = OK()
	}
	c.mu.Lock()
	c.fault, c.setAt = f, time.Now()
	c.mu.Unlock()
}

// next resolves the fault in force for one request.
func (c *core) next() action {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fault.decide(&decider{rng: c.rng, elapsed: time.Since(c.setAt)})
}

// Stats returns a snapshot of what the server has seen. Safe for concurrent
// use.
func (c *core) Stats() Stats { return c.snapshot() }

// WaitFor blocks until cond, called with a fresh snapshot after each change
// of the stats, returns true; it then returns that snapshot and nil. When
// ctx ends first it returns the last snapshot and ctx's error. It wakes on
// changes, it does not poll.
func (c *core) WaitFor(ctx context.Context, cond func(Stats) bool) (Stats, error) {
	return c.waitFor(ctx, cond)
}

// ResetMaxInFlight starts measuring MaxInFlight again from the present
// InFlight, for a test that measures phases of a run apart.
func (c *core) ResetMaxInFlight() { c.resetMaxInFlight() }

// signalClose ends every wait of the handlers; it is idempotent.
func (c *core) signalClose() { c.closeOnce.Do(func() { close(c.closing) }) }

// sleep waits d, and reports whether it did: false when ctx ended or the
// server closed first.
func (c *core) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		select {
		case <-ctx.Done():
			return false
		case <-c.closing:
			return false
		default:
			return true
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-c.closing:
		return false
	}
}

// hang waits until ctx ends or the server closes.
func (c *core) hang(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-c.closing:
	}
}
