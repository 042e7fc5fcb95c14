package otelx

import (
	"context"
	"errors"
	"reflect"

	"go.opentelemetry.io/otel/attribute"

	"github.com/go-resilience/resilience/internal/admit"
	"github.com/go-resilience/resilience/internal/refusal"
)

// The attributes of span events and metrics. error.type is the
// OpenTelemetry semantic convention's; the others have no convention and
// are namespaced under resilience., as the conventions ask of custom
// attributes.
const (
	// AttrPolicy is the Name of the policy (Event.Policy).
	AttrPolicy = attribute.Key("resilience.policy")
	// AttrKey is the key within a keyed set: a host, a gRPC method
	// (Event.Key); "" for a policy on its own.
	AttrKey = attribute.Key("resilience.key")
	// AttrErrorType is the semantic convention's error.type: the class of
	// the error a policy ended or answered a call with. For a refusal it
	// is the reason (breaker_open, probe_limit, bulkhead_full,
	// abandon_limit, adaptive_limit, throttled, rate_limited, other), the
	// values of the Prometheus collector's reason label; for a server's
	// refusal, why it shed the request (overload, rate_limit, deadline,
	// queue); "timeout" for a deadline; otherwise the error's Go type,
	// such as "*httpx.StatusError".
	AttrErrorType = attribute.Key("error.type")
	// AttrOutcome is the classified outcome of a call: success, failure
	// or ignored.
	AttrOutcome = attribute.Key("resilience.outcome")
	// AttrState is a breaker's state: closed, open, half-open,
	// forced-open, forced-closed.
	AttrState = attribute.Key("resilience.breaker.state")
	// AttrFrom and AttrTo are the states of a breaker's transition.
	AttrFrom = attribute.Key("resilience.breaker.from")
	AttrTo   = attribute.Key("resilience.breaker.to")
	// AttrAttempt is the number of a retry or hedge attempt (1 is the
	// first call, 2 the first retry or hedge).
	AttrAttempt = attribute.Key("resilience.attempt")
	// AttrDelay is a delay in seconds: before a retry, before a hedge was
	// sent, waited for a bulkhead slot, or injected on purpose.
	AttrDelay = attribute.Key("resilience.delay")
	// AttrLimit is an adaptive limiter's new concurrency limit.
	AttrLimit = attribute.Key("resilience.limit")
)

// The refusal reasons, shared with the metrics package through
// internal/refusal.
type reason = refusal.Reason

const numReasons = refusal.Count

var reasonNames = refusal.Names

// shedReasons are the names of a server's refusal reasons, indexed by
// admit.Reason.
var shedReasons = admit.ReasonNames

func reasonOf(err error) reason { return refusal.Of(err) }

// errorType is the error.type of err: a refusal's reason, "timeout" for
// any deadline, or err's Go type.
func errorType(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	if r := reasonOf(err); r != refusal.Other {
		return reasonNames[r]
	}
	return reflect.TypeOf(err).String()
}

// stateIndex returns the index of a breaker state name, or -1.
func stateIndex(s string) int {
	for i, n := range stateNames {
		if n == s {
			return i
		}
	}
	return -1
}

var stateNames = [...]string{"closed", "open", "half-open", "forced-open", "forced-closed"}
