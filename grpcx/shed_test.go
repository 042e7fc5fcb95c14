package grpcx_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/grpcx"
	"github.com/go-resilience/resilience/internal/eventlog"
	"github.com/go-resilience/resilience/ratelimit"
)

// newShedHarness starts the scripted health server behind s's
// interceptors; it is stopped when the test ends.
func newShedHarness(t *testing.T, s *grpcx.Server) *harness {
	t.Helper()
	h := &harness{srv: new(healthServer), lis: bufconn.Listen(1 << 20), gs: grpc.NewServer(s.ServerOptions()...)}
	healthpb.RegisterHealthServer(h.gs, h.srv)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = h.gs.Serve(h.lis)
	}()
	t.Cleanup(func() {
		h.gs.Stop()
		<-done
	})
	return h
}

func newShedServer(t *testing.T, cfg grpcx.ServerConfig) *grpcx.Server {
	t.Helper()
	s, err := grpcx.NewServer(cfg)
	require.NoError(t, err)
	return s
}

// pushback returns the grpc-retry-pushback-ms trailer of md, -1 if absent.
func pushback(t *testing.T, md metadata.MD) int {
	v := md.Get(grpcx.PushbackTrailer)
	if len(v) == 0 {
		return -1
	}
	ms, err := strconv.Atoi(v[0])
	require.NoError(t, err)
	return ms
}

// holdList makes List calls hold until the test ends or their client
// goes, announcing each on the returned channel.
func holdList(t *testing.T, h *harness) <-chan struct{} {
	in := make(chan struct{}, 10)
	gone := make(chan struct{})
	t.Cleanup(func() { close(gone) })
	h.srv.setList(func(ctx context.Context) error {
		in <- struct{}{}
		select {
		case <-gone:
		case <-ctx.Done():
		}
		return nil
	})
	return in
}

// goList starts a List call that the server holds, and waits until it is
// in the handler; the call ends with the test.
func goList(t *testing.T, c healthpb.HealthClient, in <-chan struct{}) {
	ctx, cancel := context.WithCancel(bounded(t))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = c.List(ctx, &healthpb.HealthListRequest{})
	}()
	<-in
	t.Cleanup(func() { cancel(); <-done })
}

func TestServerRateLimitIsResourceExhaustedWithPushback(t *testing.T) {
	lim, err := ratelimit.New(ratelimit.Config{Rate: 0.5, Burst: 1})
	require.NoError(t, err)
	rec := &eventlog.Recorder{}
	s := newShedServer(t, grpcx.ServerConfig{Name: "api", Policy: lim, Exempt: []string{}, Observer: rec})
	c := newShedHarness(t, s).client(t)

	_, err = c.Check(bounded(t), &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	var md metadata.MD
	_, err = c.Check(bounded(t), &healthpb.HealthCheckRequest{}, grpc.Trailer(&md))
	require.Error(t, err)
	assert.Equal(t, codes.ResourceExhausted, status.Code(err))
	ms := pushback(t, md)
	assert.InDelta(t, 2000, ms, 500, "a token every 2s: pushback %dms", ms)
	_, shedding := s.Shedding()
	assert.True(t, shedding)
	require.Len(t, rec.OfKind(resilience.EventShed), 1)
	assert.Equal(t, healthpb.Health_Check_FullMethodName, rec.OfKind(resilience.EventShed)[0].Key)
}

func TestServerOverloadIsUnavailableWithConfiguredPushback(t *testing.T) {
	bh, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
	require.NoError(t, err)
	s := newShedServer(t, grpcx.ServerConfig{Policy: bh, RetryAfter: 250 * time.Millisecond, Exempt: []string{}})
	h := newShedHarness(t, s)
	c := h.client(t)
	goList(t, c, holdList(t, h))

	var md metadata.MD
	_, err = c.List(bounded(t), &healthpb.HealthListRequest{}, grpc.Trailer(&md))
	assert.Equal(t, codes.Unavailable, status.Code(err))
	assert.Equal(t, 250, pushback(t, md))
	assert.Equal(t, 1, h.srv.callsTo(listMethod), "the refused call never reached the handler")
}

func TestServerShedErrorIsAStatusAndAHintedChain(t *testing.T) {
	lim, err := ratelimit.New(ratelimit.Config{Rate: 0.001, Burst: 1})
	require.NoError(t, err)
	s := newShedServer(t, grpcx.ServerConfig{Policy: lim})
	ic := s.UnaryServerInterceptor()
	info := &grpc.UnaryServerInfo{FullMethod: "/pkg.S/M"}
	ok := func(context.Context, any) (any, error) { return "resp", nil }
	resp, err := ic(context.Background(), nil, info, ok)
	require.NoError(t, err)
	assert.Equal(t, "resp", resp)
	_, err = ic(context.Background(), nil, info, ok)
	var se *grpcx.ShedError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "/pkg.S/M", se.Method)
	assert.ErrorIs(t, err, ratelimit.ErrLimited)
	assert.ErrorIs(t, err, resilience.ErrRejected)
	assert.Equal(t, codes.ResourceExhausted, status.Code(err))
	d, hinted := resilience.RetryAfter(err)
	assert.True(t, hinted)
	assert.Greater(t, d, 100*time.Second)
}

