package fleet_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/fleet"
)

func ok(context.Context) error { return nil }

// BenchmarkSetExecute runs calls through a breaker of a Set on its own
// ("local", the baseline) and through the same kind of Set joined to a
// fleet on a real Redis ("fleet"), closed and open, serially and in
// parallel. The fleet adds nothing to a call's path: compare the two in
// one run (benchstat, or the ratio of ns/op).
func BenchmarkSetExecute(b *testing.B) {
	srv := startRedis(b)
	for _, state := range []string{"closed", "open"} {
		for _, joined := range []bool{false, true} {
			set, err := breaker.NewSet(breaker.KeyedConfig{})
			if err != nil {
				b.Fatal(err)
			}
			name := state + "/local"
			if joined {
				name = state + "/fleet"
				f, err := fleet.New(fleet.Config{Client: srv.client(), Namespace: b.Name() + state, SyncInterval: interval})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = f.Close() })
				if err := f.JoinSet("bench", set); err != nil {
					b.Fatal(err)
				}
			}
			if state == "open" {
				set.Get("api").ForceOpen()
			}
			want := state == "closed"
			ctx := context.Background()
			b.Run(name+"/serial", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := set.Execute(ctx, "api", ok); (err == nil) != want {
						b.Fatal(err)
					}
				}
			})
			b.Run(name+"/parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := set.Execute(ctx, "api", ok); (err == nil) != want {
							b.Fatal(err)
						}
					}
				})
			})
		}
	}
}

// BenchmarkFleetOverLocal runs blocks of calls through a local set and a
// fleet-joined one in turn (the order alternating), so that both see the
// same machine load, and reports the ratio of their times as
// "fleet/local": 1.00 is the same cost.
func BenchmarkFleetOverLocal(b *testing.B) {
	srv := startRedis(b)
	f, err := fleet.New(fleet.Config{Client: srv.client(), Namespace: b.Name(), SyncInterval: interval})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = f.Close() })
	for _, state := range []string{"closed", "open"} {
		local, err1 := breaker.NewSet(breaker.KeyedConfig{})
		joined, err2 := breaker.NewSet(breaker.KeyedConfig{})
		if err1 != nil || err2 != nil {
			b.Fatal(err1, err2)
		}
		if err := f.JoinSet(state, joined); err != nil {
			b.Fatal(err)
		}
		if state == "open" {
			local.Get("api").ForceOpen()
			joined.Get("api").ForceOpen()
		}
		ctx := context.Background()
		block := func(set *breaker.Set) time.Duration {
			start := time.Now()
			for range 1000 {
				_ = set.Execute(ctx, "api", ok)
			}
			return time.Since(start)
		}
		b.Run(state, func(b *testing.B) {
			b.ReportAllocs()
			var tl, tf time.Duration
			for i := 0; b.Loop(); i++ {
				if i%2 == 0 {
					tl += block(local)
					tf += block(joined)
				} else {
					tf += block(joined)
					tl += block(local)
				}
			}
			b.ReportMetric(float64(tf)/float64(tl), "fleet/local")
		})
	}
}

// BenchmarkLimiterAllow spends local tokens: what a call through a
// fleet-wide rate limit costs when its replica holds tokens.
func BenchmarkLimiterAllow(b *testing.B) {
	srv := startRedis(b)
	f, err := fleet.New(fleet.Config{Client: srv.client(), Namespace: b.Name(), SyncInterval: interval})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = f.Close() })
	l, err := f.NewLimiter(fleet.LimitConfig{Name: "bench", Rate: 1e9, Burst: 1e9, Batch: 1e9, LeaseTTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	for !l.Allow() {
		time.Sleep(time.Millisecond) // the first lease, in the background
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			l.Allow()
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				l.Allow()
			}
		})
	})
}
