package hedge_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/hedge"
	"github.com/go-resilience/resilience/retry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var errBoom = errors.New("boom")

// roomy is a budget that grants every hedge of these tests.
func roomy(t testing.TB) *retry.Budget {
	b, err := retry.NewBudget(retry.BudgetConfig{Ratio: 10, MinConcurrent: 1 << 20, MinPerSecond: 1e9})
	require.NoError(t, err)
	return b
}

func newHedge(t testing.TB, cfg hedge.Config) *hedge.Hedge {
	t.Helper()
	if cfg.Budget == nil {
		cfg.Budget = roomy(t)
	}
	h, err := hedge.New(cfg)
	require.NoError(t, err)
	return h
}

// events records what a Hedge reports.
type events struct {
	mu   sync.Mutex
	list []resilience.Event
}

func (e *events) Observe(ev resilience.Event) {
	e.mu.Lock()
	e.list = append(e.list, ev)
	e.mu.Unlock()
}

func (e *events) count(k resilience.EventKind) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range e.list {
		if ev.Kind == k {
			n++
		}
	}
	return n
}

// an attempt's plan: how long it takes and what it returns.
type plan struct {
	d   time.Duration
	v   int
	err error
}

// planned returns a fn whose attempt i (0 first) follows plans[i], honours
// its context, and records which attempts were cancelled.
func planned(plans ...plan) (fn func(context.Context) (int, error), started *atomic.Int32, cancelled *[8]atomic.Bool) {
	started = new(atomic.Int32)
	cancelled = new([8]atomic.Bool)
	fn = func(ctx context.Context) (int, error) {
		i := int(started.Add(1)) - 1
		p := plans[i]
		select {
		case <-time.After(p.d):
			return p.v, p.err
		case <-ctx.Done():
			cancelled[i].Store(true)
			return -1, ctx.Err()
		}
	}
	return fn, started, cancelled
}

func TestDo(t *testing.T) {
	for _, tc := range []struct {
		name      string
		cfg       hedge.Config
		plans     []plan
		wantV     int
		wantErr   error
		started   int
		cancelled []int // attempts whose context was cancelled before they answered
		took      time.Duration
		sent, won int
	}{
		{name: "first answering before the delay sends no hedge",
			cfg:   hedge.Config{Delay: 10 * time.Millisecond},
			plans: []plan{{d: 5 * time.Millisecond, v: 1}}, wantV: 1, started: 1, took: 5 * time.Millisecond},
		{name: "a slow first attempt is hedged and the hedge wins",
			cfg:   hedge.Config{Delay: 10 * time.Millisecond},
			plans: []plan{{d: time.Second, v: 1}, {d: 5 * time.Millisecond, v: 2}}, wantV: 2, started: 2,
			cancelled: []int{0}, took: 15 * time.Millisecond, sent: 1, won: 1},
		{name: "the first attempt wins over its hedge, which is cancelled",
			cfg:   hedge.Config{Delay: 10 * time.Millisecond},
			plans: []plan{{d: 12 * time.Millisecond, v: 1}, {d: time.Second, v: 2}}, wantV: 1, started: 2,
			cancelled: []int{1}, took: 12 * time.Millisecond, sent: 1},
		{name: "a first attempt failing before the delay ends the call",
			cfg:   hedge.Config{Delay: 10 * time.Millisecond},
			plans: []plan{{d: time.Millisecond, err: errBoom}}, wantErr: errBoom, started: 1, took: time.Millisecond},
		{name: "a failed first attempt lets its hedge win",
			cfg:   hedge.Config{Delay: 10 * time.Millisecond},
			plans: []plan{{d: 12 * time.Millisecond, err: errBoom}, {d: 5 * time.Millisecond, v: 2}}, wantV: 2, started: 2,
			took: 15 * time.Millisecond, sent: 1, won: 1},
		{name: "all failing return the first attempt's error",
			cfg:   hedge.Config{Delay: 10 * time.Millisecond, MaxHedges: 2},
			plans: []plan{{d: 30 * time.Millisecond, v: 7, err: errBoom}, {d: 5 * time.Millisecond, err: errors.New("second")}, {d: 15 * time.Millisecond, err: errors.New("third")}},
			wantV: 7, wantErr: errBoom, started: 3, took: 35 * time.Millisecond, sent: 2},
		{name: "a fatal error of a hedge ends the call at once",
			cfg:   hedge.Config{Delay: 10 * time.Millisecond},
			plans: []plan{{d: time.Second, v: 1}, {d: 5 * time.Millisecond, err: bulkhead.ErrFull}}, wantV: 0, wantErr: bulkhead.ErrFull, started: 2,
			cancelled: []int{0}, took: 15 * time.Millisecond, sent: 1},
		{name: "MaxHedges sends one hedge per delay",
			cfg:   hedge.Config{Delay: 10 * time.Millisecond, MaxHedges: 3},
			plans: []plan{{d: time.Second}, {d: time.Second}, {d: time.Second}, {d: 3 * time.Millisecond, v: 4}}, wantV: 4, started: 4,
			cancelled: []int{0, 1, 2}, took: 33 * time.Millisecond, sent: 3, won: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				obs := &events{}
				tc.cfg.Observer = obs
				h := newHedge(t, tc.cfg)
				fn, started, cancelled := planned(tc.plans...)
				start := time.Now()
				v, err := hedge.Do(t.Context(), h, nil, fn)
				took := time.Since(start)
				if tc.wantErr != nil {
					require.ErrorIs(t, err, tc.wantErr)
				} else {
					require.NoError(t, err)
				}
				assert.Equal(t, tc.wantV, v)
				assert.Equal(t, tc.took, took)
				synctest.Wait() // the losing hedges return
				assert.Equal(t, tc.started, int(started.Load()))
				for i := range tc.plans {
					assert.Equal(t, contains(tc.cancelled, i), cancelled[i].Load(), "attempt %d cancelled", i)
				}
				assert.Equal(t, tc.sent, obs.count(resilience.EventHedgeSent))
				assert.Equal(t, tc.won, obs.count(resilience.EventHedgeWon))
			})
		})
	}
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestCallerCancelEndsEveryAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedge(t, hedge.Config{Delay: 10 * time.Millisecond, MaxHedges: 2})
		fn, started, cancelled := planned(plan{d: time.Hour}, plan{d: time.Hour}, plan{d: time.Hour})
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(25*time.Millisecond, cancel)
		start := time.Now()
		_, err := hedge.Do(ctx, h, nil, fn)
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, 25*time.Millisecond, time.Since(start))
		synctest.Wait()
		assert.EqualValues(t, 3, started.Load())
		for i := range 3 {
			assert.True(t, cancelled[i].Load(), "attempt %d", i)
		}
	})
}

