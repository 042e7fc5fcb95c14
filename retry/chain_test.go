package retry_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/fallback"
	"github.com/go-resilience/resilience/internal/eventlog"
	"github.com/go-resilience/resilience/retry"
	"github.com/go-resilience/resilience/timeout"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chain is retry → breaker → bulkhead → timeout, the recommended order.
type chain struct {
	r    *retry.Retry
	brk  *breaker.Breaker
	bulk *bulkhead.Bulkhead
	p    resilience.Policy
	rec  *eventlog.Recorder
}

func newChain(t *testing.T, rcfg retry.Config) *chain {
	t.Helper()
	c := &chain{rec: &eventlog.Recorder{}}
	var err error
	rcfg.Name, rcfg.Observer = "r", c.rec
	if rcfg.Budget == nil {
		rcfg.Budget = roomy(t)
	}
	c.r, err = retry.New(rcfg)
	require.NoError(t, err)
	c.brk, err = breaker.New(breaker.Config{Name: "b", ConsecutiveFailures: 2, OpenTimeout: time.Minute})
	require.NoError(t, err)
	c.bulk, err = bulkhead.New(bulkhead.Config{Name: "k", MaxConcurrent: 4})
	require.NoError(t, err)
	tmo, err := timeout.New(timeout.Config{Timeout: 100 * time.Millisecond})
	require.NoError(t, err)
	c.p = resilience.Chain(c.r, c.brk, c.bulk, tmo)
	return c
}

// Through Execute and through Do, an open breaker ends the retries at
// once: its refusal is not retried, and the dependency sees no call.
func TestOpenBreakerStopsTheRetries(t *testing.T) {
	for _, via := range []string{"Execute", "Do"} {
		t.Run(via, func(t *testing.T) {
			c := newChain(t, retry.Config{MaxAttempts: 5, BaseDelay: -1})
			n := 0
			fn := func(context.Context) (int, error) { n++; return 0, errDown }
			var err error
			if via == "Do" {
				_, err = resilience.Do(context.Background(), c.p, fn)
			} else {
				err = c.p.Execute(context.Background(), func(ctx context.Context) error { _, err := fn(ctx); return err })
			}
			assert.ErrorIs(t, err, breaker.ErrOpen, "the third attempt met the open breaker")
			assert.Equal(t, 2, n, "two failures opened the breaker; nothing reached the dependency after")
			assert.Equal(t, breaker.Open, c.brk.State())
			assert.Len(t, c.rec.OfKind(resilience.EventRetry), 2)
			n = 0
			_, err = resilience.Do(context.Background(), c.p, fn)
			assert.ErrorIs(t, err, breaker.ErrOpen)
			assert.Zero(t, n, "a call while open is refused and not retried")
			assert.Len(t, c.rec.OfKind(resilience.EventRetry), 2)
		})
	}
}

// Each attempt gets its own timeout, and a timed-out attempt is retried.
func TestEachAttemptGetsItsOwnTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newChain(t, retry.Config{MaxAttempts: 3, BaseDelay: -1})
		n := 0
		start := time.Now()
		v, err := resilience.Do(context.Background(), c.p, func(ctx context.Context) (string, error) {
			n++
			if n == 1 {
				<-ctx.Done() // hangs until its own timeout
				return "", ctx.Err()
			}
			return "second", nil
		})
		require.NoError(t, err)
		assert.Equal(t, "second", v)
		assert.Equal(t, 100*time.Millisecond, time.Since(start))
	})
}

// Do keeps the last attempt's result; fallback.Do answers only once the
// retries are over.
func TestDoReturnsTheLastAttemptsResultAndFallbackComesAfter(t *testing.T) {
	c := newChain(t, retry.Config{MaxAttempts: 2, BaseDelay: -1})
	n := 0
	v, err := fallback.Do(context.Background(), c.p, func(context.Context) (int, error) {
		n++
		return n * 10, errDown
	}, func(_ context.Context, err error) (int, error) {
		assert.ErrorIs(t, err, errDown)
		return -1, nil
	})
	require.NoError(t, err)
	assert.Equal(t, -1, v)
	assert.Equal(t, 2, n)

	c = newChain(t, retry.Config{MaxAttempts: 2, BaseDelay: -1})
	n = 0
	v, err = resilience.Do(context.Background(), c.p, func(context.Context) (int, error) {
		n++
		if n == 1 {
			return 1, errDown
		}
		return 2, nil
	})
	require.NoError(t, err)
	assert.Equal(t, 2, v)
}

