package main

import (
	"bytes"
	"context"
	"math"
	"regexp"
	"runtime/pprof"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The quickstart runs in real time against a real server: this test runs
// it for six seconds (the four phases scaled down) and checks the story its
// output tells.
func TestQuickstartShowsTheProtectedClientStayingUp(t *testing.T) {
	const rate = 50
	cfg := config{Duration: 6 * time.Second, Rate: rate, Interval: 500 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 3*cfg.Duration)
	defer cancel()
	var out bytes.Buffer
	sum, err := run(ctx, cfg, &out)
	defer func() {
		if t.Failed() {
			t.Logf("output:\n%s", out.String())
		}
	}()
	require.NoError(t, err)
	require.NoError(t, ctx.Err(), "the run must end on its own, on time")
	require.Len(t, sum.Rows, int(cfg.Duration/cfg.Interval))

	prot, unprot := sum.Clients[0], sum.Clients[1]
	for _, c := range sum.Clients {
		assert.Equal(t, c.Requests, c.OK+c.Failed+c.Refused+c.Cut, "%s: every request is counted once", c.Name)
		assert.Positive(t, c.OK, c.Name)
	}

	t.Run("the breaker opens during the outage and closes after it", func(t *testing.T) {
		assert.Positive(t, sum.Opened)
		assert.Positive(t, sum.Closed)
		assert.Equal(t, "closed", sum.Final)
		// While down, it probes often (open, then half-open with one probe
		// that hangs): a row may find it in either state.
		var trippedWhileDown bool
		for _, r := range sum.Rows {
			st := r.Clients[0].Breaker
			trippedWhileDown = trippedWhileDown || r.Phase == down && (st == "open" || st == "half-open")
		}
		assert.True(t, trippedWhileDown, "some row of the down phase shows the breaker open or probing")
	})

	t.Run("refusals during the outage are answered from the cache", func(t *testing.T) {
		assert.Positive(t, prot.RefusedIn[down])
		assert.GreaterOrEqual(t, prot.Fallbacks, prot.Refused, "every refusal is answered")
	})

	t.Run("protected goroutines stay bounded, unprotected ones pile up", func(t *testing.T) {
		// Each request in flight holds its own goroutine and a connection
		// with two; the bulkhead bounds them, whatever the outage's length.
		pol := policyFor(cfg.Duration)
		bound := 3*pol.MaxConcurrent + 8
		assert.LessOrEqual(t, prot.Peak(), bound)
		assert.LessOrEqual(t, prot.Cut, pol.MaxConcurrent, "only requests in flight at the end are cut")

		from, to := schedule{cfg.Duration}.bounds(down)
		hung := int((to - from).Seconds() * rate)
		assert.Greater(t, unprot.PeakGoroutines[down], unprot.PeakGoroutines[healthy]+hung/2,
			"each hung request holds at least one goroutine")
		// (Not compared with the down phase's peak: a connection being
		// dialled there adds a goroutine or two for a moment.)
		assert.Greater(t, unprot.PeakGoroutines[recovering], unprot.PeakGoroutines[healthy]+hung/2,
			"hung requests stay hung after the upstream recovers")
		assert.Greater(t, unprot.Peak(), 2*prot.Peak())
		assert.Greater(t, unprot.Cut, hung/2, "the hung requests were still waiting at the end")
		assert.Greater(t, unprot.OldestCut, cfg.Duration-to, "the oldest waited through the whole recovery")
		assert.Less(t, prot.Max, unprot.OldestCut, "no protected request waited as long")
	})

	t.Run("with retries, the protected client gets at least as many real successes", func(t *testing.T) {
		// Counted by the phase each request started in, as losses (the
		// requests that ended without a real success: failed or refused,
		// fallbacks included), so that a client whose ticker started one
		// more request in a phase is not favoured, nor one that had a
		// request still in flight when the run ended.
		loss := func(c clientSummary, ph phase) int { return c.FailedIn[ph] + c.RefusedIn[ph] }
		for _, ph := range []phase{healthy, degraded} {
			assert.LessOrEqual(t, loss(prot, ph), loss(unprot, ph), "%s: protected ok %d of %d, unprotected ok %d of %d",
				ph, prot.OKIn[ph], prot.StartedIn[ph], unprot.OKIn[ph], unprot.StartedIn[ph])
		}
		// Once the upstream recovers, the breaker lets calls through again
		// within one open and one half-open period (a probe may be hanging
		// at that moment); requests in that gap are refused: at 50/s, 3 in
		// 50ms at most, and one more when a loaded machine delivers a late
		// tick of the client's ticker next to an on-time one.
		pol := policyFor(cfg.Duration)
		lag := int(math.Ceil(pol.noticeLag().Seconds()*rate)) + 1
		assert.LessOrEqual(t, loss(prot, recovering), loss(unprot, recovering)+lag, "recovering: protected ok %d of %d, unprotected ok %d of %d",
			prot.OKIn[recovering], prot.StartedIn[recovering], unprot.OKIn[recovering], unprot.StartedIn[recovering])
		// Over the three phases together, with no allowance: the
		// successes the retries win in the degraded phase outnumber the
		// few requests the breaker refuses before it sees the recovery.
		var lossProt, lossUnprot int
		for _, ph := range []phase{healthy, degraded, recovering} {
			lossProt += loss(prot, ph)
			lossUnprot += loss(unprot, ph)
		}
		assert.Less(t, lossProt, lossUnprot, "healthy, degraded and recovering together")
		t.Logf("requests lost (failed or refused) by phase, protected vs unprotected: healthy %d vs %d, degraded %d vs %d, recovering %d vs %d (allowance %d)",
			loss(prot, healthy), loss(unprot, healthy), loss(prot, degraded), loss(unprot, degraded), loss(prot, recovering), loss(unprot, recovering), lag)
	})

	t.Run("each row counts what it says", func(t *testing.T) {
		for _, r := range sum.Rows {
			for i, c := range r.Clients {
				assert.Equal(t, c.Done(), c.OK+c.Failed+c.Refused)
				assert.LessOrEqual(t, c.Fallbacks, c.Failed+c.Refused, "%v %s", r.At, name(i))
			}
		}
		assert.Contains(t, out.String(), "reqs = ok + failed + refused", "the table has a legend")
	})

	assert.Contains(t, out.String(), "breaker closed -> open")
	assert.Contains(t, out.String(), "Summary after 6s")
}

func TestQuickstartRefusesBadFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  config
		want string
	}{
		{"a run too short to show the phases", config{Duration: time.Second, Rate: 10}, "-duration must be at least 2s"},
		{"no traffic", config{Duration: 5 * time.Second, Rate: 0}, "-rate must be in [1, 500]"},
		{"more traffic than a laptop should open connections for", config{Duration: 5 * time.Second, Rate: 501}, "-rate must be in [1, 500]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := run(context.Background(), tc.cfg, &out)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, out.String())
		})
	}
}

func TestQuickstartStopsEarlyWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	start := time.Now()
	sum, err := run(ctx, config{Duration: time.Minute, Rate: 10}, &out)
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Empty(t, sum.Rows)
}

func TestGoroutinesAreCountedByClientLabel(t *testing.T) {
	release := make(chan struct{})
	var wg sync.WaitGroup
	pprof.Do(context.Background(), pprof.Labels("client", "test-label"), func(context.Context) {
		for range 3 {
			wg.Go(func() { <-release })
		}
	})
	assert.Equal(t, 3, goroutinesByClient()["test-label"])
	close(release)
	wg.Wait()
}

// With -trace, refused and retried requests print their trace and span ids
// and the policies' events.
func TestTracePrintsRefusedAndRetriedSpans(t *testing.T) {
	cfg := config{Duration: 3 * time.Second, Rate: 50, Interval: 500 * time.Millisecond, Trace: true}
	ctx, cancel := context.WithTimeout(context.Background(), 3*cfg.Duration)
	defer cancel()
	var out bytes.Buffer
	_, err := run(ctx, cfg, &out)
	require.NoError(t, err)
	line := regexp.MustCompile(`(?m)^  trace [0-9a-f]{32} span [0-9a-f]{16} GET price \w+:.* resilience\.(retry|rejected|retry\.refused)\b`)
	assert.Regexp(t, line, out.String(), "output:\n%s", out.String())
}
