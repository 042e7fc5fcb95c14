// Package breaker is a circuit breaker: a resilience.Policy that stops
// calling a dependency that keeps failing, lets a few probe calls through
// after a while, and closes again when they succeed. It is built on
// github.com/sony/gobreaker/v2, which counts calls and runs the half-open
// probes, and adds what gobreaker lacks: failure-rate windows with a
// minimum of calls, slow calls, growing and hinted open durations, a
// half-open timeout, forced states, callbacks outside its lock, refusals
// that allocate nothing, and keyed sets.
//
//	brk, err := breaker.New(breaker.Config{Name: "payments"})
//	...
//	err = brk.Execute(ctx, func(ctx context.Context) error {
//		return client.Charge(ctx, order)
//	})
//	if errors.Is(err, resilience.ErrRejected) {
//		// refused at once: the breaker is open
//	}
//
// Put it outside a bulkhead and a timeout (resilience.Chain(brk, bulk, tmo))
// so that it counts hung calls as failures and a full bulkhead as nothing.
//
// # States
//
// A breaker is Closed: calls go through and their outcomes are counted.
// When a trip rule fires it is Open: every call is refused at once with an
// error matching ErrOpen, without running. When the open duration has
// passed it is HalfOpen: HalfOpenProbes calls go through as probes, and the
// others are refused at once with ErrTooManyProbes. If every probe
// succeeds it is Closed again, with fresh counts; if one fails, it is Open
// again. If the probes have not all reported within HalfOpenTimeout (a
// probe hangs, a caller of Allow never calls done), the next call or State
// finds it Open again, as after a failed probe: a probe that never returns
// cannot hold the breaker half-open.
//
// ForceOpen and ForceClosed override the rules (ForcedOpen refuses every
// call; ForcedClosed lets every call through, uncounted) until Unforce,
// which returns the breaker to Closed with fresh counts.
//
// Time moves the breaker only when it is used: the first call (or State)
// after the open duration finds it HalfOpen; the first after the half-open
// timeout finds it Open. No goroutine waits for that. Each open and
// half-open period starts one timer (time.AfterFunc) that fires a few
// milliseconds before its end, only so that calls refused until then need
// not read the clock; under testing/synctest the period ends exactly on
// time, as every other timer does. As with channels and timers, a breaker
// tripped inside a synctest bubble belongs to it: make and use it there.
//
// # Trip rules
//
// A closed breaker trips on either rule that is on:
//
//   - ConsecutiveFailures failures in a row (a success breaks the run).
//     This rule is on by default, at 5, unless FailureRate is set.
//   - FailureRate: failures/calls at or above the rate over the last Window
//     (default 60s, kept in ten buckets so calls leave it a tenth at a
//     time), once at least MinCalls calls (default 10) were counted in it.
//
// With SlowCallThreshold set, a call that took at least that long counts
// as a failure even when it returned no error. Ignored calls (see
// Classification) count toward neither rule.
//
// # Open duration
//
// The breaker stays open OpenTimeout (default 30s). With MaxOpenTimeout
// set, the duration doubles each time a probe fails (or half-open times
// out), up to MaxOpenTimeout, and returns to OpenTimeout once the breaker
// closes.
//
// A dependency may say how long to stay away: when the failing call that
// opens the breaker returns an error with a method
//
//	RetryAfter() time.Duration
//
// (found with errors.As, so it may be wrapped) and the duration is
// positive, the breaker stays open that long instead, capped at
// MaxOpenTimeout when that is set. The hint replaces one open duration;
// the doubling schedule goes on as if it had not been given. httpx's
// errors for 429 and 503 responses carry the Retry-After header this way.
// Without MaxOpenTimeout, a hint is taken as given.
//
// # Refusals
//
// A refused call returns a *RejectedError: it matches ErrOpen or
// ErrTooManyProbes, and resilience.ErrRejected, with errors.Is; it names
// the breaker (Name, Key) and the refusing State, and RetryAfter says how
// long until the breaker lets calls through again (adapters send it as
// Retry-After). One is made per state period and shared by the calls it
// refuses, so a refusal costs no allocation, no lock, no reading of the
// clock and no write to memory other calls share: a few nanoseconds,
// which do not grow when every core is refused at once. An Observer is
// told of each refusal (metrics.Collector counts them).
//
// # Classification
//
// Every finished call is a success, a failure, or ignored (counted as
// neither), decided by Config.Classifier through
// resilience.Classifier.Classify with the caller's context: nil is a
// success; the caller's own cancellation or deadline is ignored (the
// dependency was not given its chance); the library's own refusals
// (resilience.ErrRejected: another breaker open, a bulkhead full) are
// ignored, for they are local overload, not a failing dependency; every
// other error is a failure, including a timeout policy's own deadline.
// The adapters ship classifiers for HTTP statuses and gRPC codes. An
// ignored probe gives its place to the next caller. A panic in the call
// counts as a failure and propagates unchanged.
//
// # Observing
//
// State and Counts serve health checks. OnStateChange(name, from, to) is
// called after every change of state, forced ones included, in order, and
// never under a lock (gobreaker calls its own under its mutex, so a
// callback that reads the breaker deadlocks; this one may call State,
// Counts or even Execute). The Observer is told of every call let through
// (resilience.EventCall, with its Outcome and Latency), every refusal
// (EventRejected) and every change of state (EventStateChange). Both run on
// the goroutine of a call that found the change. With neither an Observer
// nor a SlowCallThreshold, a call through a closed breaker does not read
// the clock beyond what gobreaker does.
//
// # Keyed sets
//
// A Set makes one breaker per key (per host, per gRPC method) lazily, all
// with the same Config; Get of an existing key takes no lock and allocates
// nothing. It keeps at most MaxKeys (default 1024): to make room it drops
// breakers idle for IdleTimeout, then the least recently used, but never
// one that is protecting its dependency (open within its open duration,
// half-open within its timeout) or forced: evicting it would silently
// undo that protection. When no breaker may go, a new key shares the
// set's overflow breaker rather than growing the set. See Set.
//
// # Defaults
//
// The zero Config trips after 5 consecutive failures, stays open 30s, then
// admits 1 probe for up to 30s; counts no call as slow; uses
// resilience.DefaultClassifier; and reports to nobody. The zero KeyedConfig
// adds a bound of 1024 keys and no idle expiry. Invalid settings (a rate
// outside (0, 1], a negative duration, a MaxOpenTimeout below OpenTimeout)
// make New and NewSet return an error that names the field.
package breaker
