// Package dashboard serves a live page of the policies of a service: a
// tile per breaker (and per key of a breaker.Set) coloured by its state,
// bulkheads with their saturation, call and error rates with sparklines,
// refusals by reason, timeouts, fallbacks served, latency percentiles over
// a recent window, and the breakers' changes of state as a timeline. It is
// an http.Handler the service mounts on its own mux; there is nothing else
// to run:
//
//	rec := &dashboard.Recorder{} // the Observer of every policy below
//	hosts, err := breaker.NewSet(breaker.KeyedConfig{Config: breaker.Config{Name: "upstream", Observer: rec}})
//	...
//	dash, err := dashboard.New(dashboard.Config{Recorder: rec, Sets: []*breaker.Set{hosts}})
//	...
//	mux.Handle("/resilience/", dash)
//
// The page is self-contained: its HTML, CSS and JavaScript are embedded in
// the binary (go:embed) and it loads nothing from anywhere else (its
// Content-Security-Policy forbids it), so it works offline, on an
// intranet, behind a proxy. It has a dark and a light theme (the browser's
// preference, a button, or ?theme=dark), and every tile has an accessible
// name that says what its colour shows.
//
// # What it shows
//
// A Dashboard shows what it is given, never a global registry: the
// breakers, sets and bulkheads of its Config, read through their own
// methods (State, Range, InFlight) at every message; and the Events its
// Recorder is told as a resilience.Observer, for rates, refusals, timeouts,
// fallbacks, latencies and the timeline. Put the Recorder in the Observer
// field of each policy's Config (next to a metrics.Collector, through an
// Observer of your own that calls both). Observe is cheap: no lock, no
// clock, no allocation once a (policy, key) pair has been seen. A
// Dashboard is an Observer too, feeding its Recorder, for policies made
// after it.
//
// # Cost and bounds
//
// Memory is bounded whatever the traffic: counts are kept for at most
// Recorder.MaxKeys (policy, key) pairs (the rest together under the policy
// "_other"), each with two minutes of rates; each message lists at most
// Config.MaxTiles entries per list (breakers not closed first) and counts
// the others ("and N more"); the timeline keeps the last 50 changes.
//
// The stream sends one message every Config.Interval (at least 100ms),
// built and encoded once for all open pages by one goroutine, which runs
// only while a stream is open. Each stream has a buffer of
// Config.StreamBuffer messages; a stream that falls that far behind (a
// page that stopped reading) is dropped, never waited for: nothing on the
// call path ever waits for a page. At most Config.MaxStreams streams are
// open at once. A server WriteTimeout shorter than the life of a page ends
// its stream; the page reconnects.
//
// # The JSON
//
// GET snapshot.json returns one message; GET events streams them as
// server-sent events (each "data:" line is one message, one line of JSON).
// Other tools may read either. A message is an object:
//
//	time             string   when it was made, RFC 3339, UTC
//	title            string   Config.Title
//	interval_ms      number   Config.Interval, in milliseconds
//	window_ms        number   Config.Window, in milliseconds
//	status           string   "ok" (every breaker closed, or none), "down"
//	                          (every breaker open) or "degraded"
//	breakers         array    breaker tiles (below), those open first, then
//	                          half-open, then closed; Config.Breakers in
//	                          order, then each set's breakers by key
//	breakers_more    number   breakers not listed
//	bulkheads        array    bulkhead tiles (below)
//	bulkheads_more   number   bulkheads not listed
//	policies         array    other observed (policy, key) pairs (below):
//	                          timeouts, fallbacks, breakers not watched
//	policies_more    number   pairs not listed
//	timeline         array    the last 50 changes of state, oldest first:
//	                          {"time", "policy", "key", "from", "to"}
//	streams          number   streams open now
//	streams_dropped  number   streams dropped for being too slow, in all
//
// Every tile has these figures of its (policy, key) pair, zero when the
// Recorder was told of none:
//
//	calls_per_sec     number  calls let through (EventCall) per second,
//	failures_per_sec  number  of them failed per second, and
//	rejected_per_sec  number  calls refused per second, between the last
//	                          two samples (taken at most twice an Interval)
//	calls, failures   number  in all, since the Recorder was made
//	rejected          object  refusals in all by reason: "breaker_open",
//	                          "probe_limit", "bulkhead_full",
//	                          "abandon_limit", "other" (zero ones left out),
//	                          as the metrics package names them
//	timeouts          number  timeouts in all
//	fallbacks         number  fallbacks served in all
//	p50_ms, p90_ms,   number  latency percentiles of the calls answered in
//	p99_ms                    the last Window/2 to Window, in milliseconds,
//	                          as the upper bound of a bucket (at most 25%
//	                          above the true value); 0 when there were none
//	history           array   only with snapshot.json?history=true: up to
//	                          120 samples [calls/s, failures/s, refused/s],
//	                          oldest first
//
// A breaker tile adds "name" (Config.Name), "key" (its key in a set, or
// "") and "state": "closed", "half-open", "open", "forced-open" or
// "forced-closed". A bulkhead tile adds "name", "in_flight",
// "max_concurrent", "waiting", "saturation" (in_flight/max_concurrent,
// 0 to 1) and "rejected_total" (Bulkhead.Rejected). A policy entry adds
// "policy" and "key". New fields may be added; none will change meaning.
package dashboard
