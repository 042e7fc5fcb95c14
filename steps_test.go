package resilience_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/internal/eventlog"
	"github.com/go-resilience/resilience/timeout"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Through a Chain of the module's own policies, Do calls fn itself between
// the policies' two steps. These tests pin that this path behaves as
// Execute does, event for event.

// modChain is a Chain of the module's policies in the recommended order,
// each reporting to one Recorder.
type modChain struct {
	brk  *breaker.Breaker
	bulk *bulkhead.Bulkhead
	tmo  *timeout.Timeout
	rec  *eventlog.Recorder
	p    resilience.Policy
}

func newModChain(t *testing.T, tcfg timeout.Config) *modChain {
	t.Helper()
	c := &modChain{rec: &eventlog.Recorder{}}
	var err error
	c.brk, err = breaker.New(breaker.Config{Name: "b", ConsecutiveFailures: 2, OpenTimeout: time.Minute, Observer: c.rec})
	require.NoError(t, err)
	c.bulk, err = bulkhead.New(bulkhead.Config{Name: "k", MaxConcurrent: 1, Observer: c.rec})
	require.NoError(t, err)
	tcfg.Name, tcfg.Observer = "t", c.rec
	c.tmo, err = timeout.New(tcfg)
	require.NoError(t, err)
	c.p = resilience.Chain(c.brk, c.bulk, c.tmo)
	return c
}

// trace is what a run through a chain showed: each event's kind, policy
// and outcome, in order, and the error, as text.
func trace(events []resilience.Event, err error) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.Kind.String()+" "+e.Policy+" "+e.Outcome.String())
	}
	if err == nil {
		return append(out, "ok")
	}
	return append(out, err.Error())
}

var errDown = errors.New("down")

func TestDoThroughAChainBehavesAsExecute(t *testing.T) {
	for _, tc := range []struct {
		name string
		// setup puts the chain in the state the case needs; it may return
		// a context for the call and a func to run when it has returned.
		setup func(t *testing.T, c *modChain) (context.Context, func())
		call  func(ctx context.Context) error
	}{
		{name: "a success", call: func(context.Context) error { return nil }},
		{name: "a failure", call: func(context.Context) error { return errDown }},
		{
			name: "a refusal of the open breaker",
			setup: func(t *testing.T, c *modChain) (context.Context, func()) {
				c.brk.ForceOpen()
				return nil, nil
			},
			call: func(context.Context) error { t.Error("a refused call ran"); return nil },
		},
		{
			name: "a refusal of the full bulkhead, ignored by the breaker",
			setup: func(t *testing.T, c *modChain) (context.Context, func()) {
				require.NoError(t, c.bulk.Acquire(context.Background()))
				return nil, c.bulk.Release
			},
			call: func(context.Context) error { t.Error("a refused call ran"); return nil },
		},
		{
			name: "a hung call, ended by the timeout, a failure",
			call: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() },
		},
		{
			name: "a call the caller cancelled, ignored",
			setup: func(t *testing.T, c *modChain) (context.Context, func()) {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx, nil
			},
			call: func(ctx context.Context) error { return ctx.Err() },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got [2][]string
			for i, via := range []string{"Execute", "Do"} {
				synctest.Test(t, func(t *testing.T) {
					c := newModChain(t, timeout.Config{Timeout: time.Second})
					ctx, after := context.Background(), func() {}
					if tc.setup != nil {
						sctx, safter := tc.setup(t, c)
						if sctx != nil {
							ctx = sctx
						}
						if safter != nil {
							after = safter
						}
					}
					c.rec.Take()
					var err error
					if via == "Execute" {
						err = c.p.Execute(ctx, tc.call)
					} else {
						_, err = resilience.Do(ctx, c.p, func(ctx context.Context) (int, error) { return 1, tc.call(ctx) })
					}
					after()
					got[i] = trace(c.rec.Take(), err)
					assert.Zero(t, c.bulk.InFlight(), "%s: every slot is given back", via)
				})
			}
			assert.Equal(t, got[0], got[1], "Do reports what Execute reports")
			assert.NotEmpty(t, got[0])
		})
	}
}

