// Package timeout bounds how long a call to a dependency may take.
//
// A Timeout gives each call a context whose deadline is the earlier of the
// caller's own and Config.Timeout from now, made with
// context.WithTimeoutCause(ctx, Config.Timeout, ErrTimeout):
//
//	pricing, err := timeout.New(timeout.Config{Name: "pricing", Timeout: 300 * time.Millisecond})
//	...
//	err = pricing.Execute(ctx, func(ctx context.Context) error {
//		return client.Quote(ctx, sku) // must honour ctx
//	})
//
// # Cooperative mode
//
// By default the policy is cooperative: it cancels the call's context at the
// deadline and waits for the call to return, which a callee that honours its
// context does at once. A callee that ignores its context is not stopped:
// it runs on past the deadline, and Execute, with the caller, waits for it
// however long it takes; then Execute returns an error matching ErrTimeout
// if the call failed, or nil if it succeeded late. In this mode the timeout
// bounds a call only as far as the callee honours its context; to bound
// how long the caller waits for one that does not, use abandon mode. The call runs on the caller's goroutine; the policy
// starts no goroutine, and its only cost is the context (the allocations of
// context.WithTimeout). When the caller's own deadline is already the
// earlier, the call gets the caller's context as it is: no context is made
// and nothing is allocated.
//
// # Whose deadline
//
// Two different things can end a call, and the errors tell them apart:
//
//   - The policy's own deadline: Execute returns an error that matches
//     ErrTimeout and context.DeadlineExceeded (errors.Is), keeps the
//     callee's own error reachable (errors.Is, errors.As), and, inside the
//     call, context.Cause(ctx) is ErrTimeout. The dependency took longer
//     than it is allowed: a failure of the dependency, which a breaker
//     counts (put the timeout inside the breaker, as resilience.Chain's
//     recommended order does).
//   - The caller's own deadline or cancellation: Execute returns the
//     caller's error as the call returned it (context.DeadlineExceeded or
//     context.Canceled, not matching ErrTimeout). The caller gave up, or
//     did not allow the time the policy would have: this says nothing
//     about the dependency, and resilience.Classifier.Classify, which
//     every breaker uses, reports it as Ignored because the caller's
//     context is done.
//
// A call that returns successfully after the deadline has passed still
// returns nil: its result stands.
//
// # Abandon mode
//
// A callee that ignores its context (a legacy client, a blocking system
// call) cannot be stopped, and in cooperative mode the caller waits for it
// however long it takes. Config.Abandon opts in to abandon mode, with
// Config.MaxAbandoned as its cap: each call runs in a goroutine of its own
// (inherent: the caller must be free to leave while the call goes on), and
// Execute returns at the deadline, or as soon as the caller's context
// ends, whether the call has returned or not. Every caller returns on
// time, however many calls are abandoned. A call left running this way is
// abandoned: it finishes in the background, its result is dropped
// (resilience.Do returns the zero value), and it counts in Abandoned from
// before Execute returns until it returns.
//
// MaxAbandoned bounds the goroutines piling up behind a hung dependency.
// It is checked when a call arrives: while at least MaxAbandoned calls are
// abandoned, Execute refuses new calls at once, without starting them, with
// an error matching ErrTooManyAbandoned and resilience.ErrRejected (neutral
// to breakers: it is local overload). Calls admitted together, under the
// cap, can time out together: each is abandoned and its caller returns on
// time, so Abandoned can exceed MaxAbandoned by the calls that were running
// when the cap was reached (with 200 callers arriving at once and a cap of
// 10, all 200 return at the deadline, and the next calls are refused until
// fewer than 10 are left running). To bound the calls running at all,
// abandoned or not, put a bulkhead inside the timeout (see below). A call
// whose context is already done is not started.
//
// Policies outside the timeout see an abandoned call end when Execute
// returns: a bulkhead around it (resilience.Chain(bulkhead, timeout)) gives
// the slot back while the call still runs, so abandoned calls run beyond
// the bulkhead's bound. To keep abandoned calls inside the bound, put
// the bulkhead inside the timeout (resilience.Chain(timeout, bulkhead)): an
// abandoned call then holds its slot until it really returns, and the time
// spent waiting for a slot counts against the deadline.
//
// At the deadline Execute yields once so that a callee that does honour its
// context can return first; it is then not abandoned at all (measured: 2%
// of such calls were abandoned for an instant, against 99% without).
//
// Panics: a panic in a call that Execute is still waiting for is raised
// again in the caller's goroutine with the same value, as in cooperative
// mode; a runtime.Goexit (t.FailNow) in the call ends the caller's goroutine
// the same way. A panic in a call already abandoned has no caller to reach:
// it is raised again in the call's goroutine and crashes the program, as
// any goroutine's unrecovered panic does, so it is never silently lost;
// recover inside the call if it may panic and must not crash.
//
// # Events
//
// Config.Observer is told of each of the policy's own timeouts
// (EventTimeout), and in abandon mode of each call abandoned (EventAbandon),
// each abandoned call that has since returned (EventAbandonDone, with its
// error) and each refusal at the cap (EventRejected).
package timeout
