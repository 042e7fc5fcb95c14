package adaptive_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/adaptive"
)

// dependency is a simulated service whose latency grows with its
// concurrency beyond its capacity: base × max(1, inflight/capacity), the
// inflight counted when the call arrives.
type dependency struct {
	base     time.Duration
	capacity atomic.Int64
	inflight atomic.Int64
}

func (d *dependency) call(context.Context) error {
	n := d.inflight.Add(1)
	defer d.inflight.Add(-1)
	f := max(1, float64(n)/float64(d.capacity.Load()))
	time.Sleep(time.Duration(f * float64(d.base)))
	return nil
}

// limiter is what the simulation drives: an adaptive.Limiter, or the
// textbook AIMD below.
type limiter interface {
	Execute(ctx context.Context, call func(context.Context) error) error
	Limit() int
}

// simulate runs callers goroutines against d through l for each phase in
// turn (a capacity for a duration), sampling the limit every tick, and
// returns the samples. A refused caller retries after pause.
func simulate(l limiter, d *dependency, callers int, tick, pause time.Duration, phases ...phase) []sample {
	var samples []sample
	var wg sync.WaitGroup
	stop := make(chan struct{})
	start := time.Now()
	d.capacity.Store(int64(phases[0].capacity))
	for range callers {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := l.Execute(context.Background(), d.call); errors.Is(err, resilience.ErrRejected) {
					time.Sleep(pause)
				}
			}
		})
	}
	for _, p := range phases {
		d.capacity.Store(int64(p.capacity))
		for end := time.Now().Add(p.duration); time.Now().Before(end); {
			time.Sleep(tick)
			samples = append(samples, sample{time.Since(start), p.capacity, l.Limit(), int(d.inflight.Load())})
		}
	}
	close(stop)
	wg.Wait()
	return samples
}

type phase struct {
	capacity int
	duration time.Duration
}

type sample struct {
	at              time.Duration
	capacity        int
	limit, inflight int
}

// table renders samples as the test log prints them and
// scripts/limitplot reads them: "t_ms capacity limit inflight".
func table(name string, samples []sample) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n# t_ms capacity limit inflight\n", name)
	for _, s := range samples {
		fmt.Fprintf(&b, "%d %d %d %d\n", s.at.Milliseconds(), s.capacity, s.limit, s.inflight)
	}
	return b.String()
}

// between returns the least and greatest limit sampled in [from, to).
func between(samples []sample, from, to time.Duration) (lo, hi int) {
	lo, hi = math.MaxInt, math.MinInt
	for _, s := range samples {
		if s.at >= from && s.at < to {
			lo, hi = min(lo, s.limit), max(hi, s.limit)
		}
	}
	return lo, hi
}

const (
	base   = 10 * time.Millisecond
	phaseD = 4 * time.Second
)

// Against a dependency of capacity 20 and 200 callers, starting at 100,
// both algorithms settle within 20–40 in bounded simulated time, and
// follow the capacity up when it doubles.
func TestLimitSettlesNearCapacityAndFollowsItUp(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  adaptive.Config
	}{
		{"gradient", adaptive.Config{Algorithm: adaptive.Gradient, InitialLimit: 100}},
		{"aimd", adaptive.Config{Algorithm: adaptive.AIMD, InitialLimit: 100, SlowCallThreshold: base * 3 / 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l, err := adaptive.New(tc.cfg)
				require.NoError(t, err)
				d := &dependency{base: base}
				samples := simulate(l, d, 200, 100*time.Millisecond, 2*time.Millisecond,
					phase{20, phaseD}, phase{40, phaseD})
				t.Log("\n" + table(tc.name, samples))

				lo, hi := between(samples, phaseD/2, phaseD)
				t.Logf("capacity 20, second half: limit in [%d, %d]", lo, hi)
				assert.GreaterOrEqual(t, lo, 20)
				assert.LessOrEqual(t, hi, 40)

				lo2, hi2 := between(samples, phaseD+phaseD*3/4, 2*phaseD)
				t.Logf("capacity 40, last quarter: limit in [%d, %d]", lo2, hi2)
				assert.Greater(t, lo2, hi, "the limit follows the capacity up")
				assert.GreaterOrEqual(t, lo2, 40)
				assert.LessOrEqual(t, hi2, 80)
			})
		})
	}
}

// textbookAIMD is AIMD as usually written: +1 on every successful call,
// ×0.9 on every slow one, all under one lock.
type textbookAIMD struct {
	mu       sync.Mutex
	limit    float64
	inflight int
	min, max float64
	slow     time.Duration
}

func (a *textbookAIMD) Limit() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return int(a.limit)
}

func (a *textbookAIMD) Execute(ctx context.Context, call func(context.Context) error) error {
	a.mu.Lock()
	if a.inflight >= int(a.limit) {
		a.mu.Unlock()
		return adaptive.ErrLimited
	}
	a.inflight++
	a.mu.Unlock()
	start := time.Now()
	err := call(ctx)
	rtt := time.Since(start)
	a.mu.Lock()
	a.inflight--
	if rtt >= a.slow {
		a.limit = max(a.min, a.limit*0.9)
	} else {
		a.limit = min(a.max, a.limit+1)
	}
	a.mu.Unlock()
	return err
}

// AIMD as usually written swings over most of its range on this
// dependency; increasing once per window and decreasing at most once per
// window, this package's AIMD settles.
func TestTextbookAIMDSwingsWhereOursSettles(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &dependency{base: base}
		textbook := &textbookAIMD{limit: 100, min: 1, max: 1000, slow: base * 3 / 2}
		samples := simulate(textbook, d, 200, 20*time.Millisecond, 2*time.Millisecond, phase{20, phaseD})
		t.Log("\n" + table("textbook aimd", samples))
		tlo, thi := between(samples, phaseD/2, phaseD)

		l, err := adaptive.New(adaptive.Config{Algorithm: adaptive.AIMD, InitialLimit: 100, SlowCallThreshold: base * 3 / 2})
		require.NoError(t, err)
		ours := simulate(l, d, 200, 20*time.Millisecond, 2*time.Millisecond, phase{20, phaseD})
		lo, hi := between(ours, phaseD/2, phaseD)
		t.Logf("second half: textbook limit in [%d, %d], ours in [%d, %d]", tlo, thi, lo, hi)
		assert.Greater(t, thi-tlo, 3*(hi-lo), "the textbook version swings far wider")
		assert.Less(t, tlo, 10, "the textbook version collapses towards its minimum")
		assert.LessOrEqual(t, hi-lo, 10)
	})
}
