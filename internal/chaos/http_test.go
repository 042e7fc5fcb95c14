package chaos

import (
	"testing"
	"time"

	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/internal/fault"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// protocols runs a test over HTTP/1.1 and over HTTP/2 (TLS).
var protocols = []struct {
	name  string
	http2 bool
}{{"HTTP1", false}, {"HTTP2", true}}

// recover sets the server back to OK and drives a paced load until the
// breaker has closed and let calls through, for at most a few seconds.
func (r *httpRig) recover(t *testing.T, tl *tally) load {
	t.Helper()
	r.srv.Set(fault.OK())
	l := load{callers: 200, span: 5 * time.Second, pace: 10 * time.Millisecond}
	drive(t, tl, l, func() bool { return r.breaker().State() == breaker.Closed && tl.get(ok) >= 50 }, r.call)
	return l
}

func TestHTTPLatencyWithASlowTailTimesOutTheTail(t *testing.T) {
	// Mostly 1-8ms, 3% at 400ms: the tail outlives the 200ms timeout.
	r := newHTTPRig(t, httpSetup{fault: fault.Delay(fault.SlowTail(0.03,
		fault.Uniform(time.Millisecond, 8*time.Millisecond), fault.Fixed(400*time.Millisecond)), nil)})
	l := load{callers: 500, perCaller: 4}
	var tl tally
	drive(t, &tl, l, nil, r.call)

	tl.checkAccounted(t)
	assert.Positive(t, tl.get(ok))
	assert.Positive(t, tl.get(timedOut), "the slow tail times out")
	assert.Zero(t, tl.get(serverErr))
	assert.Zero(t, tl.get(rejected), "refusals are answered by the fallback")
	r.checkBulkhead(t, 0)
	r.finish(t, "latency", l, &tl)
}

func TestHTTPHangReturnsWithinTheTimeoutAndOpensTheBreaker(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			r := newHTTPRig(t, httpSetup{fault: fault.Hang(), http2: p.http2})
			l := load{callers: 500, perCaller: 2}
			var tl tally
			drive(t, &tl, l, nil, r.call)

			tl.checkAccounted(t)
			assert.Zero(t, tl.get(ok))
			assert.Positive(t, tl.get(timedOut))
			assert.Equal(t, tl.calls.Load(), tl.get(timedOut)+tl.get(fellBack), "a hung call times out or is refused")
			// The slowest call waited at most MaxWait for a slot, then the timeout.
			tl.checkLatency(t, testMaxWait+testTimeout)
			assert.Positive(t, r.ev.opened.Load(), "the breaker opens on hung calls")
			assert.NotEqual(t, breaker.Closed, r.breaker().State())
			r.checkBulkhead(t, hungSlack)

			var rec tally
			rl := r.recover(t, &rec)
			rec.checkAccounted(t)
			assert.Equal(t, breaker.Closed, r.breaker().State(), "the breaker closes once the server answers: %v", &rec)
			t.Logf("hang %s: recovery load %v: %v", p.name, rl, &rec)
			r.finish(t, "hang "+p.name, l, &tl)
		})
	}
}

func TestHTTPStormOpensTheBreakerAndRecoveryClosesIt(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			// 60% failures, half 500 and half 503.
			storm := fault.Rate(0.6, fault.Rate(0.5, fault.Status(500), fault.Status(503)), fault.OK())
			r := newHTTPRig(t, httpSetup{fault: storm, http2: p.http2})
			l := load{callers: 500, perCaller: 3}
			var tl tally
			drive(t, &tl, l, nil, r.call)

			tl.checkAccounted(t)
			assert.Positive(t, tl.get(serverErr), "the 5xx reach the caller as responses")
			assert.Positive(t, tl.get(fellBack))
			assert.Positive(t, r.ev.opened.Load(), "the breaker opens during the storm")
			assert.Positive(t, r.ev.rejectedOpen.Load())
			r.checkBulkhead(t, 0)

			var rec tally
			rl := r.recover(t, &rec)
			rec.checkAccounted(t)
			assert.Equal(t, breaker.Closed, r.breaker().State(), "the breaker closes after recovery: %v", &rec)
			assert.Positive(t, r.ev.closed.Load())
			assert.Positive(t, rec.get(ok))
			t.Logf("storm %s: recovery load %v: %v", p.name, rl, &rec)
			r.finish(t, "storm "+p.name, l, &tl)
		})
	}
}

