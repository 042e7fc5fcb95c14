package chaos

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// An outcome is how one call ended, as its caller saw it.
type outcome int

const (
	ok        outcome = iota // the server's good answer
	fellBack                 // the fallback's answer
	serverErr                // the server's failure answer, classified (HTTP 5xx/429, a gRPC status)
	rejected                 // a typed refusal: resilience.ErrRejected (breaker open, probes out, bulkhead full)
	timedOut                 // the policy's timeout: timeout.ErrTimeout and context.DeadlineExceeded
	reset                    // the connection reset under the call (ECONNRESET, unexpected EOF)
	untyped                  // anything else: a test failure
	nOutcomes
)

var outcomeNames = [nOutcomes]string{"ok", "fallback", "server-error", "rejected", "timeout", "reset", "untyped"}

// A tally counts how calls ended. Each call is recorded exactly once.
type tally struct {
	n          [nOutcomes]atomic.Int64
	calls      atomic.Int64 // calls started
	maxLatency atomic.Int64
	maxBy      [nOutcomes]atomic.Int64 // the longest call of each outcome
	lag        atomic.Int64            // the longest a 1ms sleep overslept during the load

	mu        sync.Mutex
	surprises []string // the first untyped errors
}

func (tl *tally) record(o outcome, lat time.Duration, err error) {
	tl.n[o].Add(1)
	storeMax(&tl.maxLatency, int64(lat))
	storeMax(&tl.maxBy[o], int64(lat))
	if o == untyped {
		tl.mu.Lock()
		if len(tl.surprises) < 5 {
			tl.surprises = append(tl.surprises, fmt.Sprintf("%T: %v", err, err))
		}
		tl.mu.Unlock()
	}
}

func (tl *tally) get(o outcome) int64 { return tl.n[o].Load() }

func (tl *tally) returned() int64 {
	var sum int64
	for i := range tl.n {
		sum += tl.n[i].Load()
	}
	return sum
}

func (tl *tally) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "calls=%d", tl.calls.Load())
	for o := range nOutcomes {
		if v := tl.n[o].Load(); v > 0 || o != untyped {
			fmt.Fprintf(&b, " %s=%d", outcomeNames[o], v)
		}
		if v := tl.maxBy[o].Load(); v > 0 {
			fmt.Fprintf(&b, "(<=%v)", time.Duration(v).Round(time.Millisecond))
		}
	}
	fmt.Fprintf(&b, " max-latency=%v scheduler-lag=%v", time.Duration(tl.maxLatency.Load()).Round(time.Millisecond),
		time.Duration(tl.lag.Load()).Round(time.Millisecond))
	return b.String()
}

// checkLatency asserts that the slowest call returned within bound plus
// latencyMargin plus the worst scheduling delay seen during the load (a
// goroutine that sleeps 1ms at a time measures it): on a machine shared
// with other test processes a goroutine may wait that long to run at all,
// through no fault of the library.
func (tl *tally) checkLatency(t *testing.T, bound time.Duration) {
	t.Helper()
	limit := bound + latencyMargin + time.Duration(tl.lag.Load())
	assert.LessOrEqual(t, time.Duration(tl.maxLatency.Load()), limit,
		"slowest call, against %v + margin %v + scheduler lag %v", bound, latencyMargin, time.Duration(tl.lag.Load()))
}

// checkAccounted asserts that every call started returned exactly once
// with a typed result: ok + fallback + typed errors == calls.
func (tl *tally) checkAccounted(t *testing.T) {
	t.Helper()
	assert.Equal(t, tl.calls.Load(), tl.returned(), "every call returns exactly once: %v", tl)
	assert.Zero(t, tl.get(untyped), "no untyped surprise: %v", tl.surprises)
}

// A load is how hard a phase of a test calls: callers goroutines, each
// making calls one after the other until it has made perCaller of them or
// the phase has lasted span, waiting pace between its calls.
type load struct {
	callers   int
	perCaller int           // zero: until span ends
	span      time.Duration // zero: until perCaller calls are made
	pace      time.Duration
}

func (l load) String() string {
	s := fmt.Sprintf("%d callers", l.callers)
	if l.perCaller > 0 {
		s += fmt.Sprintf(" x %d calls", l.perCaller)
	}
	if l.span > 0 {
		s += fmt.Sprintf(" for %v", l.span)
	}
	if l.pace > 0 {
		s += fmt.Sprintf(", one call per %v each", l.pace)
	}
	return s
}

// phaseBound bounds every phase, so that a hung library fails the test
// rather than the whole run.
const phaseBound = 20 * time.Second

// drive runs l against call and records each call's outcome in tl. It
// returns when every caller is done, or fails the test if they are not
// done within phaseBound. stop, when not nil, ends the phase early once it
// returns true (checked between calls).
func drive(t *testing.T, tl *tally, l load, stop func() bool, call func(ctx context.Context) (outcome, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), phaseBound)
	defer cancel()
	end := time.Time{}
	if l.span > 0 {
		end = time.Now().Add(l.span)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range l.callers {
		wg.Go(func() {
			<-start
			for i := 0; l.perCaller == 0 || i < l.perCaller; i++ {
				if (!end.IsZero() && time.Now().After(end)) || (stop != nil && stop()) || ctx.Err() != nil {
					return
				}
				if i > 0 && l.pace > 0 {
					time.Sleep(l.pace) // the load's pacing, not a wait for a state
				}
				tl.calls.Add(1)
				begin := time.Now()
				o, err := call(ctx)
				tl.record(o, time.Since(begin), err)
			}
		})
	}
	lagDone := make(chan struct{})
	go func() {
		for {
			select {
			case <-lagDone:
				return
			default:
			}
			begin := time.Now()
			time.Sleep(time.Millisecond)
			storeMax(&tl.lag, int64(time.Since(begin)-time.Millisecond))
		}
	}()
	defer close(lagDone)
	close(start)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(phaseBound + 5*time.Second):
		t.Fatalf("callers still running after %v: %v", phaseBound, tl)
	}
}

// settles reports whether cond holds within a second, checking every
// 5ms. It is for what the library finishes on another goroutine just
// after a call has returned and that nothing announces: a slot given back
// by the AfterFunc of a request whose context ended as its caller closed
// the body; a connection closed by http.Transport's read loop after a
// reset.
func settles(cond func() bool) bool {
	deadline := time.Now().Add(time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}
