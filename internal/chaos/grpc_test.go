package chaos

import (
	"testing"
	"time"

	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/internal/fault"
	"github.com/stretchr/testify/assert"
	"google.golang.org/grpc/codes"
)

func TestGRPCLatencyWithASlowTailTimesOutTheTail(t *testing.T) {
	r := newGRPCRig(t, grpcSetup{fault: fault.Delay(fault.SlowTail(0.03,
		fault.Uniform(time.Millisecond, 8*time.Millisecond), fault.Fixed(400*time.Millisecond)), nil)})
	l := load{callers: 1000, perCaller: 2}
	var tl tally
	drive(t, &tl, l, nil, r.check)

	tl.checkAccounted(t)
	assert.Positive(t, tl.get(ok))
	assert.Positive(t, tl.get(timedOut), "the slow tail times out")
	assert.Zero(t, tl.get(serverErr))
	assert.Zero(t, tl.get(rejected), "refusals are answered by the fallback")
	r.checkBulkhead(t, hungSlack)
	r.finish(t, "grpc latency", l, &tl)
}

func TestGRPCHangReturnsWithinTheTimeoutAndOpensTheBreaker(t *testing.T) {
	r := newGRPCRig(t, grpcSetup{fault: fault.Hang()})
	l := load{callers: 1000, perCaller: 1}
	var tl tally
	drive(t, &tl, l, nil, r.check)

	tl.checkAccounted(t)
	assert.Zero(t, tl.get(ok))
	assert.Positive(t, tl.get(timedOut))
	assert.Equal(t, tl.calls.Load(), tl.get(timedOut)+tl.get(fellBack), "a hung call times out or is refused")
	tl.checkLatency(t, testMaxWait+testTimeout)
	assert.Positive(t, r.ev.opened.Load(), "the breaker opens on hung calls")
	assert.NotEqual(t, breaker.Closed, r.breaker(checkMethod).State())
	r.checkBulkhead(t, hungSlack)

	var rec tally
	rl := r.recover(t, &rec, checkMethod, r.check)
	rec.checkAccounted(t)
	assert.Equal(t, breaker.Closed, r.breaker(checkMethod).State(), "%v", &rec)
	t.Logf("grpc hang: recovery load %v: %v", rl, &rec)
	r.finish(t, "grpc hang", l, &tl)
}

func TestGRPCUnavailableStormOpensTheBreakerAndRecoveryClosesIt(t *testing.T) {
	r := newGRPCRig(t, grpcSetup{fault: fault.Rate(0.6, fault.Code(codes.Unavailable), fault.OK())})
	l := load{callers: 1000, perCaller: 2}
	var tl tally
	drive(t, &tl, l, nil, r.check)

	tl.checkAccounted(t)
	assert.Positive(t, tl.get(serverErr), "the server's Unavailable reaches the caller")
	assert.Positive(t, tl.get(fellBack))
	assert.Positive(t, r.ev.opened.Load(), "the breaker opens during the storm")
	r.checkBulkhead(t, 0)

	var rec tally
	rl := r.recover(t, &rec, checkMethod, r.check)
	rec.checkAccounted(t)
	assert.Equal(t, breaker.Closed, r.breaker(checkMethod).State(), "%v", &rec)
	assert.Positive(t, r.ev.closed.Load())
	t.Logf("grpc storm: recovery load %v: %v", rl, &rec)
	r.finish(t, "grpc storm", l, &tl)
}

func TestGRPCFlappingServerOpensAndClosesTheBreaker(t *testing.T) {
	// Up long enough for the breaker to wait out its open duration and
	// close on good probes, on a loaded machine.
	const up, down = 400 * time.Millisecond, 200 * time.Millisecond
	r := newGRPCRig(t, grpcSetup{fault: fault.Flap(up, fault.OK(), down, fault.Code(codes.Unavailable))})
	l := load{callers: 300, span: 3 * (up + down), pace: 10 * time.Millisecond}
	var tl tally
	drive(t, &tl, l, nil, r.check)

	tl.checkAccounted(t)
	assert.Positive(t, tl.get(ok))
	assert.Positive(t, tl.get(serverErr))
	assert.GreaterOrEqual(t, r.ev.opened.Load(), int64(2), "the breaker opens in more than one down phase")
	assert.Positive(t, r.ev.closed.Load(), "and closes in an up phase")
	r.checkBulkhead(t, 0)

	var rec tally
	rl := r.recover(t, &rec, checkMethod, r.check)
	rec.checkAccounted(t)
	assert.Equal(t, breaker.Closed, r.breaker(checkMethod).State(), "%v", &rec)
	t.Logf("grpc flap: recovery load %v: %v", rl, &rec)
	r.finish(t, "grpc flap", l, &tl)
}

func TestGRPCStreamsUnderFaults(t *testing.T) {
	const streamTimeout = 150 * time.Millisecond
	for _, tc := range []struct {
		name  string
		f     fault.Fault
		check func(t *testing.T, r *grpcRig, tl *tally)
	}{
		{"hang is cut at the stream timeout", fault.Hang(), func(t *testing.T, r *grpcRig, tl *tally) {
			assert.Zero(t, tl.get(ok))
			assert.Positive(t, tl.get(timedOut))
			tl.checkLatency(t, testMaxWait+streamTimeout)
			assert.Positive(t, r.ev.opened.Load())
		}},
		{"hang mid-stream is cut at the stream timeout", fault.HangMidBody(2), func(t *testing.T, r *grpcRig, tl *tally) {
			assert.Zero(t, tl.get(ok))
			assert.Positive(t, tl.get(timedOut))
			tl.checkLatency(t, testMaxWait+streamTimeout)
			assert.Positive(t, r.ev.opened.Load())
		}},
		{"reset mid-stream fails the stream and opens the breaker", fault.Reset(2), func(t *testing.T, r *grpcRig, tl *tally) {
			assert.Zero(t, tl.get(ok))
			assert.Positive(t, tl.get(serverErr))
			assert.Positive(t, r.ev.opened.Load())
		}},
		{"a slow stream within the timeout arrives whole", fault.SlowBody(3, 10*time.Millisecond), func(t *testing.T, r *grpcRig, tl *tally) {
			assert.Positive(t, tl.get(ok))
			assert.Zero(t, tl.get(serverErr))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newGRPCRig(t, grpcSetup{fault: tc.f, watchMessages: 3, streamTimeout: streamTimeout})
			l := load{callers: 300, perCaller: 2}
			var tl tally
			drive(t, &tl, l, nil, r.watch)

			tl.checkAccounted(t)
			assert.Zero(t, tl.get(fellBack), "streams have no fallback")
			tc.check(t, r, &tl)
			r.checkBulkhead(t, hungSlack)
			r.finish(t, "grpc stream "+tc.name, l, &tl)
		})
	}
}
