package breaker_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gobreaker calls OnStateChange under its mutex, so a callback that reads
// the breaker deadlocks (gobreaker #37). Ours is called under no lock.
func TestOnStateChangeMayUseTheBreaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		type seen struct {
			name     string
			from, to breaker.State
			state    breaker.State
			counts   breaker.Counts
		}
		var (
			mu   sync.Mutex
			log  []seen
			b    *breaker.Breaker
			rec  = &recorder{}
			once sync.Once
		)
		b = mustNew(t, breaker.Config{
			Name: "dep", ConsecutiveFailures: 2, OpenTimeout: time.Second, Observer: rec,
			OnStateChange: func(name string, from, to breaker.State) {
				s := seen{name: name, from: from, to: to, state: b.State(), counts: b.Counts()}
				if to == breaker.Closed {
					// Even a call through the breaker is allowed; a change
					// it causes is reported after this callback returns.
					once.Do(func() { failN(t, b, 2) })
				}
				mu.Lock()
				log = append(log, s)
				mu.Unlock()
			},
		})
		done := make(chan struct{})
		go func() {
			defer close(done)
			failN(t, b, 2)
			time.Sleep(time.Second)
			succeedN(t, b, 1)
		}()
		select {
		case <-done:
		case <-time.After(time.Minute):
			t.Fatal("deadlock: a callback that reads the breaker never returned")
		}
		mu.Lock()
		defer mu.Unlock()
		require.Len(t, log, 4)
		assert.Equal(t, seen{"dep", breaker.Closed, breaker.Open, breaker.Open, breaker.Counts{}}, log[0])
		assert.Equal(t, seen{"dep", breaker.Open, breaker.HalfOpen, breaker.HalfOpen, breaker.Counts{}}, log[1])
		assert.Equal(t, breaker.HalfOpen, log[2].from)
		assert.Equal(t, breaker.Closed, log[2].to)
		assert.Equal(t, seen{"dep", breaker.Closed, breaker.Open, breaker.Open, breaker.Counts{}}, log[3])
		assert.Equal(t, []string{"closed>open", "open>half-open", "half-open>closed", "closed>open"}, rec.Transitions())
	})
}

func TestObserverEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		b := mustNew(t, breaker.Config{Name: "dep", ConsecutiveFailures: 1, OpenTimeout: time.Second, Observer: rec})
		// The events of a call carry its context, the transition it
		// caused too; a forcing method's transition carries Background.
		ctx := context.WithValue(context.Background(), callMark{}, "the failing call")
		require.ErrorIs(t, b.Execute(ctx, sleeper(3*time.Millisecond, errBoom)), errBoom)
		re := refusal(t, b)
		b.ForceClosed()

		bg := context.Background()
		want := []resilience.Event{
			{Kind: resilience.EventCall, Policy: "dep", Outcome: resilience.Failure, Latency: 3 * time.Millisecond, Err: errBoom, Ctx: ctx},
			{Kind: resilience.EventStateChange, Policy: "dep", From: "closed", To: "open", Ctx: ctx},
			{Kind: resilience.EventRejected, Policy: "dep", Err: re, Ctx: bg},
			{Kind: resilience.EventStateChange, Policy: "dep", From: "open", To: "forced-closed", Ctx: bg},
		}
		assert.Equal(t, want, rec.Events())
	})
}

func TestNoObserverNoCallbackStillWorks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustNew(t, breaker.Config{ConsecutiveFailures: 1, OpenTimeout: time.Second})
		failN(t, b, 1)
		assert.Equal(t, breaker.Open, b.State())
		time.Sleep(time.Second)
		succeedN(t, b, 1)
		assert.Equal(t, breaker.Closed, b.State())
	})
}

// The change to half-open is reported before the first probe runs, so a
// callback can still stop that probe.
func TestCallbackThatForcesOpenStopsTheProbeAboutToRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var (
			b        *breaker.Breaker
			refusals int
		)
		b = mustNew(t, breaker.Config{
			ConsecutiveFailures: 1, OpenTimeout: time.Second,
			Observer: observerFunc(func(e resilience.Event) {
				if e.Kind == resilience.EventRejected {
					refusals++
				}
			}),
			OnStateChange: func(_ string, _, to breaker.State) {
				if to == breaker.HalfOpen {
					b.ForceOpen()
				}
			},
		})
		failN(t, b, 1)
		time.Sleep(time.Second)
		re := refusal(t, b)
		assert.Equal(t, breaker.ForcedOpen, re.State)
		assert.Equal(t, breaker.ForcedOpen, b.State())
		assert.Equal(t, 1, refusals)
	})
}

func TestStateString(t *testing.T) {
	for s, want := range map[breaker.State]string{
		breaker.Closed: "closed", breaker.HalfOpen: "half-open", breaker.Open: "open",
		breaker.ForcedOpen: "forced-open", breaker.ForcedClosed: "forced-closed", breaker.State(9): "state(9)",
	} {
		assert.Equal(t, want, s.String())
	}
}

// callMark marks a call's context, to find it in the events it causes.
type callMark struct{}
