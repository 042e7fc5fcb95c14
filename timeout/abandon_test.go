package timeout_test

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/timeout"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// stubborn returns a call that ignores its context: it sleeps for d, then
// returns err.
func stubborn(d time.Duration, err error) func(context.Context) error {
	return func(context.Context) error {
		time.Sleep(d)
		return err
	}
}

func TestAbandonReturnsOnTimeAndCountsTheCallUntilItReturns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec recorder
		p := mustNew(t, timeout.Config{Name: "db", Timeout: 100 * time.Millisecond, Abandon: true, MaxAbandoned: 2, Observer: &rec})
		start := time.Now()
		err := p.Execute(context.Background(), stubborn(time.Second, errBoom))
		assert.Equal(t, 100*time.Millisecond, time.Since(start), "returned at the deadline")
		assert.ErrorIs(t, err, timeout.ErrTimeout)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.EqualError(t, err, `timeout "db": deadline exceeded`)
		assert.Equal(t, 1, p.Abandoned(), "counted before Execute returned")
		es := rec.Take()
		require.Len(t, es, 2)
		assert.Equal(t, resilience.EventTimeout, es[0].Kind)
		assert.Equal(t, resilience.EventAbandon, es[1].Kind)
		assert.Same(t, err, es[1].Err)

		time.Sleep(899 * time.Millisecond)
		synctest.Wait()
		assert.Equal(t, 1, p.Abandoned(), "still running")
		time.Sleep(time.Millisecond)
		synctest.Wait()
		assert.Zero(t, p.Abandoned(), "back to zero once it returned")
		es = rec.Take()
		require.Len(t, es, 1)
		assert.Equal(t, resilience.EventAbandonDone, es[0].Kind)
		assert.Same(t, errBoom, es[0].Err)
	})
}

func TestAbandonCapRefusesNewCallsFast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec recorder
		p := mustNew(t, timeout.Config{Timeout: 100 * time.Millisecond, Abandon: true, MaxAbandoned: 2, Observer: &rec})
		ctx := context.Background()
		for range 2 {
			assert.ErrorIs(t, p.Execute(ctx, stubborn(time.Second, nil)), timeout.ErrTimeout)
		}
		assert.Equal(t, 2, p.Abandoned())
		rec.Take()

		start := time.Now()
		ran := false
		err := p.Execute(ctx, func(context.Context) error { ran = true; return nil })
		assert.Equal(t, start, time.Now(), "refused at once")
		assert.False(t, ran, "a refused call does not run")
		assert.Same(t, timeout.ErrTooManyAbandoned, err)
		assert.ErrorIs(t, err, resilience.ErrRejected)
		assert.Equal(t, resilience.Ignored, resilience.Classifier(nil).Classify(ctx, err))
		assert.Equal(t, []resilience.EventKind{resilience.EventRejected}, rec.Kinds())

		time.Sleep(time.Second) // the abandoned calls return
		synctest.Wait()
		assert.Zero(t, p.Abandoned())
		assert.NoError(t, p.Execute(ctx, func(context.Context) error { return nil }), "admitted again")
	})
}

// TestAbandonCallersOverTheCapReturnOnTime: 200 callers arrive at once at
// a policy capped at 10 abandoned calls, and their callees all ignore their
// context. Every caller returns on time: at the deadline with the timeout
// error, or, for those that cancel their own context first, at once with
// their context's error. The calls are all abandoned (the cap is checked
// on arrival), and new calls are refused until fewer than 10 are left.
func TestAbandonCallersOverTheCapReturnOnTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const callers, limit = 200, 10
		p := mustNew(t, timeout.Config{Timeout: 100 * time.Millisecond, Abandon: true, MaxAbandoned: limit})
		start := time.Now()
		var wg sync.WaitGroup
		for i := range callers {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			quitter := i%4 == 0 // gives up after 50ms
			if quitter {
				time.AfterFunc(50*time.Millisecond, cancel)
			}
			wg.Go(func() {
				err := p.Execute(ctx, stubborn(10*time.Second, errBoom))
				took := time.Since(start)
				if quitter {
					assert.ErrorIs(t, err, context.Canceled)
					assert.Equal(t, 50*time.Millisecond, took, "honours its own context")
				} else {
					assert.ErrorIs(t, err, timeout.ErrTimeout)
					assert.Equal(t, 100*time.Millisecond, took, "returns at the deadline")
				}
			})
		}
		wg.Wait()
		assert.Equal(t, 100*time.Millisecond, time.Since(start))
		assert.Equal(t, callers, p.Abandoned())

		ran := false
		err := p.Execute(context.Background(), func(context.Context) error { ran = true; return nil })
		assert.ErrorIs(t, err, timeout.ErrTooManyAbandoned, "over the cap: refused at once")
		assert.False(t, ran)

		time.Sleep(10 * time.Second) // the callees return
		synctest.Wait()
		assert.Zero(t, p.Abandoned())
		require.NoError(t, p.Execute(context.Background(), func(context.Context) error { return nil }))
	})
}

func TestAbandonModePassesResultsBeforeTheDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec recorder
		p := mustNew(t, timeout.Config{Timeout: 100 * time.Millisecond, Abandon: true, MaxAbandoned: 1, Observer: &rec})
		ctx := context.Background()
		assert.NoError(t, p.Execute(ctx, stubborn(50*time.Millisecond, nil)))
		assert.Same(t, errBoom, p.Execute(ctx, stubborn(99*time.Millisecond, errBoom)))
		assert.Zero(t, p.Abandoned())
		assert.Empty(t, rec.Kinds())

		// A cooperative callee ends at the deadline, as Execute returns:
		// usually before, so it is not abandoned at all, at worst for an
		// instant.
		start := time.Now()
		err := p.Execute(ctx, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		assert.Equal(t, 100*time.Millisecond, time.Since(start))
		assert.ErrorIs(t, err, timeout.ErrTimeout)
		synctest.Wait()
		assert.Zero(t, p.Abandoned())
	})
}

func TestAbandonModeCallerCancellationAbandonsWithTheCallersError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec recorder
		p := mustNew(t, timeout.Config{Timeout: 100 * time.Millisecond, Abandon: true, MaxAbandoned: 1, Observer: &rec})
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(30*time.Millisecond, cancel)
		start := time.Now()
		err := p.Execute(ctx, stubborn(time.Second, nil))
		assert.Equal(t, 30*time.Millisecond, time.Since(start))
		assert.Equal(t, context.Canceled, err)
		assert.Equal(t, 1, p.Abandoned())
		assert.Equal(t, []resilience.EventKind{resilience.EventAbandon}, rec.Kinds())
		time.Sleep(time.Second)
		synctest.Wait()
		assert.Zero(t, p.Abandoned())
	})
}

func TestAbandonModeCallerDeadlineEarlier(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := mustNew(t, timeout.Config{Timeout: 100 * time.Millisecond, Abandon: true, MaxAbandoned: 1})
		ctx, cancel := context.WithTimeout(context.Background(), 40*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := p.Execute(ctx, func(got context.Context) error {
			assert.True(t, got == ctx, "the caller's context itself")
			time.Sleep(time.Second)
			return nil
		})
		assert.Equal(t, 40*time.Millisecond, time.Since(start))
		assert.Equal(t, context.DeadlineExceeded, err)
		assert.NotErrorIs(t, err, timeout.ErrTimeout)
		time.Sleep(time.Second)
		synctest.Wait()
		assert.Zero(t, p.Abandoned())
	})
}

func TestAbandonModeDoesNotStartCallsWithADoneContext(t *testing.T) {
	defer goleak.VerifyNone(t)
	p := mustNew(t, timeout.Config{Timeout: time.Second, Abandon: true, MaxAbandoned: 1})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	assert.Equal(t, context.Canceled, p.Execute(ctx, func(context.Context) error { ran = true; return nil }))
	assert.False(t, ran)
	assert.Zero(t, p.Abandoned())
}

func TestAbandonModePanicWhileWaitedForReachesTheCaller(t *testing.T) {
	defer goleak.VerifyNone(t)
	p := mustNew(t, timeout.Config{Timeout: time.Hour, Abandon: true, MaxAbandoned: 1})
	assert.PanicsWithValue(t, errBoom, func() {
		_ = p.Execute(context.Background(), func(context.Context) error { panic(errBoom) })
	})
	assert.Zero(t, p.Abandoned())
}

func TestAbandonModeGoexitEndsTheCallersGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t)
	p := mustNew(t, timeout.Config{Timeout: time.Hour, Abandon: true, MaxAbandoned: 1})
	returned := false
	var wg sync.WaitGroup
	wg.Go(func() {
		_ = p.Execute(context.Background(), func(context.Context) error { runtime.Goexit(); return nil })
		returned = true
	})
	wg.Wait()
	assert.False(t, returned, "Execute did not return: its goroutine exited as the call's did")
	assert.Zero(t, p.Abandoned())
}

func TestAbandonModeDoDropsTheLateResult(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := mustNew(t, timeout.Config{Timeout: 100 * time.Millisecond, Abandon: true, MaxAbandoned: 1})
		v, err := resilience.Do(context.Background(), p, func(context.Context) (string, error) {
			time.Sleep(time.Second)
			return "late", nil
		})
		assert.ErrorIs(t, err, timeout.ErrTimeout)
		assert.Empty(t, v)
		time.Sleep(time.Second)
		synctest.Wait()
		assert.Zero(t, p.Abandoned())
	})
}

// A panic in a call nobody waits for any more crashes the program, like any
// goroutine's unrecovered panic: it is not swallowed. The crash is watched
// from a child process.
func TestAbandonedCallPanicCrashesTheProgram(t *testing.T) {
	if os.Getenv("TIMEOUT_TEST_ABANDONED_PANIC") == "1" {
		p, err := timeout.New(timeout.Config{Timeout: time.Millisecond, Abandon: true, MaxAbandoned: 1})
		if err != nil {
			os.Exit(3)
		}
		release := make(chan struct{})
		_ = p.Execute(context.Background(), func(context.Context) error {
			<-release
			panic("boom in an abandoned call")
		})
		close(release)
		select {} // the panic ends the process
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestAbandonedCallPanicCrashesTheProgram$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TIMEOUT_TEST_ABANDONED_PANIC=1")
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	require.ErrorAs(t, err, &exitErr, "output: %s", out)
	assert.Equal(t, 2, exitErr.ExitCode(), "exit code of an unrecovered panic")
	assert.Contains(t, string(out), "panic: boom in an abandoned call")
}
