package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/grpcx"
	"github.com/go-resilience/resilience/internal/fault"
	"github.com/go-resilience/resilience/timeout"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

const (
	checkMethod = "/grpc.health.v1.Health/Check"
	watchMethod = "/grpc.health.v1.Health/Watch"
)

// grpcSetup is one test's server and chain.
type grpcSetup struct {
	fault         fault.Fault
	watchMessages int           // zero: 1
	streamTimeout time.Duration // grpcx Config.StreamTimeout
}

// grpcRig is a fault gRPC server and a health client through grpcx's
// interceptors with the whole chain: a breaker per method, a shared
// bulkhead, a timeout, and a fallback for unary calls that answers
// refusals with SERVICE_UNKNOWN.
type grpcRig struct {
	srv    *fault.GRPCServer
	ic     *grpcx.Interceptors
	cc     *grpc.ClientConn
	client healthpb.HealthClient
	ev     events
	leaks  goleak.Option
	msgs   int

	retryAfter atomic.Int64
	// timeoutCodes counts the timeouts whose gRPC code is not
	// DeadlineExceeded: the server's answer came back after the policy's
	// deadline had passed, and the timeout error wraps that answer.
	timeoutCodes atomic.Int64
	// unmarked counts the calls that failed with DeadlineExceeded from the
	// server (which gets the same deadline) without matching
	// timeout.ErrTimeout: grpcx waits at most 50ms (settleWait) for the
	// policy's timer, already due, to fire, and on a loaded machine it
	// fires later than that.
	unmarked atomic.Int64
}

func newGRPCRig(t *testing.T, s grpcSetup) *grpcRig {
	t.Helper()
	r := &grpcRig{leaks: goleak.IgnoreCurrent(), msgs: max(s.watchMessages, 1)}
	r.srv = fault.NewGRPC(t, fault.GRPCConfig{WatchMessages: s.watchMessages})
	ic, err := grpcx.New(grpcx.Config{
		Name:          "chaos",
		Breaker:       breaker.KeyedConfig{Config: chainBreaker()},
		Bulkhead:      chainBulkhead(),
		Timeout:       testTimeout,
		StreamTimeout: s.streamTimeout,
		Observer:      &r.ev,
		UnaryFallback: func(_ context.Context, _ string, _, reply any, err error) error {
			if !errors.Is(err, resilience.ErrRejected) {
				return err
			}
			var re *grpcx.RejectedError
			if errors.As(err, &re) && errors.Is(err, breaker.ErrOpen) {
				storeMax(&r.retryAfter, int64(re.RetryAfter()))
			}
			reply.(*healthpb.HealthCheckResponse).Status = healthpb.HealthCheckResponse_SERVICE_UNKNOWN
			return nil
		},
	})
	require.NoError(t, err)
	r.ic = ic
	r.ev.bulkhead.Store(ic.Bulkhead(checkMethod))
	require.NotNil(t, r.ev.bulkhead.Load())
	r.cc = r.srv.Dial(ic.DialOptions()...)
	r.client = healthpb.NewHealthClient(r.cc)
	// Connect before the fault is set, as a running service is.
	_, err = r.client.Check(context.Background(), &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	r.srv.ResetMaxInFlight()
	r.srv.Set(s.fault)
	return r
}

func (r *grpcRig) breaker(method string) *breaker.Breaker {
	return r.ic.Breakers().Get(r.ic.Key(method))
}

// check makes one unary Check and says how it ended.
func (r *grpcRig) check(ctx context.Context) (outcome, error) {
	resp, err := r.client.Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return r.classify(err), err
	}
	switch resp.GetStatus() {
	case healthpb.HealthCheckResponse_SERVING:
		return ok, nil
	case healthpb.HealthCheckResponse_SERVICE_UNKNOWN:
		return fellBack, nil
	}
	return untyped, fmt.Errorf("unexpected answer %v", resp.GetStatus())
}

