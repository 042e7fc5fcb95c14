package grpcx_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/grpcx"
	"github.com/go-resilience/resilience/inject"
	"github.com/go-resilience/resilience/metrics"
)

const faultKey = "x-fault-inject"

func newInjector(t testing.TB, cfg inject.Config) *inject.Injector {
	t.Helper()
	in, err := inject.New(cfg)
	require.NoError(t, err)
	return in
}

func newInjectInterceptors(t testing.TB, cfg grpcx.InjectConfig) *grpcx.InjectInterceptors {
	t.Helper()
	ii, err := grpcx.NewInjectInterceptors(cfg)
	require.NoError(t, err)
	return ii
}

// newHarnessWith is newHarness with server options (the server-side
// interceptors).
func newHarnessWith(t testing.TB, opts ...grpc.ServerOption) *harness {
	t.Helper()
	h := &harness{srv: new(healthServer), lis: bufconn.Listen(1 << 20), gs: grpc.NewServer(opts...)}
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

func markedCtx(t testing.TB) context.Context {
	return metadata.AppendToOutgoingContext(bounded(t), faultKey, "1")
}

// End to end, over a real server: a call carrying the fault metadata is
// failed by the server's interceptor; the client's breaker counts the
// failures, opens, and its fallback answers; the server's metrics show the
// faults as injected. Calls without the metadata see no change.
func TestInjectMetadataAbortOpensClientBreakerAndFallbackAnswers(t *testing.T) {
	serverMetrics, err := metrics.New(metrics.Config{})
	require.NoError(t, err)
	faults := newInjector(t, inject.Config{Name: "server-faults", Share: 1, MarkedOnly: true,
		Err: inject.ErrInjected, Observer: serverMetrics})
	h := newHarnessWith(t, newInjectInterceptors(t, grpcx.InjectConfig{Injector: faults, Metadata: faultKey}).ServerOptions()...)

	var rec recorder
	fallbacks := 0
	ic := mustNew(t, grpcx.Config{Breaker: trip3, Observer: &rec,
		UnaryFallback: func(ctx context.Context, method string, req, reply any, err error) error {
			fallbacks++
			reply.(*healthpb.HealthCheckResponse).Status = healthpb.HealthCheckResponse_NOT_SERVING
			return nil
		}})
	client := h.client(t, ic.DialOptions()...)

	check := func(ctx context.Context) healthpb.HealthCheckResponse_ServingStatus {
		resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
		require.NoError(t, err)
		return resp.GetStatus()
	}
	assert.Equal(t, healthpb.HealthCheckResponse_SERVING, check(markedCtx(t)), "off: the metadata does nothing")
	faults.Enable()
	for range 5 {
		assert.Equal(t, healthpb.HealthCheckResponse_SERVING, check(bounded(t)), "on, unmarked: nothing changes")
	}
	assert.Zero(t, fallbacks)
	for range 3 {
		assert.Equal(t, healthpb.HealthCheckResponse_NOT_SERVING, check(markedCtx(t)), "the fallback answers")
	}
	assert.Equal(t, breaker.Open, ic.Breakers().Get(checkMethod).State())
	assert.Equal(t, healthpb.HealthCheckResponse_NOT_SERVING, check(bounded(t)), "open: refused, the fallback answers")
	assert.Equal(t, 4, fallbacks)
	assert.Equal(t, 6, h.srv.callsTo(checkMethod), "the aborted calls never reached the handler")
	assert.Len(t, rec.OfKind(resilience.EventRejected), 1)

	require.NoError(t, testutil.CollectAndCompare(serverMetrics, strings.NewReader(`
# HELP resilience_injected_faults_total Faults injected on purpose by a fault injector (delays, errors, or both).
# TYPE resilience_injected_faults_total counter
resilience_injected_faults_total{key="/grpc.health.v1.Health/Check",policy="server-faults"} 3
`), "resilience_injected_faults_total"))
}

// A call cannot turn faults on by itself: without Metadata in the config,
// no metadata has any effect, even with an enabled injector that faults
// every marked call.
func TestInjectHostileMetadataDoesNothingWithoutMetadataControl(t *testing.T) {
	var rec recorder
	faults := newInjector(t, inject.Config{Share: 1, MarkedOnly: true, Err: inject.ErrInjected, Observer: &rec})
	faults.Enable()
	ii := newInjectInterceptors(t, grpcx.InjectConfig{Injector: faults})
	h := newHarnessWith(t, ii.ServerOptions()...)
	client := h.client(t, ii.DialOptions()...)
	for _, kv := range [][]string{
		{faultKey, "1"},
		{"x-envoy-fault-abort-grpc-request", "14"},
		{"fault", "abort", "x-inject", "true"},
	} {
		ctx := metadata.AppendToOutgoingContext(bounded(t), kv...)
		_, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
		require.NoError(t, err, "%v", kv)
		stream, err := client.Watch(ctx, &healthpb.HealthCheckRequest{})
		require.NoError(t, err)
		_, err = stream.Recv()
		require.NoError(t, err)
	}
	assert.Empty(t, rec.Events())
}

// Streams are failed when they start, on either side; the error carries
// the configured code.
func TestInjectStreams(t *testing.T) {
	for _, tc := range []struct {
		name        string
		server      bool
		wantSameErr bool
	}{
		{"client side", false, true},
		{"server side", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			faults := newInjector(t, inject.Config{Share: 1, Err: inject.ErrInjected})
			faults.Enable()
			ii := newInjectInterceptors(t, grpcx.InjectConfig{Injector: faults, Code: codes.ResourceExhausted})
			var h *harness
			var client healthpb.HealthClient
			if tc.server {
				h = newHarnessWith(t, ii.ServerOptions()...)
				client = h.client(t)
			} else {
				h = newHarness(t)
				client = h.client(t, ii.DialOptions()...)
			}
			stream, err := client.Watch(bounded(t), &healthpb.HealthCheckRequest{})
			if err == nil {
				_, err = stream.Recv()
			}
			require.Error(t, err)
			assert.Equal(t, codes.ResourceExhausted, status.Code(err))
			assert.Contains(t, err.Error(), "grpcx: injected fault: inject: injected fault")
			assert.Equal(t, tc.wantSameErr, errors.Is(err, inject.ErrInjected), "the injector's error is reachable where it was injected")
			assert.Zero(t, h.srv.callsTo(watchMethod))

			_, err = client.Check(bounded(t), &healthpb.HealthCheckRequest{})
			assert.Equal(t, codes.ResourceExhausted, status.Code(err))
			faults.Disable()
			_, err = client.Check(bounded(t), &healthpb.HealthCheckRequest{})
			require.NoError(t, err)
			stream, err = client.Watch(bounded(t), &healthpb.HealthCheckRequest{})
			require.NoError(t, err)
			_, err = stream.Recv()
			require.NoError(t, err)
		})
	}
}

