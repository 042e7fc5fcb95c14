package resilience_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/go-resilience/resilience"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var errGaveUp = errors.New("policy stopped waiting")

// abandoning is a policy that starts the call in the background and returns
// before it finishes, the way timeout's abandon mode does.
type abandoning struct {
	wg sync.WaitGroup
}

func (a *abandoning) Execute(ctx context.Context, call func(context.Context) error) error {
	a.wg.Go(func() { _ = call(ctx) })
	return errGaveUp
}

func TestDoReturnsTheTypedResultAndError(t *testing.T) {
	boom := errors.New("boom")
	pass := resilience.Chain()
	refuse := resilience.PolicyFunc(func(context.Context, func(context.Context) error) error { return resilience.ErrRejected })
	for _, tc := range []struct {
		name    string
		p       resilience.Policy
		fn      func(context.Context) (int, error)
		want    int
		wantErr error
	}{
		{"success", pass, func(context.Context) (int, error) { return 7, nil }, 7, nil},
		{"the call's error with its result", pass, func(context.Context) (int, error) { return 3, boom }, 3, boom},
		{"a refusal with the zero value", refuse, func(context.Context) (int, error) { return 9, nil }, 0, resilience.ErrRejected},
		{"a nil policy", nil, func(context.Context) (int, error) { return 9, nil }, 0, resilience.ErrNilPolicy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := resilience.Do(context.Background(), tc.p, tc.fn)
			assert.Equal(t, tc.want, got)
			if tc.wantErr == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tc.wantErr)
			}
		})
	}
}

func TestDoDropsTheResultOfACallThePolicyStoppedWaitingFor(t *testing.T) {
	p := &abandoning{}
	release := make(chan struct{})
	finished := make(chan string, 1)
	got, err := resilience.Do(context.Background(), p, func(context.Context) (string, error) {
		<-release // still running when Do returns
		v := "late"
		finished <- v
		return v, nil
	})
	close(release)
	assert.Equal(t, "late", <-finished) // the callee did produce a result…
	p.wg.Wait()
	assert.ErrorIs(t, err, errGaveUp)
	assert.Empty(t, got) // …which Do never hands out; -race checks nobody wrote it under us
}

func TestDoUnderManyAbandonsIsRaceFree(t *testing.T) {
	p := &abandoning{}
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			got, err := resilience.Do(context.Background(), p, func(context.Context) ([]int, error) {
				return []int{i}, nil
			})
			// Either the call finished first and its result is kept, or it
			// was abandoned and the result is the zero value.
			if got != nil {
				assert.Equal(t, []int{i}, got)
			}
			assert.ErrorIs(t, err, errGaveUp)
		})
	}
	wg.Wait()
	p.wg.Wait()
}

func TestDoKeepsTheResultOfTheLastRunWhenAPolicyRetries(t *testing.T) {
	retryOnce := resilience.PolicyFunc(func(ctx context.Context, call func(context.Context) error) error {
		if err := call(ctx); err == nil {
			return nil
		}
		return call(ctx)
	})
	attempts := 0
	got, err := resilience.Do(context.Background(), retryOnce, func(context.Context) (string, error) {
		attempts++
		if attempts == 1 {
			return "first", errors.New("transient")
		}
		return "second", nil
	})
	require.NoError(t, err)
	assert.Equal(t, "second", got)
	assert.Equal(t, 2, attempts)
}

func TestDoRefusesAPolicyThatLosesItsContext(t *testing.T) {
	detached := resilience.PolicyFunc(func(_ context.Context, call func(context.Context) error) error {
		return call(context.Background())
	})
	ran := false
	_, err := resilience.Do(context.Background(), detached, func(context.Context) (int, error) { ran = true; return 1, nil })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not derived")
	assert.False(t, ran)
}

func TestDoGivesTheCallAContextDerivedFromTheCaller(t *testing.T) {
	type key struct{}
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	_, err := resilience.Do(ctx, resilience.Chain(), func(ctx context.Context) (int, error) {
		assert.Equal(t, "v", ctx.Value(key{}))
		cancel()
		<-ctx.Done() // the caller's cancellation reaches the call
		return 0, ctx.Err()
	})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestNestedDoFindsItsOwnCall(t *testing.T) {
	outer, err := resilience.Do(context.Background(), resilience.Chain(), func(ctx context.Context) (string, error) {
		inner, err := resilience.Do(ctx, resilience.Chain(), func(context.Context) (string, error) { return "inner", nil })
		return "outer+" + inner, err
	})
	require.NoError(t, err)
	assert.Equal(t, "outer+inner", outer)

	n, err := resilience.Do(context.Background(), resilience.Chain(), func(ctx context.Context) (int, error) {
		s, err := resilience.Do(ctx, resilience.Chain(), func(context.Context) (string, error) { return "41", nil })
		v, _ := strconv.Atoi(s)
		return v + 1, err
	})
	require.NoError(t, err)
	assert.Equal(t, 42, n)
}

func TestDoCostsOneAllocationBeyondTheChain(t *testing.T) {
	p := resilience.Chain(&wrapping{name: "a"}, &wrapping{name: "b"})
	ctx := context.Background()
	fn := func(context.Context) (int, error) { return 1, nil }
	allocs := testing.AllocsPerRun(100, func() { _, _ = resilience.Do(ctx, p, fn) })
	assert.LessOrEqual(t, allocs, 1.0)
}