// watch opens a Watch stream, reads it to its end, and says how it ended.
// Streams have no fallback: a refusal is a typed error.
func (r *grpcRig) watch(ctx context.Context) (outcome, error) {
	stream, err := r.client.Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return r.classify(err), err
	}
	for n := 0; ; n++ {
		_, err := stream.Recv()
		if err == io.EOF {
			if n != r.msgs {
				return untyped, fmt.Errorf("stream ended OK after %d of %d messages", n, r.msgs)
			}
			return ok, nil
		}
		if err != nil {
			return r.classify(err), err
		}
	}
}

// classify types the error of a gRPC call.
func (r *grpcRig) classify(err error) outcome {
	code := status.Code(err)
	switch {
	case errors.Is(err, resilience.ErrRejected):
		if code != codes.Unavailable {
			return untyped
		}
		return rejected
	case errors.Is(err, timeout.ErrTimeout):
		if !errors.Is(err, context.DeadlineExceeded) {
			return untyped
		}
		if code != codes.DeadlineExceeded {
			r.timeoutCodes.Add(1)
		}
		return timedOut
	case strings.HasPrefix(status.Convert(err).Message(), "fault: ") && grpcx.Classify(err) == resilience.Failure:
		return serverErr
	case code == codes.DeadlineExceeded:
		r.unmarked.Add(1)
		return timedOut
	}
	return untyped
}

// checkBulkhead asserts that the bulkhead was never over its limit, by its
// own count (InFlight, read at every acquire) and by the server's count of calls in its
// handlers, and that every slot came back.
func (r *grpcRig) checkBulkhead(t *testing.T, serverSlack int) {
	t.Helper()
	st, err := r.srv.WaitFor(waitCtx(t), func(st fault.Stats) bool { return st.InFlight == 0 })
	require.NoError(t, err, "the server's handlers return")
	b := r.ev.bulkhead.Load()
	assert.LessOrEqual(t, r.ev.maxInFlight.Load(), int64(testSlots), "bulkhead InFlight")
	assert.LessOrEqual(t, st.MaxInFlight, testSlots+serverSlack, "server-side in flight")
	assert.True(t, settles(func() bool {
		return b.InFlight() == 0 && r.ev.acquires.Load() == r.ev.releases.Load()
	}), "every slot is given back: in flight %d, acquired %d, released %d", b.InFlight(), r.ev.acquires.Load(), r.ev.releases.Load())
	assert.Zero(t, b.Waiting())
}

// finish closes the client connection and the server, asserts that no
// connection and no goroutine is left, and logs the counts.
func (r *grpcRig) finish(t *testing.T, name string, l load, tl *tally) {
	t.Helper()
	require.NoError(t, r.cc.Close())
	st, err := r.srv.WaitFor(waitCtx(t), func(st fault.Stats) bool { return st.Conns.Open == 0 })
	assert.NoError(t, err, "the server's connection closes with the client's: %+v", st.Conns)
	r.srv.Close()
	st = r.srv.Stats()
	t.Logf("%s: load %v", name, l)
	t.Logf("%s: calls %v", name, tl)
	t.Logf("%s: %v; retry-after seen %v; timeouts with a code other than DeadlineExceeded: %d; DeadlineExceeded not matching timeout.ErrTimeout: %d",
		name, &r.ev, time.Duration(r.retryAfter.Load()).Round(time.Millisecond), r.timeoutCodes.Load(), r.unmarked.Load())
	t.Logf("%s: server calls=%d max-in-flight=%d codes=%v hangs=%d resets=%d aborted=%d; conns accepted=%d closed=%d",
		name, st.Requests, st.MaxInFlight, st.Codes, st.Hangs, st.Resets, st.Aborted, st.Conns.Accepted, st.Conns.Closed)
	goleak.VerifyNone(t, r.leaks)
}

// recover sets the server back to OK and drives a paced load of call
// until method's breaker has closed and let calls through.
func (r *grpcRig) recover(t *testing.T, tl *tally, method string, call func(context.Context) (outcome, error)) load {
	t.Helper()
	r.srv.Set(fault.OK())
	l := load{callers: 200, span: 5 * time.Second, pace: 10 * time.Millisecond}
	drive(t, tl, l, func() bool { return r.breaker(method).State() == breaker.Closed && tl.get(ok) >= 50 }, call)
	return l
}