func TestEmptyBudgetSendsNoHedge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, err := retry.NewBudget(retry.BudgetConfig{Ratio: 0.01, MinConcurrent: 1, MinPerSecond: 1e-9})
		require.NoError(t, err)
		obs := &events{}
		h := newHedge(t, hedge.Config{Delay: 10 * time.Millisecond, Budget: b, Observer: obs})
		fn, started, _ := planned(plan{d: 50 * time.Millisecond, v: 1})
		v, err := hedge.Do(t.Context(), h, nil, fn)
		require.NoError(t, err)
		assert.Equal(t, 1, v, "the first attempt ran on alone")
		assert.EqualValues(t, 1, started.Load())
		assert.Equal(t, 1, obs.count(resilience.EventHedgeRefused))
		assert.Equal(t, 0, obs.count(resilience.EventHedgeSent))
	})
}

func TestDoDropReleasesEveryValueNotReturned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedge(t, hedge.Config{Delay: 10 * time.Millisecond, MaxHedges: 2})
		// Attempt 2 (sent at 10ms) wins at 25ms; attempts 1 and 3 (sent at
		// 20ms) are cancelled.
		fn, _, _ := planned(plan{d: 25*time.Millisecond + time.Microsecond, v: 1}, plan{d: 15 * time.Millisecond, v: 2}, plan{d: time.Second, v: 3})
		var mu sync.Mutex
		var dropped []int
		v, done, err := hedge.DoDrop(t.Context(), h, nil, fn, func(v int) {
			mu.Lock()
			dropped = append(dropped, v)
			mu.Unlock()
		})
		require.NoError(t, err)
		assert.Equal(t, 2, v)
		done()
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		assert.ElementsMatch(t, []int{-1, -1}, dropped, "attempts 1 and 3, cancelled, are dropped")
	})
}

func TestDoDropKeepsTheWinnersContextUntilDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedge(t, hedge.Config{Delay: 10 * time.Millisecond})
		var ctxs [2]context.Context
		var n atomic.Int32
		fn := func(ctx context.Context) (int, error) {
			i := n.Add(1) - 1
			ctxs[i] = ctx
			if i == 0 {
				<-ctx.Done()
				return 0, ctx.Err()
			}
			return 2, nil
		}
		v, done, err := hedge.DoDrop(t.Context(), h, nil, fn, nil)
		require.NoError(t, err)
		assert.Equal(t, 2, v)
		assert.Error(t, ctxs[0].Err(), "the loser's context is cancelled")
		assert.NoError(t, ctxs[1].Err(), "the winner's context lives until done")
		done()
		assert.Error(t, ctxs[1].Err())
	})
}

