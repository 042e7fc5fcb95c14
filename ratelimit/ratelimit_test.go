package ratelimit_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/ratelimit"
)

func mustNew(t testing.TB, cfg ratelimit.Config) *ratelimit.Limiter {
	t.Helper()
	l, err := ratelimit.New(cfg)
	require.NoError(t, err)
	return l
}

func nop(context.Context) error { return nil }

func TestRefusalMatchesErrLimitedAndErrRejectedAndNamesTheLimiter(t *testing.T) {
	for _, tc := range []struct{ name, msg string }{
		{"", "ratelimit: limited"},
		{"partner", `ratelimit "partner": limited`},
	} {
		l := mustNew(t, ratelimit.Config{Name: tc.name, Rate: 1})
		require.NoError(t, l.Execute(context.Background(), nop))
		ran := false
		err := l.Execute(context.Background(), func(context.Context) error { ran = true; return nil })
		require.Error(t, err)
		assert.False(t, ran, "a refused call must not run")
		assert.EqualError(t, err, tc.msg)
		assert.ErrorIs(t, err, ratelimit.ErrLimited)
		assert.ErrorIs(t, err, resilience.ErrRejected)
		assert.EqualValues(t, 1, l.Rejected())
	}
}

func TestZeroBurstIsOne(t *testing.T) {
	l := mustNew(t, ratelimit.Config{Rate: 5})
	assert.Equal(t, 1, l.Burst())
	assert.InDelta(t, 1, l.Tokens(), 1e-9)
}

// Over 10 s of fake time, however many callers ask at once and however they
// give up, the limiter admits no more than rate × 10 s + burst, and wastes
// no tokens: at least 90% of rate × 10 s go to calls.
func TestAdmittedCallsStayWithinRateTimesTimePlusBurst(t *testing.T) {
	const (
		r        = 100.0
		burst    = 10
		callers  = 64
		duration = 10 * time.Second
	)
	for _, tc := range []struct {
		name    string
		maxWait time.Duration
		// patience is how long a caller's own context lets it wait; zero:
		// no deadline of its own.
		patience time.Duration
	}{
		{"refused at once", 0, 0},
		{"waiting up to MaxWait", 50 * time.Millisecond, 0},
		{"callers cancelling while they wait", 200 * time.Millisecond, 15 * time.Millisecond},
		{"MaxWait shorter than a token", 3 * time.Millisecond, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := mustNew(t, ratelimit.Config{Rate: r, Burst: burst, MaxWait: tc.maxWait})
				admitted, refused, cancelled := run(t, callers, duration, tc.patience, l.Take)
				t.Logf("admitted %d (bound %d, floor %d), refused %d, cancelled %d",
					admitted, int(r*10)+burst, int(0.9*r*10), refused, cancelled)
				assert.LessOrEqual(t, admitted, int64(r*10)+burst)
				assert.GreaterOrEqual(t, admitted, int64(0.9*r*10))
			})
		})
	}
}

// The test above would fail for a limiter that reserves a token and
// cancels the reservation when its caller gives up, the way
// rate.Limiter.Wait does: shown here on a bare rate.Limiter with the same
// callers, so that the floor above is known to bite.
func TestReserveThenCancelWastesTokens(t *testing.T) {
	if testing.Short() {
		t.Skip("a demonstration, not a check of this package")
	}
	synctest.Test(t, func(t *testing.T) {
		lim := rate.NewLimiter(100, 10)
		take := func(ctx context.Context) error { return lim.Wait(ctx) }
		admitted, _, cancelled := run(t, 64, 10*time.Second, 15*time.Millisecond, take)
		t.Logf("bare rate.Limiter.Wait: admitted %d of 1000 tokens, %d callers cancelled", admitted, cancelled)
		assert.Less(t, admitted, int64(900), "reserve-then-cancel should waste tokens here")
	})
}

