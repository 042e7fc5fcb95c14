// Package slogx logs what resilience policies do through log/slog, the
// standard library's structured logger: breaker state changes, refusals and
// timeouts, with refusals and timeouts rate-limited so that a storm of them
// cannot flood the log.
//
// # Use
//
// Make one Observer and give it to every policy as its Observer (or, next
// to a metrics.Collector, through an Observer of yours that calls both):
//
//	logs, err := slogx.New(slogx.Config{Logger: logger})
//	if err != nil { ... }
//	brk, err := breaker.New(breaker.Config{Name: "payments", Observer: logs})
//
// # What is logged
//
//   - A breaker changing state: "breaker state changed", with the policy,
//     key (when in a set), from and to; at level Warn when it opens (or is
//     forced open), Info otherwise. Every change is logged: they are
//     decisions an operator wants to see, and a breaker makes at most a few
//     per open duration.
//   - A refusal (EventRejected): "call refused", Warn, with the error.
//   - A policy's own deadline passing (EventTimeout): "call timed out",
//     Warn, with the error.
//
// Other events (calls, slots, waits, fallbacks) are not logged: they are
// what metrics are for.
//
// # Rate limit
//
// An open breaker refuses every call, thousands a second, and each would
// be a record. So for each policy (Event.Policy) and each of the two kinds,
// the first refusal or timeout is logged at once and those that follow
// within Config.Interval are only counted; the next record of that kind
// logged for that policy says how many were left out in its "suppressed"
// attribute. A left-out event costs an atomic load and an atomic add
// (about 20 ns on a 2-core VM, BenchmarkSuppressedRefusal): no clock read,
// no lock, no allocation. The interval is timed by one time.AfterFunc per
// policy and kind, armed when a record is let through; no goroutine waits
// for it.
//
// # Why a package of its own
//
// The policies never log: an Observer is how they tell. Logging is a choice
// of the program, as registering metrics is, so it lives beside metrics in
// a package of its own that a program imports when it wants it, and the
// rest of the module stays free of log output it did not ask for. It has
// no dependency beyond the standard library.
package slogx
