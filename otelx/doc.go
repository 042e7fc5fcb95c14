// Package otelx puts what resilience policies do on OpenTelemetry traces
// and metrics, through the OpenTelemetry API (go.opentelemetry.io/otel);
// the SDK and exporters are the caller's choice.
//
// # Use
//
// Make one Observer and give it to every policy as its Observer:
//
//	obs, err := otelx.New(otelx.Config{
//		MeterProvider: mp,  // your metric.MeterProvider; nil: traces only
//		Next:          col, // a metrics.Collector too, if you also export to Prometheus
//	})
//	brk, err := breaker.New(breaker.Config{Name: "payments", Observer: obs})
//	...
//	bulk, err := bulkhead.New(bulkhead.Config{Name: "payments", MaxConcurrent: 32, Observer: obs})
//	...
//	tmo, err := timeout.New(timeout.Config{Name: "payments", Timeout: time.Second, Observer: obs})
//	...
//	fb := fallback.Observe(obs, "payments", fallback.OnRejected(fallback.Value(cached)))
//
// Nothing is registered globally and no global provider is read: the
// Observer finds each call's span in the context the call was made with
// (resilience.Event.Ctx), and meters through the MeterProvider given.
//
// # Span events
//
// Each decision a policy makes about a call is added as an event to the
// span in the call's context, when that span is recording. A call that
// goes through untouched adds nothing. Every event has the attribute
// resilience.policy (the policy's Name) and, in a keyed set,
// resilience.key (the host, the gRPC method):
//
//	resilience.rejected                a policy refused the call: error.type is the reason (breaker_open,
//	                                   probe_limit, bulkhead_full, abandon_limit, adaptive_limit,
//	                                   throttled, rate_limited, other)
//	resilience.timeout                 the policy's deadline passed: error.type=timeout
//	resilience.breaker.state_change    resilience.breaker.from, resilience.breaker.to
//	resilience.bulkhead.wait           the call waited resilience.delay seconds for a slot
//	resilience.abandoned               the call was left running past its deadline
//	resilience.fallback                a fallback answered: error.type is the class of the error it answered
//	resilience.injected                a fault was injected: resilience.delay seconds, error.type when it failed the call
//	resilience.retry                   attempt resilience.attempt starts after resilience.delay seconds;
//	                                   error.type is the class of the error retried
//	resilience.retry.refused           the retry budget refused attempt resilience.attempt (status Error)
//	resilience.retry.give_up           the call stopped retrying after resilience.attempt attempts (status Error)
//	resilience.hedge.sent              attempt resilience.attempt sent after resilience.delay seconds
//	resilience.hedge.won               attempt resilience.attempt, a hedge, answered first
//	resilience.hedge.refused           the budget refused hedge resilience.attempt
//	resilience.limit_change an adaptive limiter moved its limit to resilience.limit
//	resilience.shed                    a server-side adapter refused the request: error.type is why
//	                                   (overload, rate_limit, deadline, queue)
//
// A breaker's transition goes on the span of the call that caused or
// noticed it; one noticed by State, a forcing method or a fleet is on no
// span. A fleet's syncs are off the call path: metrics only.
//
// # Span status
//
// Where a policy ends the call with its own error, the Observer sets the
// span's status to Error, with that error's text: a refusal
// (resilience.rejected), a timeout, a server's shedding, a retry budget's
// refusal and a retry giving up. It never sets Ok, and leaves failures of
// the dependency itself to the caller's instrumentation (a retried
// failure that then succeeds leaves the status alone). A fallback that
// answers afterwards adds its event but leaves the status Error: the call
// was refused, and the answer is a substitute. A timeout or refusal of one
// attempt that a retry then makes good also leaves Error on the span,
// since an Observer cannot take a status back; the resilience.retry event
// that follows it tells the two apart.
//
// # Spans per attempt
//
// A server-side adapter's events (EventShed) go on the span of the
// incoming request: wrap httpx's server middleware in otelhttp.NewHandler,
// or give the gRPC server otelgrpc.NewServerHandler. An admitted request
// adds nothing to its span.
//
// The policies add no spans of their own. To see each attempt that an
// httpx.Transport sends (its retries and hedges) as its own client span,
// make the OpenTelemetry instrumentation the Transport's Base, inside the
// policies:
//
//	caller's span
//	  └─ httpx.Transport (breaker, bulkhead, timeout, retry: events on the caller's span)
//	       └─ otelhttp.NewTransport(base) (a client span per attempt, traceparent on each)
//	            └─ base (http.DefaultTransport)
//
// For gRPC, add otelgrpc.NewClientHandler as a stats handler
// (grpc.WithStatsHandler): gRPC makes a span per attempt under the
// interceptors of package grpcx, whatever their order. Wrapping the
// other way round, otelhttp outside httpx, makes one span for the request
// and all its attempts, with the policies' events on it.
//
// # Metrics
//
// With Config.MeterProvider, the Observer records the series of package
// metrics (the Prometheus collector) as OpenTelemetry instruments, from
// the same events, with the same values. Instrument names follow the
// OpenTelemetry conventions: dotted, no unit in the name, durations in
// seconds as float histograms, counts in {call}-style units.
//
//	Prometheus (package metrics)               OpenTelemetry (this package)
//	resilience_breaker_state{state}            resilience.breaker.state             UpDownCounter {resilience.breaker.state}
//	resilience_breaker_transitions_total       resilience.breaker.transitions       Counter {resilience.breaker.from, .to}
//	resilience_calls_total{outcome}            resilience.calls                     Counter {resilience.outcome}
//	resilience_call_duration_seconds           resilience.call.duration             Histogram, s
//	resilience_rejections_total{reason}        resilience.rejections                Counter {error.type}
//	resilience_timeouts_total                  resilience.timeouts                  Counter
//	resilience_abandoned_in_flight             resilience.abandoned.active          UpDownCounter
//	resilience_bulkhead_in_flight              resilience.bulkhead.active           UpDownCounter
//	resilience_bulkhead_wait_seconds           resilience.bulkhead.wait.duration    Histogram, s
//	resilience_fallbacks_total                 resilience.fallbacks                 Counter
//	resilience_injected_faults_total           resilience.injected.faults           Counter
//	resilience_injected_errors_total           resilience.injected.errors           Counter
//	resilience_injected_delay_seconds_total    resilience.injected.delay            Counter, s
//	resilience_bulkhead_capacity               resilience.bulkhead.capacity         Gauge (WatchBulkheads, WatchSource)
//	resilience_bulkhead_waiting                resilience.bulkhead.waiting          Gauge (WatchBulkheads, WatchSource)
//	resilience_retries_total                   resilience.retries                   Counter
//	resilience_retry_budget_refusals_total     resilience.retry.budget.refusals     Counter
//	resilience_retry_give_ups_total            resilience.retry.give_ups            Counter
//	resilience_hedges_total                    resilience.hedges                    Counter
//	resilience_hedge_wins_total                resilience.hedge.wins                Counter
//	resilience_hedge_budget_refusals_total     resilience.hedge.budget.refusals     Counter
//	resilience_fleet_syncs_total               resilience.fleet.syncs               Counter
//	resilience_fleet_sync_seconds_total        resilience.fleet.sync.time           Counter, s
//	resilience_fleet_sync_errors_total         resilience.fleet.sync.errors         Counter
//	resilience_adaptive_limit resilience.adaptive.limit            Gauge
//	resilience_server_admitted_total           resilience.server.admitted           Counter
//	resilience_server_shed_total{reason}       resilience.server.shed               Counter {error.type}
//	resilience_server_queue_wait_seconds       resilience.server.queue.wait.duration Histogram, s
//
// Every point has resilience.policy and resilience.key ("" outside a keyed
// set). The reason of a refusal is error.type, the attribute the
// OpenTelemetry semantic conventions define for the class of error an
// operation ended with; no convention exists for the others, which are
// namespaced under resilience. The measurements are made with the call's
// context, so an SDK that keeps exemplars links them to the call's trace.
// Config.MaxKeys bounds the (policy, key) pairs as the collector's does.
//
// # Prometheus, OpenTelemetry, or both
//
// A policy has one Observer. To export to both, give the policies the
// otelx Observer with the metrics.Collector as its Config.Next (or use
// an OpenTelemetry Prometheus exporter for the instruments above).
//
// # Cost
//
// Observe looks at the event's kind first: the bookkeeping of every call
// (EventCall, EventAcquire, EventRelease) never touches the span. For a
// decision it reads the span from the context and returns when it is not
// recording, so a sampled-out trace costs a context lookup and no
// allocation. BenchmarkChainObserver compares the chain with no Observer,
// one that does nothing and this one, in the same run.
package otelx