// run starts callers goroutines that call take until duration has passed,
// each with a context that lives patience (none when zero), backing off
// for the refusal's hint (or 1 ms) when refused, and counts the outcomes.
func run(t *testing.T, callers int, duration, patience time.Duration, take func(context.Context) error) (admitted, refused, cancelled int64) {
	var a, r, c atomic.Int64
	end := time.Now().Add(duration)
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for time.Now().Before(end) {
				// The caller gives up after patience by cancelling, not by
				// a deadline, which a limiter could see coming.
				ctx, cancel := context.WithCancel(context.Background())
				stop := func() bool { return false }
				if patience > 0 {
					stop = time.AfterFunc(patience, cancel).Stop
				}
				err := take(ctx)
				stop()
				cancel()
				switch {
				case err == nil:
					if time.Now().Before(end) {
						a.Add(1)
					}
					time.Sleep(time.Millisecond) // the call
				case errors.Is(err, resilience.ErrRejected):
					r.Add(1)
					d, ok := resilience.RetryAfter(err)
					if !ok {
						d = time.Millisecond
					}
					time.Sleep(d)
				default:
					c.Add(1)
					time.Sleep(time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	return a.Load(), r.Load(), c.Load()
}

func TestMaxWaitIsHonoured(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const maxWait = 300 * time.Millisecond
		// 10 a second: a token every 100 ms; three come within MaxWait.
		l := mustNew(t, ratelimit.Config{Rate: 10, MaxWait: maxWait})
		require.NoError(t, l.Take(context.Background()))
		start := time.Now()
		var got, refused atomic.Int64
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				err := l.Take(context.Background())
				waited := time.Since(start)
				assert.LessOrEqual(t, waited, maxWait, "nobody waits past MaxWait")
				if err == nil {
					got.Add(1)
					return
				}
				assert.ErrorIs(t, err, ratelimit.ErrLimited)
				refused.Add(1)
			})
		}
		wg.Wait()
		assert.EqualValues(t, 3, got.Load(), "the tokens due at 100, 200 and 300 ms")
		assert.EqualValues(t, 5, refused.Load())
	})
}

func TestWaitEndsWhenTheNextTokenIsDue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := mustNew(t, ratelimit.Config{Rate: 10, MaxWait: time.Second})
		require.NoError(t, l.Take(context.Background()))
		start := time.Now()
		require.NoError(t, l.Take(context.Background()))
		assert.Equal(t, 100*time.Millisecond, time.Since(start))
	})
}

func TestRefusedAtOnceWhenTheNextTokenIsBeyondMaxWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := mustNew(t, ratelimit.Config{Rate: 1, MaxWait: 300 * time.Millisecond})
		require.NoError(t, l.Take(context.Background()))
		start := time.Now()
		err := l.Take(context.Background())
		assert.ErrorIs(t, err, ratelimit.ErrLimited)
		assert.Zero(t, time.Since(start), "no point waiting for a token that will not come in time")
		d, ok := resilience.RetryAfter(err)
		assert.True(t, ok)
		assert.Equal(t, time.Second, d)
	})
}

func TestCancelledWaiterReturnsContextErrorAndTakesNoToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := mustNew(t, ratelimit.Config{Rate: 10, MaxWait: time.Second})
		require.NoError(t, l.Take(context.Background()))
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := l.Take(ctx)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 50*time.Millisecond, time.Since(start))
		assert.Zero(t, l.Rejected(), "the caller's own deadline is not a refusal")
		// The token due at 100 ms is still there for the next caller.
		time.Sleep(50 * time.Millisecond)
		assert.InDelta(t, 1, l.Tokens(), 1e-9)

		done, cancelDone := context.WithCancel(context.Background())
		cancelDone()
		require.NoError(t, l.Take(done), "a free token is taken without looking at ctx")
		assert.ErrorIs(t, l.Take(done), context.Canceled)
	})
}

