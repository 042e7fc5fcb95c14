package dashboard_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/dashboard"
	"github.com/go-resilience/resilience/metrics"
)

func BenchmarkObserve(b *testing.B) {
	rec := &dashboard.Recorder{}
	ev := resilience.Event{Kind: resilience.EventCall, Policy: "api", Key: "h", Outcome: resilience.Success, Latency: time.Millisecond}
	rec.Observe(ev)
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rec.Observe(ev)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				rec.Observe(ev)
			}
		})
	})
}

// BenchmarkCallPath calls through a set of 1,000 breakers: with no
// Observer (the baseline), with a Recorder, and with a Recorder while 100
// pages read the stream (a message every 100ms). Compare the three in one
// run: the pages' cost on the call path is the last over the second.
func BenchmarkCallPath(b *testing.B) {
	const keys = 1000
	names := make([]string, keys)
	for i := range names {
		names[i] = fmt.Sprintf("host-%04d.internal.example", i)
	}
	newSet := func(b *testing.B, o resilience.Observer) *breaker.Set {
		set, err := breaker.NewSet(breaker.KeyedConfig{MaxKeys: keys, Config: breaker.Config{Name: "upstream", Observer: o}})
		if err != nil {
			b.Fatal(err)
		}
		for _, n := range names {
			_ = set.Execute(context.Background(), n, succeed)
		}
		return set
	}
	run := func(b *testing.B, set *breaker.Set) {
		b.ReportAllocs()
		var next atomic.Uint64
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			i := next.Add(7919)
			for pb.Next() {
				i++
				_ = set.Execute(ctx, names[i%keys], succeed)
			}
		})
	}
	b.Run("observer=none", func(b *testing.B) { run(b, newSet(b, nil)) })
	b.Run("observer=recorder", func(b *testing.B) { run(b, newSet(b, &dashboard.Recorder{})) })
	b.Run("observer=metrics", func(b *testing.B) {
		c, err := metrics.New(metrics.Config{})
		if err != nil {
			b.Fatal(err)
		}
		run(b, newSet(b, c))
	})
	b.Run("observer=recorder/streams=100", func(b *testing.B) {
		rec := &dashboard.Recorder{}
		set := newSet(b, rec)
		d := newDashboard(b, dashboard.Config{Recorder: rec, Sets: []*breaker.Set{set}, Interval: 100 * time.Millisecond})
		srv := httptest.NewServer(d)
		defer srv.Close()
		ctx, cancel := context.WithCancel(context.Background())
		var readers sync.WaitGroup
		defer func() { cancel(); readers.Wait() }()
		for range 100 {
			req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/events", nil)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			readers.Go(func() {
				defer res.Body.Close()
				_, _ = io.Copy(io.Discard, res.Body)
			})
		}
		run(b, set)
	})
}