// On the client, chained after the Interceptors, injected errors open the
// breaker; Match picks methods; a marked context or metadata marks calls.
func TestInjectClientInsideBreaker(t *testing.T) {
	var rec recorder
	faults := newInjector(t, inject.Config{Name: "faults", Share: 1, MarkedOnly: true, Err: inject.ErrInjected, Observer: &rec})
	faults.Enable()
	ii := newInjectInterceptors(t, grpcx.InjectConfig{Injector: faults, Metadata: "X-Fault-Inject",
		Match: func(m string) bool { return m == checkMethod }})
	h := newHarness(t)
	ic := mustNew(t, grpcx.Config{Breaker: trip3})
	client := h.client(t, append(ic.DialOptions(), ii.DialOptions()...)...)

	_, err := client.Check(bounded(t), &healthpb.HealthCheckRequest{})
	require.NoError(t, err, "unmarked")
	_, err = client.List(markedCtx(t), &healthpb.HealthListRequest{})
	require.NoError(t, err, "method not matched")
	_, err = client.Check(inject.Mark(bounded(t)), &healthpb.HealthCheckRequest{})
	require.ErrorIs(t, err, inject.ErrInjected)
	assert.Equal(t, codes.Unavailable, status.Code(err), "zero Code is Unavailable")
	for range 2 {
		_, err = client.Check(markedCtx(t), &healthpb.HealthCheckRequest{})
		require.ErrorIs(t, err, inject.ErrInjected)
	}
	assert.Equal(t, breaker.Open, ic.Breakers().Get(checkMethod).State())
	_, err = client.Check(bounded(t), &healthpb.HealthCheckRequest{})
	require.ErrorIs(t, err, breaker.ErrOpen)
	assert.Equal(t, 1, h.srv.callsTo(checkMethod))
	evs := rec.OfKind(resilience.EventInjected)
	require.Len(t, evs, 3)
	assert.Equal(t, checkMethod, evs[0].Key)
}

