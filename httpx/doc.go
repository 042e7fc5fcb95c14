// Package httpx puts the resilience policies around an http.Client: a
// Transport is an http.RoundTripper that gives every upstream host its own
// circuit breaker, optionally bounds how many requests are in flight (a
// bulkhead) and how long each may take (a timeout that covers the response
// body), and refuses requests fast when those say no.
//
// The zero Config is a breaker per host over http.DefaultTransport:
//
//	t, err := httpx.New(httpx.Config{})
//	if err != nil {
//		return err
//	}
//	client := &http.Client{Transport: t}
//
// A fuller one:
//
//	t, err := httpx.New(httpx.Config{
//		Base:     myTransport, // nil: http.DefaultTransport
//		Breaker:  breaker.KeyedConfig{Config: breaker.Config{OpenTimeout: 10 * time.Second}},
//		Bulkhead: bulkhead.Config{MaxConcurrent: 64, MaxWait: 50 * time.Millisecond},
//		Timeout:  2 * time.Second,
//	})
//
// # What happens to a request
//
// RoundTrip finds the request's key (Config.Key; by default HostKey, the
// scheme, host and port) and its breaker, then, outermost first:
//
//  1. The breaker of the key refuses the request while it is open, or while
//     its half-open probes are out.
//  2. The bulkhead (one shared, or one per key) refuses it when all its
//     slots are taken and none frees within its MaxWait.
//  3. The timeout gives the request a context with the Transport's deadline
//     (unless the caller's own deadline comes sooner).
//  4. The base transport sends it.
//
// When the response headers arrive, Config.Classify (by default
// DefaultClassify: 5xx, 429 and transport errors are failures, other 4xx
// are not) decides what the breaker records. The response is returned to the
// caller whatever its status, its body untouched: a 500 is still the
// server's answer, with whatever the server said in it.
//
// # The response body
//
// A response is not finished when RoundTrip returns: its body is still on
// the wire. The Transport's timeout and bulkhead slot therefore last until
// the body is read to the end (io.EOF or an error) or closed, never just
// until RoundTrip returns. The request's context is cancelled then, and the
// slot given back; a body read slowly but within the timeout is read whole,
// and a body that stalls is cut at the deadline with an error matching
// timeout.ErrTimeout and context.DeadlineExceeded, which names the
// Transport (`timeout "payments": deadline exceeded`) as the timeout
// package's errors name their policy.
//
// As with any http.Client, close every response body. A body never closed
// still lets go of its slot when the request's context ends (the timeout,
// or the caller cancelling), through context.AfterFunc; no goroutine waits
// per request. Until the base transport's RoundTrip has returned, though,
// the slot is held however late that is, so the bulkhead bounds the
// requests really in flight, not only those whose context is still live.
//
// The breaker records its outcome when the headers arrive: a body that
// fails later (cut by the timeout, say) does not count against the host.
// Reading a response body after RoundTrip returned is never cut short by
// the Transport, except at its deadline.
//
// # Refusals
//
// A refused request never reaches the server, and its body is closed, as
// the http.RoundTripper contract asks. By default RoundTrip returns the
// refusal as an error matching resilience.ErrRejected and the refusing
// package's sentinel (breaker.ErrOpen, breaker.ErrTooManyProbes,
// bulkhead.ErrFull); http.Client wraps it in a *url.Error, through which
// errors.Is and errors.As still work. The breaker's *breaker.RejectedError
// tells, with RetryAfter, when it will probe again.
//
// With Config.RefusalResponse the refusal is instead a synthesized
// "503 Service Unavailable" with an empty body and, from the breaker, a
// Retry-After header: handy for a proxy that passes responses on.
//
// The library's refusals are never failures of the host: a full bulkhead
// does not trip a breaker. Neither does the caller giving up on its own
// context.
//
// # Retry-After
//
// A 429 or 503 response classified as a failure may carry Retry-After, in
// seconds or as an HTTP date. The breaker then stays open that long, when
// this response opens it, instead of its own open duration (see
// StatusError.RetryAfter), capped by Config.MaxRetryAfter (5 minutes by
// default) so a server cannot park the breaker open for a day, and by the
// breaker's MaxOpenTimeout when set.
//
// # Fallback
//
// Config.Fallback may answer for a refused request, a failed one, or one
// whose response was a failure: a cached copy, or the same request sent
// to a second host. A response it replaces is drained (up to 4 KiB) and
// closed, so its connection can be reused. NewResponse builds a complete
// response to answer with. The request body is never
// replayed: a fallback that sends the request again must take a fresh body
// from req.GetBody.
//
// # Connections and protocols
//
// A failure response read and closed by the caller leaves its connection
// to be reused, as with the base transport alone. One closed unread (a
// caller that only looks at the status) would make net/http drop its
// connection, and in a storm of 5xx every request would then pay a new
// TCP and TLS handshake to a dependency that is already struggling; so
// closing the body of a response classified as a Failure first drains what
// is left of it, at most 4 KiB and for at most 20ms, never past the
// request's deadline. A longer or stalled body is closed as net/http
// closes it, the connection with it. Other responses closed early are
// closed at once: the caller wanted no more. It works the same over HTTP/1.1 and
// HTTP/2 (an http.Transport with HTTP/2, or golang.org/x/net/http2's), and
// keeps the body of a 101 Switching Protocols response writable. Its
// CloseIdleConnections reaches the base transport's, so
// http.Client.CloseIdleConnections works through it.
//
// # Retries
//
// With Config.Retry a request that may be sent twice (Retryable: an
// idempotent method, or an Idempotency-Key header, and a body GetBody can
// give again; a POST without a key never is) is sent again after a
// transport error, a timeout or a failure response, under a retry.Retry:
// backoff with jitter, a Retry-After on a 429 or 503 as the next delay,
// never past the request's deadline, and a retry budget. The retry is the
// outermost layer: each attempt passes the breaker (an open breaker ends
// the retries at once, and the server sees nothing while it is open) and
// the bulkhead again, and gets its own Config.Timeout; Retry.MaxDuration,
// when set, bounds the whole request, body included. Before each new
// attempt the failed response's body is closed, which drains it first
// (see "The response body"), so its connection carries the next attempt.
//
// # Observing
//
// Breakers() returns the breaker.Set, for health checks (Range, State,
// Counts) and to force a host's breaker open or closed; Bulkheads() yields
// the bulkheads, as grpcx.Interceptors' do. With these two a Transport is a
// health.Source and a metrics.Source: give it to health.Config.Sources and
// metrics.Collector.WatchSource as it is, and hosts first called later are
// reported too. Config.Observer is told of the breakers' and bulkheads'
// events and of the Transport's own (EventTimeout, EventFallback), with
// Event.Key the request's key; the metrics package turns them into
// Prometheus metrics.
//
// # Server side
//
// The same policies protect a server from its clients. NewServer returns a
// Server whose Middleware wraps a handler: each request runs under
// ServerConfig.Policy (a bulkhead, an adaptive concurrency limit, a rate
// limiter, or a Chain of them), and one it refuses is answered at once,
// before any work: 429 Too Many Requests for a rate limiter's refusal, 503
// Service Unavailable for every other, with Retry-After from the
// refusal's hint (resilience.RetryAfter) or ServerConfig.RetryAfter. A
// load balancer or a client of this package learns "overloaded, come back
// later" in a round trip, instead of after its own timeout, and the
// requests the server does accept keep their normal latency: goodput stays
// at capacity instead of collapsing as a queue of work nobody waits for
// grows. ServerConfig.Exempt keeps health, readiness and metrics paths out
// of it. A request whose client goes away has its context cancelled by
// net/http; a waiting request leaves the queue at once and a running one
// gives its slot back when the handler returns.
//
// Admission looks at the request's time left: with
// ServerConfig.TimeoutHeader set, a client's remaining timeout (in
// milliseconds) becomes the request's deadline, and a request with less
// than ServerConfig.MinDeadline left is refused at once: nobody would be
// waiting for its answer.
//
// # Queues that do not stand
//
// A Policy may let requests wait for a slot (bulkhead.Config.MaxWait). A
// short queue absorbs bursts; a queue that never drains only adds its
// length to every request's latency. ServerConfig.MaxWaiting bounds how
// many wait, and ServerConfig.QueueTarget applies the CoDel rule (Nichols
// and Jacobson's controlled delay, as large services apply it to request
// queues): the Server measures how long each request waited for its
// Policy. Once every request admitted during the last QueueInterval
// (100ms by default) has waited at least QueueTarget, the queue is
// standing rather than absorbing a burst, and from then on a request that
// has waited QueueTarget or longer is refused (ErrStandingQueue) the
// moment its turn comes, handing its slot straight to the next, instead
// of being served late. The first request that waited less than
// QueueTarget ends the state. A burst shorter than the interval is never
// cut; under sustained overload the queue drains to about QueueTarget.
//
// Server.Shedding says whether the Server is refusing requests and since
// when; a Server is a health.Shedder, so a readiness probe can report it.
// ServerConfig.Observer receives EventAdmitted (with the time waited) and
// EventShed; the metrics package counts them.
package httpx
