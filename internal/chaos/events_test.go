package chaos

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
)

// events is the Observer of a test's policies: it counts what they report
// and measures the bulkhead's own in-flight count each time a slot is
// taken.
type events struct {
	bulkhead atomic.Pointer[bulkhead.Bulkhead] // set once the adapter is made

	acquires, releases, waits    atomic.Int64
	held, maxHeld                atomic.Int64 // acquire events less release events (each reported after its change, so it may run ahead of InFlight)
	maxInFlight                  atomic.Int64 // Bulkhead.InFlight, read at each acquire
	rejectedFull, rejectedOpen   atomic.Int64
	rejectedProbes, rejectedMore atomic.Int64
	calls, timeouts, fallbacks   atomic.Int64
	opened, halfOpened, closed   atomic.Int64
}

var _ resilience.Observer = (*events)(nil)

func storeMax(m *atomic.Int64, v int64) {
	for {
		cur := m.Load()
		if v <= cur || m.CompareAndSwap(cur, v) {
			return
		}
	}
}

func (e *events) Observe(ev resilience.Event) {
	switch ev.Kind {
	case resilience.EventAcquire:
		e.acquires.Add(1)
		storeMax(&e.maxHeld, e.held.Add(1))
		if b := e.bulkhead.Load(); b != nil {
			storeMax(&e.maxInFlight, int64(b.InFlight()))
		}
	case resilience.EventRelease:
		e.releases.Add(1)
		e.held.Add(-1)
	case resilience.EventWait:
		e.waits.Add(1)
	case resilience.EventRejected:
		switch {
		case errors.Is(ev.Err, bulkhead.ErrFull):
			e.rejectedFull.Add(1)
		case errors.Is(ev.Err, breaker.ErrOpen):
			e.rejectedOpen.Add(1)
		case errors.Is(ev.Err, breaker.ErrTooManyProbes):
			e.rejectedProbes.Add(1)
		default:
			e.rejectedMore.Add(1)
		}
	case resilience.EventCall:
		e.calls.Add(1)
	case resilience.EventTimeout:
		e.timeouts.Add(1)
	case resilience.EventFallback:
		e.fallbacks.Add(1)
	case resilience.EventStateChange:
		switch ev.To {
		case breaker.Open.String():
			e.opened.Add(1)
		case breaker.HalfOpen.String():
			e.halfOpened.Add(1)
		case breaker.Closed.String():
			e.closed.Add(1)
		}
	}
}

func (e *events) String() string {
	return fmt.Sprintf("breaker: calls=%d opened=%d half-opened=%d closed=%d refused(open=%d probes=%d); "+
		"bulkhead: acquired=%d released=%d waited=%d full=%d max-in-flight=%d (by events %d); timeouts=%d fallbacks=%d",
		e.calls.Load(), e.opened.Load(), e.halfOpened.Load(), e.closed.Load(), e.rejectedOpen.Load(), e.rejectedProbes.Load(),
		e.acquires.Load(), e.releases.Load(), e.waits.Load(), e.rejectedFull.Load(), e.maxInFlight.Load(), e.maxHeld.Load(),
		e.timeouts.Load(), e.fallbacks.Load())
}