func TestPanics(t *testing.T) {
	t.Run("in the first attempt, reaches the caller", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			h := newHedge(t, hedge.Config{Delay: 10 * time.Millisecond})
			assert.PanicsWithValue(t, "first", func() {
				hedge.Do(t.Context(), h, nil, func(context.Context) (int, error) { panic("first") })
			})
			synctest.Wait()
		})
	})
	t.Run("in a hedge, reaches the caller", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			h := newHedge(t, hedge.Config{Delay: 10 * time.Millisecond})
			var n atomic.Int32
			assert.PanicsWithValue(t, "hedge", func() {
				hedge.Do(t.Context(), h, nil, func(ctx context.Context) (int, error) {
					if n.Add(1) == 2 {
						panic("hedge")
					}
					<-ctx.Done()
					return 0, ctx.Err()
				})
			})
			_, extra := h.Budget().InFlight()
			assert.Zero(t, extra, "the hedge's budget given back")
		})
	})
}

func TestEachAttemptRunsThroughThePolicy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bh, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
		require.NoError(t, err)
		h := newHedge(t, hedge.Config{Delay: 10 * time.Millisecond})
		fn, started, _ := planned(plan{d: time.Second, v: 1})
		start := time.Now()
		_, err = hedge.Do(t.Context(), h, bh, fn)
		require.ErrorIs(t, err, bulkhead.ErrFull, "the hedge found the bulkhead full: a refusal ends the call")
		assert.Equal(t, 10*time.Millisecond, time.Since(start))
		assert.EqualValues(t, 1, started.Load())
		assert.Zero(t, bh.InFlight())
	})
}

func TestMisuseIsReportedNotRun(t *testing.T) {
	h := newHedge(t, hedge.Config{Delay: time.Millisecond})
	ran := false
	fn := func(context.Context) (int, error) { ran = true; return 1, nil }
	var nilCtx context.Context
	for _, tc := range []struct {
		name string
		do   func() error
		kind error
	}{
		{"nil Hedge", func() error { _, err := hedge.Do(t.Context(), nil, nil, fn); return err }, resilience.ErrNilPolicy},
		{"zero Hedge", func() error { _, err := hedge.Do(t.Context(), new(hedge.Hedge), nil, fn); return err }, resilience.ErrMisuse},
		{"nil context", func() error { _, err := hedge.Do(nilCtx, h, nil, fn); return err }, resilience.ErrNilContext},
		{"nil fn", func() error { _, err := hedge.Do[int](t.Context(), h, nil, nil); return err }, resilience.ErrNilFunc},
		{"nil fn through DoDrop", func() error {
			_, done, err := hedge.DoDrop[int](t.Context(), h, nil, nil, nil)
			done()
			return err
		}, resilience.ErrNilFunc},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			assert.ErrorIs(t, err, tc.kind)
			assert.ErrorIs(t, err, resilience.ErrMisuse)
			assert.False(t, ran)
		})
	}
}

// slowEvents is events with an Observer that takes its time over one
// kind of event, as one that writes a log line might.
type slowEvents struct {
	events
	slow resilience.EventKind
}

func (e *slowEvents) Observe(ev resilience.Event) {
	if ev.Kind == e.slow {
		time.Sleep(100 * time.Millisecond)
	}
	e.events.Observe(ev)
}

// The events of a call, which the hedge's goroutine reports, are all
// reported when the call returns: an Observer that adds them to the
// caller's span, say, never sees one after the span ended.
func TestEveryEventIsReportedBeforeTheCallReturns(t *testing.T) {
	empty := func(t testing.TB) *retry.Budget {
		b, err := retry.NewBudget(retry.BudgetConfig{Ratio: 0.01, MinConcurrent: 1, MinPerSecond: 1e-9})
		require.NoError(t, err)
		return b
	}
	for _, tc := range []struct {
		name   string
		slow   resilience.EventKind
		budget func(testing.TB) *retry.Budget
		plans  []plan
		want   int
		events []resilience.EventKind
	}{
		{"a hedge that wins", resilience.EventHedgeWon, roomy,
			[]plan{{d: time.Second, v: 1}, {d: 5 * time.Millisecond, v: 2}}, 2,
			[]resilience.EventKind{resilience.EventHedgeSent, resilience.EventHedgeWon}},
		{"a first attempt that answers while the hedge is reported", resilience.EventHedgeSent, roomy,
			[]plan{{d: 20 * time.Millisecond, v: 1}, {d: time.Second, v: 2}}, 1,
			[]resilience.EventKind{resilience.EventHedgeSent}},
		{"a hedge the budget refuses", resilience.EventHedgeRefused, empty,
			[]plan{{d: 50 * time.Millisecond, v: 1}}, 1,
			[]resilience.EventKind{resilience.EventHedgeRefused}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				obs := &slowEvents{slow: tc.slow}
				h := newHedge(t, hedge.Config{Delay: 10 * time.Millisecond, Budget: tc.budget(t), Observer: obs})
				fn, _, _ := planned(tc.plans...)
				v, err := hedge.Do(t.Context(), h, nil, fn)
				require.NoError(t, err)
				assert.Equal(t, tc.want, v)
				obs.mu.Lock()
				var got []resilience.EventKind
				for _, ev := range obs.list {
					got = append(got, ev.Kind)
				}
				obs.mu.Unlock()
				assert.Equal(t, tc.events, got)
			})
		})
	}
}
