package fault_test

import (
	"context"
	"errors"
	"io"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/go-resilience/resilience/internal/fault"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

func check(ctx context.Context, c healthpb.HealthClient) error {
	resp, err := c.Check(ctx, &healthpb.HealthCheckRequest{})
	if err == nil && resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return errors.New("not serving")
	}
	return err
}

// watch reads a Watch stream to its end and returns the messages it got
// and the stream's final error (nil for a stream that ended OK).
func watch(ctx context.Context, c healthpb.HealthClient) (int, error) {
	stream, err := c.Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		_, err := stream.Recv()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}

func TestGRPCCheckAnswersAsTheFaultSays(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    fault.Fault
		want codes.Code
	}{
		{"ok", fault.OK(), codes.OK},
		{"unavailable", fault.Code(codes.Unavailable), codes.Unavailable},
		{"an HTTP 503 is Unavailable", fault.Status(503), codes.Unavailable},
		{"resource exhausted", fault.Code(codes.ResourceExhausted), codes.ResourceExhausted},
		{"a reset is Unavailable", fault.Reset(3), codes.Unavailable},
		{"a drop is Unavailable", fault.Drop(), codes.Unavailable},
		{"a slow answer arrives", fault.SlowBody(3, time.Millisecond), codes.OK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := fault.NewGRPC(t, fault.GRPCConfig{Fault: tc.f})
			err := check(context.Background(), healthpb.NewHealthClient(s.Dial()))
			assert.Equal(t, tc.want, status.Code(err), "%v", err)
			_, err = s.WaitFor(waitCtx(t), func(st fault.Stats) bool { return st.Codes[tc.want] == 1 && st.InFlight == 0 })
			require.NoError(t, err)
		})
	}
}

func TestGRPCDelayWaitsItsLatency(t *testing.T) {
	const d = 60 * time.Millisecond
	s := fault.NewGRPC(t, fault.GRPCConfig{Fault: fault.Delay(fault.Fixed(d), nil)})
	c := healthpb.NewHealthClient(s.Dial())
	require.NoError(t, check(context.Background(), c)) // connect first
	start := time.Now()
	require.NoError(t, check(context.Background(), c))
	assert.GreaterOrEqual(t, time.Since(start), d)
}

func TestGRPCHangHangsUntilClose(t *testing.T) {
	s := fault.NewGRPC(t, fault.GRPCConfig{Fault: fault.Hang()})
	c := healthpb.NewHealthClient(s.Dial())
	done := make(chan error, 2)
	go func() { done <- check(context.Background(), c) }()
	go func() { _, err := watch(context.Background(), c); done <- err }()
	_, err := s.WaitFor(waitCtx(t), func(st fault.Stats) bool { return st.Hangs == 2 })
	require.NoError(t, err)
	select {
	case err := <-done:
		t.Fatalf("a hang answered: %v", err)
	case <-time.After(100 * time.Millisecond): // it really hangs
	}
	s.Close()
	for range 2 {
		select {
		case err := <-done:
			assert.Equal(t, codes.Unavailable, status.Code(err), "%v", err)
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not end the hang")
		}
	}
	st := s.Stats()
	assert.Equal(t, 0, st.InFlight)
	assert.Equal(t, uint64(2), st.Aborted)
}

func TestGRPCHangEndsAtTheClientsDeadline(t *testing.T) {
	s := fault.NewGRPC(t, fault.GRPCConfig{Fault: fault.Hang()})
	c := healthpb.NewHealthClient(s.Dial())
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	assert.Equal(t, codes.DeadlineExceeded, status.Code(check(ctx, c)))
	st, err := s.WaitFor(waitCtx(t), func(st fault.Stats) bool { return st.InFlight == 0 && st.Aborted == 1 })
	require.NoError(t, err)
	assert.Equal(t, uint64(1), st.Hangs)
}

func TestGRPCWatchStreamsAsTheFaultSays(t *testing.T) {
	for _, tc := range []struct {
		name     string
		f        fault.Fault
		messages int
		want     codes.Code
	}{
		{"ok sends WatchMessages and ends", fault.OK(), 4, codes.OK},
		{"a code ends it at once", fault.Code(codes.Internal), 0, codes.Internal},
		{"a reset ends it mid-stream", fault.Reset(2), 2, codes.Unavailable},
		{"a slow stream arrives in full", fault.SlowBody(3, 5*time.Millisecond), 3, codes.OK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := fault.NewGRPC(t, fault.GRPCConfig{Fault: tc.f, WatchMessages: 4})
			n, err := watch(context.Background(), healthpb.NewHealthClient(s.Dial()))
			assert.Equal(t, tc.want, status.Code(err), "%v", err)
			assert.Equal(t, tc.messages, n)
		})
	}
}

func TestGRPCHangMidStreamSendsTheStartAndThenNothing(t *testing.T) {
	s := fault.NewGRPC(t, fault.GRPCConfig{Fault: fault.HangMidBody(2)})
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Millisecond)
	defer cancel()
	n, err := watch(ctx, healthpb.NewHealthClient(s.Dial()))
	assert.Equal(t, 2, n)
	assert.Equal(t, codes.DeadlineExceeded, status.Code(err))
}

func TestGRPCStormHonoursItsRateAndCountsConnections(t *testing.T) {
	const n, p = 400, 0.25
	s := fault.NewGRPC(t, fault.GRPCConfig{Fault: fault.Rate(p, fault.Code(codes.Unavailable), fault.OK()), Seed: 3})
	cc := s.Dial()
	c := healthpb.NewHealthClient(cc)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			code := status.Code(check(context.Background(), c))
			assert.Contains(t, []codes.Code{codes.OK, codes.Unavailable}, code)
		})
	}
	wg.Wait()
	st, err := s.WaitFor(waitCtx(t), func(st fault.Stats) bool { return st.InFlight == 0 })
	require.NoError(t, err)
	assert.Equal(t, uint64(n), st.Requests)
	assert.Equal(t, uint64(n), st.Codes[codes.OK]+st.Codes[codes.Unavailable])
	assert.InDelta(t, p*n, float64(st.Codes[codes.Unavailable]), 4*math.Sqrt(n*p*(1-p)))
	assert.LessOrEqual(t, st.MaxInFlight, 32)
	assert.Equal(t, uint64(1), st.Conns.Accepted, "one connection carries every call")
	t.Logf("storm: %d calls, %d Unavailable", n, st.Codes[codes.Unavailable])

	require.NoError(t, cc.Close())
	st, err = s.WaitFor(waitCtx(t), func(st fault.Stats) bool { return st.Conns.Open == 0 })
	require.NoError(t, err, "the connection closes with the client")
	assert.Equal(t, uint64(1), st.Conns.Closed)
}

func TestGRPCFlapSwitchesOnItsSchedule(t *testing.T) {
	s := fault.NewGRPC(t, fault.GRPCConfig{})
	c := healthpb.NewHealthClient(s.Dial())
	require.NoError(t, check(context.Background(), c))
	s.Set(fault.Script(fault.Phase{For: time.Hour, Fault: fault.Code(codes.Unavailable)}))
	assert.Equal(t, codes.Unavailable, status.Code(check(context.Background(), c)))
	s.Set(fault.Flap(time.Hour, fault.OK(), time.Hour, fault.Hang()))
	require.NoError(t, check(context.Background(), c), "a flap starts up")
}
