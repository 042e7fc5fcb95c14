package bulkhead_test

import (
	"context"
	"errors"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewRefusesBadConfigNamingTheField(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   bulkhead.Config
		field string
	}{
		{"zero MaxConcurrent", bulkhead.Config{}, "Config.MaxConcurrent"},
		{"negative MaxConcurrent", bulkhead.Config{MaxConcurrent: -1}, "Config.MaxConcurrent"},
		{"MaxConcurrent above MaxInt32", bulkhead.Config{MaxConcurrent: math.MaxInt32 + 1}, "Config.MaxConcurrent"},
		{"negative MaxWait", bulkhead.Config{MaxConcurrent: 1, MaxWait: -time.Nanosecond}, "Config.MaxWait"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := bulkhead.New(tc.cfg)
			require.Error(t, err)
			assert.Nil(t, b)
			assert.Contains(t, err.Error(), "bulkhead: "+tc.field)
		})
	}
}

func TestNewKeepsConfig(t *testing.T) {
	b := mustNew(t, bulkhead.Config{Name: "db", MaxConcurrent: math.MaxInt32, MaxWait: time.Hour})
	assert.Equal(t, "db", b.Name())
	assert.Equal(t, math.MaxInt32, b.MaxConcurrent())
	assert.Zero(t, b.InFlight())
	assert.Zero(t, b.Waiting())
	assert.Zero(t, b.Rejected())
}

// Ten thousand goroutines go through a bulkhead of ten: no more than ten
// calls ever run at once, every goroutine gets exactly one answer, and the
// answers add up.
func TestManyCallersNeverExceedMaxConcurrent(t *testing.T) {
	const callers, slots = 10_000, 10
	for _, tc := range []struct {
		name          string
		maxWait       time.Duration
		fake          bool                      // run in a synctest bubble
		work          func()                    // what each call does while it holds its slot
		wantCompleted func(t *testing.T, n int) // what the completed count must be
	}{
		{
			// All arrive at fake time zero; the first ten take the slots.
			name: "no wait refuses all but the first ten", fake: true,
			work:          func() { time.Sleep(time.Millisecond) },
			wantCompleted: func(t *testing.T, n int) { assert.Equal(t, slots, n) },
		},
		{
			// A batch of ten every fake millisecond at 0, 1, 2, 3 and 4 ms;
			// the rest give up at 4.5 ms.
			name: "MaxWait admits five rounds then refuses", fake: true, maxWait: 4500 * time.Microsecond,
			work:          func() { time.Sleep(time.Millisecond) },
			wantCompleted: func(t *testing.T, n int) { assert.Equal(t, 5*slots, n) },
		},
		{
			// Real time, real contention: slots handed over thousands of
			// times. The wait is far longer than the test can take.
			name: "long MaxWait completes everyone", maxWait: time.Hour,
			work:          runtime.Gosched,
			wantCompleted: func(t *testing.T, n int) { assert.Equal(t, callers, n) },
		},
		{
			name:          "no wait under real contention",
			work:          runtime.Gosched,
			wantCompleted: func(t *testing.T, n int) { assert.Positive(t, n) },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			test := func(t *testing.T) {
				b := mustNew(t, bulkhead.Config{MaxConcurrent: slots, MaxWait: tc.maxWait})
				var (
					p         peak
					ran       [callers]atomic.Int32
					answers   [callers]atomic.Int32
					completed atomic.Int64
					refused   atomic.Int64
					wg        sync.WaitGroup
				)
				for i := range callers {
					wg.Go(func() {
						err := b.Execute(context.Background(), func(context.Context) error {
							p.enter()
							defer p.leave()
							ran[i].Add(1)
							tc.work()
							return nil
						})
						answers[i].Add(1)
						switch {
						case err == nil:
							completed.Add(1)
						case errors.Is(err, bulkhead.ErrFull) && errors.Is(err, resilience.ErrRejected):
							refused.Add(1)
						default:
							t.Errorf("caller %d: unexpected error %v", i, err)
						}
					})
				}
				wg.Wait()

				assert.LessOrEqual(t, p.max.Load(), int64(slots), "most calls at once")
				assert.Equal(t, int64(callers), completed.Load()+refused.Load(), "completed + refused")
				for i := range callers {
					require.Equal(t, int32(1), answers[i].Load(), "caller %d answers", i)
					require.LessOrEqual(t, ran[i].Load(), int32(1), "caller %d runs", i)
				}
				tc.wantCompleted(t, int(completed.Load()))
				assert.Equal(t, uint64(refused.Load()), b.Rejected())
				assert.Zero(t, b.InFlight())
				assert.Zero(t, b.Waiting())
			}
			if tc.fake {
				synctest.Test(t, test)
			} else {
				test(t)
			}
		})
	}
}

