// Package metrics exports what resilience policies do as Prometheus
// metrics, through github.com/prometheus/client_golang.
//
// # Use
//
// Make one Collector, give it to every policy as its Observer, and register
// it on the registry you serve:
//
//	m, err := metrics.New(metrics.Config{})
//	if err != nil { ... }
//	reg.MustRegister(m) // your *prometheus.Registry; nothing is registered globally
//
//	brk, _ := breaker.New(breaker.Config{Name: "payments", Observer: m})
//	bulk, _ := bulkhead.New(bulkhead.Config{Name: "payments", MaxConcurrent: 32, Observer: m})
//	tmo, _ := timeout.New(timeout.Config{Name: "payments", Timeout: time.Second, Observer: m})
//	p := resilience.Chain(brk, bulk, tmo)
//	fb := fallback.Observe(m, "payments", fallback.OnRejected(fallback.Value(cached)))
//	m.WatchBulkheads(bulk) // capacity and waiters, read at each scrape
//
// Registering on prometheus.DefaultRegisterer is the caller's choice, as it
// is for any other collector.
//
// # Series
//
// Every series has the labels policy (the Name in the policy's Config, or
// the name given to fallback.Observe) and key (the key of a breaker in a
// breaker set, such as a host or a gRPC method; "" otherwise), plus
// Config.ConstLabels. Label values never come from a request. With the
// default Namespace:
//
//	resilience_breaker_state{policy,key,state}              gauge: 1 for the current state, 0 for the others
//	resilience_breaker_transitions_total{policy,key,from,to} counter
//	resilience_calls_total{policy,key,outcome}              counter: success, failure, ignored
//	resilience_call_duration_seconds{policy,key}            histogram of calls that succeeded or failed
//	resilience_rejections_total{policy,key,reason}          counter: breaker_open, probe_limit, bulkhead_full, abandon_limit,
//	                                                        adaptive_limit, throttled, rate_limited, other
//	resilience_timeouts_total{policy,key}                   counter
//	resilience_abandoned_in_flight{policy,key}              gauge
//	resilience_bulkhead_in_flight{policy,key}               gauge
//	resilience_bulkhead_wait_seconds{policy,key}            histogram
//	resilience_fallbacks_total{policy,key}                  counter
//	resilience_retries_total{policy,key}                    counter: attempts after a failed one
//	resilience_retry_budget_refusals_total{policy,key}      counter
//	resilience_retry_give_ups_total{policy,key}             counter
//	resilience_injected_faults_total{policy,key}            counter: faults made on purpose (package inject)
//	resilience_injected_errors_total{policy,key}            counter: injected faults that failed the call
//	resilience_injected_delay_seconds_total{policy,key}     counter: latency added on purpose
//	resilience_hedges_total{policy,key}                     counter: extra attempts sent
//	resilience_hedge_wins_total{policy,key}                 counter
//	resilience_hedge_budget_refusals_total{policy,key}      counter
//	resilience_bulkhead_capacity{policy,key}                gauge: MaxConcurrent, of watched bulkheads
//	resilience_bulkhead_waiting{policy,key}                 gauge: callers waiting, of watched bulkheads
//	resilience_adaptive_limit{policy,key}                   gauge: an adaptive limiter's limit now
//	resilience_server_admitted_total{policy,key}            counter: requests a server-side adapter let run
//	resilience_server_shed_total{policy,key,reason}         counter: overload, rate_limit, deadline, queue
//	resilience_server_queue_wait_seconds{policy,key}        histogram: admitted requests' wait for the server's Policy
//
// The two bulkhead gauges are read from the bulkheads themselves at each scrape, not
// from Events (a caller that gives up its wait reports none): name the
// bulkheads with Collector.WatchBulkheads, or an httpx.Transport or
// grpcx.Interceptors with Collector.WatchSource, whose per-key bulkheads
// made later are then exported too.
//
// The state label takes the values "closed", "half-open", "open",
// "forced-open" and "forced-closed". The calls, call duration and state
// series come from breakers: a breaker reports each call it lets through,
// so a chain counts each call once. Ignored calls (the caller gave up, or a
// policy inside the breaker refused the call) are counted but not timed, so
// that the histogram shows how the dependency answers. The breaker times
// what runs inside it, so in the recommended chain the duration includes
// any wait for a bulkhead slot.
//
// A policy appears once it reports its first event: a breaker at its first
// call or transition, a bulkhead at its first slot taken, a timeout at its
// first timeout. The outcomes of calls_total start at zero together, so
// rates over them are defined from the first call on; a reason of
// rejections_total appears at its first refusal, timeouts_total and
// fallbacks_total and the retry counters at their first count.
//
// # Cardinality
//
// The number of series is bounded by the number of (policy, key) pairs:
// about 30 series for a breaker with the default buckets, 20 for a
// bulkhead. A breaker set bounds its keys, but keys it evicts would keep
// their series; Config.MaxKeys (default 2048) caps the pairs that get
// series of their own, the events of further pairs being counted under the
// key "_other" of their policy, and Forget deletes the series of a pair
// that is gone.
//
// # Cost
//
// Observe runs on the caller's goroutine, inside the guarded call's path,
// so it is built to cost a few atomic adds. It finds the pair's series in
// an index read without a lock (a short array scanned first, since a
// policy passes the same Name string with every event, then a map; the
// index is copied when a pair is added, once per pair), and updates plain
// atomic integers: counters and gauges, and histograms whose buckets are
// compared in integer nanoseconds and whose sum is kept in integer
// nanoseconds, so no compare-and-swap loop on a float. It takes no time
// of its own and allocates nothing once the pair has been seen. Collect
// turns these values into constant metrics. The histograms are classic
// (fixed buckets), not native histograms.
//
// Most of what metrics add to a call is spent before Observe: with any
// Observer attached, a breaker reads the clock twice per call to time it,
// which the latency histogram needs. The package benchmarks
// (BenchmarkFullChain, BenchmarkMetricsOverhead) run the full chain bare,
// with an Observer that does nothing, and with a Collector, in the same run.
//
// # Ordering
//
// A breaker reports its transitions in the order they happened, each soon
// after it happened, on the goroutine of a call or method that caused or
// noticed it; breaker_state follows the last one observed. An open breaker
// becomes half-open when a call (or State) finds its open duration over,
// so an idle breaker's series can say open after that duration has passed.
// For the state read from the breaker itself, use package health.
package metrics
