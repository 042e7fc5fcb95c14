package httpx

import (
	"context"
	"io"
	"time"
)

// Draining a body before closing it is what lets net/http reuse its
// connection: an HTTP/1.1 connection whose response was not read to the end
// is closed, and the next request pays a new TCP (and TLS) handshake. A
// failure response is usually short (an error page, a JSON error), so the
// few KiB it holds are worth reading; a long or stalled one is not.
const (
	// maxDrain is how many bytes drain reads at most.
	maxDrain = 4 << 10
	// maxDrainWait is how long drain waits for them at most.
	maxDrainWait = 20 * time.Millisecond
)

// drain reads what is left of body and discards it, at most maxDrain bytes
// and for at most maxDrainWait, never past ctx's deadline, so that the
// connection the body came on can be reused. It reports whether it read
// body to its end. It does not close body.
//
// ctx is the context the request was sent with, and abort must cancel it:
// when the wait is over while a read is blocked, drain calls abort, which
// makes net/http close the connection (HTTP/1) or reset the stream (HTTP/2)
// and the read return. abort may be called after drain has returned; it
// must be safe for that. When ctx is already done, drain reads nothing.
// The caller still has to close body.
func drain(ctx context.Context, body io.Reader, abort func()) bool {
	if ctx.Err() != nil {
		return false
	}
	wait := maxDrainWait
	if dl, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(dl))
		if wait <= 0 {
			return false
		}
	}
	t := time.AfterFunc(wait, abort)
	defer t.Stop()
	n, err := io.Copy(io.Discard, io.LimitReader(body, maxDrain+1))
	return err == nil && n <= maxDrain
}
