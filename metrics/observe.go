package metrics

import (
	"github.com/go-resilience/resilience"
)

// Observe records ev. It implements resilience.Observer: it is cheap (a
// lookup of the event's policy and key in a map read without a lock, then
// an atomic update or a histogram observation), takes no time of its own
// (durations come from Event.Latency) and never blocks.
//
// What each kind of Event records:
//
//   - EventCall: calls_total by outcome; call_duration_seconds when the
//     outcome is success or failure. A policy that reports calls is a
//     breaker: its breaker_state series appear, starting at "closed".
//   - EventRejected: rejections_total by reason.
//   - EventStateChange: breaker_transitions_total; breaker_state follows To.
//   - EventTimeout: timeouts_total.
//   - EventAcquire, EventRelease: bulkhead_in_flight up and down.
//   - EventWait: bulkhead_wait_seconds.
//   - EventAbandon, EventAbandonDone: abandoned_in_flight up and down.
//   - EventFallback: fallbacks_total.
//
// Events of other kinds are ignored.
func (c *Collector) Observe(ev resilience.Event) {
	if c == nil || ev.Kind == 0 || ev.Kind > resilience.EventFallback {
		return
	}
	s := c.lookup(ev.Policy, ev.Key)
	switch ev.Kind {
	case resilience.EventCall:
		cs := c.callSeries(s)
		if int(ev.Outcome) < len(cs.outcomes) {
			cs.outcomes[ev.Outcome].Inc()
		} else {
			c.counter(c.calls, s, labelValue(ev.Outcome.String())).Inc()
		}
		if ev.Outcome == resilience.Success || ev.Outcome == resilience.Failure {
			cs.duration.Observe(ev.Latency.Seconds())
		}
		if !s.other && s.state.Load() == nil {
			s.state.CompareAndSwap(nil, &stateNames[0])
		}
	case resilience.EventRejected:
		r := reasonOf(ev.Err)
		c.lazyCounter(&s.rejected[r], c.rejections, s, reasonNames[r]).Inc()
	case resilience.EventStateChange:
		c.counter(c.transitions, s, labelValue(ev.From), labelValue(ev.To)).Inc()
		if !s.other {
			s.state.Store(stateName(ev.To))
		}
	case resilience.EventTimeout:
		c.lazyCounter(&s.timeouts, c.timeouts, s, "").Inc()
	case resilience.EventAcquire:
		c.bulkheadSeries(s)
		s.inFlight.Add(1)
	case resilience.EventRelease:
		s.inFlight.Add(-1)
	case resilience.EventWait:
		c.bulkheadSeries(s).wait.Observe(ev.Latency.Seconds())
	case resilience.EventAbandon:
		s.abandonSeen.Store(true)
		s.abandoned.Add(1)
	case resilience.EventAbandonDone:
		s.abandoned.Add(-1)
	case resilience.EventFallback:
		c.lazyCounter(&s.fallback, c.fallbacks, s, "").Inc()
	}
}

// stateName returns the shared copy of a known state name, so that storing
// it allocates nothing, or a label-safe copy of an unknown one.
func stateName(to string) *string {
	for i := range stateNames {
		if stateNames[i] == to {
			return &stateNames[i]
		}
	}
	v := labelValue(to)
	return &v
}
