// Package hedge sends a second copy of a slow call and keeps whichever
// answers first ("The Tail at Scale"; gRPC's hedging policy). A dependency
// that is mostly fast but sometimes slow (a GC pause, a cold cache, one bad
// replica) sets its callers' tail latency; a hedge sent after the usual
// latency turns most of those slow calls into fast ones, for a few percent
// more requests.
//
//	h, err := hedge.New(hedge.Config{Name: "catalog"}) // p95 delay, one hedge, 20% budget
//	...
//	item, err := hedge.Do(ctx, h, policy, func(ctx context.Context) (Item, error) {
//		return fetchItem(ctx, id)
//	})
//
// Only hedge calls that may run twice: reads, or writes that are idempotent.
//
// # Why Do, and not a Policy
//
// A resilience.Policy sees errors only; results flow through resilience.Do,
// which keeps one result per call. Hedged attempts run at the same time,
// and through a Policy each would write that one result: the caller could
// get one attempt's value with another's error, or a loser's value written
// while it reads. So hedging is typed, like fallback: Do keeps each
// attempt's value apart and returns only the chosen one. The policy p given
// to Do runs each attempt (breaker, bulkhead, timeout): put the hedge
// outside them, so that each attempt gets its own timeout and bulkhead slot
// and the breaker sees every attempt.
//
// # The delay
//
// With Config.Delay set, the first hedge is sent when the call has run
// that long without an answer, and the next ones (Config.MaxHedges) one
// delay apart. Otherwise the delay is a percentile (Config.Percentile,
// 0.95 by default) of the latencies of the Hedge's recent successful
// attempts (Config.Window of them), between Config.MinDelay and
// Config.MaxDelay. Recording a latency is two atomic operations, no lock;
// every Window/8 records the percentile is recomputed by selection over a
// copy of the window on the stack. Until Window/8 successes are seen the
// delay is MaxDelay. Only successes count: an attempt that failed fast
// says nothing about how long a good answer takes.
//
// # The budget
//
// Every hedge is an extra request to the dependency, so each must be
// granted by a retry.Budget (Config.Budget, which retries of the same
// dependency should share): when the dependency is slow for everyone, a
// hedge would only double its load, and the budget (20% of the calls by
// default) refuses it. A refused hedge is not sent; the call runs on with
// the attempts it has, and EventHedgeRefused is reported. The Hedge counts
// its calls in the budget with a retry.Count: only while extra attempts
// are being asked for (a call is counted from the moment it asks for a
// hedge), so a call that answers in time writes nothing shared.
//
// # Which answer the caller gets
//
//   - The first attempt to succeed wins: every other attempt's context is
//     cancelled at once and its result dropped (DoDrop hands it to a
//     function that releases it, such as an HTTP response's body).
//   - An attempt that fails with an error Config.Fatal accepts (by default
//     a refusal of this module's policies: an open breaker must stop the
//     call, not be hedged around), or that returns once the caller's
//     context is done, ends the call at once with its result and error.
//   - Any other failure lets the attempts still running win. When every
//     attempt sent has failed, the call returns the first attempt's result
//     and error: what the caller would have got without hedging, and the
//     error that the attempt with the most time to succeed ended with.
//     Hedging is not retrying: a first attempt that fails before the delay
//     ends the call (put a retry.Retry around the hedge for that).
//
// # Cost, goroutines and timers
//
// The first attempt runs on the caller's goroutine. A call uses one timer:
// set when it starts, stopped when its result is chosen, re-armed for each
// further hedge. When the first attempt answers within the delay, the call
// starts no goroutine, resets and stops a timer, and makes one allocation
// of 24 bytes (time.AfterFunc alone makes 112). The Hedge keeps the call's
// state, with its stopped timer, for a later call; it may, because the
// timer did not fire and no hedge was sent, so nothing else can reach
// them. The one allocation is the first attempt's context, made for each
// call because a caller may keep it past the call; it makes its Done
// channel only when asked. A call whose timer fired, or whose attempt
// panicked, leaves its state to the garbage collector. A hedge runs on the
// goroutine the timer starts when it fires. The caller waits for its own
// first attempt to return (which a cancelled context makes prompt); it does
// not wait for losing hedges, whose goroutines end when their fn returns.
//
// The timers a Hedge keeps belong to the testing/synctest bubble they were
// made in: a Hedge used in a bubble must be made in that bubble.
package hedge
