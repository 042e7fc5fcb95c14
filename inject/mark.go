package inject

import "context"

// markKey is the context key of Mark.
type markKey struct{}

// Mark returns a context derived from ctx that marks the calls made with
// it: with Config.MarkedOnly, only marked calls get faults. Mark a test
// request, a synthetic probe or one tenant's traffic to fail it on
// purpose while every other call runs untouched.
func Mark(ctx context.Context) context.Context {
	return context.WithValue(ctx, markKey{}, true)
}

// Marked reports whether ctx, or a context it derives from, was marked
// with Mark.
func Marked(ctx context.Context) bool {
	return ctx.Value(markKey{}) != nil
}
