package bench

import (
	"context"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/hedgepolicy"
	"github.com/go-resilience/resilience/hedge"
	"github.com/go-resilience/resilience/retry"
)

// Hedge scenarios.
//
// HedgeFirstAnswers (serial and Parallel): a call whose first attempt
// answers at once, well before the hedge delay (1s): what having a hedge
// costs on the common path. lib=timer is one time.AfterFunc set and
// stopped, the most the issue allows a hedge to add to the call;
// lib=bare the call alone.
//
// HedgeFires (serial): the first attempt waits for its context to end and
// the hedge, sent after 10µs, answers at once: the cost of a hedge that
// wins, its goroutine, and cancelling the loser. Both libraries wait the
// same delay, so the difference is theirs.

const (
	hedgeIdleDelay = time.Second
	hedgeFireDelay = 10 * time.Microsecond
)

func BenchmarkHedgeFirstAnswers(b *testing.B) {
	run(b, context.Background(), hedgeFirstLibs(b))
}

func BenchmarkHedgeFirstAnswersParallel(b *testing.B) {
	runParallel(b, context.Background(), hedgeFirstLibs(b))
}

func BenchmarkHedgeFires(b *testing.B) {
	run(b, context.Background(), hedgeFiresLibs(b))
}

func newHedge(tb testing.TB, delay time.Duration) *hedge.Hedge {
	budget, err := retry.NewBudget(retry.BudgetConfig{Ratio: 10, MinConcurrent: 1 << 20, MinPerSecond: 1e12})
	if err != nil {
		tb.Fatal(err)
	}
	h, err := hedge.New(hedge.Config{Name: "bench", Delay: delay, Budget: budget})
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

func failsafeHedge(delay time.Duration) failsafe.Executor[int] {
	return failsafe.With[int](hedgepolicy.NewWithDelay[int](delay))
}

func hedgeFirstLibs(tb testing.TB) []lib {
	h := newHedge(tb, hedgeIdleDelay)
	fs := failsafeHedge(hedgeIdleDelay)
	return []lib{
		{name: "resilience", op: func(ctx context.Context) error { _, err := hedge.Do(ctx, h, nil, workInt); return err }},
		{name: "timer", op: func(ctx context.Context) error { time.AfterFunc(hedgeIdleDelay, func() {}).Stop(); return work(ctx) }},
		{name: "bare", op: func(ctx context.Context) error { _, err := workInt(ctx); return err }},
		{name: "failsafe", op: func(ctx context.Context) error {
			_, err := fs.WithContext(ctx).GetWithExecution(func(e failsafe.Execution[int]) (int, error) { return workInt(e.Context()) })
			return err
		}},
	}
}

// slowFirst is a call whose first attempt (of each op) waits for its
// context to end, and whose hedge answers at once. Serial use only: a
// flag per op, reset by op.
type slowFirst struct{ first bool }

func (s *slowFirst) call(ctx context.Context) (int, error) {
	if s.first {
		s.first = false
		<-ctx.Done()
		return 0, ctx.Err()
	}
	return 1, nil
}

func hedgeFiresLibs(tb testing.TB) []lib {
	h := newHedge(tb, hedgeFireDelay)
	fs := failsafeHedge(hedgeFireDelay)
	ours, theirs := &slowFirst{}, &slowFirst{}
	return []lib{
		{name: "resilience", op: func(ctx context.Context) error {
			ours.first = true
			_, err := hedge.Do(ctx, h, nil, ours.call)
			return err
		}},
		{name: "failsafe", op: func(ctx context.Context) error {
			theirs.first = true
			_, err := fs.WithContext(ctx).GetWithExecution(func(e failsafe.Execution[int]) (int, error) { return theirs.call(e.Context()) })
			return err
		}},
	}
}