func TestDoThroughAChainReturnsTheCallsResult(t *testing.T) {
	c := newModChain(t, timeout.Config{Timeout: time.Second})
	v, err := resilience.Do(context.Background(), c.p, func(context.Context) (string, error) { return "partial", errDown })
	assert.Equal(t, "partial", v, "a failed call's result is returned with its error")
	assert.ErrorIs(t, err, errDown)

	c.brk.ForceOpen()
	v, err = resilience.Do(context.Background(), c.p, func(context.Context) (string, error) { return "ran", nil })
	assert.Empty(t, v, "a refused call returns the zero value")
	assert.ErrorIs(t, err, breaker.ErrOpen)
}

func TestDoThroughAChainGivesBackWhatAPanickingCallHeld(t *testing.T) {
	c := newModChain(t, timeout.Config{Timeout: time.Second})
	boom := errors.New("boom")
	var deadline time.Time
	func() {
		defer func() { assert.Equal(t, boom, recover(), "the panic reaches the caller unchanged") }()
		_, _ = resilience.Do(context.Background(), c.p, func(ctx context.Context) (int, error) {
			deadline, _ = ctx.Deadline()
			panic(boom)
		})
	}()
	assert.False(t, deadline.IsZero(), "the call ran under the timeout")
	assert.Zero(t, c.bulk.InFlight(), "the slot is given back")
	assert.Equal(t, uint32(1), c.brk.Counts().TotalFailures, "the panic counts as a failure")
}

func TestDoThroughAChainInAbandonModeStillReturnsOnTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newModChain(t, timeout.Config{Timeout: time.Second, Abandon: true, MaxAbandoned: 1})
		release := make(chan struct{})
		start := time.Now()
		v, err := resilience.Do(context.Background(), c.p, func(context.Context) (int, error) {
			<-release // ignores its context
			return 1, nil
		})
		assert.Equal(t, time.Second, time.Since(start))
		assert.ErrorIs(t, err, timeout.ErrTimeout)
		assert.Zero(t, v)
		close(release)
		synctest.Wait()
		assert.Zero(t, c.tmo.Abandoned())
	})
}

// wrapsNil is a user policy with a Wrap method that cannot take nil.
type wrapsNil struct{}

func (wrapsNil) Execute(ctx context.Context, call func(context.Context) error) error {
	return call(ctx)
}

func (w wrapsNil) Wrap(next resilience.Policy) resilience.Policy {
	if next == nil {
		panic("Wrap(nil)")
	}
	return resilience.PolicyFunc(func(ctx context.Context, call func(context.Context) error) error {
		return next.Execute(ctx, call)
	})
}

func TestChainOfAUserPolicyWithWrapRunsBothWays(t *testing.T) {
	c := newModChain(t, timeout.Config{Timeout: time.Second})
	p := resilience.Chain(wrapsNil{}, c.p)
	v, err := resilience.Do(context.Background(), p, func(context.Context) (int, error) { return 5, nil })
	assert.NoError(t, err)
	assert.Equal(t, 5, v)
	assert.NoError(t, p.Execute(context.Background(), func(context.Context) error { return nil }))
}

func TestChainSplicesANestedChain(t *testing.T) {
	c := newModChain(t, timeout.Config{Timeout: time.Second})
	inner := resilience.Chain(c.bulk, c.tmo)
	nested := resilience.Chain(c.brk, inner)
	for _, via := range []string{"Execute", "Do"} {
		var err error
		if via == "Execute" {
			err = nested.Execute(context.Background(), func(context.Context) error { return nil })
		} else {
			_, err = resilience.Do(context.Background(), nested, func(context.Context) (int, error) { return 1, nil })
		}
		require.NoError(t, err)
		var kinds []string
		for _, e := range c.rec.Take() {
			kinds = append(kinds, e.Kind.String()+" "+e.Policy)
		}
		assert.Equal(t, []string{"acquire k", "release k", "call b"}, kinds, via)
	}
}

