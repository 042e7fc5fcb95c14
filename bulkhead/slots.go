package bulkhead

import (
	"context"
	"runtime"
	"time"

	"github.com/go-resilience/resilience"
)

// The layout of Bulkhead.state.
const (
	inFlightMask = 1<<32 - 1
	waitingShift = 32
	oneWaiting   = 1 << waitingShift
	// minusOneWaiting added to state takes one from the waiting count.
	minusOneWaiting = ^uint64(oneWaiting - 1)
)

// Acquire takes a slot for work that outlives a single call, such as an
// HTTP response body or a stream; give it back with Release exactly once.
//
// A free slot is taken at once, without looking at ctx. When every slot is
// taken, Acquire waits for one in arrival order, at most Config.MaxWait: it
// returns an error matching ErrFull (and resilience.ErrRejected) when
// MaxWait passes or is zero, and ctx.Err() as soon as ctx ends first. On
// error the bulkhead is left as it was: no slot is held.
//
// The fast path and the refusals allocate nothing; a caller that has to wait
// allocates a little (its place in the queue and a timer).
//
// When the Observer panics on the slot just taken, the slot is given back
// and the panic goes on. A nil ctx, a nil *Bulkhead or a zero Bulkhead
// (not made by New) takes no slot and returns an error matching
// resilience.ErrMisuse.
func (b *Bulkhead) Acquire(ctx context.Context) error {
	if b == nil || b.max == 0 || ctx == nil {
		if err := b.check(); err != nil {
			return err
		}
		return errNilContext
	}
	for {
		s := b.state.Load()
		// max < 1<<32, so s >= max when the slots are all taken or when
		// callers are queued (and then they are all taken, too).
		if s >= b.max {
			return b.acquireSlow(ctx)
		}
		if b.state.CompareAndSwap(s, s+1) {
			if b.obs != nil {
				b.observeAcquired(false, 0)
			}
			return nil
		}
	}
}

// observeAcquired reports a slot taken (after a wait, when waited), and
// gives it back when the Observer panics.
func (b *Bulkhead) observeAcquired(waited bool, latency time.Duration) {
	ok := false
	defer func() {
		if !ok {
			b.release()
		}
	}()
	if waited {
		b.observe(resilience.EventWait, latency, nil)
	}
	b.observe(resilience.EventAcquire, 0, nil)
	ok = true
}

// Release gives back a slot taken by Acquire. When callers are waiting, the
// slot goes straight to the one that has waited longest. The slot is given
// back even when the Observer panics on its EventRelease (the panic goes
// on). Calling Release without a slot held is a bug in the caller: it
// panics if no slot at all is taken (on a zero or nil Bulkhead too, which
// has none), and otherwise frees a slot someone else holds.
func (b *Bulkhead) Release() {
	if b.obs != nil {
		b.observeRelease()
		return
	}
	b.release()
}

// observeRelease reports a slot given back, then gives it back, even when
// the Observer panics. Reported before the slot is free: a waiter it is
// handed to, or whoever takes it next, reports its EventAcquire only after
// this.
func (b *Bulkhead) observeRelease() {
	defer b.release()
	b.observe(resilience.EventRelease, 0, nil)
}

func (b *Bulkhead) release() {
	for {
		s := b.state.Load()
		if s>>waitingShift == 0 {
			if s == 0 {
				panic("bulkhead: Release without a slot held")
			}
			if b.state.CompareAndSwap(s, s-1) {
				return
			}
			continue
		}
		b.mu.Lock()
		w := b.queue.pop()
		if w == nil {
			// The waiters counted in s have left (their context ended or
			// MaxWait passed); under b.mu the count matches the queue.
			b.mu.Unlock()
			continue
		}
		// The slot passes to w as it is: in flight stays the same.
		w.granted = true
		b.state.Add(minusOneWaiting)
		b.mu.Unlock()
		close(w.ready)
		return
	}
}

// acquireSlow takes a slot when none was free on the fast path: it refuses
// at once when MaxWait is zero, and otherwise queues the caller.
func (b *Bulkhead) acquireSlow(ctx context.Context) error {
	if b.maxWait == 0 {
		return b.refuse()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	w := &waiter{ready: make(chan struct{})} // made before locking: the lock is held briefly
	b.mu.Lock()
	for {
		s := b.state.Load()
		if s < b.max { // freed since the fast path looked
			if b.state.CompareAndSwap(s, s+1) {
				b.mu.Unlock()
				if b.obs != nil {
					b.observeAcquired(false, 0)
				}
				return nil
			}
			continue
		}
		if b.state.CompareAndSwap(s, s+oneWaiting) {
			break
		}
	}
	b.queue.push(w)
	b.mu.Unlock()

	// A slot held only briefly comes back while its holder runs: yield to
	// it once before arming a timer and parking. MaxWait counts from now.
	start := time.Now()
	runtime.Gosched()
	select {
	case <-w.ready:
		b.waited(start)
		return nil
	default:
	}
	timer := time.NewTimer(b.maxWait - time.Since(start))
	var err error
	select {
	case <-w.ready:
		timer.Stop()
		b.waited(start)
		return nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-timer.C:
		err = b.errFull
	}
	timer.Stop()

	b.mu.Lock()
	if w.granted {
		// A slot came as the wait ended.
		b.mu.Unlock()
		if err == b.errFull {
			b.waited(start) // MaxWait passed just then: keep it
			return nil
		}
		b.release() // the caller has gone: leave the bulkhead as it was
		return err
	}
	b.queue.remove(w)
	b.state.Add(minusOneWaiting)
	b.mu.Unlock()
	if err == b.errFull {
		return b.refuse()
	}
	return err
}

// refuse counts and reports a refusal and returns its error.
func (b *Bulkhead) refuse() error {
	b.rejected.Add(1)
	if b.obs != nil {
		b.observe(resilience.EventRejected, 0, b.errFull)
	}
	return b.errFull
}

// waited reports a caller that waited since start and got a slot.
func (b *Bulkhead) waited(start time.Time) {
	if b.obs != nil {
		b.observeAcquired(true, time.Since(start))
	}
}

func (b *Bulkhead) observe(kind resilience.EventKind, latency time.Duration, err error) {
	b.obs.Observe(resilience.Event{Kind: kind, Policy: b.name, Latency: latency, Err: err})
}

// A waiter is a caller queued for a slot.
type waiter struct {
	ready      chan struct{} // closed when a slot is handed to this waiter
	granted    bool          // a slot was handed to this waiter; guarded by Bulkhead.mu
	prev, next *waiter
}

// waitQueue is a FIFO of waiters, linked through them so that a waiter
// leaving from the middle costs nothing to find.
type waitQueue struct {
	head, tail *waiter
}

func (q *waitQueue) push(w *waiter) {
	w.prev = q.tail
	if q.tail == nil {
		q.head = w
	} else {
		q.tail.next = w
	}
	q.tail = w
}

func (q *waitQueue) pop() *waiter {
	w := q.head
	if w != nil {
		q.remove(w)
	}
	return w
}

func (q *waitQueue) remove(w *waiter) {
	if w.prev == nil {
		q.head = w.next
	} else {
		w.prev.next = w.next
	}
	if w.next == nil {
		q.tail = w.prev
	} else {
		w.next.prev = w.prev
	}
	w.prev, w.next = nil, nil
}
