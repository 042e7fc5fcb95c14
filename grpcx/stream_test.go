package grpcx_test

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/grpcx"
	"github.com/go-resilience/resilience/timeout"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// oneSlot is a config whose shared bulkhead has a single slot, so that a
// test sees at once whether a stream still holds it.
func oneSlot(rec *recorder) grpcx.Config {
	return grpcx.Config{
		Bulkhead: bulkhead.Config{MaxConcurrent: 1},
		Breaker:  breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 1, OpenTimeout: time.Minute}},
		Observer: rec,
	}
}

// drain reads stream to its end and returns its final status (nil for OK).
func drain(stream healthpb.Health_WatchClient) error {
	for {
		if _, err := stream.Recv(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

func TestStreamFinalStatusIsRecorded(t *testing.T) {
	for _, tc := range []struct {
		code    codes.Code
		outcome resilience.Outcome
	}{
		{codes.OK, resilience.Success},
		{codes.NotFound, resilience.Success},
		{codes.Internal, resilience.Failure},
		{codes.Unavailable, resilience.Failure},
	} {
		t.Run(tc.code.String(), func(t *testing.T) {
			h := newHarness(t)
			h.srv.setWatch(watchThen(tc.code))
			rec := new(recorder)
			ic := mustNew(t, oneSlot(rec))
			client := h.client(t, ic.DialOptions()...)

			stream, err := client.Watch(bounded(t), &healthpb.HealthCheckRequest{})
			require.NoError(t, err)
			_, err = stream.Recv()
			require.NoError(t, err, "the first message")
			assert.Empty(t, rec.OfKind(resilience.EventCall), "nothing is recorded before the stream ends")
			assert.Equal(t, 1, ic.Bulkhead(watchMethod).InFlight(), "the slot is held while the stream is open")

			require.Equal(t, tc.code, status.Code(drain(stream)))
			calls := rec.OfKind(resilience.EventCall)
			require.Len(t, calls, 1)
			assert.Equal(t, tc.outcome, calls[0].Outcome)
			assert.Equal(t, watchMethod, calls[0].Key)
			assert.Zero(t, ic.Bulkhead(watchMethod).InFlight())
			wantState := breaker.Closed
			if tc.outcome == resilience.Failure {
				wantState = breaker.Open
			}
			assert.Equal(t, wantState, ic.Breakers().Get(watchMethod).State())
		})
	}
}

// failingInterceptor is a stream interceptor chained after grpcx's that
// fails every stream before it reaches gRPC.
func failingInterceptor(err error) grpc.StreamClientInterceptor {
	return func(context.Context, *grpc.StreamDesc, *grpc.ClientConn, string, grpc.Streamer, ...grpc.CallOption) (grpc.ClientStream, error) {
		return nil, err
	}
}

func TestStreamEstablishmentErrorIsRecorded(t *testing.T) {
	for _, tc := range []struct {
		name string
		// start returns a client whose next Watch fails to start.
		start func(t *testing.T, h *harness, ic *grpcx.Interceptors) healthpb.HealthClient
		code  codes.Code
	}{
		{
			name: "server gone",
			start: func(t *testing.T, h *harness, ic *grpcx.Interceptors) healthpb.HealthClient {
				h.gs.Stop()
				return h.client(t, ic.DialOptions()...)
			},
			code: codes.Unavailable,
		},
		{
			name: "interceptor after fails",
			start: func(t *testing.T, h *harness, ic *grpcx.Interceptors) healthpb.HealthClient {
				return h.client(t, append(ic.DialOptions(),
					grpc.WithChainStreamInterceptor(failingInterceptor(status.Error(codes.Internal, "no"))))...)
			},
			code: codes.Internal,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			rec := new(recorder)
			ic := mustNew(t, oneSlot(rec))
			client := tc.start(t, h, ic)

			_, err := client.Watch(bounded(t), &healthpb.HealthCheckRequest{})
			require.Equal(t, tc.code, status.Code(err))
			calls := rec.OfKind(resilience.EventCall)
			require.Len(t, calls, 1, "recorded once")
			assert.Equal(t, resilience.Failure, calls[0].Outcome)
			assert.Zero(t, ic.Bulkhead(watchMethod).InFlight())
			assert.Len(t, rec.OfKind(resilience.EventRelease), 1, "released once")
			assert.Equal(t, breaker.Open, ic.Breakers().Get(watchMethod).State())
		})
	}
}

func TestEndedStreamReleasesItsSlotOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		// end ends (or abandons) a stream that has had its first message.
		end func(t *testing.T, stream healthpb.Health_WatchClient, cancel context.CancelFunc, conn *grpc.ClientConn)
		// outcome is what the breaker records; Ignored for the caller's own
		// cancellation.
		outcome resilience.Outcome
	}{
		{
			name: "abandoned: caller cancels and reads no more",
			end: func(_ *testing.T, _ healthpb.Health_WatchClient, cancel context.CancelFunc, _ *grpc.ClientConn) {
				cancel()
			},
			outcome: resilience.Ignored,
		},
		{
			name: "caller cancels and reads to the end",
			end: func(t *testing.T, stream healthpb.Health_WatchClient, cancel context.CancelFunc, _ *grpc.ClientConn) {
				cancel()
				assert.Equal(t, codes.Canceled, status.Code(drain(stream)))
			},
			outcome: resilience.Ignored,
		},
		{
			name: "connection closed",
			end: func(_ *testing.T, _ healthpb.Health_WatchClient, _ context.CancelFunc, conn *grpc.ClientConn) {
				_ = conn.Close()
			},
			outcome: resilience.Ignored, // gRPC reports Canceled: "grpc: the client connection is closing"
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.srv.setWatch(watchHold)
			rec := new(recorder)
			ic := mustNew(t, oneSlot(rec))
			conn := h.dial(t, ic.DialOptions()...)
			client := healthpb.NewHealthClient(conn)

			ctx, cancel := context.WithCancel(bounded(t))
			defer cancel()
			stream, err := client.Watch(ctx, &healthpb.HealthCheckRequest{})
			require.NoError(t, err)
			_, err = stream.Recv()
			require.NoError(t, err)
			bh := ic.Bulkhead(watchMethod)
			require.Equal(t, 1, bh.InFlight())

			tc.end(t, stream, cancel, conn)
			require.Eventually(t, func() bool { return bh.InFlight() == 0 }, 2*time.Second, time.Millisecond)
			assert.Len(t, rec.OfKind(resilience.EventRelease), 1)
			require.Eventually(t, func() bool { return len(rec.OfKind(resilience.EventCall)) == 1 }, 2*time.Second, time.Millisecond)
			assert.Equal(t, tc.outcome, rec.OfKind(resilience.EventCall)[0].Outcome)
		})
	}
}

