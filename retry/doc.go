// Package retry runs a failed call again, with backoff, within the
// caller's deadline and under a budget that keeps retries from multiplying
// the load on a dependency that is already failing.
//
//	r, err := retry.New(retry.Config{Name: "inventory"})
//	...
//	policy := resilience.Chain(r, brk, bulk, tmo)
//	stock, err := resilience.Do(ctx, policy, fetchStock)
//
// # Where it goes in a Chain
//
// Outermost first: fallback → retry → breaker → bulkhead → timeout → call.
// Retry outside the breaker, so that an open breaker's refusal ends the
// retries at once (refusals are not retried); the timeout inside, so that
// each attempt gets its own deadline and a hung attempt is retried; the
// fallback (fallback.Do) outside everything, so that it answers only once
// the retries are over. Through such a Chain of the module's policies,
// resilience.Do and fallback.Do allocate nothing when the first attempt
// succeeds: the retry is one more layer of the chain, which Do asks after a
// failure whether to run the layers inside it again.
//
// # What is retried
//
// A failed attempt is retried when Config.Retryable says so (by default,
// DefaultRetryable: failures of the dependency, not the library's own
// refusals such as an open breaker or a full bulkhead) and only while the
// caller still waits: when the caller's context is done, the call returns
// at once and nothing is retried.
//
// # Delays
//
// The delay before retry n (n = 1, 2, ...) is "full jitter" from the AWS
// Architecture Blog's "Exponential Backoff And Jitter" (Marc Brooker,
// 2015):
//
//	delay = uniform random in [0, min(MaxDelay, BaseDelay × Multiplier^(n-1))]
//
// which spreads callers that failed together over the whole interval and
// does the least work in that analysis. Config.NoJitter waits the cap
// itself. A hint from the dependency (an error implementing
// resilience.Hinted: httpx's Retry-After, grpcx's grpc-retry-pushback-ms,
// or a user's) replaces the computed delay: the retry waits exactly the
// hint, never less; a hint longer than MaxDelay, or one that would end after
// the deadline, ends the retries at once; a negative hint means "do not
// retry", as gRPC's pushback does.
//
// # Deadlines
//
// The policy never sleeps past the caller's deadline or Config.MaxDuration:
// when the next attempt would begin after it, the call returns the last
// error at once instead of sleeping and failing later. Nor does it start an
// attempt that the deadline cannot fit: each Retry keeps a moving estimate
// of how long its attempts take (an exponentially weighted moving average,
// new = old + (sample − old)/8, as TCP smooths its round-trip time, from
// the attempts it times), and a retry is made only when delay + estimate
// ends before the deadline. A doomed attempt adds load to a dependency and
// gives the caller nothing. Attempts are timed only when they can be
// useful: retries, and the first attempts of calls with a deadline (or
// under MaxDuration) while retries are being asked for (see Budget); a
// call that succeeds at once while none are reads no clock. So the first
// failure after a quiet spell is judged by the estimate of the last one.
//
// # Budget
//
// Every retry is drawn from a Budget (see its doc for the formulas): at
// most a Ratio of the calls in flight (Envoy's retry budget) and of the
// calls over a recent Window (Finagle's), with floors for callers with few
// calls. While no retry is asked for, a Retry's calls are not counted, so
// a call that succeeds at once writes nothing shared; the budget counts
// them again from the next retry asked for (see Budget). A refused retry
// returns the last error at once and is reported (EventRetryRefused). A Retry without Config.Budget has a budget of its
// own with DefaultBudgetConfig; share one Budget among the policies that
// call the same dependency.
//
// # Events
//
// An Observer is told of each retry (EventRetry, with the attempt number
// and the delay), each retry the budget refused (EventRetryRefused) and
// each call that gave up retrying a retryable error (EventRetryGiveUp).
package retry
