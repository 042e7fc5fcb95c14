package grpcx_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/grpcx"
	"github.com/go-resilience/resilience/hedge"
	"github.com/go-resilience/resilience/retry"
)

func hedgeCfg(t *testing.T, delay time.Duration) *hedge.Config {
	b, err := retry.NewBudget(retry.BudgetConfig{Ratio: 10, MinConcurrent: 1 << 20, MinPerSecond: 1e9})
	require.NoError(t, err)
	return &hedge.Config{Delay: delay, Budget: b}
}

// slowThen makes the server's first call wait for its context to end
// (counting it in cancelled, then closing exited) and the others follow
// then.
func slowThen(cancelled *atomic.Int32, exited chan<- struct{}, then func(context.Context) error) func(context.Context) error {
	var n atomic.Int32
	return func(ctx context.Context) error {
		if n.Add(1) == 1 {
			defer close(exited)
			select {
			case <-ctx.Done():
				cancelled.Add(1)
				return ctx.Err()
			case <-time.After(5 * time.Second):
				return nil
			}
		}
		return then(ctx)
	}
}

// waitFor waits for ch to be closed, at most callTimeout.
func waitFor(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-bounded(t).Done():
		t.Fatal("the server's handler did not return")
	}
}

func TestUnaryHedge(t *testing.T) {
	for _, tc := range []struct {
		name string
		then func(context.Context) error
		code codes.Code
		took time.Duration // at most
	}{
		{"a hedge answers a slow call and fills the caller's reply", func(context.Context) error { return nil }, codes.OK, time.Second},
		{"a fatal code of a hedge ends the call at once", answer(codes.NotFound), codes.NotFound, time.Second},
		{"a non-fatal code lets the slow attempt run on", answer(codes.Unavailable), codes.DeadlineExceeded, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			var cancelled atomic.Int32
			exited := make(chan struct{})
			h.srv.setCheck(slowThen(&cancelled, exited, tc.then))
			rec := &recorder{}
			ic := mustNew(t, grpcx.Config{Hedge: hedgeCfg(t, 20*time.Millisecond), Observer: rec})
			client := h.client(t, ic.DialOptions()...)
			ctx, cancel := context.WithTimeout(bounded(t), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
			took := time.Since(start)
			assert.Equal(t, tc.code, status.Code(err), "%v", err)
			if tc.code == codes.OK {
				assert.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.GetStatus())
				assert.Len(t, rec.OfKind(resilience.EventHedgeWon), 1)
			}
			if tc.took > 0 {
				assert.Less(t, took, 250*time.Millisecond, "answered before the caller's deadline")
			}
			assert.Equal(t, 2, h.srv.callsTo(checkMethod))
			assert.Len(t, rec.OfKind(resilience.EventHedgeSent), 1)
			waitFor(t, exited)
			assert.EqualValues(t, 1, cancelled.Load(), "the server saw the first attempt cancelled")
		})
	}
}

func TestUnaryHedgeFatal(t *testing.T) {
	assert.True(t, grpcx.HedgeFatal(status.Error(codes.NotFound, "")))
	assert.True(t, grpcx.HedgeFatal(status.Error(codes.InvalidArgument, "")))
	assert.False(t, grpcx.HedgeFatal(status.Error(codes.Unavailable, "")))
	assert.False(t, grpcx.HedgeFatal(status.Error(codes.Internal, "")))
	assert.True(t, grpcx.HedgeFatal(errors.Join(resilience.ErrRejected)))
	_, err := grpcx.New(grpcx.Config{Hedge: &hedge.Config{Delay: -1}})
	assert.ErrorContains(t, err, "grpcx: Config.Hedge: hedge: Config.Delay")
}

// With Retry and Hedge, the retry is outside: an Unavailable before the
// delay is retried, and the retry's slow attempt is hedged.
func TestUnaryHedgeInsideRetry(t *testing.T) {
	h := newHarness(t)
	var n, cancelled atomic.Int32
	exited := make(chan struct{})
	h.srv.setCheck(func(ctx context.Context) error {
		switch n.Add(1) {
		case 1:
			return status.Error(codes.Unavailable, "down")
		case 2:
			defer close(exited)
			<-ctx.Done()
			cancelled.Add(1)
			return ctx.Err()
		}
		return nil
	})
	rec := &recorder{}
	// A delay far longer than the first answer takes, even on a loaded
	// machine: the first attempt is not hedged.
	ic := mustNew(t, grpcx.Config{Retry: retryCfg(t), Hedge: hedgeCfg(t, 200*time.Millisecond), Observer: rec})
	client := h.client(t, ic.DialOptions()...)
	resp, err := client.Check(bounded(t), &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	assert.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.GetStatus())
	assert.Equal(t, 3, h.srv.callsTo(checkMethod))
	assert.Len(t, rec.OfKind(resilience.EventRetry), 1)
	assert.Len(t, rec.OfKind(resilience.EventHedgeWon), 1)
	waitFor(t, exited)
	assert.EqualValues(t, 1, cancelled.Load())
}
