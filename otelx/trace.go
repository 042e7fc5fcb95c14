package otelx

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/internal/admit"
)

// The names of the span events, one per kind of decision.
const (
	EventNameRejected     = "resilience.rejected"
	EventNameTimeout      = "resilience.timeout"
	EventNameStateChange  = "resilience.breaker.state_change"
	EventNameWait         = "resilience.bulkhead.wait"
	EventNameAbandon      = "resilience.abandoned"
	EventNameFallback     = "resilience.fallback"
	EventNameInjected     = "resilience.injected"
	EventNameLimitChange  = "resilience.limit_change"
	EventNameShed         = "resilience.shed"
	EventNameRetry        = "resilience.retry"
	EventNameRetryRefused = "resilience.retry.refused"
	EventNameRetryGiveUp  = "resilience.retry.give_up"
	EventNameHedgeSent    = "resilience.hedge.sent"
	EventNameHedgeWon     = "resilience.hedge.won"
	EventNameHedgeRefused = "resilience.hedge.refused"
)

// traced reports whether events of kind k go on spans: the decisions, not
// the bookkeeping of every call (EventCall, EventAcquire, EventRelease),
// so that a call that goes through untouched adds nothing to its span.
func traced(k resilience.EventKind) bool {
	switch k {
	case resilience.EventRejected, resilience.EventTimeout, resilience.EventStateChange,
		resilience.EventWait, resilience.EventAbandon, resilience.EventFallback, resilience.EventInjected,
		resilience.EventLimitChange, resilience.EventShed,
		resilience.EventRetry, resilience.EventRetryRefused, resilience.EventRetryGiveUp,
		resilience.EventHedgeSent, resilience.EventHedgeWon, resilience.EventHedgeRefused:
		return true
	}
	return false
}

// trace puts ev on the span in ev.Ctx, if it is recording.
func (o *Observer) trace(ev *resilience.Event) {
	span := trace.SpanFromContext(ev.Ctx)
	if !span.IsRecording() {
		return
	}
	var (
		name   string
		attrs  [6]attribute.KeyValue
		n      = 0
		failed bool // a policy ended the call with ev.Err
	)
	attrs[n] = AttrPolicy.String(ev.Policy)
	n++
	if ev.Key != "" {
		attrs[n] = AttrKey.String(ev.Key)
		n++
	}
	switch ev.Kind {
	case resilience.EventRejected:
		name, failed = EventNameRejected, true
		attrs[n] = AttrErrorType.String(reasonNames[reasonOf(ev.Err)])
		n++
	case resilience.EventTimeout:
		name, failed = EventNameTimeout, true
		attrs[n] = AttrErrorType.String("timeout")
		n++
	case resilience.EventStateChange:
		name = EventNameStateChange
		attrs[n] = AttrFrom.String(ev.From)
		attrs[n+1] = AttrTo.String(ev.To)
		n += 2
	case resilience.EventWait:
		name = EventNameWait
		attrs[n] = AttrDelay.Float64(ev.Latency.Seconds())
		n++
	case resilience.EventAbandon:
		name = EventNameAbandon
		attrs[n] = AttrErrorType.String(errorType(ev.Err))
		n++
	case resilience.EventFallback:
		name = EventNameFallback
		attrs[n] = AttrErrorType.String(errorType(ev.Err))
		n++
	case resilience.EventInjected:
		name = EventNameInjected
		attrs[n] = AttrDelay.Float64(ev.Latency.Seconds())
		n++
		if ev.Err != nil {
			attrs[n] = AttrErrorType.String(errorType(ev.Err))
			n++
		}
	case resilience.EventLimitChange:
		name = EventNameLimitChange
		attrs[n] = AttrLimit.Int(ev.Limit)
		n++
	case resilience.EventShed:
		name, failed = EventNameShed, true
		attrs[n] = AttrErrorType.String(shedReasons[admit.ReasonOf(ev.Err)])
		n++
	case resilience.EventRetry:
		name = EventNameRetry
		attrs[n] = AttrAttempt.Int(ev.Attempt)
		attrs[n+1] = AttrDelay.Float64(ev.Latency.Seconds())
		attrs[n+2] = AttrErrorType.String(errorType(ev.Err))
		n += 3
	case resilience.EventRetryRefused:
		name, failed = EventNameRetryRefused, true
		attrs[n] = AttrAttempt.Int(ev.Attempt)
		attrs[n+1] = AttrErrorType.String(errorType(ev.Err))
		n += 2
	case resilience.EventRetryGiveUp:
		name, failed = EventNameRetryGiveUp, true
		attrs[n] = AttrAttempt.Int(ev.Attempt)
		attrs[n+1] = AttrErrorType.String(errorType(ev.Err))
		n += 2
	case resilience.EventHedgeSent:
		name = EventNameHedgeSent
		attrs[n] = AttrAttempt.Int(ev.Attempt)
		attrs[n+1] = AttrDelay.Float64(ev.Latency.Seconds())
		n += 2
	case resilience.EventHedgeWon:
		name = EventNameHedgeWon
		attrs[n] = AttrAttempt.Int(ev.Attempt)
		n++
	case resilience.EventHedgeRefused:
		name = EventNameHedgeRefused
		attrs[n] = AttrAttempt.Int(ev.Attempt)
		n++
	default:
		return
	}
	span.AddEvent(name, trace.WithAttributes(attrs[:n]...))
	if failed && ev.Err != nil {
		span.SetStatus(codes.Error, ev.Err.Error())
	}
}
