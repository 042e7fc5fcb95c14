package resilience_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/adaptive"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/fallback"
	"github.com/go-resilience/resilience/inject"
	"github.com/go-resilience/resilience/internal/eventlog"
	"github.com/go-resilience/resilience/ratelimit"
	"github.com/go-resilience/resilience/retry"
	"github.com/go-resilience/resilience/timeout"
)

// callMark marks the context a test's calls are made with.
type callMark struct{}

// Every event a policy reports about a call carries the call's context
// (Event.Ctx), so that an Observer can find the call's trace span in it.
func TestEventsCarryTheCallsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &eventlog.Recorder{}
		must := func(err error) { t.Helper(); require.NoError(t, err) }
		rl, err := ratelimit.New(ratelimit.Config{Name: "rl", Rate: 1, Burst: 1, MaxWait: 2 * time.Second, Observer: rec})
		must(err)
		al, err := adaptive.New(adaptive.Config{Name: "al", Observer: rec})
		must(err)
		rt, err := retry.New(retry.Config{Name: "rt", MaxAttempts: 3, BaseDelay: time.Millisecond, Observer: rec})
		must(err)
		brk, err := breaker.New(breaker.Config{Name: "brk", ConsecutiveFailures: 2, Observer: rec})
		must(err)
		bulk, err := bulkhead.New(bulkhead.Config{Name: "bulk", MaxConcurrent: 1, Observer: rec})
		must(err)
		tmo, err := timeout.New(timeout.Config{Name: "tmo", Timeout: 10 * time.Millisecond, Observer: rec})
		must(err)
		in, err := inject.New(inject.Config{Name: "in", Share: 1, Delay: time.Millisecond, Observer: rec})
		must(err)
		in.Enable()
		p := resilience.Chain(rl, al, rt, brk, bulk, tmo, in)
		fb := fallback.Observe(rec, "fb", fallback.OnRejected(fallback.Value(0)))
		rec.Take() // the adaptive limiter's first limit, reported by New with no call

		ctx := context.WithValue(context.Background(), callMark{}, "call")
		hang := func(ctx context.Context) (int, error) { <-ctx.Done(); return 0, ctx.Err() }
		_, err = fallback.Do(ctx, p, hang, fb) // times out, retried, opens the breaker, refused, answered
		require.NoError(t, err)
		_, err = fallback.Do(ctx, p, hang, fb) // the rate limiter makes it wait, the open breaker refuses
		require.NoError(t, err)

		evs := rec.Take()
		kinds := map[resilience.EventKind]bool{}
		for _, e := range evs {
			kinds[e.Kind] = true
			if assert.NotNil(t, e.Ctx, "%s of %s", e.Kind, e.Policy) {
				assert.Equal(t, "call", e.Ctx.Value(callMark{}), "%s of %s carries the call's context", e.Kind, e.Policy)
			}
		}
		for _, k := range []resilience.EventKind{
			resilience.EventCall, resilience.EventRejected, resilience.EventTimeout, resilience.EventStateChange,
			resilience.EventAcquire, resilience.EventRelease, resilience.EventWait, resilience.EventFallback,
			resilience.EventInjected, resilience.EventRetry,
		} {
			assert.True(t, kinds[k], "the test saw %s", k)
		}
	})
}
