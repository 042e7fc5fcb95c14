package fallback_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/fallback"
	"github.com/go-resilience/resilience/internal/eventlog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	errDown     = errors.New("dependency down")
	errReplica  = errors.New("replica down too")
	errRefused  = fmt.Errorf("breaker: open: %w", resilience.ErrRejected)
	errTimedOut = fmt.Errorf("timeout: %w", context.DeadlineExceeded)
)

func failWith(err error) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return "", err }
}

func TestHelpersAnswerOnlyTheErrorsTheyMatch(t *testing.T) {
	cached := fallback.Value("cached")
	for _, tc := range []struct {
		name     string
		fb       fallback.Func[string]
		err      error
		answered bool
	}{
		{"Value answers a failure", cached, errDown, true},
		{"Value answers a refusal", cached, errRefused, true},
		{"OnRejected answers a refusal", fallback.OnRejected(cached), errRefused, true},
		{"OnRejected declines a failure", fallback.OnRejected(cached), errDown, false},
		{"OnRejected declines a timeout", fallback.OnRejected(cached), errTimedOut, false},
		{"OnTimeout answers a timeout", fallback.OnTimeout(cached), errTimedOut, true},
		{"OnTimeout declines a refusal", fallback.OnTimeout(cached), errRefused, false},
		{"OnTimeout declines a failure", fallback.OnTimeout(cached), errDown, false},
		{"When answers what the predicate matches", fallback.When(func(err error) bool { return errors.Is(err, errDown) }, cached), errDown, true},
		{"When declines the rest", fallback.When(func(err error) bool { return errors.Is(err, errDown) }, cached), errRefused, false},
		{"Call fails over", fallback.Call(func(context.Context) (string, error) { return "cached", nil }), errDown, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := fallback.Do(context.Background(), resilience.Chain(), failWith(tc.err), tc.fb)
			if tc.answered {
				require.NoError(t, err)
				assert.Equal(t, "cached", got)
				return
			}
			assert.ErrorIs(t, err, tc.err)
			var both *fallback.Error
			assert.False(t, errors.As(err, &both), "a declined error is returned as it is")
			assert.Empty(t, got)
		})
	}
}

func TestDoDoesNotAskTheFallbackWhenTheCallSucceeds(t *testing.T) {
	asked := false
	got, err := fallback.Do(context.Background(), resilience.Chain(),
		func(context.Context) (string, error) { return "fresh", nil },
		func(context.Context, error) (string, error) { asked = true; return "stale", nil })
	require.NoError(t, err)
	assert.Equal(t, "fresh", got)
	assert.False(t, asked)
}

func TestDoNeverAnswersForACallerWhoGaveUp(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	asked := false
	_, err := fallback.Do(ctx, resilience.Chain(),
		func(ctx context.Context) (string, error) { cancel(); return "", ctx.Err() },
		func(context.Context, error) (string, error) { asked = true; return "stale", nil })
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, asked)
}

func TestAFailingFallbackKeepsBothErrors(t *testing.T) {
	got, err := fallback.Do(context.Background(), resilience.Chain(), failWith(errDown),
		fallback.Call(func(context.Context) (string, error) { return "", errReplica }))
	assert.Empty(t, got)
	assert.ErrorIs(t, err, errDown)
	assert.ErrorIs(t, err, errReplica)
	var both *fallback.Error
	require.ErrorAs(t, err, &both)
	assert.Equal(t, errDown, both.Err)
	assert.Equal(t, errReplica, both.Fallback)
	assert.Equal(t, "dependency down; fallback failed: replica down too", err.Error())
}

func TestAFallbackThatWrapsTheErrorDeclines(t *testing.T) {
	wrap := func(_ context.Context, err error) (string, error) { return "", fmt.Errorf("still: %w", err) }
	_, err := fallback.Do(context.Background(), resilience.Chain(), failWith(errDown), wrap)
	assert.ErrorIs(t, err, errDown)
	assert.EqualError(t, err, "still: dependency down")
}

func TestDoWithoutAFallbackIsResilienceDo(t *testing.T) {
	_, err := fallback.Do(context.Background(), resilience.Chain(), failWith(errDown), nil)
	assert.Equal(t, errDown, err)
}

// A nil policy is a programming error, not a failure to answer for
// (issue 14): the fallback is not asked, and the error surfaces.
func TestDoWithANilPolicyIsNotAnsweredByTheFallback(t *testing.T) {
	asked := false
	got, err := fallback.Do(context.Background(), nil, failWith(errDown), func(context.Context, error) (string, error) {
		asked = true
		return "cached", nil
	})
	require.ErrorIs(t, err, resilience.ErrNilPolicy)
	assert.ErrorIs(t, err, resilience.ErrMisuse)
	assert.Empty(t, got)
	assert.False(t, asked)
}

func TestObserveReportsOnlyAnsweredErrors(t *testing.T) {
	o := &eventlog.Recorder{}
	fb := fallback.Observe(o, "prices", fallback.OnRejected(fallback.Value("cached")))

	_, err := fallback.Do(context.Background(), resilience.Chain(), failWith(errDown), fb)
	assert.ErrorIs(t, err, errDown)
	assert.Empty(t, o.Events(), "a declined error is not a fallback served")

	got, err := fallback.Do(context.Background(), resilience.Chain(), failWith(errRefused), fb)
	require.NoError(t, err)
	assert.Equal(t, "cached", got)
	events := o.Events()
	require.Len(t, events, 1)
	assert.Equal(t, resilience.EventFallback, events[0].Kind)
	assert.Equal(t, "prices", events[0].Policy)
	assert.ErrorIs(t, events[0].Err, resilience.ErrRejected)
}

func TestObserveWithoutAnObserverIsTheFuncItself(t *testing.T) {
	calls := 0
	f := fallback.Func[int](func(context.Context, error) (int, error) { calls++; return 1, nil })
	v, err := fallback.Observe(nil, "x", f)(context.Background(), errDown)
	require.NoError(t, err)
	assert.Equal(t, 1, v)
	assert.Equal(t, 1, calls)
}

func TestPanicInTheFallbackReachesTheCaller(t *testing.T) {
	assert.PanicsWithValue(t, "fallback bug", func() {
		_, _ = fallback.Do(context.Background(), resilience.Chain(), failWith(errDown),
			func(context.Context, error) (string, error) { panic("fallback bug") })
	})
}