func TestServerExemptMethodsAreServedWhileShedding(t *testing.T) {
	bh, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
	require.NoError(t, err)
	// Exempt: nil exempts the whole health service; List is made to work
	// by exempting only Check.
	s := newShedServer(t, grpcx.ServerConfig{Policy: bh, Exempt: []string{checkMethod}})
	h := newShedHarness(t, s)
	c := h.client(t)
	goList(t, c, holdList(t, h))

	_, err = c.Check(bounded(t), &healthpb.HealthCheckRequest{})
	assert.NoError(t, err, "exempt")
	_, err = c.List(bounded(t), &healthpb.HealthListRequest{})
	assert.Equal(t, codes.Unavailable, status.Code(err), "shed")
	w, err := c.Watch(bounded(t), &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	_, err = w.Recv()
	assert.Equal(t, codes.Unavailable, status.Code(err), "a stream is shed too")
}

func TestServerDefaultExemptsTheHealthService(t *testing.T) {
	bh, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
	require.NoError(t, err)
	require.NoError(t, bh.Acquire(context.Background())) // every slot taken
	defer bh.Release()
	s := newShedServer(t, grpcx.ServerConfig{Policy: bh})
	c := newShedHarness(t, s).client(t)
	_, err = c.Check(bounded(t), &healthpb.HealthCheckRequest{})
	assert.NoError(t, err)
	_, err = c.List(bounded(t), &healthpb.HealthListRequest{})
	assert.NoError(t, err)
}

func TestServerStreamHoldsItsSlotUntilItEnds(t *testing.T) {
	bh, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
	require.NoError(t, err)
	ended := make(chan struct{}, 10)
	s := newShedServer(t, grpcx.ServerConfig{Exempt: []string{}, Policy: resilience.PolicyFunc(func(ctx context.Context, call func(context.Context) error) error {
		err := bh.Execute(ctx, call)
		ended <- struct{}{} // the slot is back
		return err
	})})
	h := newShedHarness(t, s)
	h.srv.setWatch(watchHold)
	c := h.client(t)

	ctx, cancel := context.WithCancel(bounded(t))
	w, err := c.Watch(ctx, &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	_, err = w.Recv()
	require.NoError(t, err, "the stream is open")
	assert.Equal(t, 1, bh.InFlight())
	_, err = c.Check(bounded(t), &healthpb.HealthCheckRequest{})
	assert.Equal(t, codes.Unavailable, status.Code(err), "the open stream holds the only slot")

	cancel()
	_, err = w.Recv()
	assert.Equal(t, codes.Canceled, status.Code(err))
	<-ended // the Check refused
	<-ended // the stream's handler returned: its slot is back
	assert.Zero(t, bh.InFlight())
	_, err = c.Check(bounded(t), &healthpb.HealthCheckRequest{})
	assert.NoError(t, err)
}

func TestServerRefusesACallWhoseDeadlineIsTooShort(t *testing.T) {
	s := newShedServer(t, grpcx.ServerConfig{MinDeadline: time.Second, Exempt: []string{}})
	h := newShedHarness(t, s)
	c := h.client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := c.Check(ctx, &healthpb.HealthCheckRequest{})
	assert.Equal(t, codes.DeadlineExceeded, status.Code(err))
	assert.Zero(t, h.srv.callsTo(checkMethod), "never worked on")
	_, err = c.Check(bounded(t), &healthpb.HealthCheckRequest{})
	assert.NoError(t, err, "enough time")
	_, err = c.Check(context.Background(), &healthpb.HealthCheckRequest{})
	assert.NoError(t, err, "no deadline at all")
}

func TestServerWithNilPolicyServesEverything(t *testing.T) {
	s := newShedServer(t, grpcx.ServerConfig{})
	c := newShedHarness(t, s).client(t)
	for range 3 {
		_, err := c.List(bounded(t), &healthpb.HealthListRequest{})
		require.NoError(t, err)
	}
}

func TestServerPolicyThatFailsWithoutRunningTheCallRefusesIt(t *testing.T) {
	s := newShedServer(t, grpcx.ServerConfig{Policy: resilience.PolicyFunc(func(context.Context, func(context.Context) error) error {
		return errors.New("odd policy")
	})})
	_, err := s.UnaryServerInterceptor()(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: "/a/b"},
		func(context.Context, any) (any, error) { panic("not called") })
	assert.Equal(t, codes.Unavailable, status.Code(err))
}

func TestNewServerRejectsInvalidConfigNamingTheField(t *testing.T) {
	for _, tc := range []struct {
		cfg   grpcx.ServerConfig
		field string
	}{
		{grpcx.ServerConfig{Exempt: []string{"pkg.S/M"}}, "ServerConfig.Exempt[0]"},
		{grpcx.ServerConfig{MinDeadline: -1}, "ServerConfig.MinDeadline"},
		{grpcx.ServerConfig{MaxWaiting: -1}, "ServerConfig.MaxWaiting"},
		{grpcx.ServerConfig{QueueTarget: -1}, "ServerConfig.QueueTarget"},
		{grpcx.ServerConfig{QueueInterval: -1}, "ServerConfig.QueueInterval"},
		{grpcx.ServerConfig{RetryAfter: -1}, "ServerConfig.RetryAfter"},
	} {
		_, err := grpcx.NewServer(tc.cfg)
		require.Error(t, err, tc.field)
		assert.Contains(t, err.Error(), "grpcx: "+tc.field)
	}
}
