package resilience

import (
	"context"
	"strconv"
	"time"
)

// An Observer is told what policies do, for metrics, logs or traces. Every
// policy's Config has an Observer field; nil costs nothing. The metrics
// package provides one for Prometheus.
//
// Observe is called synchronously, on the goroutine of the call the event is
// about (or, for the end of an abandoned call, on the goroutine finishing
// it), never under a policy's lock. It must be fast, must not block, and must
// be safe for concurrent use. It may call the policy's own read methods
// (State, Counts, InFlight).
type Observer interface {
	Observe(Event)
}

// An Event is one thing a policy did. Which fields are set depends on Kind.
type Event struct {
	Kind EventKind
	// Policy is the Name from the policy's Config.
	Policy string
	// Key is the key within a keyed set of breakers (a host, a gRPC method),
	// or "" for a policy on its own.
	Key string
	// Outcome is the classified outcome of an EventCall.
	Outcome Outcome
	// Latency is how long the call ran (EventCall) or the caller waited for
	// a slot (EventWait).
	Latency time.Duration
	// Err is the error the event is about: the refusal (EventRejected), the
	// timeout (EventTimeout), the error a fallback answered (EventFallback),
	// the call's error (EventCall).
	Err error
	// From and To are the states of an EventStateChange: "closed", "open",
	// "half-open", or "forced-open", "forced-closed".
	From, To string
	// Limit is the new concurrency limit of an EventLimitChange.
	Limit int
	// Attempt is the number of the attempt an EventRetry or
	// EventRetryRefused is about (2 for the first retry), or the attempts
	// made when an EventRetryGiveUp is reported.
	Attempt int
	// Ctx is the context of the call the event is about, as the caller
	// passed it to the policy, so that an Observer can find the call's
	// trace span in it (package otelx does). A breaker's transition
	// carries the context of the call that caused or noticed it. The
	// module's policies set it to context.Background() when no call's
	// context is known: a transition noticed by State or a forcing method,
	// a bulkhead slot given back through Release. An Event made elsewhere
	// may leave it nil. An Observer must not keep it past Observe.
	Ctx context.Context
}

// An EventKind says what an Event reports.
type EventKind uint8

const (
	// EventCall: a call the policy let through has returned (breaker).
	EventCall EventKind = iota + 1
	// EventRejected: the policy refused a call; Err says why.
	EventRejected
	// EventTimeout: the policy's own deadline passed before the call returned.
	EventTimeout
	// EventStateChange: a breaker changed state.
	EventStateChange
	// EventAcquire and EventRelease: a bulkhead slot was taken and given back.
	EventAcquire
	EventRelease
	// EventWait: a caller had to wait Latency for a bulkhead slot, and got it.
	EventWait
	// EventAbandon and EventAbandonDone: timeout's abandon mode left a call
	// running past its deadline, and that call has since returned.
	EventAbandon
	EventAbandonDone
	// EventFallback: a fallback answered in place of Err.
	EventFallback
	// EventInjected: a fault injector (package inject) delayed a call by
	// Latency and, when Err is not nil, failed it with Err, on purpose.
	// It is never a failure of the dependency itself; a breaker that
	// the injected error reaches still counts it, as it is meant to.
	EventInjected
	// EventLimitChange: an adaptive limiter changed its concurrency limit
	// to Limit.
	EventLimitChange
	// EventAdmitted: a server-side adapter (httpx's server middleware,
	// grpcx's server interceptors) let an incoming request run, after it
	// waited Latency for its Policy to admit it.
	EventAdmitted
	// EventShed: a server-side adapter refused an incoming request at
	// once; Err is the refusal (the Policy's, or the adapter's own for a
	// short deadline or a standing queue).
	EventShed
	// EventRetry: a call failed with Err and is retried: attempt number
	// Attempt starts after a delay of Latency.
	EventRetry
	// EventRetryRefused: the retry budget refused attempt number Attempt;
	// the call returns Err, its last error.
	EventRetryRefused
	// EventRetryGiveUp: a call stopped retrying a retryable error after
	// Attempt attempts (all allowed were made, the next could not finish
	// before the deadline, or a retry-after hint asked for too long); it
	// returns Err.
	EventRetryGiveUp
	// EventHedgeSent: a call's attempts had all run for Latency (the
	// hedge delay) without an answer, and attempt number Attempt (2 for
	// the first hedge) was sent alongside them.
	EventHedgeSent
	// EventHedgeWon: attempt number Attempt, a hedge, answered first; the
	// others were cancelled.
	EventHedgeWon
	// EventHedgeRefused: the budget refused attempt number Attempt, a
	// hedge; the call runs on with the attempts it has.
	EventHedgeRefused
	// EventSync: a fleet read the shared state from its store (Redis);
	// Latency is how long the read took.
	EventSync
	// EventSyncError: a fleet's operation on its store failed; Err says
	// why. Calls go on with local state.
	EventSyncError
)

var eventKindNames = [...]string{
	EventCall:         "call",
	EventRejected:     "rejected",
	EventTimeout:      "timeout",
	EventStateChange:  "state_change",
	EventAcquire:      "acquire",
	EventRelease:      "release",
	EventWait:         "wait",
	EventAbandon:      "abandon",
	EventAbandonDone:  "abandon_done",
	EventFallback:     "fallback",
	EventInjected:     "injected",
	EventLimitChange:  "limit_change",
	EventAdmitted:     "admitted",
	EventShed:         "shed",
	EventRetry:        "retry",
	EventRetryRefused: "retry_refused",
	EventRetryGiveUp:  "retry_give_up",
	EventHedgeSent:    "hedge_sent",
	EventHedgeWon:     "hedge_won",
	EventHedgeRefused: "hedge_refused",
	EventSync:         "sync",
	EventSyncError:    "sync_error",
}

func (k EventKind) String() string {
	if int(k) < len(eventKindNames) && eventKindNames[k] != "" {
		return eventKindNames[k]
	}
	return "event(" + strconv.Itoa(int(k)) + ")"
}
