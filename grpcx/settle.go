package grpcx

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
)

// settleWait bounds how long settle waits for a context whose deadline has
// passed to say so. Its timer is due already; this only guards against a
// Context implementation that reports a deadline and never ends.
const settleWait = 50 * time.Millisecond

// settle is called with the error of a call made with ctx. When the error
// says a deadline passed (code DeadlineExceeded) and ctx's deadline has
// passed by the clock, but ctx's timer has not fired yet, it waits for ctx
// to end.
//
// The server gets the same deadline and ends the call when it passes; its
// timer can fire first, and the client then returns DeadlineExceeded while
// ctx.Err() is still nil. Without waiting, the breaker (which tells the
// caller's own deadline from a failure by ctx.Err()) would count a call
// that ran out of its caller's time as a failure of the server, and the
// timeout would not know its own deadline had passed.
func settle(ctx context.Context, err error) {
	if ctx.Err() != nil || codeOf(err) != codes.DeadlineExceeded {
		return
	}
	dl, ok := ctx.Deadline()
	if !ok || time.Now().Before(dl) {
		return
	}
	t := time.NewTimer(settleWait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
