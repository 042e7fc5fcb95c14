package bench

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-resilience/resilience/fallback"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEveryLibraryDoesWhatItsScenarioMeasures runs each library's op of
// every scenario once, as the benchmarks do before and after their timed
// loop, so that a scenario that measures the wrong path (a breaker that did
// not open, a fallback that did not answer) fails here without a benchmark
// run.
func TestEveryLibraryDoesWhatItsScenarioMeasures(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	callerCtx, cancel := context.WithTimeout(context.Background(), callerTimeout)
	defer cancel()
	bg := context.Background()

	for _, sc := range []struct {
		name string
		ctx  context.Context
		libs func(testing.TB) []lib
		want []string
	}{
		{"BreakerSuccess", bg, func(tb testing.TB) []lib { return breakerLibs(tb, false) },
			[]string{"resilience", "gobreaker", "failsafe", "eapache", "rubyist"}},
		{"BreakerOpen", bg, func(tb testing.TB) []lib { return breakerLibs(tb, true) },
			[]string{"resilience", "gobreaker", "failsafe", "eapache", "rubyist"}},
		{"Bulkhead", bg, bulkheadLibs, []string{"resilience", "semaphore", "failsafe", "eapache"}},
		{"Timeout", bg, timeoutLibs, []string{"resilience", "context", "failsafe", "eapache"}},
		{"ChainSuccess", bg, func(tb testing.TB) []lib { return chainLibs(tb, bg, chainSuccess) },
			[]string{"resilience", "resilience-exec", "hand", "failsafe", "hystrix", "eapache"}},
		{"ChainOpen", bg, func(tb testing.TB) []lib { return chainLibs(tb, bg, chainOpen) },
			[]string{"resilience", "resilience-exec", "hand", "failsafe", "hystrix", "eapache"}},
		{"ChainCallerDeadline", callerCtx, func(tb testing.TB) []lib { return chainLibs(tb, callerCtx, chainCallerDeadline) },
			[]string{"resilience", "resilience-exec", "hand", "failsafe", "hystrix", "eapache"}},
		{"HTTP", bg, func(tb testing.TB) []lib { return httpLibs(tb, srv.URL) },
			[]string{"resilience", "bare", "failsafe", "rubyist"}},
		{"RetrySuccess", bg, retrySuccessLibs, []string{"resilience", "hand", "failsafe"}},
		{"RetryOnce", bg, retryOnceLibs, []string{"resilience", "hand", "failsafe"}},
		{"RetryChain", bg, retryChainLibs, []string{"resilience", "resilience-noretry", "resilience-counting"}},
	} {
		t.Run(sc.name, func(t *testing.T) {
			libs := sc.libs(t)
			var names []string
			for _, l := range libs {
				names = append(names, l.name)
				assert.NoError(t, expect(l.op(sc.ctx), l.want), l.name)
			}
			assert.Equal(t, sc.want, names)
		})
	}
}

// TestChainCallerDeadlineMakesNoTimer pins the claim of the
// ChainCallerDeadline scenario that the benchmark cannot see: when the
// caller's deadline is earlier than the timeout policy's, the chain derives
// no context from the caller's (so starts no timer) and, run with Execute,
// allocates nothing.
func TestChainCallerDeadlineMakesNoTimer(t *testing.T) {
	p, _ := ourChain(t)
	ctx, cancel := context.WithTimeout(context.Background(), callerTimeout)
	defer cancel()

	var seen context.Context
	require.NoError(t, p.Execute(ctx, func(c context.Context) error { seen = c; return nil }))
	assert.True(t, seen == ctx, "Execute: the call gets the caller's own context")

	v, err := fallback.Do(ctx, p, func(c context.Context) (int, error) { seen = c; return 1, nil }, fallback.Value(fallbackValue))
	require.NoError(t, err)
	assert.Equal(t, 1, v)
	assert.Equal(t, ctx.Done(), seen.Done(), "fallback.Do: the call's context is done when, and only when, the caller's is")

	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = p.Execute(ctx, work) }), "allocations per Execute")
}