// The hint is the wait until the limiter has a token again: waiting it
// out is enough, and waiting a token interval less is not.
func TestRetryAfterHintIsTheWaitForTheNextToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const interval = 40 * time.Millisecond // 25 a second
		l := mustNew(t, ratelimit.Config{Rate: 25, Burst: 3})
		for range 3 {
			require.NoError(t, l.Take(context.Background()))
		}
		time.Sleep(15 * time.Millisecond)
		err := l.Take(context.Background())
		d, ok := resilience.RetryAfter(err)
		require.True(t, ok)
		assert.Equal(t, interval-15*time.Millisecond, d)

		// Many refused at once all hear of the same next token.
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				err := l.Take(context.Background())
				h, ok := resilience.RetryAfter(err)
				assert.True(t, ok)
				assert.Equal(t, d, h)
			})
		}
		wg.Wait()

		time.Sleep(d - time.Millisecond)
		assert.ErrorIs(t, l.Take(context.Background()), ratelimit.ErrLimited, "a millisecond early")
		time.Sleep(time.Millisecond)
		assert.NoError(t, l.Take(context.Background()), "on the hint")
		// Waiting a whole hint again always suffices, never more than an interval.
		err = l.Take(context.Background())
		d, ok = resilience.RetryAfter(err)
		require.True(t, ok)
		assert.LessOrEqual(t, d, interval)
		time.Sleep(d)
		assert.NoError(t, l.Take(context.Background()))
	})
}

func TestErrLimitedItselfGivesNoHint(t *testing.T) {
	_, ok := resilience.RetryAfter(ratelimit.ErrLimited)
	assert.False(t, ok)
}

func TestObserverHearsRefusalsAndWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		obs := &recorder{}
		l := mustNew(t, ratelimit.Config{Name: "p", Rate: 10, MaxWait: 150 * time.Millisecond, Observer: obs})
		require.NoError(t, l.Take(context.Background()))
		require.NoError(t, l.Take(context.Background()))
		require.NoError(t, l.Take(context.Background()))
		l2 := mustNew(t, ratelimit.Config{Name: "q", Rate: 1, Observer: obs})
		require.NoError(t, l2.Take(context.Background()))
		require.Error(t, l2.Take(context.Background()))
		require.Len(t, obs.events, 3)
		assert.Equal(t, resilience.EventWait, obs.events[0].Kind)
		assert.Equal(t, 100*time.Millisecond, obs.events[0].Latency)
		assert.Equal(t, "p", obs.events[0].Policy)
		assert.Equal(t, resilience.EventWait, obs.events[1].Kind)
		assert.Equal(t, resilience.EventRejected, obs.events[2].Kind)
		assert.Equal(t, "q", obs.events[2].Policy)
		assert.ErrorIs(t, obs.events[2].Err, ratelimit.ErrLimited)
	})
}

type recorder struct {
	mu     sync.Mutex
	events []resilience.Event
}

func (r *recorder) Observe(ev resilience.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}

func TestComposesInChainAndDo(t *testing.T) {
	l := mustNew(t, ratelimit.Config{Rate: 1, Burst: 2})
	p := resilience.Chain(l, resilience.Chain())
	v, err := resilience.Do(context.Background(), p, func(context.Context) (int, error) { return 7, nil })
	require.NoError(t, err)
	assert.Equal(t, 7, v)
	require.NoError(t, p.Execute(context.Background(), nop))
	_, err = resilience.Do(context.Background(), p, func(context.Context) (int, error) { return 7, nil })
	assert.ErrorIs(t, err, ratelimit.ErrLimited)
	_, ok := resilience.RetryAfter(err)
	assert.True(t, ok)
}

func TestMisuseIsReportedNotPanicked(t *testing.T) {
	l := mustNew(t, ratelimit.Config{Rate: 1})
	var nilL *ratelimit.Limiter
	var zero ratelimit.Limiter
	var nilCtx context.Context
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"nil limiter", nilL.Execute(context.Background(), nop), resilience.ErrNilPolicy},
		{"zero limiter", zero.Take(context.Background()), resilience.ErrMisuse},
		{"nil context", l.Take(nilCtx), resilience.ErrNilContext},
		{"nil call", l.Execute(context.Background(), nil), resilience.ErrNilFunc},
		{"nil call through Wrap", l.Wrap(nil).Execute(context.Background(), nil), resilience.ErrNilFunc},
		{"zero limiter in a Chain", resilience.Chain(&zero, resilience.Chain()).Execute(context.Background(), nop), resilience.ErrMisuse},
	} {
		assert.ErrorIs(t, tc.err, tc.want, tc.name)
		assert.ErrorIs(t, tc.err, resilience.ErrMisuse, tc.name)
		assert.NotErrorIs(t, tc.err, resilience.ErrRejected, tc.name)
	}
	assert.InDelta(t, 1, l.Tokens(), 1e-9, "no token was taken")
}