func TestDoThroughAChainOfTheModulesPoliciesAllocatesNothingOfItsOwn(t *testing.T) {
	brk, err := breaker.New(breaker.Config{})
	require.NoError(t, err)
	bulk, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
	require.NoError(t, err)
	tmo, err := timeout.New(timeout.Config{Timeout: time.Hour})
	require.NoError(t, err)
	p := resilience.Chain(brk, bulk, tmo)
	fn := func(context.Context) (int, error) { return 1, nil }
	early, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bare := testing.AllocsPerRun(100, func() {
		ctx, cancel := context.WithTimeoutCause(context.Background(), time.Hour, timeout.ErrTimeout)
		_, _ = fn(ctx)
		cancel()
	})

	assert.Equal(t, bare, testing.AllocsPerRun(100, func() { _, _ = resilience.Do(context.Background(), p, fn) }),
		"a success: only the timeout's context")
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = resilience.Do(early, p, fn) }),
		"a success when the caller's deadline comes first")
	brk.ForceOpen()
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = resilience.Do(context.Background(), p, fn) }),
		"a refusal")
}

func TestDoThroughAChainUnderManyCallersKeepsEveryBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const (
			callers = 500
			slots   = 8
			probes  = 3
		)
		brk, err := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenTimeout: time.Second, HalfOpenProbes: probes})
		require.NoError(t, err)
		bulk, err := bulkhead.New(bulkhead.Config{MaxConcurrent: slots})
		require.NoError(t, err)
		tmo, err := timeout.New(timeout.Config{Timeout: time.Minute})
		require.NoError(t, err)
		p := resilience.Chain(brk, bulk, tmo)

		for _, phase := range []struct {
			name    string
			setup   func()
			running int // calls that get in and wait
		}{
			{"closed: the bulkhead lets in its slots", func() {}, slots},
			{"half-open: the breaker lets in its probes", func() {
				_, _ = resilience.Do(context.Background(), p, func(context.Context) (int, error) { return 0, errDown })
				require.Equal(t, breaker.Open, brk.State())
				time.Sleep(time.Second)
			}, probes},
		} {
			phase.setup()
			var (
				inside, most atomic.Int32
				release      = make(chan struct{})
				results      = make([]error, callers)
				values       = make([]int, callers)
				returns      = make([]atomic.Int32, callers)
				wg           sync.WaitGroup
			)
			for i := range callers {
				wg.Go(func() {
					values[i], results[i] = resilience.Do(context.Background(), p, func(ctx context.Context) (int, error) {
						n := inside.Add(1)
						for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
						}
						<-release
						inside.Add(-1)
						return i + 1, nil
					})
					returns[i].Add(1)
				})
			}
			synctest.Wait() // every caller has returned, or is inside and blocked
			assert.Equal(t, int32(phase.running), inside.Load(), phase.name)
			close(release)
			wg.Wait()

			ran, refused := 0, 0
			for i := range callers {
				require.Equal(t, int32(1), returns[i].Load(), "%s: caller %d returns exactly once", phase.name, i)
				switch {
				case results[i] == nil:
					assert.Equal(t, i+1, values[i], "%s: a call's own result", phase.name)
					ran++
				case errors.Is(results[i], resilience.ErrRejected):
					assert.Zero(t, values[i], "%s: a refusal has the zero value", phase.name)
					refused++
				default:
					t.Errorf("%s: caller %d: unexpected error %v", phase.name, i, results[i])
				}
			}
			assert.Equal(t, phase.running, ran, phase.name)
			assert.Equal(t, callers-phase.running, refused, phase.name)
			assert.LessOrEqual(t, most.Load(), int32(phase.running), "%s: never more in flight than allowed", phase.name)
			assert.Zero(t, bulk.InFlight(), "%s: every slot comes back", phase.name)
		}
		assert.Equal(t, breaker.Closed, brk.State(), "the probes succeeded")
	})
}