// hold takes every slot of b and returns a function that gives them back.
func hold(t *testing.T, b *bulkhead.Bulkhead) (release func()) {
	t.Helper()
	for range b.MaxConcurrent() {
		require.NoError(t, b.Acquire(context.Background()))
	}
	return func() {
		for range b.MaxConcurrent() {
			b.Release()
		}
	}
}

func TestMaxWaitRefusesAfterExactlyMaxWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, bulkhead.Config{Name: "db", MaxConcurrent: 2, MaxWait: 100 * time.Millisecond})
		release := hold(t, b)
		defer release()

		start := time.Now()
		done := make(chan error)
		go func() {
			done <- b.Execute(context.Background(), func(context.Context) error {
				t.Error("a refused call ran")
				return nil
			})
		}()
		synctest.Wait()
		assert.Equal(t, 1, b.Waiting())

		err := <-done
		assert.Equal(t, 100*time.Millisecond, time.Since(start))
		assert.ErrorIs(t, err, bulkhead.ErrFull)
		assert.ErrorIs(t, err, resilience.ErrRejected)
		assert.EqualError(t, err, `bulkhead "db": full`)
		assert.Zero(t, b.Waiting())
		assert.Equal(t, 2, b.InFlight())
		assert.Equal(t, uint64(1), b.Rejected())
	})
}

func TestZeroMaxWaitRefusesAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, bulkhead.Config{MaxConcurrent: 1})
		release := hold(t, b)
		defer release()
		start := time.Now()
		err := b.Execute(context.Background(), func(context.Context) error { return nil })
		assert.Same(t, bulkhead.ErrFull, err) // unnamed: ErrFull itself
		assert.Equal(t, start, time.Now())
		assert.Equal(t, uint64(1), b.Rejected())
	})
}

func TestWaiterGetsTheSlotWhenOneIsReleased(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, bulkhead.Config{MaxConcurrent: 1, MaxWait: time.Second})
		require.NoError(t, b.Acquire(context.Background()))

		start := time.Now()
		done := make(chan error)
		go func() { done <- b.Execute(context.Background(), func(context.Context) error { return nil }) }()
		time.Sleep(300 * time.Millisecond)
		b.Release()
		require.NoError(t, <-done)
		assert.Equal(t, 300*time.Millisecond, time.Since(start))
		assert.Zero(t, b.InFlight())
		assert.Zero(t, b.Rejected())
	})
}

func TestWaitersAreServedInArrivalOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, bulkhead.Config{MaxConcurrent: 1, MaxWait: time.Hour})
		require.NoError(t, b.Acquire(context.Background()))

		var (
			mu    sync.Mutex
			order []int
			wg    sync.WaitGroup
		)
		for i := range 5 {
			wg.Go(func() {
				assert.NoError(t, b.Execute(context.Background(), func(context.Context) error {
					mu.Lock()
					order = append(order, i)
					mu.Unlock()
					return nil
				}))
			})
			synctest.Wait() // i is queued before i+1 arrives
		}
		assert.Equal(t, 5, b.Waiting())
		b.Release()
		wg.Wait()
		assert.Equal(t, []int{0, 1, 2, 3, 4}, order)
	})
}

// A slot given back while callers wait goes to them, not to a newcomer.
func TestNewcomerDoesNotOvertakeWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, bulkhead.Config{MaxConcurrent: 1, MaxWait: time.Hour})
		require.NoError(t, b.Acquire(context.Background()))
		got := make(chan struct{})
		go func() {
			assert.NoError(t, b.Acquire(context.Background()))
			close(got)
		}()
		synctest.Wait()
		b.Release()
		// The slot passed straight to the waiter, before it even woke: a
		// newcomer finds none free (it would take a free one whatever its
		// context), so with a done context it is turned away.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		assert.ErrorIs(t, b.Acquire(ctx), context.Canceled)
		<-got
		assert.Equal(t, 1, b.InFlight())
		b.Release()
	})
}

