// Package health reports whether the dependencies a service guards with
// breakers are available, and how full its bulkheads are: as a Go value for
// your own checks, and as an http.Handler serving JSON for readiness probes
// and dashboards.
//
// # Use
//
// Give a Checker the breakers, breaker sets and bulkheads to watch, the
// adapters (an httpx.Transport, grpcx.Interceptors) as they are, and the
// names of the breakers a fallback covers; and serve it:
//
//	checker, err := health.New(health.Config{
//		Breakers:  []*breaker.Breaker{payments},
//		Bulkheads: []*bulkhead.Bulkhead{paymentsPool},
//		Sources:   []health.Source{transport, interceptors},
//		Covered:   []string{"payments"},
//	})
//	if err != nil { ... }
//	mux.Handle("GET /readyz", checker)
//
// The Checker reads the policies when asked (State, InFlight and the like):
// there is nothing to feed it, no goroutine, and it does not depend on
// Prometheus. For metrics, see package metrics. The breakers of a set, and
// the breakers and bulkheads of a Source, are those it holds when the
// report is made (see breaker.Set.Range): a host or a method first called
// after New is reported from then on.
//
// # Status
//
// Each breaker says something about its dependency: closed (or forced
// closed) is OK; half-open, while it probes, is Degraded; open (or forced
// open) is Down, unless it is covered. The Report's Status sums them up:
//
//   - OK when every breaker is OK, or there are no breakers;
//   - Down when every breaker is open: no watched dependency is reachable;
//   - Degraded otherwise: some are open or half-open.
//
// A breaker named in Config.Covered is one whose calls a fallback answers
// while it refuses them: open, its dependency is down but the service still
// answers, so it is Degraded, not Down. Without that, one open breaker with
// a working fallback, the only one watched, would make the report Down and
// the readiness probe fail on every instance at once, while every request
// is being served.
//
// Forced states count as the state they force, and are reported under
// their own names ("forced-open", "forced-closed"), so an operator's hand
// on a breaker shows. Bulkheads are reported (slots in use, callers waiting,
// saturation, refusals) but do not change the status: a full bulkhead is
// its bound at work, and a probe that happened to look at that moment would
// flap.
//
// # HTTP
//
// The handler answers GET and HEAD with the report as JSON and status 200,
// or 503 Service Unavailable when the status is Down. A readiness probe
// failing takes the instance out of the load balancer; since every instance
// usually sees the same dependencies, failing on Degraded would take them
// all out at once when one dependency among several is down, which is why
// 503 on Degraded is opt-in (Config.UnavailableWhenDegraded). The response
// is marked no-store.
package health