// Execute and Do report the same events for the same story.
func TestExecuteAndDoReportTheSameEvents(t *testing.T) {
	run := func(via string) ([]resilience.EventKind, error) {
		c := newChain(t, retry.Config{MaxAttempts: 3, BaseDelay: -1})
		n := 0
		fn := func(context.Context) (int, error) {
			n++
			if n < 3 {
				return 0, errDown
			}
			return 1, errors.New("other")
		}
		var err error
		if via == "Do" {
			_, err = resilience.Do(context.Background(), resilience.Chain(c.r, c.bulk), fn)
		} else {
			err = resilience.Chain(c.r, c.bulk).Execute(context.Background(), func(ctx context.Context) error { _, err := fn(ctx); return err })
		}
		return c.rec.Kinds(), err
	}
	ke, ee := run("Execute")
	kd, ed := run("Do")
	assert.Equal(t, ke, kd)
	assert.Equal(t, ee.Error(), ed.Error())
	assert.Equal(t, []resilience.EventKind{resilience.EventRetry, resilience.EventRetry, resilience.EventRetryGiveUp}, kd)
}

func TestPanicThroughDoGivesBackBulkheadAndBudget(t *testing.T) {
	c := newChain(t, retry.Config{MaxAttempts: 3, BaseDelay: -1})
	n := 0
	assert.Panics(t, func() {
		_, _ = resilience.Do(context.Background(), c.p, func(context.Context) (int, error) {
			n++
			if n == 2 {
				panic("boom")
			}
			return 0, errDown
		})
	})
	assert.Zero(t, c.bulk.InFlight())
	calls, extra := c.r.Budget().InFlight()
	assert.Zero(t, calls)
	assert.Zero(t, extra)
}

func TestMisuseIsAnErrorNotAPanic(t *testing.T) {
	call := func(context.Context) error { return nil }
	r, err := retry.New(retry.Config{})
	require.NoError(t, err)
	var nilRetry *retry.Retry
	var nilCtx context.Context // a nil context, the misuse under test
	for _, tc := range []struct {
		name string
		run  func() error
		also error
	}{
		{"zero Retry", func() error { return new(retry.Retry).Execute(context.Background(), call) }, resilience.ErrMisuse},
		{"nil *Retry", func() error { return nilRetry.Execute(context.Background(), call) }, resilience.ErrNilPolicy},
		{"nil context", func() error { return r.Execute(nilCtx, call) }, resilience.ErrNilContext},
		{"nil call", func() error { return r.Execute(context.Background(), nil) }, resilience.ErrNilFunc},
		{"zero Retry in a Chain", func() error {
			return resilience.Chain(new(retry.Retry)).Execute(context.Background(), call)
		}, resilience.ErrMisuse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			assert.ErrorIs(t, err, resilience.ErrMisuse)
			assert.ErrorIs(t, err, tc.also)
		})
	}
}

// panicky is an Observer that panics on its first event of kind k.
type panicky struct{ k resilience.EventKind }

func (p panicky) Observe(e resilience.Event) {
	if e.Kind == p.k {
		panic("observer")
	}
}

// A panic in the Observer gives back what the call holds, through Execute
// and through Do, before it goes on.
func TestObserverPanicGivesBackTheBudget(t *testing.T) {
	for _, via := range []string{"Execute", "Do"} {
		t.Run(via, func(t *testing.T) {
			r, err := retry.New(retry.Config{BaseDelay: -1, Budget: roomy(t), Observer: panicky{resilience.EventRetry}})
			require.NoError(t, err)
			p := resilience.Chain(r)
			assert.PanicsWithValue(t, "observer", func() {
				if via == "Do" {
					_, _ = resilience.Do(context.Background(), p, func(context.Context) (int, error) { return 0, errDown })
				} else {
					_ = p.Execute(context.Background(), func(context.Context) error { return errDown })
				}
			})
			calls, extra := r.Budget().InFlight()
			assert.Zero(t, calls)
			assert.Zero(t, extra)
		})
	}
}
