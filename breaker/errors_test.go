package breaker_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSentinelsMatchErrRejected(t *testing.T) {
	assert.ErrorIs(t, breaker.ErrOpen, resilience.ErrRejected)
	assert.ErrorIs(t, breaker.ErrTooManyProbes, resilience.ErrRejected)
	assert.NotErrorIs(t, breaker.ErrOpen, breaker.ErrTooManyProbes)
	assert.Equal(t, "breaker: open", breaker.ErrOpen.Error())
	assert.Equal(t, "breaker: half-open probe limit", breaker.ErrTooManyProbes.Error())
}

func TestRejectedError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := breaker.NewSet(breaker.KeyedConfig{Config: breaker.Config{Name: "payments", ConsecutiveFailures: 1, OpenTimeout: 30 * time.Second}})
		require.NoError(t, err)
		b := s.Get("api.example.com")
		failN(t, b, 1)

		re := refusal(t, b)
		assert.Equal(t, "payments", re.Name)
		assert.Equal(t, "api.example.com", re.Key)
		assert.Equal(t, breaker.Open, re.State)
		assert.Equal(t, 30*time.Second, re.RetryAfter())
		assert.Equal(t, `breaker: open (name "payments", key "api.example.com")`, re.Error())
		assert.ErrorIs(t, re, breaker.ErrOpen)
		assert.ErrorIs(t, re, resilience.ErrRejected)

		time.Sleep(10 * time.Second)
		again := refusal(t, b)
		assert.Same(t, re, again, "one error per open period")
		assert.Equal(t, 20*time.Second, again.RetryAfter(), "RetryAfter counts down")

		time.Sleep(20 * time.Second)
		failN(t, b, 1)
		assert.NotSame(t, re, refusal(t, b), "a new open period has its own")
		assert.Zero(t, re.RetryAfter(), "an old period's error says retry now")
	})
}

func TestRejectedErrorMessages(t *testing.T) {
	for _, tc := range []struct {
		name, key, want string
	}{
		{"", "", "breaker: open"},
		{"n", "", `breaker: open (name "n")`},
		{"", "k", `breaker: open (key "k")`},
	} {
		t.Run(tc.want, func(t *testing.T) {
			var b *breaker.Breaker
			if tc.key == "" {
				b = mustNew(t, breaker.Config{Name: tc.name})
			} else {
				s, err := breaker.NewSet(breaker.KeyedConfig{Config: breaker.Config{Name: tc.name}})
				require.NoError(t, err)
				b = s.Get(tc.key)
			}
			b.ForceOpen()
			assert.Equal(t, tc.want, refusal(t, b).Error())
		})
	}
}

type nopObserver struct{}

func (nopObserver) Observe(resilience.Event) {}

func TestRefusingAllocatesNothing(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		setup func(b *breaker.Breaker)
		want  error
	}{
		{"open", func(b *breaker.Breaker) { _ = b.Execute(ctx, fail(errBoom)) }, breaker.ErrOpen},
		{"forced open", func(b *breaker.Breaker) { b.ForceOpen() }, breaker.ErrOpen},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := mustNew(t, breaker.Config{ConsecutiveFailures: 1, OpenTimeout: time.Hour})
			tc.setup(b)
			require.ErrorIs(t, b.Execute(ctx, succeed), tc.want)
			allocs := testing.AllocsPerRun(1000, func() {
				if !errors.Is(b.Execute(ctx, succeed), tc.want) {
					t.Fatal("not refused")
				}
			})
			assert.Zero(t, allocs)
		})
	}
	t.Run("half-open probe limit", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := mustNew(t, breaker.Config{ConsecutiveFailures: 1, OpenTimeout: time.Second, HalfOpenTimeout: time.Hour})
			failN(t, b, 1)
			time.Sleep(time.Second)
			done, err := b.Allow(ctx)
			require.NoError(t, err)
			allocs := testing.AllocsPerRun(1000, func() {
				if !errors.Is(b.Execute(ctx, succeed), breaker.ErrTooManyProbes) {
					t.Fatal("not refused")
				}
			})
			assert.Zero(t, allocs)
			done(nil)
		})
	})
}

func TestSuccessPathAllocatesNothing(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		cfg  breaker.Config
	}{
		{"default", breaker.Config{}},
		{"rate window and slow calls", breaker.Config{FailureRate: 0.5, SlowCallThreshold: time.Second}},
		{"observed", breaker.Config{Observer: nopObserver{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := mustNew(t, tc.cfg)
			assert.Zero(t, testing.AllocsPerRun(1000, func() { _ = b.Execute(ctx, succeed) }))
			failing := fail(errBoom)
			assert.Zero(t, testing.AllocsPerRun(1000, func() { _ = b.Execute(ctx, failing); _ = b.Execute(ctx, succeed) }),
				"failures without a hint allocate nothing either")
		})
	}
	t.Run("chain of breakers", func(t *testing.T) {
		p := resilience.Chain(mustNew(t, breaker.Config{}), mustNew(t, breaker.Config{}), mustNew(t, breaker.Config{}))
		assert.Zero(t, testing.AllocsPerRun(1000, func() { _ = p.Execute(ctx, succeed) }))
	})
	t.Run("chain of breakers refusing", func(t *testing.T) {
		inner := mustNew(t, breaker.Config{})
		inner.ForceOpen()
		p := resilience.Chain(mustNew(t, breaker.Config{}), inner)
		assert.Zero(t, testing.AllocsPerRun(1000, func() { _ = p.Execute(ctx, succeed) }))
	})
}

func TestWrapRunsTheNextPolicyInside(t *testing.T) {
	outer := mustNew(t, breaker.Config{Name: "outer", ConsecutiveFailures: 1})
	inner := mustNew(t, breaker.Config{Name: "inner", ConsecutiveFailures: 1})
	p := resilience.Chain(outer, inner)
	require.NoError(t, p.Execute(context.Background(), succeed))
	assert.Equal(t, uint32(1), outer.Counts().TotalSuccesses)
	assert.Equal(t, uint32(1), inner.Counts().TotalSuccesses)

	inner.ForceOpen()
	for range 3 {
		assert.ErrorIs(t, p.Execute(context.Background(), succeed), breaker.ErrOpen)
	}
	assert.Equal(t, breaker.Closed, outer.State(), "the inner breaker's refusals are no failure of the outer one")
	assert.Equal(t, uint32(3), outer.Counts().TotalIgnored)

	assert.NoError(t, outer.Wrap(nil).Execute(context.Background(), succeed), "Wrap(nil) is the breaker alone")
}
