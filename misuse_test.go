package resilience_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/fallback"
	"github.com/go-resilience/resilience/timeout"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFallbackNeverAnswersAMisconfiguration is the report: a
// breaker whose constructor's error was discarded is nil; the Chain holding
// it and a fallback must not turn that into "cached" on every call. The
// error surfaces on the first call, names the element, and the call never
// runs.
func TestFallbackNeverAnswersAMisconfiguration(t *testing.T) {
	brk, err := breaker.New(breaker.Config{FailureRate: 50}) // out of range: brk is nil
	require.Error(t, err)
	bulk, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 4})
	require.NoError(t, err)
	tmo, err := timeout.New(timeout.Config{Timeout: time.Second})
	require.NoError(t, err)

	for _, tc := range []struct {
		name string
		p    resilience.Policy
	}{
		{"nil breaker in a Chain", resilience.Chain(brk, bulk, tmo)},
		{"zero breaker in a Chain", resilience.Chain(&breaker.Breaker{}, bulk, tmo)},
		{"zero bulkhead in a Chain", resilience.Chain(tmo, &bulkhead.Bulkhead{})},
		{"nil breaker in a nested Chain", resilience.Chain(resilience.Chain(brk), bulk)},
		{"nil breaker alone", brk},
		{"nil Policy", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ran := false
			for _, fb := range []fallback.Func[string]{
				fallback.Value("cached"),
				fallback.OnRejected(fallback.Value("cached")),
				fallback.Call(func(context.Context) (string, error) { return "replica", nil }),
			} {
				v, err := fallback.Do(context.Background(), tc.p, func(context.Context) (string, error) {
					ran = true
					return "live", nil
				}, fb)
				assert.Empty(t, v, "no fallback answers a misconfiguration")
				assert.ErrorIs(t, err, resilience.ErrMisuse)
				assert.NotErrorIs(t, err, resilience.ErrRejected)
			}
			assert.False(t, ran, "the call never runs")
		})
	}
}

func TestChainNamesTheBadElement(t *testing.T) {
	var brk *breaker.Breaker
	bulk, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
	require.NoError(t, err)
	err = resilience.Chain(bulk, brk).Execute(context.Background(), func(context.Context) error { return nil })
	assert.ErrorIs(t, err, resilience.ErrNilPolicy)
	assert.EqualError(t, err, "resilience: Chain element 1 of 2 is nil")
	err = resilience.Chain(bulk, &timeout.Timeout{}).Execute(context.Background(), func(context.Context) error { return nil })
	assert.EqualError(t, err, "resilience: Chain element 1 of 2: timeout: zero Timeout (make one with New): resilience: misuse")
}

// TestBreakerDoesNotCountMisuse: a programming error found inside a
// breaker (here a policy of the user's that calls a nil func) is not a
// failure of the dependency: counted, it would open the breaker, and a
// fallback would then answer the refusal, hiding the mistake.
func TestBreakerDoesNotCountMisuse(t *testing.T) {
	brk, err := breaker.New(breaker.Config{ConsecutiveFailures: 1})
	require.NoError(t, err)
	var missing *bulkhead.Bulkhead
	inner := resilience.PolicyFunc(func(ctx context.Context, call func(context.Context) error) error {
		return missing.Execute(ctx, call)
	})
	p := resilience.Chain(brk, inner)
	for range 3 {
		v, err := fallback.Do(context.Background(), p, func(context.Context) (int, error) { return 1, nil }, fallback.Value(2))
		assert.ErrorIs(t, err, resilience.ErrNilPolicy)
		assert.Zero(t, v)
	}
	assert.Equal(t, breaker.Closed, brk.State())
	assert.Equal(t, resilience.Ignored, resilience.Classifier(nil).Classify(context.Background(), resilience.ErrNilFunc))
}