func TestOpenStreamHoldsItsSlot(t *testing.T) {
	h := newHarness(t)
	h.srv.setWatch(watchHold)
	ic := mustNew(t, grpcx.Config{Bulkhead: bulkhead.Config{MaxConcurrent: 1}})
	client := h.client(t, ic.DialOptions()...)

	ctx, cancel := context.WithCancel(bounded(t))
	defer cancel()
	stream, err := client.Watch(ctx, &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	_, err = stream.Recv()
	require.NoError(t, err)

	_, err = client.Check(bounded(t), &healthpb.HealthCheckRequest{})
	require.ErrorIs(t, err, bulkhead.ErrFull, "the shared slot is the stream's")
	_, err = client.Watch(bounded(t), &healthpb.HealthCheckRequest{})
	require.ErrorIs(t, err, bulkhead.ErrFull)
	assert.Equal(t, codes.Unavailable, status.Code(err))

	cancel()
	require.Eventually(t, func() bool {
		_, err := client.Check(bounded(t), &healthpb.HealthCheckRequest{})
		return err == nil
	}, 2*time.Second, time.Millisecond, "the slot is free once the stream is abandoned")
}

func TestStreamTimeoutEndsTheStreamAsAFailure(t *testing.T) {
	h := newHarness(t)
	deadlines := make(chan time.Time, 1)
	h.srv.setWatch(func(ctx context.Context, send func(healthpb.HealthCheckResponse_ServingStatus) error) error {
		dl, _ := ctx.Deadline()
		deadlines <- dl
		return watchHold(ctx, send)
	})
	rec := new(recorder)
	cfg := oneSlot(rec)
	cfg.StreamTimeout = 100 * time.Millisecond
	cfg.Timeout = time.Hour // unary only: not the stream's
	ic := mustNew(t, cfg)
	conn := h.dial(t, ic.DialOptions()...)
	ready(t, conn)
	client := healthpb.NewHealthClient(conn)

	start := time.Now()
	stream, err := client.Watch(bounded(t), &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	_, err = stream.Recv()
	require.NoError(t, err, "the policy's context lives past the interceptor's return")
	assert.WithinRange(t, <-deadlines, start.Add(99*time.Millisecond), start.Add(time.Second),
		"the server sees the stream's deadline")

	err = drain(stream)
	assert.Equal(t, codes.DeadlineExceeded, status.Code(err))
	assert.ErrorIs(t, err, timeout.ErrTimeout)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)

	require.Eventually(t, func() bool { return len(rec.OfKind(resilience.EventCall)) == 1 }, 2*time.Second, time.Millisecond)
	assert.Equal(t, resilience.Failure, rec.OfKind(resilience.EventCall)[0].Outcome)
	timeouts := rec.OfKind(resilience.EventTimeout)
	require.Len(t, timeouts, 1)
	assert.Equal(t, watchMethod, timeouts[0].Key)
	assert.ErrorIs(t, timeouts[0].Err, timeout.ErrTimeout)
	assert.Zero(t, ic.Bulkhead(watchMethod).InFlight())
}

func TestStreamRefusedByOpenBreaker(t *testing.T) {
	h := newHarness(t)
	ic := mustNew(t, grpcx.Config{Bulkhead: bulkhead.Config{MaxConcurrent: 1}})
	ic.Breakers().Get(watchMethod).ForceOpen()
	client := h.client(t, ic.DialOptions()...)

	_, err := client.Watch(bounded(t), &healthpb.HealthCheckRequest{})
	assert.Equal(t, codes.Unavailable, status.Code(err))
	assert.ErrorIs(t, err, breaker.ErrOpen)
	assert.ErrorIs(t, err, resilience.ErrRejected)
	assert.Zero(t, h.srv.callsTo(watchMethod))
	assert.Zero(t, ic.Bulkhead(watchMethod).InFlight(), "a refused stream takes no slot")
}

// TestManyStreamsEndingEveryWayReleaseEverySlot runs streams that end in
// each way at once, and checks that every slot taken is given back once.
func TestManyStreamsEndingEveryWayReleaseEverySlot(t *testing.T) {
	h := newHarness(t)
	h.srv.setWatch(func(ctx context.Context, send func(healthpb.HealthCheckResponse_ServingStatus) error) error {
		if err := send(healthpb.HealthCheckResponse_SERVING); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Millisecond):
		}
		return status.Error(codes.NotFound, "gone")
	})
	rec := new(recorder)
	ic := mustNew(t, grpcx.Config{
		Bulkhead: bulkhead.Config{MaxConcurrent: 8, MaxWait: time.Second},
		Observer: rec,
	})
	client := h.client(t, ic.DialOptions()...)

	const streams = 48
	var wg sync.WaitGroup
	for i := range streams {
		wg.Go(func() {
			ctx, cancel := context.WithCancel(bounded(t))
			defer cancel()
			stream, err := client.Watch(ctx, &healthpb.HealthCheckRequest{})
			if !assert.NoError(t, err) {
				return
			}
			switch i % 3 {
			case 0: // read to the end
				assert.Equal(t, codes.NotFound, status.Code(drain(stream)))
			case 1: // abandon after one message
				_, _ = stream.Recv()
				cancel()
			case 2: // abandon at once
				cancel()
			}
		})
	}
	wg.Wait()
	bh := ic.Bulkhead(watchMethod)
	require.Eventually(t, func() bool { return bh.InFlight() == 0 }, 2*time.Second, time.Millisecond)
	assert.Len(t, rec.OfKind(resilience.EventAcquire), streams)
	assert.Len(t, rec.OfKind(resilience.EventRelease), streams)
	require.Eventually(t, func() bool { return len(rec.OfKind(resilience.EventCall)) == streams }, 2*time.Second, time.Millisecond)
	assert.Zero(t, ic.Breakers().Get(watchMethod).Counts().TotalFailures)
	for _, ev := range rec.OfKind(resilience.EventCall) {
		if ev.Outcome == resilience.Failure {
			t.Errorf("a stream was recorded as a failure: %v", ev.Err)
		}
	}
}

func TestStreamCallerCancelledWhileWaitingForASlot(t *testing.T) {
	h := newHarness(t)
	h.srv.setWatch(watchHold)
	ic := mustNew(t, grpcx.Config{Bulkhead: bulkhead.Config{MaxConcurrent: 1, MaxWait: time.Minute}})
	client := h.client(t, ic.DialOptions()...)

	holder, err := client.Watch(bounded(t), &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	_, err = holder.Recv()
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err = client.Watch(ctx, &healthpb.HealthCheckRequest{})
	assert.Equal(t, codes.DeadlineExceeded, status.Code(err))
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
	assert.False(t, errors.Is(err, resilience.ErrRejected))
	assert.Equal(t, 1, ic.Bulkhead(watchMethod).InFlight())
	assert.Zero(t, ic.Breakers().Get(watchMethod).Counts().TotalFailures)
}
