package bench

import (
	"context"
	"testing"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/retrypolicy"
	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/retry"
)

// Retry scenarios.
//
// RetrySuccess (serial and Parallel): one call through a retry policy of 3
// attempts whose first attempt succeeds: the cost of having a retry
// policy on the happy path. lib=hand is a for loop over 3 attempts that
// returns on success, the floor.
//
// RetryOnce (serial): the first attempt fails and the second succeeds,
// with no delay between them: the cost of one retry. Our budget is set
// roomy (Ratio 10) so that it grants every retry, as failsafe-go's policy,
// without a budget, does; the default budget (20% of calls) would refuse
// most of them, since every call here retries.
//
// RetryChain (serial): resilience.Do through Chain(retry, breaker,
// bulkhead), the recommended order, against the same chain without the
// retry (lib=resilience-noretry): what the retry layer adds to a
// first-attempt success through the chain. lib=resilience-counting is the
// chain while retries are being asked for, when the budget counts every
// call (two atomic adds). The timeout is left out: its
// context.WithTimeout (~350 ns, 4 allocs) would drown the difference in
// noise, and the retry does nothing with it.

func BenchmarkRetrySuccess(b *testing.B) {
	run(b, context.Background(), retrySuccessLibs(b))
}

func BenchmarkRetrySuccessParallel(b *testing.B) {
	runParallel(b, context.Background(), retrySuccessLibs(b))
}

func BenchmarkRetryOnce(b *testing.B) {
	run(b, context.Background(), retryOnceLibs(b))
}

func BenchmarkRetryChain(b *testing.B) {
	run(b, context.Background(), retryChainLibs(b))
}

const retryAttempts = 3

func newRetry(tb testing.TB) *retry.Retry {
	budget, err := retry.NewBudget(retry.BudgetConfig{Ratio: 10, MinConcurrent: 1 << 20, MinPerSecond: 1e12})
	if err != nil {
		tb.Fatal(err)
	}
	r, err := retry.New(retry.Config{Name: "bench", MaxAttempts: retryAttempts, BaseDelay: -1, Budget: budget})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func failsafeRetry() failsafe.Executor[any] {
	return failsafe.With[any](retrypolicy.NewBuilder[any]().WithMaxAttempts(retryAttempts).ReturnLastFailure().Build())
}

// handRetry is the loop written by hand: up to retryAttempts attempts, no
// delay, no budget, stop when the caller gives up.
func handRetry(ctx context.Context, call func(context.Context) error) error {
	var err error
	for range retryAttempts {
		if err = call(ctx); err == nil || ctx.Err() != nil {
			return err
		}
	}
	return err
}

func retrySuccessLibs(tb testing.TB) []lib {
	r := newRetry(tb)
	fs := failsafeRetry()
	return []lib{
		{name: "resilience", op: func(ctx context.Context) error { return r.Execute(ctx, work) }},
		{name: "hand", op: func(ctx context.Context) error { return handRetry(ctx, work) }},
		{name: "failsafe", op: func(ctx context.Context) error { return fs.Run(func() error { return work(ctx) }) }},
	}
}

// flaky returns a call that fails every other time: the first attempt of
// each op fails, the second succeeds. Serial use only.
func flaky() func(context.Context) error {
	fail := false
	return func(ctx context.Context) error {
		fail = !fail
		if fail {
			return errDown
		}
		return work(ctx)
	}
}

func retryOnceLibs(tb testing.TB) []lib {
	r := newRetry(tb)
	fs := failsafeRetry()
	ours, hand, theirs := flaky(), flaky(), flaky()
	return []lib{
		{name: "resilience", op: func(ctx context.Context) error { return r.Execute(ctx, ours) }},
		{name: "hand", op: func(ctx context.Context) error { return handRetry(ctx, hand) }},
		{name: "failsafe", op: func(ctx context.Context) error { return fs.Run(func() error { return theirs(ctx) }) }},
	}
}

func retryChainLibs(tb testing.TB) []lib {
	with := resilience.Chain(newRetry(tb), newBreaker(tb), newBulkhead(tb))
	without := resilience.Chain(newBreaker(tb), newBulkhead(tb))
	// counting is the same chain while retries are being asked for: its
	// budget has just granted one, so it counts every call (see
	// retry.Budget) for the next 10s, longer than a run.
	r := newRetry(tb)
	r.Budget().TryAcquire()
	r.Budget().Release()
	counting := resilience.Chain(r, newBreaker(tb), newBulkhead(tb))
	return []lib{
		{name: "resilience", op: func(ctx context.Context) error { _, err := resilience.Do(ctx, with, workInt); return err }},
		{name: "resilience-noretry", op: func(ctx context.Context) error { _, err := resilience.Do(ctx, without, workInt); return err }},
		{name: "resilience-counting", op: func(ctx context.Context) error { _, err := resilience.Do(ctx, counting, workInt); return err }},
	}
}

// TestRetryChainRowsCountAsTheySay pins what the two rows of RetryChain
// with a retry measure: a fresh budget counts no call, and one that has
// just granted a retry counts each.
func TestRetryChainRowsCountAsTheySay(t *testing.T) {
	for _, counting := range []bool{false, true} {
		r := newRetry(t)
		if counting {
			r.Budget().TryAcquire()
			r.Budget().Release()
		}
		var seen int
		_, err := resilience.Do(context.Background(), resilience.Chain(r, newBreaker(t), newBulkhead(t)), func(ctx context.Context) (int, error) {
			seen, _ = r.Budget().InFlight()
			return workInt(ctx)
		})
		if err != nil || seen != map[bool]int{false: 0, true: 1}[counting] {
			t.Errorf("counting %v: %d calls counted in flight, err %v", counting, seen, err)
		}
	}
}