// TestNilWhereAFuncOrValueIsRequired: every nil func, nil context or nil
// policy the issue lists returns an error matching ErrMisuse, never a
// nil-pointer panic, and runs nothing.
func TestNilWhereAFuncOrValueIsRequired(t *testing.T) {
	var nilCtx context.Context
	ctx := context.Background()
	brk, err := breaker.New(breaker.Config{})
	require.NoError(t, err)
	bulk, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
	require.NoError(t, err)
	tmo, err := timeout.New(timeout.Config{Timeout: time.Second})
	require.NoError(t, err)
	full := resilience.Chain(brk, bulk, tmo)
	user := resilience.PolicyFunc(func(ctx context.Context, call func(context.Context) error) error { return call(ctx) })
	mixed := resilience.Chain(user, brk)
	ok := func(context.Context) error { return nil }
	okInt := func(context.Context) (int, error) { return 1, nil }
	var nilFn func(context.Context) (int, error)
	for _, tc := range []struct {
		name string
		run  func() error
		want error
	}{
		{"Chain().Execute(ctx, nil)", func() error { return resilience.Chain().Execute(ctx, nil) }, resilience.ErrNilFunc},
		{"Chain().Execute(nil, call)", func() error { return resilience.Chain().Execute(nilCtx, ok) }, resilience.ErrNilContext},
		{"Chain(brk, bulk, tmo).Execute(ctx, nil)", func() error { return full.Execute(ctx, nil) }, resilience.ErrNilFunc},
		{"Chain(brk, bulk, tmo).Execute(nil, call)", func() error { return full.Execute(nilCtx, ok) }, resilience.ErrNilContext},
		{"Chain(user, brk).Execute(ctx, nil)", func() error { return mixed.Execute(ctx, nil) }, resilience.ErrNilFunc},
		{"Chain(user, brk).Execute(nil, call)", func() error { return mixed.Execute(nilCtx, ok) }, resilience.ErrNilContext},
		{"breaker Execute(ctx, nil)", func() error { return brk.Execute(ctx, nil) }, resilience.ErrNilFunc},
		{"breaker Execute(nil, call)", func() error { return brk.Execute(nilCtx, ok) }, resilience.ErrNilContext},
		{"breaker Allow(nil)", func() error { _, err := brk.Allow(nilCtx); return err }, resilience.ErrNilContext},
		{"nil breaker Allow", func() error { _, err := (*breaker.Breaker)(nil).Allow(ctx); return err }, resilience.ErrNilPolicy},
		{"zero breaker Execute", func() error { return new(breaker.Breaker).Execute(ctx, ok) }, resilience.ErrMisuse},
		{"zero breaker.Set Execute", func() error { return new(breaker.Set).Execute(ctx, "k", ok) }, resilience.ErrMisuse},
		{"bulkhead Execute(ctx, nil)", func() error { return bulk.Execute(ctx, nil) }, resilience.ErrNilFunc},
		{"zero bulkhead Execute", func() error { return new(bulkhead.Bulkhead).Execute(ctx, ok) }, resilience.ErrMisuse},
		{"timeout Execute(ctx, nil)", func() error { return tmo.Execute(ctx, nil) }, resilience.ErrNilFunc},
		{"Do(ctx, p, nil)", func() error { _, err := resilience.Do(ctx, full, nilFn); return err }, resilience.ErrNilFunc},
		{"Do(ctx, user, nil)", func() error { _, err := resilience.Do(ctx, user, nilFn); return err }, resilience.ErrNilFunc},
		{"Do(nil, p, fn)", func() error { _, err := resilience.Do(nilCtx, full, okInt); return err }, resilience.ErrNilContext},
		{"Do(ctx, nil, fn)", func() error { _, err := resilience.Do(ctx, nil, okInt); return err }, resilience.ErrNilPolicy},
		{"Do(ctx, nil PolicyFunc, fn)", func() error { _, err := resilience.Do(ctx, resilience.PolicyFunc(nil), okInt); return err }, resilience.ErrNilPolicy},
		{"nil PolicyFunc Execute", func() error { return resilience.PolicyFunc(nil).Execute(ctx, ok) }, resilience.ErrNilPolicy},
		{"Do(ctx, nil *Breaker, fn)", func() error { _, err := resilience.Do(ctx, (*breaker.Breaker)(nil), okInt); return err }, resilience.ErrNilPolicy},
		{"fallback.Do(ctx, p, nil, fb)", func() error {
			_, err := fallback.Do(ctx, full, nilFn, fallback.Value(3))
			return err
		}, resilience.ErrNilFunc},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { err = tc.run() })
			assert.ErrorIs(t, err, tc.want)
			assert.ErrorIs(t, err, resilience.ErrMisuse)
			assert.Zero(t, bulk.InFlight())
		})
	}
	assert.Equal(t, breaker.Closed, brk.State())
	assert.Zero(t, brk.Counts().Requests, "no misuse was counted")
}

// TestFallbackHelpersGivenNilFail: a helper given a nil func fails with
// ErrNilFunc when asked, instead of a nil-pointer panic, and Do reports it
// with the call's error.
func TestFallbackHelpersGivenNilFail(t *testing.T) {
	down := errors.New("down")
	fail := func(context.Context) (string, error) { return "", down }
	for name, fb := range map[string]fallback.Func[string]{
		"Call(nil)":          fallback.Call[string](nil),
		"When(nil, f)":       fallback.When(nil, fallback.Value("x")),
		"When(match, nil)":   fallback.When[string](func(error) bool { return true }, nil),
		"OnRejected(nil)":    fallback.OnRejected[string](nil),
		"Observe(o, n, nil)": fallback.Observe[string](nopObserver{}, "n", nil),
	} {
		t.Run(name, func(t *testing.T) {
			var (
				v   string
				err error
			)
			require.NotPanics(t, func() { v, err = fallback.Do(context.Background(), resilience.Chain(), fail, fb) })
			assert.Empty(t, v)
			assert.ErrorIs(t, err, resilience.ErrNilFunc)
			assert.ErrorIs(t, err, down, "the call's error stays reachable")
			var fe *fallback.Error
			assert.ErrorAs(t, err, &fe)
		})
	}
}

type nopObserver struct{}

func (nopObserver) Observe(resilience.Event) {}

// TestPanickingFallbackHoldsNothing: a fallback.Func that panics is asked
// after the chain has given back everything the call held; the panic
// reaches the caller, and the next call finds the slot free.
func TestPanickingFallbackHoldsNothing(t *testing.T) {
	brk, err := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenTimeout: time.Hour})
	require.NoError(t, err)
	bulk, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
	require.NoError(t, err)
	tmo, err := timeout.New(timeout.Config{Timeout: time.Second})
	require.NoError(t, err)
	p := resilience.Chain(brk, bulk, tmo)
	down := errors.New("down")
	boom := func(context.Context, error) (int, error) { panic("fallback") }
	for range 2 { // a failure, then a refusal of the open breaker
		assert.PanicsWithValue(t, "fallback", func() {
			_, _ = fallback.Do(context.Background(), p, func(context.Context) (int, error) { return 0, down }, boom)
		})
		assert.Zero(t, bulk.InFlight())
	}
	assert.Equal(t, breaker.Open, brk.State())
}
