package breaker_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustSet(t *testing.T, cfg breaker.KeyedConfig) *breaker.Set {
	t.Helper()
	s, err := breaker.NewSet(cfg)
	require.NoError(t, err)
	return s
}

func keys(s *breaker.Set) []string {
	var out []string
	s.Range(func(k string, _ *breaker.Breaker) bool { out = append(out, k); return true })
	return out
}

func TestSetMakesOneBreakerPerKeyLazily(t *testing.T) {
	rec := &recorder{}
	var labels []string
	s := mustSet(t, breaker.KeyedConfig{Config: breaker.Config{
		Name: "api", ConsecutiveFailures: 1, Observer: rec,
		OnStateChange: func(name string, _, _ breaker.State) { labels = append(labels, name) },
	}})
	assert.Zero(t, s.Len())
	a := s.Get("a.example.com")
	assert.Same(t, a, s.Get("a.example.com"))
	b := s.Get("b.example.com")
	assert.NotSame(t, a, b)
	assert.Equal(t, "a.example.com", a.Key())
	assert.Equal(t, "api", a.Name())
	assert.Equal(t, 2, s.Len())

	require.ErrorIs(t, s.Execute(context.Background(), "a.example.com", fail(errBoom)), errBoom)
	assert.Equal(t, breaker.Open, a.State())
	assert.Equal(t, breaker.Closed, b.State(), "each key has its own breaker")
	assert.ErrorIs(t, s.Execute(context.Background(), "a.example.com", succeed), breaker.ErrOpen)
	assert.NoError(t, s.Execute(context.Background(), "b.example.com", succeed))

	assert.Equal(t, []string{"api/a.example.com"}, labels)
	for _, e := range rec.Events() {
		assert.Equal(t, "api", e.Policy)
		assert.Contains(t, []string{"a.example.com", "b.example.com"}, e.Key)
	}
	assert.Equal(t, []string{"closed>open"}, rec.Transitions())
}

func TestSetOnStateChangeNameWithoutSetName(t *testing.T) {
	var got string
	s := mustSet(t, breaker.KeyedConfig{Config: breaker.Config{
		ConsecutiveFailures: 1,
		OnStateChange:       func(name string, _, _ breaker.State) { got = name },
	}})
	_ = s.Execute(context.Background(), "k", fail(errBoom))
	assert.Equal(t, "k", got)
}

func TestSetGetOfAnExistingKeyAllocatesNothing(t *testing.T) {
	s := mustSet(t, breaker.KeyedConfig{IdleTimeout: time.Hour})
	key := string([]byte("host.example.com")) // not a constant
	want := s.Get(key)
	allocs := testing.AllocsPerRun(1000, func() {
		if s.Get(key) != want {
			t.Fatal("another breaker")
		}
	})
	assert.Zero(t, allocs)
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _ = s.Execute(context.Background(), key, succeed) }))
}

func TestSetEviction(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, s *breaker.Set)
	}{
		{
			name: "evicts the least recently used closed breaker",
			run: func(t *testing.T, s *breaker.Set) {
				a, b := s.Get("a"), s.Get("b")
				s.Get("c")
				s.Get("a")
				s.Get("d")
				assert.Equal(t, []string{"a", "c", "d"}, keys(s))
				assert.Same(t, a, s.Get("a"))
				assert.NotSame(t, b, s.Get("b"), "an evicted key comes back as a new breaker")
				assert.Equal(t, 3, s.Len())
			},
		},
		{
			name: "never evicts an open breaker, even the least recently used",
			run: func(t *testing.T, s *breaker.Set) {
				a := s.Get("a")
				failN(t, a, 1)
				s.Get("b")
				s.Get("c")
				s.Get("d")
				assert.Equal(t, []string{"a", "c", "d"}, keys(s))
				assert.Same(t, a, s.Get("a"))
				assert.Equal(t, breaker.Open, a.State())
			},
		},
		{
			name: "never evicts a forced breaker",
			run: func(t *testing.T, s *breaker.Set) {
				s.Get("a").ForceClosed()
				s.Get("b").ForceOpen()
				s.Get("c")
				s.Get("d")
				assert.Equal(t, []string{"a", "b", "d"}, keys(s))
				assert.Equal(t, breaker.ForcedClosed, s.Get("a").State())
			},
		},
		{
			name: "when every breaker is protecting its dependency, new keys share the overflow breaker",
			run: func(t *testing.T, s *breaker.Set) {
				for _, k := range []string{"a", "b", "c"} {
					failN(t, s.Get(k), 1)
				}
				x := s.Get("x")
				assert.Empty(t, x.Key(), "the overflow breaker has no key")
				assert.Same(t, x, s.Get("y"))
				assert.Equal(t, []string{"a", "b", "c"}, keys(s), "the bound holds")
				require.NoError(t, x.Execute(context.Background(), succeed), "overflow calls are still let through")

				time.Sleep(time.Minute) // open periods end: the open breakers may go
				y := s.Get("y")
				assert.Equal(t, "y", y.Key())
				assert.Len(t, keys(s), 3)
				assert.Contains(t, keys(s), "y")
			},
		},
		{
			name: "a half-open breaker within its timeout is kept",
			run: func(t *testing.T, s *breaker.Set) {
				a := s.Get("a")
				failN(t, a, 1)
				time.Sleep(time.Minute)
				done, err := a.Allow(context.Background())
				require.NoError(t, err)
				s.Get("b")
				s.Get("c")
				s.Get("d")
				assert.Contains(t, keys(s), "a")
				done(nil)
			},
		},
		{
			name: "an evicted breaker held by a caller keeps working",
			run: func(t *testing.T, s *breaker.Set) {
				a := s.Get("a")
				s.Get("b")
				s.Get("c")
				s.Get("d")
				require.NotContains(t, keys(s), "a")
				failN(t, a, 1)
				assert.Equal(t, breaker.Open, a.State())
				assert.Equal(t, breaker.Closed, s.Get("a").State())
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tc.run(t, mustSet(t, breaker.KeyedConfig{MaxKeys: 3, Config: breaker.Config{ConsecutiveFailures: 1, OpenTimeout: time.Minute}}))
			})
		})
	}
}

func TestSetIdleTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := mustSet(t, breaker.KeyedConfig{IdleTimeout: time.Minute, Config: breaker.Config{ConsecutiveFailures: 1, OpenTimeout: 10 * time.Minute}})
		s.Get("a")
		s.Get("b")
		failN(t, s.Get("open"), 1)
		s.Get("forced").ForceOpen()
		assert.Equal(t, 4, s.Len())
		time.Sleep(30 * time.Second)
		s.Get("a")
		assert.Equal(t, 4, s.Len())
		time.Sleep(30 * time.Second)
		assert.Equal(t, []string{"a", "forced", "open"}, keys(s), "b has been idle a minute; open and forced ones stay")
		time.Sleep(30 * time.Second)
		assert.Equal(t, []string{"forced", "open"}, keys(s))
		time.Sleep(10 * time.Minute)
		assert.Equal(t, []string{"forced"}, keys(s), "once its open period is over, an idle open breaker goes too")
	})
}

func TestSetRange(t *testing.T) {
	s := mustSet(t, breaker.KeyedConfig{})
	for _, k := range []string{"c", "a", "b"} {
		s.Get(k)
	}
	var seen []string
	s.Range(func(k string, b *breaker.Breaker) bool {
		assert.Equal(t, k, b.Key())
		s.Get("new-" + k) // f may use the set
		seen = append(seen, k)
		return k != "b"
	})
	assert.Equal(t, []string{"a", "b"}, seen, "in key order, until f returns false")
	assert.Equal(t, 5, s.Len())
}

func TestSetConcurrentGetOfANewKeyMakesOneBreaker(t *testing.T) {
	// Room for every key, so that "k" is never evicted between two Gets
	// (a full set evicts the least recently used, which "k" may be).
	s := mustSet(t, breaker.KeyedConfig{MaxKeys: 32})
	const n = 64
	got := make([]*breaker.Breaker, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			got[i] = s.Get("k")
			_ = s.Execute(context.Background(), string(rune('a'+i%16)), succeed)
		})
	}
	wg.Wait()
	for i := range n {
		assert.Same(t, got[0], got[i])
	}
	assert.Equal(t, 16, s.Len(), "a to p, k among them")
}

func TestSetFullUnderConcurrentUseKeepsMaxKeys(t *testing.T) {
	s := mustSet(t, breaker.KeyedConfig{MaxKeys: 8})
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			assert.NoError(t, s.Execute(context.Background(), string(rune('a'+i%16)), succeed))
		})
	}
	wg.Wait()
	assert.Equal(t, 8, s.Len())
}

func TestSetPolicyEventsCarryTheKey(t *testing.T) {
	rec := &recorder{}
	s := mustSet(t, breaker.KeyedConfig{Config: breaker.Config{Name: "svc", Observer: rec}})
	require.NoError(t, s.Execute(context.Background(), "k1", succeed))
	calls := rec.OfKind(resilience.EventCall)
	require.Len(t, calls, 1)
	assert.Equal(t, "svc", calls[0].Policy)
	assert.Equal(t, "k1", calls[0].Key)
}
