// Package inject makes faults on purpose, to prove that breakers,
// timeouts and fallbacks are set right before an outage does: on a game
// day, in staging, or for one marked test request in production.
//
// An Injector is a resilience.Policy. For a share of the calls it sees it
// adds latency, returns an error of your choice, or both; the other calls
// run untouched. It is off until enabled, and a disabled Injector costs one
// atomic load per call and allocates nothing, so it can stay in a chain in
// production, switched on and off at run time:
//
//	faults, err := inject.New(inject.Config{
//		Name:  "payments-faults",
//		Share: 0.05,                   // 5% of calls
//		Delay: 300 * time.Millisecond, // are 300ms slower
//		Err:   inject.ErrInjected,     // and then fail
//	})
//	...
//	guarded := resilience.Chain(brk, faults, tmo) // the breaker sees the faults
//	...
//	faults.Enable() // from an admin endpoint, a flag, a signal
//
// # Where it goes in a chain
//
// The faults happen where the Injector sits. Inside a breaker (as above)
// the injected errors and slow calls count against the dependency: the
// breaker opens, and a fallback around the chain answers. Inside a timeout,
// an injected delay longer than the timeout makes the timeout fire. Outside
// everything, a fault fails the call before any policy sees it. An
// Injector composes with resilience.Chain like the library's own policies,
// without an allocation per call.
//
// # Which calls
//
// Config.Share is the fraction of eligible calls that get the fault, drawn
// independently for each call; Config.Seed makes the draws repeat from run
// to run. With Config.MarkedOnly only calls whose context carries Mark are
// eligible: mark one test request, and only it fails, end to end. The
// adapters in httpx and grpcx also mark a request by a header or metadata
// key that you name; a request can never turn faults on by itself when you
// did not name one. Different faults for different shares (5% slow, 1%
// failing) are two Injectors in the chain.
//
// # Latency
//
// The latency is Config.Delay, or uniform over [Delay, DelayMax] when
// DelayMax is set. An injected delay waits on a timer and honours the
// call's context: when the context ends first, the call returns the
// context's error without running.
//
// # Observing
//
// Every fault injected is reported to Config.Observer as an
// resilience.EventInjected, with Latency the delay and Err the error (nil
// for a delay alone), so that metrics, traces and dashboards show it as
// injected and never confuse it with a failure of the dependency. The
// metrics package counts them in injected_faults_total and
// injected_delay_seconds_total.
package inject