// Delays are added exactly, on both sides; a context that ends during the
// delay ends the call with its code.
func TestInjectDelays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		faults := newInjector(t, inject.Config{Share: 1, Delay: 300 * time.Millisecond})
		faults.Enable()
		ii := newInjectInterceptors(t, grpcx.InjectConfig{Injector: faults})
		start := time.Now()
		var at time.Duration
		invoker := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, opts ...grpc.CallOption) error {
			at = time.Since(start)
			return nil
		}
		require.NoError(t, ii.UnaryClientInterceptor()(context.Background(), checkMethod, nil, nil, nil, invoker))
		assert.Equal(t, 300*time.Millisecond, at)

		start = time.Now()
		handler := func(ctx context.Context, req any) (any, error) { at = time.Since(start); return "ok", nil }
		resp, err := ii.UnaryServerInterceptor()(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: checkMethod}, handler)
		require.NoError(t, err)
		assert.Equal(t, "ok", resp)
		assert.Equal(t, 300*time.Millisecond, at)

		start = time.Now()
		streamer := func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			at = time.Since(start)
			return nil, io.EOF
		}
		_, err = ii.StreamClientInterceptor()(context.Background(), &grpc.StreamDesc{}, nil, watchMethod, streamer)
		require.ErrorIs(t, err, io.EOF)
		assert.Equal(t, 300*time.Millisecond, at)

		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start = time.Now()
		_, err = ii.UnaryServerInterceptor()(ctx, nil, &grpc.UnaryServerInfo{FullMethod: checkMethod}, func(context.Context, any) (any, error) {
			t.Error("handler ran")
			return nil, nil
		})
		assert.Equal(t, codes.DeadlineExceeded, status.Code(err))
		assert.Equal(t, 100*time.Millisecond, time.Since(start))
	})
}

func TestNewInjectInterceptorsErrorsNameTheField(t *testing.T) {
	faults := newInjector(t, inject.Config{})
	for _, tc := range []struct {
		name string
		cfg  grpcx.InjectConfig
		want string
	}{
		{"no injector", grpcx.InjectConfig{}, "grpcx: InjectConfig.Injector must not be nil"},
		{"unknown code", grpcx.InjectConfig{Injector: faults, Code: 17}, "grpcx: InjectConfig.Code must be a gRPC code (zero: Unavailable), got 17"},
		{"metadata with space", grpcx.InjectConfig{Injector: faults, Metadata: "x fault"}, "grpcx: InjectConfig.Metadata must be"},
		{"binary metadata", grpcx.InjectConfig{Injector: faults, Metadata: "x-fault-bin"}, "grpcx: InjectConfig.Metadata must be"},
		{"reserved metadata", grpcx.InjectConfig{Injector: faults, Metadata: "grpc-timeout"}, "grpcx: InjectConfig.Metadata must be"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ii, err := grpcx.NewInjectInterceptors(tc.cfg)
			require.Error(t, err)
			assert.Nil(t, ii)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