func TestCallerContextEndsWhileWaiting(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ctx     func() (context.Context, context.CancelFunc)
		end     func(cancel context.CancelFunc) // ends the wait, or nil to let the deadline do it
		want    error
		waitFor time.Duration
	}{
		{
			name: "cancelled",
			ctx:  func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) },
			end: func(cancel context.CancelFunc) {
				time.Sleep(20 * time.Millisecond)
				cancel()
			},
			want: context.Canceled, waitFor: 20 * time.Millisecond,
		},
		{
			name: "own deadline before MaxWait",
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 30*time.Millisecond)
			},
			want: context.DeadlineExceeded, waitFor: 30 * time.Millisecond,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := mustNew(t, bulkhead.Config{MaxConcurrent: 1, MaxWait: time.Minute})
				release := hold(t, b)
				defer release()
				ctx, cancel := tc.ctx()
				defer cancel()

				start := time.Now()
				done := make(chan error)
				go func() {
					done <- b.Execute(ctx, func(context.Context) error {
						t.Error("call ran without a slot")
						return nil
					})
				}()
				if tc.end != nil {
					tc.end(cancel)
				}
				err := <-done
				assert.ErrorIs(t, err, tc.want)
				assert.NotErrorIs(t, err, resilience.ErrRejected)
				assert.Equal(t, tc.waitFor, time.Since(start), "returned as soon as ctx ended")
				// Left as it was.
				assert.Equal(t, 1, b.InFlight())
				assert.Zero(t, b.Waiting())
				assert.Zero(t, b.Rejected())
			})
		})
	}
}

func TestDoneContextIsNotQueued(t *testing.T) {
	b := mustNew(t, bulkhead.Config{MaxConcurrent: 1, MaxWait: time.Hour})
	release := hold(t, b)
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, b.Acquire(ctx), context.Canceled)
	assert.Zero(t, b.Waiting())
	assert.Equal(t, 1, b.InFlight())
}

func TestFreeSlotIsTakenWhateverTheContext(t *testing.T) {
	b := mustNew(t, bulkhead.Config{MaxConcurrent: 1})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	err := b.Execute(ctx, func(ctx context.Context) error {
		ran = true
		return ctx.Err()
	})
	assert.True(t, ran)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, b.InFlight())
}

// A waiter whose context ends just as a slot is handed to it gives the slot
// back (to the next waiter, or to the pool): nothing leaks either way.
func TestCancelRacingHandOverLeavesNoSlotBehind(t *testing.T) {
	b := mustNew(t, bulkhead.Config{MaxConcurrent: 1, MaxWait: time.Hour})
	for i := range 500 {
		require.NoError(t, b.Acquire(context.Background()))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- b.Acquire(ctx) }()
		for b.Waiting() == 0 {
			runtime.Gosched()
		}
		go cancel()
		b.Release()
		if err := <-done; err == nil {
			b.Release()
		} else {
			require.ErrorIs(t, err, context.Canceled, "round %d", i)
		}
		cancel()
		require.Zero(t, b.InFlight(), "round %d", i)
		require.Zero(t, b.Waiting(), "round %d", i)
	}
}

func TestSlotIsGivenBackHoweverTheCallEnds(t *testing.T) {
	errBoom := errors.New("boom")
	for _, tc := range []struct {
		name string
		call func(context.Context) error
		run  func(t *testing.T, b *bulkhead.Bulkhead, call func(context.Context) error)
	}{
		{
			name: "error",
			call: func(context.Context) error { return errBoom },
			run: func(t *testing.T, b *bulkhead.Bulkhead, call func(context.Context) error) {
				assert.Same(t, errBoom, b.Execute(context.Background(), call))
			},
		},
		{
			name: "panic",
			call: func(context.Context) error { panic(errBoom) },
			run: func(t *testing.T, b *bulkhead.Bulkhead, call func(context.Context) error) {
				assert.PanicsWithValue(t, errBoom, func() { _ = b.Execute(context.Background(), call) })
			},
		},
		{
			name: "runtime.Goexit",
			call: func(context.Context) error { runtime.Goexit(); return nil },
			run: func(t *testing.T, b *bulkhead.Bulkhead, call func(context.Context) error) {
				var wg sync.WaitGroup
				returned := false
				wg.Go(func() {
					_ = b.Execute(context.Background(), call)
					returned = true
				})
				wg.Wait()
				assert.False(t, returned)
			},
		},
		{
			name: "cancelled context",
			call: func(ctx context.Context) error { return ctx.Err() },
			run: func(t *testing.T, b *bulkhead.Bulkhead, call func(context.Context) error) {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				assert.ErrorIs(t, b.Execute(ctx, call), context.Canceled)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := mustNew(t, bulkhead.Config{MaxConcurrent: 1})
			tc.run(t, b, tc.call)
			assert.Zero(t, b.InFlight())
			require.NoError(t, b.Acquire(context.Background()), "the slot is free again")
			b.Release()
		})
	}
}

