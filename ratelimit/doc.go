// Package ratelimit lets calls through at a fixed rate, with bursts, on
// golang.org/x/time/rate: a partner API that allows 100 requests a second,
// a client that may send 10 a second to this server.
//
// A Limiter holds up to Config.Burst tokens, which come back at
// Config.Rate a second. Each call takes one. A call that finds none free
// is refused at once with an error matching ErrLimited and
// resilience.ErrRejected, or, with Config.MaxWait set, waits for a token
// at most that long and no longer than its context lives:
//
//	partner, err := ratelimit.New(ratelimit.Config{Name: "partner", Rate: 100, Burst: 10})
//	...
//	err = partner.Execute(ctx, func(ctx context.Context) error {
//		return callPartner(ctx, req)
//	})
//	if d, ok := resilience.RetryAfter(err); ok {
//		// refused: a token is free again in d
//	}
//
// # The retry-after hint
//
// A refusal implements resilience.Hinted: RetryAfter is how long until the
// limiter has a token free, read from the limiter when it is asked (so it
// is exact however late it is asked, and the refusal allocates nothing).
// retry waits that long before its next attempt; httpx and grpcx answer it
// as Retry-After or grpc-retry-pushback-ms.
//
// # No wasted tokens
//
// x/time/rate offers reservations: reserve a future token, wait for it,
// cancel the reservation if the caller gives up. But a cancelled
// reservation gives its token back only when no later reservation was made
// since; under concurrency, a caller that reserves and then cancels (its
// context ended, or its wait turned out longer than it may wait) burns a
// token nobody uses, and enough of them starve the limiter. This package
// never reserves: a caller takes a token only when one is free now
// (AllowN), and a waiting caller sleeps until the next token is due and
// then tries again. Refusals and cancellations leave the tokens as they
// were. The price: waiters are not served in arrival order.
//
// # Keys
//
// A Set keeps one limiter per key (client, route, tenant), at most
// SetConfig.MaxKeys, forgetting only limiters whose tokens have all come
// back; see Set.
package ratelimit