func TestHTTPRetryAfterHoldsTheBreakerOpenUpToItsCap(t *testing.T) {
	// Every answer is a 429 asking for two minutes; the Transport caps the
	// hint at 300ms, which is still longer than the breaker's own 100ms.
	const maxRA = 300 * time.Millisecond
	r := newHTTPRig(t, httpSetup{fault: fault.RetryAfter(429, "120"), maxRetryAfter: maxRA})
	l := load{callers: 300, perCaller: 2}
	var tl tally
	drive(t, &tl, l, nil, r.call)

	tl.checkAccounted(t)
	assert.Positive(t, tl.get(serverErr))
	assert.Positive(t, r.ev.opened.Load())
	ra := time.Duration(r.retryAfter.Load())
	assert.Greater(t, ra, testOpen, "the breaker stays open as long as the server asked, not its own OpenTimeout")
	assert.LessOrEqual(t, ra, maxRA, "but no longer than MaxRetryAfter")
	r.checkBulkhead(t, 0)

	var rec tally
	rl := r.recover(t, &rec)
	rec.checkAccounted(t)
	assert.Equal(t, breaker.Closed, r.breaker().State(), "%v", &rec)
	t.Logf("retry-after: recovery load %v: %v", rl, &rec)
	r.finish(t, "retry-after", l, &tl)
}

func TestHTTPResetMidBodyFailsTheReadNotTheBreaker(t *testing.T) {
	r := newHTTPRig(t, httpSetup{fault: fault.Reset(64), timeout: 5 * time.Second})
	l := load{callers: 300, perCaller: 3}
	var tl tally
	drive(t, &tl, l, nil, r.call)

	tl.checkAccounted(t)
	assert.Zero(t, tl.get(ok))
	assert.Positive(t, tl.get(reset), "the body read fails with a reset")
	// httpx records the outcome when the headers arrive (its documented
	// rule), so a body that fails later does not count against the host.
	assert.Zero(t, r.ev.opened.Load())
	r.checkBulkhead(t, 0)
	st := r.srv.Stats()
	assert.Equal(t, st.Resets, st.Conns.Hijacked)
	r.finish(t, "reset mid-body", l, &tl)
}

func TestHTTPDroppedConnectionsOpenTheBreaker(t *testing.T) {
	r := newHTTPRig(t, httpSetup{fault: fault.Drop()})
	l := load{callers: 300, perCaller: 3}
	var tl tally
	drive(t, &tl, l, nil, r.call)

	tl.checkAccounted(t)
	assert.Zero(t, tl.get(ok))
	assert.Positive(t, tl.get(reset), "the request fails with a reset")
	assert.Positive(t, r.ev.opened.Load(), "transport errors are failures")
	assert.Positive(t, tl.get(fellBack))
	r.checkBulkhead(t, 0)

	var rec tally
	rl := r.recover(t, &rec)
	rec.checkAccounted(t)
	assert.Equal(t, breaker.Closed, r.breaker().State(), "%v", &rec)
	t.Logf("drop: recovery load %v: %v", rl, &rec)
	r.finish(t, "drop", l, &tl)
}

func TestHTTPBodyThatStallsIsCutAtTheTimeout(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    fault.Fault
	}{
		{"slow body", fault.SlowBody(40, 5*time.Millisecond)}, // 200ms in all
		{"hang mid-body", fault.HangMidBody(16)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newHTTPRig(t, httpSetup{fault: tc.f})
			l := load{callers: 300, perCaller: 2}
			var tl tally
			drive(t, &tl, l, nil, r.call)

			tl.checkAccounted(t)
			assert.Zero(t, tl.get(ok))
			assert.Positive(t, tl.get(timedOut), "the body is cut at the deadline")
			assert.Equal(t, tl.calls.Load(), tl.get(timedOut)+tl.get(fellBack))
			tl.checkLatency(t, testMaxWait+testTimeout)
			r.checkBulkhead(t, hungSlack)
			r.finish(t, tc.name, l, &tl)
		})
	}
}

func TestHTTPFlappingServerOpensAndClosesTheBreaker(t *testing.T) {
	// Up long enough for the breaker to wait out its open duration and
	// close on good probes, on a loaded machine.
	const up, down = 400 * time.Millisecond, 200 * time.Millisecond
	r := newHTTPRig(t, httpSetup{fault: fault.Flap(up, fault.OK(), down, fault.Status(503))})
	l := load{callers: 300, span: 3 * (up + down), pace: 10 * time.Millisecond}
	var tl tally
	drive(t, &tl, l, nil, r.call)

	tl.checkAccounted(t)
	assert.Positive(t, tl.get(ok))
	assert.Positive(t, tl.get(serverErr))
	assert.Positive(t, tl.get(fellBack))
	assert.GreaterOrEqual(t, r.ev.opened.Load(), int64(2), "the breaker opens in more than one down phase")
	assert.Positive(t, r.ev.closed.Load(), "and closes in an up phase")
	r.checkBulkhead(t, 0)

	var rec tally
	rl := r.recover(t, &rec)
	rec.checkAccounted(t)
	require.Equal(t, breaker.Closed, r.breaker().State(), "%v", &rec)
	t.Logf("flap: recovery load %v: %v", rl, &rec)
	r.finish(t, "flap", l, &tl)
}
