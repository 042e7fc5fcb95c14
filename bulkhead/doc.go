// Package bulkhead bounds how many calls to a dependency run at once, so
// that a dependency that slows down ties up a bounded share of the service
// (goroutines, connections, memory) and no more.
//
// A Bulkhead has Config.MaxConcurrent slots. Each call holds one while it
// runs. A call that finds them all taken waits for one, at most
// Config.MaxWait, and is then refused with an error matching ErrFull and
// resilience.ErrRejected, without running:
//
//	db, err := bulkhead.New(bulkhead.Config{Name: "db", MaxConcurrent: 20, MaxWait: 50 * time.Millisecond})
//	...
//	err = db.Execute(ctx, func(ctx context.Context) error {
//		return queryStock(ctx, sku)
//	})
//	if errors.Is(err, resilience.ErrRejected) {
//		// overloaded here: answer 503, or serve a fallback
//	}
//
// With MaxWait zero (the default) a caller that finds no free slot is
// refused at once: load beyond the bound is shed rather than queued. A
// little MaxWait smooths bursts; a long one only moves the queue from the
// dependency into the bulkhead.
//
// # Waiting, contexts and panics
//
// Callers wait in arrival order, and a slot given back while callers wait
// goes straight to the one that has waited longest: a newcomer never
// overtakes a waiter, so each waits no longer than its place in the queue
// requires. A waiting caller whose context ends returns its context's error
// at once, leaving the bulkhead as it was; it is not counted as refused. A
// free slot is taken without looking at the context: the call sees its
// context and returns.
//
// The slot is given back when the call returns, whatever it returns, and
// also when it panics (the panic continues to the caller unchanged) or exits
// its goroutine with runtime.Goexit. The bulkhead starts no goroutine of its
// own.
//
// Acquire and Release are the same slots, taken and given back by hand, for
// work that outlives one function call: an HTTP response body, a stream.
//
// # Observing
//
// InFlight, Waiting and Rejected read the counts at any time, for health
// checks and metrics; Config.Observer is told of every slot taken and given
// back, every wait and every refusal.
//
// # Cost, and why it is not x/sync/semaphore
//
// Taking and giving back a free slot is one atomic compare-and-swap each;
// refusing is one atomic load and one atomic add; neither allocates. Only a
// caller that has to wait takes a mutex (to join the queue), and before it
// parks it yields once, since a slot held only briefly is often given back
// meanwhile; a caller that does park allocates its place in the queue and a
// timer for MaxWait (about 300 bytes).
//
// A bulkhead on golang.org/x/sync/semaphore.Weighted was measured beside
// this one, in the same run (bench_test.go; 2 shared cores, ns per
// operation, none allocates except where waiting). The semaphore takes its
// mutex on every TryAcquire and Release, and needs counters of its own
// beside it for InFlight and Waiting:
//
//	                                  this package  on semaphore  bare TryAcquire+Release
//	acquire + release, serial                   14            39                       28
//	acquire + release, RunParallel           14-34        41-246                    28-55
//	refusal, serial                              9            21                       14
//	refusal, RunParallel                      9-16         20-24                    18-22
//	one slot, 8 goroutines waiting          52-119       235-356                        -
//
// So the atomic fast path won on every path measured, parallel most of all,
// and the package keeps its own small queue for waiters instead of the
// semaphore's.
package bulkhead
