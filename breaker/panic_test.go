package breaker_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type panicValue struct{ n int }

// callPanicking runs a panicking call through p and returns what the caller
// recovered.
func callPanicking(p resilience.Policy) (recovered any) {
	defer func() { recovered = recover() }()
	_ = p.Execute(context.Background(), func(context.Context) error { panic(panicValue{42}) })
	return nil
}

func TestPanicInCall(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, b *breaker.Breaker)
		check func(t *testing.T, b *breaker.Breaker)
	}{
		{
			name: "closed: propagates unchanged and counts as a failure",
			check: func(t *testing.T, b *breaker.Breaker) {
				assert.Equal(t, uint32(1), b.Counts().TotalFailures)
				assert.Equal(t, breaker.Closed, b.State())
			},
		},
		{
			name: "half-open: the probe is given back and the breaker opens again",
			setup: func(t *testing.T, b *breaker.Breaker) {
				failN(t, b, 2)
				time.Sleep(time.Second)
				require.Equal(t, breaker.HalfOpen, b.State())
			},
			check: func(t *testing.T, b *breaker.Breaker) {
				assert.Equal(t, breaker.Open, b.State())
				time.Sleep(time.Second)
				succeedN(t, b, 1) // a new probe is admitted
				assert.Equal(t, breaker.Closed, b.State())
			},
		},
		{
			name:  "forced closed: propagates unchanged",
			setup: func(t *testing.T, b *breaker.Breaker) { b.ForceClosed() },
			check: func(t *testing.T, b *breaker.Breaker) { assert.Equal(t, breaker.ForcedClosed, b.State()) },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &recorder{}
				b := mustNew(t, breaker.Config{ConsecutiveFailures: 2, OpenTimeout: time.Second, Observer: rec})
				if tc.setup != nil {
					tc.setup(t, b)
				}
				before := len(rec.OfKind(resilience.EventCall))
				assert.Equal(t, panicValue{42}, callPanicking(b))
				calls := rec.OfKind(resilience.EventCall)
				require.Len(t, calls, before+1, "the panicking call is observed")
				tc.check(t, b)
			})
		})
	}
}

func TestPanicThroughAChainOfBreakers(t *testing.T) {
	outer := mustNew(t, breaker.Config{Name: "outer"})
	inner := mustNew(t, breaker.Config{Name: "inner"})
	assert.Equal(t, panicValue{42}, callPanicking(resilience.Chain(outer, inner)))
	assert.Equal(t, uint32(1), outer.Counts().TotalFailures)
	assert.Equal(t, uint32(1), inner.Counts().TotalFailures)
	assert.Equal(t, uint32(1), outer.Counts().Requests)
}
