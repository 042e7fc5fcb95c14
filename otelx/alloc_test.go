package otelx_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/otelx"
)

// With the Observer and a span that does not record (a trace sampled
// out), a call through the chain allocates no more than with no Observer:
// on the success path, and on a refusal answered by the fallback. (The
// timeout's context.WithTimeout allocates, Observer or not.) Without the
// timeout, the chain allocates nothing at all.
func TestNonRecordingSpanAllocatesNothing(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage counters allocate")
	}
	ctx := nonRecording(t)
	allocs := func(c *chain, force bool) (success, refused float64) {
		success = testing.AllocsPerRun(200, func() {
			if _, err := c.do(ctx, ok); err != nil {
				panic(err)
			}
		})
		if force {
			c.brk.ForceOpen()
			defer c.brk.Unforce()
		}
		refused = testing.AllocsPerRun(200, func() {
			if v, err := c.do(ctx, ok); err != nil || (force && v != "cached") {
				panic("want an answer")
			}
		})
		return success, refused
	}
	bareS, bareR := allocs(newChain(t, nil), true)
	obsS, obsR := allocs(newChain(t, newObserver(t, otelx.Config{})), true)
	assert.Equal(t, bareS, obsS, "success path: the Observer adds no allocation")
	assert.Equal(t, bareR, obsR, "refusal answered by the fallback: the Observer adds no allocation")
	assert.Zero(t, bareR, "a refusal allocates nothing")

	c := newChain(t, newObserver(t, otelx.Config{}))
	c.p = resilience.Chain(c.brk, c.bulk)
	s, r := allocs(c, true)
	assert.Zero(t, s, "breaker and bulkhead, success")
	assert.Zero(t, r, "breaker and bulkhead, refused")
}

// Observe on its own, for every kind the policies report, with a span
// that does not record: no allocation.
func TestObserveNonRecordingAllocatesNothing(t *testing.T) {
	o := newObserver(t, otelx.Config{})
	ctx := nonRecording(t)
	for k := resilience.EventCall; !strings.HasPrefix(k.String(), "event("); k++ { // every kind with a name
		e := resilience.Event{Kind: k, Policy: "p", Key: "k", Err: errBoom, Ctx: ctx, From: "closed", To: "open"}
		allocs := testing.AllocsPerRun(100, func() { o.Observe(e) })
		assert.Zero(t, allocs, k.String())
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  otelx.Config
		want string
	}{
		{"negative MaxKeys", otelx.Config{MaxKeys: -1}, "otelx: Config.MaxKeys must not be negative, got -1"},
		{"decreasing Buckets", otelx.Config{Buckets: []float64{1, 0.5}}, "otelx: Config.Buckets must be positive and increasing"},
		{"zero WaitBucket", otelx.Config{WaitBuckets: []float64{0}}, "otelx: Config.WaitBuckets must be positive and increasing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := otelx.New(tc.cfg)
			assert.Nil(t, o)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// A nil *Observer, and an Event with no context, are no-ops.
func TestNilObserverAndNilContext(t *testing.T) {
	var o *otelx.Observer
	assert.NotPanics(t, func() { o.Observe(resilience.Event{Kind: resilience.EventRejected, Ctx: context.Background()}) })
	m := newMetering(t)
	o = newObserver(t, otelx.Config{MeterProvider: m.mp})
	assert.NotPanics(t, func() { o.Observe(resilience.Event{Kind: resilience.EventRejected, Policy: "p"}) })
	assert.Equal(t, map[string]any{"error.type=other,resilience.key=,resilience.policy=p": int64(1)}, m.points(t, "resilience.rejections"))
}

func FuzzConfig(f *testing.F) {
	f.Add(0, 0.005, 0.01, 0.0001)
	f.Add(-1, 1.0, 0.5, 0.0)
	f.Fuzz(func(t *testing.T, maxKeys int, b1, b2, w float64) {
		o, err := otelx.New(otelx.Config{MaxKeys: maxKeys, Buckets: []float64{b1, b2}, WaitBuckets: []float64{w}})
		valid := maxKeys >= 0 && b1 > 0 && b2 > b1 && w > 0
		if valid {
			require.NoError(t, err)
			require.NotNil(t, o)
			o.Observe(resilience.Event{Kind: resilience.EventTimeout, Ctx: context.Background()})
		} else {
			require.Error(t, err)
			require.Nil(t, o)
		}
	})
}
