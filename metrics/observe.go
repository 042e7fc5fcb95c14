package metrics

import (
	"github.com/go-resilience/resilience"
)

// Observe records ev. It implements resilience.Observer: it finds the
// series of the event's policy and key without a lock and updates them with
// an atomic add or two, takes no time of its own (durations come from
// Event.Latency), never blocks, and allocates nothing once the pair has
// been seen.
//
// What each kind of Event records:
//
//   - EventCall: calls_total by outcome; call_duration_seconds when the
//     outcome is success or failure (calls with an outcome other than the
//     three are not counted). A policy that reports calls or transitions is
//     a breaker: its breaker_state, calls_total (every outcome, from zero)
//     and call_duration_seconds series appear, in state "closed" until a
//     transition says otherwise.
//   - EventRejected: rejections_total by reason.
//   - EventStateChange: breaker_transitions_total; breaker_state follows To.
//   - EventTimeout: timeouts_total.
//   - EventAcquire, EventRelease: bulkhead_in_flight up and down.
//   - EventWait: bulkhead_wait_seconds.
//   - EventAbandon, EventAbandonDone: abandoned_in_flight up and down.
//   - EventFallback: fallbacks_total.
//   - EventInjected: injected_faults_total; injected_errors_total when
//     Err is set; injected_delay_seconds_total adds Latency.
//   - EventLimitChange: adaptive_limit (see adaptive.go).
//   - EventAdmitted: server_admitted_total; server_queue_wait_seconds
//     observes Latency.
//   - EventShed: server_shed_total by reason (overload, rate_limit,
//     deadline, queue).
//   - EventRetry, EventRetryRefused, EventRetryGiveUp: retries_total,
//     retry_budget_refusals_total, retry_give_ups_total.
//   - EventHedgeSent, EventHedgeWon, EventHedgeRefused: hedges_total,
//     hedge_wins_total, hedge_budget_refusals_total.
//   - EventSync, EventSyncError (package fleet): fleet_syncs_total and
//     fleet_sync_seconds_total, fleet_sync_errors_total.
//
// Events of other kinds are ignored.
func (c *Collector) Observe(ev resilience.Event) {
	if c != nil && isRetryEvent(ev.Kind) {
		c.lookup(ev.Policy, ev.Key).observeRetry(ev.Kind)
		return
	}
	if c != nil && isHedgeEvent(ev.Kind) {
		c.lookup(ev.Policy, ev.Key).observeHedge(ev.Kind)
		return
	}
	if ev.Kind == resilience.EventInjected {
		c.observeInjected(ev)
		return
	}
	if ev.Kind == resilience.EventAdmitted || ev.Kind == resilience.EventShed {
		c.observeServer(ev)
		return
	}
	if ev.Kind == resilience.EventSync || ev.Kind == resilience.EventSyncError {
		c.observeSync(ev)
		return
	}
	if c == nil || ev.Kind == 0 || ev.Kind > resilience.EventLimitChange {
		return
	}
	s := c.lookup(ev.Policy, ev.Key)
	switch ev.Kind {
	case resilience.EventCall:
		s.call(c, ev.Outcome, ev.Latency)
	case resilience.EventRejected:
		s.rejected[reasonOf(ev.Err)].Add(1)
	case resilience.EventStateChange:
		s.transition(c, ev.From, ev.To)
	case resilience.EventTimeout:
		s.timeouts.Add(1)
	case resilience.EventAcquire:
		if s.wait.Load() == nil {
			s.bulkheadSeen(c)
		}
		s.inFlight.Add(1)
	case resilience.EventRelease:
		s.inFlight.Add(-1)
	case resilience.EventWait:
		h := s.wait.Load()
		if h == nil {
			h = s.bulkheadSeen(c)
		}
		h.observe(ev.Latency)
	case resilience.EventAbandon:
		if !s.abandonSeen.Load() {
			s.abandonSeen.Store(true)
		}
		s.abandoned.Add(1)
	case resilience.EventAbandonDone:
		s.abandoned.Add(-1)
	case resilience.EventFallback:
		s.fallbacks.Add(1)
	case resilience.EventLimitChange:
		s.limitChanged(ev.Limit)
	}
}
