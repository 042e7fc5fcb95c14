package breaker_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/sony/gobreaker/v2"
)

// Each benchmark runs the breaker beside raw gobreaker Execute, the floor
// it is built on, serially and in parallel.

func ok(context.Context) error { return nil }

// rawOK is ok as gobreaker takes it.
func rawOK() (struct{}, error) { return struct{}{}, ok(context.Background()) }

var errBench = errors.New("bench: failure")

func newBench(b *testing.B, cfg breaker.Config) *breaker.Breaker {
	b.Helper()
	brk, err := breaker.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return brk
}

func newGobreaker() *gobreaker.CircuitBreaker[struct{}] {
	return gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{Name: "raw", Timeout: time.Hour})
}

// benchPolicy runs p serially and in parallel; want is the error each call
// must return (nil or not: the check is as cheap as benchGobreaker's).
func benchPolicy(b *testing.B, p resilience.Policy, want error) {
	if err := p.Execute(context.Background(), ok); !errors.Is(err, want) {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := p.Execute(ctx, ok); (err == nil) != (want == nil) {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := p.Execute(ctx, ok); (err == nil) != (want == nil) {
					b.Fatal(err)
				}
			}
		})
	})
}

func benchGobreaker(b *testing.B, cb *gobreaker.CircuitBreaker[struct{}], want error, call func() (struct{}, error)) {
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := cb.Execute(call); err != want {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := cb.Execute(call); err != want {
					b.Fatal(err)
				}
			}
		})
	})
}

func BenchmarkSuccess(b *testing.B) {
	b.Run("breaker", func(b *testing.B) { benchPolicy(b, newBench(b, breaker.Config{Name: "b"}), nil) })
	b.Run("gobreaker", func(b *testing.B) { benchGobreaker(b, newGobreaker(), nil, rawOK) })
}

func BenchmarkOpenRefusal(b *testing.B) {
	b.Run("breaker", func(b *testing.B) {
		brk := newBench(b, breaker.Config{Name: "b", OpenTimeout: time.Hour})
		for range 5 {
			_ = brk.Execute(context.Background(), func(context.Context) error { return errBench })
		}
		if brk.State() != breaker.Open {
			b.Fatal("not open")
		}
		benchPolicy(b, brk, breaker.ErrOpen)
	})
	b.Run("gobreaker", func(b *testing.B) {
		cb := newGobreaker()
		for range 6 {
			_, _ = cb.Execute(func() (struct{}, error) { return struct{}{}, errBench })
		}
		benchGobreaker(b, cb, gobreaker.ErrOpenState, rawOK)
	})
}

func BenchmarkSetGetExistingKey(b *testing.B) {
	s, err := breaker.NewSet(breaker.KeyedConfig{})
	if err != nil {
		b.Fatal(err)
	}
	keys := make([]string, 512)
	for i := range keys {
		keys[i] = "host-" + strconv.Itoa(i) + ".example.com"
		s.Get(keys[i])
	}
	b.Run("Get/serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if s.Get(keys[i&511]) == nil {
				b.Fatal("nil")
			}
			i++
		}
	})
	b.Run("Get/parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if s.Get(keys[i&511]) == nil {
					b.Fatal("nil")
				}
				i++
			}
		})
	})
	ctx := context.Background()
	b.Run("Execute/serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if err := s.Execute(ctx, keys[i&511], ok); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("Execute/parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if err := s.Execute(ctx, keys[i&511], ok); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	})
	b.Run("gobreaker", func(b *testing.B) { benchGobreaker(b, newGobreaker(), nil, rawOK) })
}

// BenchmarkChain composes two breakers with resilience.Chain: Wrap passes
// the call down, so the chain allocates nothing per call.
func BenchmarkChain(b *testing.B) {
	b.Run("breaker+breaker", func(b *testing.B) {
		p := resilience.Chain(newBench(b, breaker.Config{Name: "outer"}), newBench(b, breaker.Config{Name: "inner"}))
		benchPolicy(b, p, nil)
	})
	b.Run("gobreaker+gobreaker", func(b *testing.B) {
		outer, inner := newGobreaker(), newGobreaker()
		ctx := context.Background()
		call := func() (struct{}, error) {
			return inner.Execute(func() (struct{}, error) { return struct{}{}, ok(ctx) })
		}
		benchGobreaker(b, outer, nil, call)
	})
}
