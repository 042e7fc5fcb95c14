package bulkhead_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-resilience/resilience/bulkhead"
	"golang.org/x/sync/semaphore"
)

// slots is what the benchmarks measure: Bulkhead, or one of the references.
type slots interface {
	Acquire(ctx context.Context) error
	Release()
}

// semBulkhead is the bulkhead built on x/sync's semaphore alone, with the
// counters the package's API reads: the reference that the package's own
// atomic fast path was measured against (see the package doc).
type semBulkhead struct {
	sem      *semaphore.Weighted
	maxWait  time.Duration
	inFlight atomic.Int64
	waiting  atomic.Int64
	rejected atomic.Uint64
}

func newSemBulkhead(n int, maxWait time.Duration) *semBulkhead {
	return &semBulkhead{sem: semaphore.NewWeighted(int64(n)), maxWait: maxWait}
}

func (s *semBulkhead) Acquire(ctx context.Context) error {
	if !s.sem.TryAcquire(1) {
		if s.maxWait == 0 {
			s.rejected.Add(1)
			return bulkhead.ErrFull
		}
		s.waiting.Add(1)
		wctx, cancel := context.WithTimeout(ctx, s.maxWait)
		err := s.sem.Acquire(wctx, 1)
		cancel()
		s.waiting.Add(-1)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.rejected.Add(1)
			return bulkhead.ErrFull
		}
	}
	s.inFlight.Add(1)
	return nil
}

func (s *semBulkhead) Release() {
	s.inFlight.Add(-1)
	s.sem.Release(1)
}

// rawSem is a bare semaphore, TryAcquire and Release: the floor.
type rawSem struct{ sem *semaphore.Weighted }

func (r rawSem) Acquire(context.Context) error {
	if !r.sem.TryAcquire(1) {
		return bulkhead.ErrFull
	}
	return nil
}

func (r rawSem) Release() { r.sem.Release(1) }

// implementations returns the contenders, each with n slots.
func implementations(b *testing.B, n int, maxWait time.Duration) []struct {
	name string
	s    slots
} {
	bh, err := bulkhead.New(bulkhead.Config{MaxConcurrent: n, MaxWait: maxWait})
	if err != nil {
		b.Fatal(err)
	}
	return []struct {
		name string
		s    slots
	}{
		{"bulkhead", bh},
		{"semaphore-bulkhead", newSemBulkhead(n, maxWait)},
		{"semaphore-TryAcquire", rawSem{semaphore.NewWeighted(int64(n))}},
	}
}

func BenchmarkAcquireRelease(b *testing.B) {
	ctx := context.Background()
	for _, impl := range implementations(b, 1<<20, 0) {
		b.Run(impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if impl.s.Acquire(ctx) != nil {
					b.Fatal("refused")
				}
				impl.s.Release()
			}
		})
	}
}

func BenchmarkAcquireReleaseParallel(b *testing.B) {
	ctx := context.Background()
	for _, impl := range implementations(b, 1<<20, 0) {
		b.Run(impl.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if impl.s.Acquire(ctx) != nil {
						panic("refused")
					}
					impl.s.Release()
				}
			})
		})
	}
}

// Refusal: every slot taken, MaxWait zero.
func BenchmarkRefuse(b *testing.B) {
	ctx := context.Background()
	for _, impl := range implementations(b, 1, 0) {
		b.Run(impl.name, func(b *testing.B) {
			_ = impl.s.Acquire(ctx)
			defer impl.s.Release()
			b.ReportAllocs()
			for b.Loop() {
				if impl.s.Acquire(ctx) == nil {
					b.Fatal("admitted")
				}
			}
		})
	}
}

func BenchmarkRefuseParallel(b *testing.B) {
	ctx := context.Background()
	for _, impl := range implementations(b, 1, 0) {
		b.Run(impl.name, func(b *testing.B) {
			_ = impl.s.Acquire(ctx)
			defer impl.s.Release()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if impl.s.Acquire(ctx) == nil {
						panic("admitted")
					}
				}
			})
		})
	}
}

// Contended: one slot, every caller waits for it (MaxWait far away): the
// wait path and the hand-over, for the bulkhead and the semaphore-based one.
func BenchmarkContendedParallel(b *testing.B) {
	ctx := context.Background()
	for _, impl := range implementations(b, 1, time.Hour)[:2] {
		b.Run(impl.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if impl.s.Acquire(ctx) != nil {
						panic("refused")
					}
					impl.s.Release()
				}
			})
		})
	}
}

func BenchmarkExecute(b *testing.B) {
	ctx := context.Background()
	bh, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	call := func(context.Context) error { return nil }
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = bh.Execute(ctx, call)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_ = bh.Execute(ctx, call)
			}
		})
	})
}
