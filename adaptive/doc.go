// Package adaptive bounds the load a service puts on a dependency by what
// the dependency shows it can take, instead of by a number someone guessed
// once: a concurrency Limiter whose limit follows the dependency's latency
// and failures, and a Throttler that sheds a share of calls as the share
// the dependency accepts falls.
//
// # Limiter
//
// A Limiter is a bulkhead whose size moves. Calls beyond the current limit
// are refused at once (or after a short Config.MaxWait) with an error
// matching ErrLimited and resilience.ErrRejected, so it composes like the
// bulkhead, in its place in a chain (breaker, then limiter, then timeout):
//
//	db, err := adaptive.New(adaptive.Config{Name: "db", MinLimit: 5, MaxLimit: 200})
//	...
//	err = db.Execute(ctx, func(ctx context.Context) error {
//		return queryStock(ctx, sku)
//	})
//
// Two algorithms are offered (Config.Algorithm):
//
//   - Gradient (the default), in the shape of Netflix's Gradient2: each
//     window's average latency (short-term) is compared with a long-term
//     latency; the limit is multiplied by the gradient
//     min(1, max(0.5, Tolerance·long/short)), a QueueSize allowance is
//     added, and the step is smoothed (Smoothing). While calls are no
//     slower than Tolerance times the long-term latency the limit grows;
//     as queueing makes them slower, it shrinks.
//   - AIMD: one more after a window in which the limit was used and
//     nothing went wrong; times Backoff after a window with a failure or a
//     call slower than SlowCallThreshold.
//
// Both move the limit at most once per sample window, and a window is one
// round trip: it closes when a timed call that started after it opened
// returns. AIMD as usually written (+1 on every call, ×0.9 on every slow
// call) instead adds as many as the calls that return in a round trip and
// multiplies by 0.9 once per slow call; on a dependency whose latency grows
// with its load, it swings between its minimum and several times the
// capacity (see TestTextbookAIMDSwingsWhereOursSettles).
//
// Where Gradient differs from Gradient2: Gradient2's long-term latency is
// an average of the short-term one, and so under steady overload it catches
// up with it, the gradient returns to 1 and the limit ratchets up. Here the
// long-term latency falls at once to a faster window and rises towards a
// slower one (over LongWindow windows) only in windows where the limit was
// not used (fewer than half of it in flight): the latency seen then is the
// dependency's own, not the queue this limiter let build. The price: a
// dependency that becomes slower for good while the limit stays in use
// makes the limit settle lower than it needs to (safe, not wasteful of the
// dependency), until demand falls below half the limit and the long-term
// latency is learnt again. The long-term latency is first learnt from the
// first window, so a limiter that starts against a dependency already
// overloaded by others learns a latency that is too high and settles above
// its capacity.
//
// Only calls that succeed or fail move the limit: the caller's own
// cancellation or deadline and the library's refusals (from a policy
// further in) are ignored, as by the breaker (Config.Classifier). A panic
// gives the slot back and is not counted.
//
// # Cost
//
// Admission and release are one atomic compare-and-swap and one atomic add
// on a word that packs the calls in flight and a count of admissions, as
// in the bulkhead; no lock is taken per call. One call in 16 is timed (two
// clock reads) and adds its latency to the window with atomic adds; the
// window is closed, and the limit moved, in one short critical section per
// window, taken with TryLock so that no caller waits for it. Refusals
// allocate nothing. Measured beside the bulkhead in the same run
// (bench_test.go), a call through the limiter costs about 1.3–1.9× a call
// through the bulkhead, and a refusal no more than the bulkhead's.
//
// Limit and InFlight read the state at any time, for health and metrics;
// Config.Observer is told of each change of the limit (EventLimitChange),
// each slot taken and given back, each wait and each refusal.
//
// # Throttler
//
// A Throttler implements the client-side adaptive throttling of Google's
// Site Reliability Engineering book: over a window it counts requests
// (every call offered, refused ones included) and accepts (calls that
// succeeded), and refuses a call with probability
// max(0, (requests − K·accepts)/(requests + 1)), capped at
// MaxRejectionProbability, with an error matching ErrThrottled and
// resilience.ErrRejected. With K = 2 it starts refusing once the
// dependency fails more than half of what it is sent. It is a gentler
// alternative to a breaker for a dependency that is partly failing: rather
// than stopping every call, it sends the dependency about K calls for each
// one it can serve. Outcomes are classified as by the breaker.
package adaptive
