package slogx_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/slogx"
)

// lines is a slog text handler's output without the time, one record a
// line.
type lines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lines) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := strings.TrimSpace(l.buf.String())
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func newLogged(t *testing.T, interval time.Duration) (*slogx.Observer, *lines) {
	t.Helper()
	out := &lines{}
	logger := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{}
			}
			return a
		},
	}))
	o, err := slogx.New(slogx.Config{Logger: logger, Interval: interval})
	require.NoError(t, err)
	return o, out
}

var errOpen = errors.New("breaker: open")

func TestAStormOfRefusalsIsLoggedOncePerInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o, out := newLogged(t, time.Second)
		refuse := func(policy string) {
			o.Observe(resilience.Event{Kind: resilience.EventRejected, Policy: policy, Err: errOpen})
		}
		for range 1000 {
			refuse("payments")
		}
		refuse("search") // another policy has its own limit
		assert.Equal(t, []string{
			`level=WARN msg="call refused" policy=payments err="breaker: open"`,
			`level=WARN msg="call refused" policy=search err="breaker: open"`,
		}, out.all())

		time.Sleep(time.Second)
		synctest.Wait() // the interval's timer has run
		refuse("payments")
		refuse("payments")
		lines := out.all()
		require.Len(t, lines, 3)
		assert.Equal(t, `level=WARN msg="call refused" policy=payments err="breaker: open" suppressed=999`, lines[2])
	})
}

func TestTimeoutsAreLimitedApartFromRefusals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o, out := newLogged(t, time.Minute)
		for range 10 {
			o.Observe(resilience.Event{Kind: resilience.EventRejected, Policy: "p", Key: "a.example", Err: errOpen})
			o.Observe(resilience.Event{Kind: resilience.EventTimeout, Policy: "p", Err: errors.New(`timeout "p": deadline exceeded`)})
		}
		assert.Equal(t, []string{
			`level=WARN msg="call refused" policy=p key=a.example err="breaker: open"`,
			`level=WARN msg="call timed out" policy=p err="timeout \"p\": deadline exceeded"`,
		}, out.all())
	})
}

func TestEveryStateChangeIsLoggedAtItsLevel(t *testing.T) {
	o, out := newLogged(t, time.Hour)
	b, err := breaker.New(breaker.Config{Name: "inventory", ConsecutiveFailures: 1, OpenTimeout: time.Hour, Observer: o})
	require.NoError(t, err)
	_ = b.Execute(context.Background(), func(context.Context) error { return errors.New("down") })
	b.ForceClosed()
	b.ForceOpen()
	assert.Equal(t, []string{
		`level=WARN msg="breaker state changed" policy=inventory from=closed to=open`,
		`level=INFO msg="breaker state changed" policy=inventory from=open to=forced-closed`,
		`level=WARN msg="breaker state changed" policy=inventory from=forced-closed to=forced-open`,
	}, out.all())
}

func TestOtherEventsAreNotLogged(t *testing.T) {
	o, out := newLogged(t, 0)
	for _, k := range []resilience.EventKind{resilience.EventCall, resilience.EventAcquire, resilience.EventRelease,
		resilience.EventWait, resilience.EventAbandon, resilience.EventAbandonDone, resilience.EventFallback, 0, 200} {
		o.Observe(resilience.Event{Kind: k, Policy: "p"})
	}
	assert.Empty(t, out.all())
	var nilObserver *slogx.Observer
	nilObserver.Observe(resilience.Event{Kind: resilience.EventRejected})
}

func TestDisabledLevelWritesNothing(t *testing.T) {
	var buf bytes.Buffer
	o, err := slogx.New(slogx.Config{Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelError}))})
	require.NoError(t, err)
	o.Observe(resilience.Event{Kind: resilience.EventRejected, Policy: "p", Err: errOpen})
	o.Observe(resilience.Event{Kind: resilience.EventStateChange, Policy: "p", From: "closed", To: "open"})
	assert.Zero(t, buf.Len())
}

func TestNilLoggerIsTheDefaultLogger(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	o, err := slogx.New(slogx.Config{})
	require.NoError(t, err)
	o.Observe(resilience.Event{Kind: resilience.EventRejected, Policy: "p", Err: errOpen})
	assert.Contains(t, buf.String(), `msg="call refused" policy=p`)
}

func TestConcurrentRefusalsAreEachLoggedOrCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o, out := newLogged(t, time.Hour)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 500 {
					o.Observe(resilience.Event{Kind: resilience.EventRejected, Policy: "p", Err: errOpen})
				}
			})
		}
		wg.Wait()
		require.Len(t, out.all(), 1, "one record for 4000 refusals within the interval")
		time.Sleep(time.Hour)
		synctest.Wait() // the interval's timer has run
		o.Observe(resilience.Event{Kind: resilience.EventRejected, Policy: "p", Err: errOpen})
		// Every refusal is a record or counted in one: none lost, none
		// counted twice.
		records := out.all()
		require.Len(t, records, 2)
		total := len(records)
		for _, r := range records {
			if _, n, ok := strings.Cut(r, "suppressed="); ok {
				k, err := strconv.Atoi(n)
				require.NoError(t, err)
				total += k
			}
		}
		assert.Equal(t, 4001, total)
	})
}

func TestSuppressedRefusalAllocatesNothing(t *testing.T) {
	o, _ := newLogged(t, time.Hour)
	ev := resilience.Event{Kind: resilience.EventRejected, Policy: "p", Err: errOpen}
	o.Observe(ev)
	assert.Zero(t, testing.AllocsPerRun(100, func() { o.Observe(ev) }))
}

func TestNewRefusesANegativeInterval(t *testing.T) {
	o, err := slogx.New(slogx.Config{Interval: -time.Second})
	assert.Nil(t, o)
	assert.EqualError(t, err, "slogx: Config.Interval must be >= 0, got -1s")
}

func FuzzNew(f *testing.F) {
	for _, d := range []int64{0, 1, -1, int64(time.Hour), -1 << 63} {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, d int64) {
		o, err := slogx.New(slogx.Config{Logger: slog.New(slog.DiscardHandler), Interval: time.Duration(d)})
		if d < 0 {
			require.Error(t, err)
			assert.Contains(t, err.Error(), "Config.Interval")
			assert.Nil(t, o)
			return
		}
		require.NoError(t, err)
		o.Observe(resilience.Event{Kind: resilience.EventTimeout, Policy: "p"})
	})
}

func BenchmarkSuppressedRefusal(b *testing.B) {
	o, err := slogx.New(slogx.Config{Logger: slog.New(slog.DiscardHandler), Interval: time.Hour})
	require.NoError(b, err)
	ev := resilience.Event{Kind: resilience.EventRejected, Policy: "p", Err: errOpen}
	b.ReportAllocs()
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			o.Observe(ev)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				o.Observe(ev)
			}
		})
	})
}
