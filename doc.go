// Package resilience keeps a service up when what it calls is slow or down.
//
// It wraps outbound calls in composable policies, each in its own package:
//
//   - breaker stops calling a dependency that keeps failing and probes it back;
//   - bulkhead bounds how many calls run at once;
//   - timeout cancels a call's context at its deadline (and, in its
//     opt-in abandon mode, stops waiting for a callee that ignores it);
//   - fallback answers with a substitute when the others say no;
//   - retry tries again with backoff, under a budget shared by many calls;
//   - hedge sends a second attempt when the first is slow (typed, like
//     fallback);
//   - adaptive limits concurrency by measured latency, and throttles a
//     partly failing dependency;
//   - ratelimit lets calls through at a rate;
//   - inject makes faults on purpose, off until switched on.
//
// The recommended order, outermost first, is fallback → retry → breaker →
// bulkhead (or adaptive limit) → timeout → call (see Chain).
//
// The adapters httpx (an http.RoundTripper and server middleware) and grpcx
// (client and server interceptors) put the same policies around HTTP and
// gRPC; metrics exports what they do to Prometheus, otelx to OpenTelemetry,
// slogx to log/slog; health serves their state to readiness probes and
// dashboard to a browser; fleet shares breakers and limits across replicas
// through Redis.
//
// # Policies and chains
//
// A Policy guards calls: Execute runs the call, or refuses it. Chain
// composes policies once, outermost first, and the result is a Policy too:
//
//	p := resilience.Chain(brk, bulk, tmo) // breaker → bulkhead → timeout → call
//	err := p.Execute(ctx, func(ctx context.Context) error { return ping(ctx) })
//
// Policies see errors only. Results flow through Do, which is race-free even
// when a policy stops waiting for a callee that ignores its context:
//
//	user, err := resilience.Do(ctx, p, func(ctx context.Context) (User, error) {
//		return client.GetUser(ctx, id)
//	})
//
// Through a Chain of this module's policies, Do allocates nothing of its
// own: each policy admits the call and later finishes it, and Do calls fn
// in between, keeping its result in a local variable. Through any other
// Policy it allocates one small object per call to carry fn and its result.
//
// # Refusals
//
// A policy that refuses a call fails fast: it returns at once, without
// starting the call, an error matching ErrRejected with errors.Is (and the
// refusing package's own sentinel, such as breaker.ErrOpen or
// bulkhead.ErrFull). Refusals are preallocated, so refusing costs no
// allocation.
//
// # Classification
//
// A finished call is a Success, a Failure or Ignored. The caller giving up
// on its own context, and the library's own refusals, are always Ignored:
// they say nothing about the dependency. Everything else is decided by a
// Classifier; DefaultClassifier treats every other error as a Failure, and
// the adapters ship classifiers for HTTP status codes and gRPC codes.
//
// # Mistakes
//
// A programming error of the library's user (a nil policy, such as the one
// `brk, _ := breaker.New(badConfig)` leaves; a policy not made by its
// constructor; a nil call, fn or context) is an error matching ErrMisuse,
// never a nil-pointer panic. Chain finds nil and unmade policies when it
// composes, and every call through such a chain, the first one included,
// returns the error without running. No fallback answers it and no breaker
// counts it, so a cached value or an open breaker cannot hide it.
//
// # Panics
//
// A panic in a call propagates to the caller unchanged, after each policy
// has released what it held (a bulkhead slot, a half-open probe). So does a
// panic in a hook of the user's (a Classifier, an Observer, a breaker's
// OnStateChange, an adapter's key function or fallback): the call it
// belongs to counts as a failure, and nothing it held is lost.
//
// # Observing
//
// Every policy's Config takes an Observer that is told of calls, refusals,
// timeouts, state changes and fallbacks; nil costs nothing.
package resilience