func TestReleaseWithoutAcquirePanics(t *testing.T) {
	b := mustNew(t, bulkhead.Config{MaxConcurrent: 3})
	assert.PanicsWithValue(t, "bulkhead: Release without a slot held", b.Release)
	assert.Zero(t, b.InFlight())
}

func TestAcquireHoldsSlotUntilRelease(t *testing.T) {
	b := mustNew(t, bulkhead.Config{MaxConcurrent: 2})
	ctx := context.Background()
	require.NoError(t, b.Acquire(ctx))
	require.NoError(t, b.Acquire(ctx))
	assert.Equal(t, 2, b.InFlight())
	assert.ErrorIs(t, b.Acquire(ctx), bulkhead.ErrFull)
	b.Release()
	assert.Equal(t, 1, b.InFlight())
	require.NoError(t, b.Acquire(ctx))
	b.Release()
	b.Release()
	assert.Zero(t, b.InFlight())
	assert.Equal(t, uint64(1), b.Rejected())
}

func TestWrapRunsNextInsideTheSlot(t *testing.T) {
	b := mustNew(t, bulkhead.Config{MaxConcurrent: 1})
	var inner []int
	next := resilience.PolicyFunc(func(ctx context.Context, call func(context.Context) error) error {
		inner = append(inner, b.InFlight())
		return call(ctx)
	})
	for _, p := range []resilience.Policy{b.Wrap(next), resilience.Chain(b, next)} {
		var seen int
		require.NoError(t, p.Execute(context.Background(), func(context.Context) error {
			seen = b.InFlight()
			return nil
		}))
		assert.Equal(t, 1, seen)
	}
	assert.Equal(t, []int{1, 1}, inner)

	var seen int
	require.NoError(t, b.Wrap(nil).Execute(context.Background(), func(context.Context) error {
		seen = b.InFlight()
		return nil
	}))
	assert.Equal(t, 1, seen)
	assert.Zero(t, b.InFlight())
}

func TestObserverIsToldOfSlotsWaitsAndRefusals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec recorder
		b := mustNew(t, bulkhead.Config{Name: "db", MaxConcurrent: 1, MaxWait: 50 * time.Millisecond, Observer: &rec})
		ctx := context.Background()

		require.NoError(t, b.Execute(ctx, func(context.Context) error { return nil }))
		assert.Equal(t, []resilience.EventKind{resilience.EventAcquire, resilience.EventRelease}, rec.Kinds())
		rec.Take()

		// A caller that waits 20ms and gets the slot.
		require.NoError(t, b.Acquire(ctx))
		done := make(chan error)
		go func() { done <- b.Acquire(ctx) }()
		time.Sleep(20 * time.Millisecond)
		b.Release()
		require.NoError(t, <-done)
		es := rec.Take()
		require.Len(t, es, 4)
		assert.Equal(t, resilience.EventAcquire, es[0].Kind)
		assert.Equal(t, resilience.EventRelease, es[1].Kind)
		assert.Equal(t, resilience.EventWait, es[2].Kind)
		assert.Equal(t, 20*time.Millisecond, es[2].Latency)
		assert.Equal(t, resilience.EventAcquire, es[3].Kind)

		// A caller that waits in vain.
		err := b.Acquire(ctx)
		es = rec.Take()
		require.Len(t, es, 1)
		assert.Equal(t, resilience.EventRejected, es[0].Kind)
		assert.Same(t, err, es[0].Err)
		for _, e := range es {
			assert.Equal(t, "db", e.Policy)
		}
		b.Release()
	})
}

// MaxWait passing at the very moment a slot is handed over: the caller
// either keeps the slot or is refused, and no slot is lost either way.
func TestMaxWaitRacingHandOverLeavesNoSlotBehind(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, bulkhead.Config{MaxConcurrent: 1, MaxWait: 10 * time.Millisecond})
		for i := range 200 {
			require.NoError(t, b.Acquire(context.Background()))
			done := make(chan error)
			go func() { done <- b.Acquire(context.Background()) }()
			time.Sleep(10 * time.Millisecond) // wakes with the waiter's timer
			b.Release()
			if err := <-done; err == nil {
				b.Release()
			} else {
				require.ErrorIs(t, err, bulkhead.ErrFull, "round %d", i)
			}
			require.Zero(t, b.InFlight(), "round %d", i)
			require.Zero(t, b.Waiting(), "round %d", i)
		}
	})
}
