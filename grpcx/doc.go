// Package grpcx guards the calls of a gRPC client with the policies of this
// module: a circuit breaker per method, a bulkhead, a timeout, and a
// fallback for unary calls. It is a pair of client interceptors, for unary
// calls and for streams, that share the same breakers and bulkheads.
//
//	ic, err := grpcx.New(grpcx.Config{
//		Name:     "inventory",
//		Breaker:  breaker.KeyedConfig{Config: breaker.Config{OpenTimeout: 10 * time.Second}},
//		Bulkhead: bulkhead.Config{MaxConcurrent: 64},
//		Timeout:  2 * time.Second,
//	})
//	if err != nil {
//		return err
//	}
//	conn, err := grpc.NewClient(target, append(opts, ic.DialOptions()...)...)
//
// Every call made on conn then goes, outermost first, through its method's
// breaker, the bulkhead and the timeout, and then to the interceptors
// chained after these ones and to the server. Chain other interceptors
// (retries, say) before these to have them see refusals, or after to have
// them run once per call let through.
//
// # Retries
//
// With Config.Retry a unary call that failed with Unavailable (or with
// ResourceExhausted and a grpc-retry-pushback-ms trailer) is sent again
// under a retry.Retry: backoff with jitter, the server's pushback as the
// next delay (a negative one ends the retries), never past the caller's
// deadline, and a retry budget. Each attempt passes the breaker (an open
// breaker ends the retries at once) and the bulkhead again and gets its
// own Config.Timeout. Streams are not retried. gRPC has retries of its own,
// configured by a retryPolicy in the service config; the two must not be
// stacked (each of our attempts would be retried by gRPC too), so
// DialOptions adds grpc.WithDisableRetry() when Config.Retry is set. Keep
// gRPC's instead, and leave Config.Retry nil, when the server's owners
// manage retries through the service config.
//
// # Keys
//
// Each call has a key, the full method name ("/pkg.Service/Method") unless
// Config.Key says otherwise, and each key has a breaker of its own: a
// failing method is cut off while the others go on. Map methods to their
// service to have a service fail as one, or to a constant for the whole
// connection. The breakers live in a breaker.Set (Interceptors.Breakers),
// bounded by Config.Breaker.MaxKeys, for health checks and metrics.
//
// The bulkhead is shared by every call of the Interceptors, unless
// Config.BulkheadPerKey gives each key one of its own, so that a slow
// method cannot take every slot.
//
// # What counts as a failure
//
// The breaker counts a call as failed by its status code (see Classify):
// Unavailable, DeadlineExceeded, ResourceExhausted, Internal, Unknown and
// DataLoss are failures of the server; InvalidArgument, NotFound and the
// other codes that mean the server answered are successes; Canceled is
// ignored. Whatever the classifier says, a call whose caller's own context
// was cancelled or whose caller's own deadline passed is ignored, and so
// are the library's own refusals. Config.Classifier replaces Classify.
//
// # Deadlines
//
// With Config.Timeout, a unary call's context gets the earlier of the
// caller's deadline and Timeout from now, and gRPC sends that deadline to
// the server, which sees the same one. When the policy's deadline passes
// first the call fails with code DeadlineExceeded, its error matches
// timeout.ErrTimeout, and the breaker counts it as a failure; when the
// caller's passes first, the breaker ignores it.
//
// The server, given the same deadline, may end the call a moment before
// the client's own timer fires. When a call fails with DeadlineExceeded
// after its deadline has passed by the clock, the interceptors wait for
// that timer (it is due) before the outcome is classified, so the caller's
// own deadline is still ignored, never counted as the server's failure.
//
// A gRPC deadline covers the whole call, and for a stream that is its
// whole life, messages included, not only its start. So streams have their
// own Config.StreamTimeout, zero by default: a long-lived stream (a watch,
// a subscription) should not have one, a stream that is a bounded exchange
// may. A stream's context with that deadline lives until the stream ends.
//
// # Refusals
//
// A call refused by its breaker (open, or half-open with every probe out)
// or by a full bulkhead never reaches the server: the caller gets a
// *RejectedError, which is a gRPC status error with code Unavailable whose
// message says when to try again, and still a Go error chain that matches
// resilience.ErrRejected and the refusing package's sentinel
// (breaker.ErrOpen, breaker.ErrTooManyProbes, bulkhead.ErrFull):
//
//	resp, err := client.Check(ctx, req)
//	switch {
//	case errors.Is(err, resilience.ErrRejected): // refused here, fast
//	case status.Code(err) == codes.Unavailable: // the server is down
//	}
//
// A refusal costs one small allocation (the *RejectedError), and its
// status is built only when asked for.
//
// # Streams
//
// A stream is one call to its breaker and holds one bulkhead slot from
// before it starts until it ends. The outcome recorded is the stream's: the
// error that kept it from starting, or its final status, the error RecvMsg
// returns at its end (io.EOF means OK). The slot and a half-open probe are
// given back exactly once, when gRPC ends the stream: its final status has
// been received, the caller cancelled its context or its deadline passed,
// or the connection was closed. An abandoned stream (its context
// cancelled, RecvMsg no longer called) does not keep its slot.
//
// The interceptor learns of the end from gRPC's grpc.OnFinish call option,
// which brings the final status however the stream ends, and from a
// context.AfterFunc on the stream's context, which stops when the stream
// ends first: no goroutine of its own per stream. As gRPC itself, it needs
// the caller to do one of these; a stream never read to its end, whose
// context is never cancelled, on a connection never closed, keeps its slot
// (and gRPC its goroutine).
//
// A breaker's Config.SlowCallThreshold measures a stream's whole life;
// leave it zero when the Interceptors guard long-lived streams.
//
// # Fallback
//
// Config.UnaryFallback answers a unary call that failed or was refused,
// by filling its reply:
//
//	UnaryFallback: func(ctx context.Context, method string, req, reply any, err error) error {
//		if !errors.Is(err, resilience.ErrRejected) {
//			return err // decline: only answer calls that were refused
//		}
//		proto.Merge(reply.(proto.Message), cached(method, req))
//		return nil
//	},
//
// It is never asked when the caller's own context is done. Streams have no
// fallback.
//
// # Observing
//
// Config.Observer sees everything the interceptors do: the breakers' calls,
// refusals and changes of state, the bulkheads' slots, waits and refusals,
// an EventTimeout for each unary call or stream whose policy deadline
// passed, and an EventFallback for each answer of UnaryFallback, each with
// Event.Key set to the call's key (except the events of a bulkhead shared
// by every key). Give it the metrics package's collector to export them.
// Breaker.Observer or Bulkhead.Observer, when set, take the place of
// Observer for that policy's events.
//
// Interceptors.Breakers and Interceptors.Bulkheads give the breakers and
// bulkheads in the same shape as httpx.Transport's, which makes
// Interceptors a health.Source and a metrics.Source: give them to
// health.Config.Sources and metrics.Collector.WatchSource as they are, and
// methods first called later are reported too.
//
// # Server side
//
// NewServer returns a Server whose UnaryServerInterceptor and
// StreamServerInterceptor (installed together by ServerOptions) run each
// incoming call under ServerConfig.Policy and refuse the rest at once,
// before the handler: codes.ResourceExhausted for a rate limiter's
// refusal, codes.Unavailable for overload, with the refusal's hint (or
// ServerConfig.RetryAfter) in the grpc-retry-pushback-ms trailer, which
// gRPC's retry design and this module's client honour as the wait before
// trying again. The error is a *ShedError: a status and a Go error chain.
// A stream holds what the Policy gave it (a bulkhead slot) until its
// handler returns. Methods in ServerConfig.Exempt, by default the standard
// health service, are never refused.
//
// A call whose propagated deadline leaves less than
// ServerConfig.MinDeadline (or has passed) is refused at once with
// codes.DeadlineExceeded: its client will not wait for the answer.
// ServerConfig.MaxWaiting and ServerConfig.QueueTarget bound the queue
// in front of the Policy with the CoDel rule, as in httpx: once every call
// admitted over the last QueueInterval waited QueueTarget or longer, a
// call that waited that long is refused when its turn comes (see the
// httpx package doc, "Queues that do not stand"). Server.Shedding
// reports whether the Server is refusing calls and since when; a Server
// is a health.Shedder.
package grpcx
