package otelx_test

import (
	"context"
	"net"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/go-resilience/resilience/grpcx"
	"github.com/go-resilience/resilience/otelx"
	"github.com/go-resilience/resilience/retry"
)

// flakyHealth is a health server that fails the first Check with
// Unavailable and answers the others, keeping each call's traceparent.
type flakyHealth struct {
	healthpb.UnimplementedHealthServer
	mu          sync.Mutex
	traceparent []string
}

func (f *flakyHealth) Check(ctx context.Context, _ *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	f.mu.Lock()
	f.traceparent = append(f.traceparent, first(md.Get("traceparent")))
	n := len(f.traceparent)
	f.mu.Unlock()
	if n == 1 {
		return nil, status.Error(codes.Unavailable, "warming up")
	}
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
}

func (f *flakyHealth) headers() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.traceparent...)
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// A grpcx client with otelgrpc's stats handler on bufconn: each attempt of
// a retried unary call is a client span of its own, child of the
// caller's, in the same trace, whose context reaches the server.
func TestGRPCAttemptSpans(t *testing.T) {
	tr := newTracing(t)
	lis := bufconn.Listen(1 << 16)
	srv := grpc.NewServer()
	h := &flakyHealth{}
	healthpb.RegisterHealthServer(srv, h)
	served := make(chan struct{})
	go func() { defer close(served); _ = srv.Serve(lis) }()
	defer func() { srv.Stop(); <-served }()

	ic, err := grpcx.New(grpcx.Config{
		Name:     "health",
		Observer: newObserver(t, otelx.Config{}),
		Retry:    &retry.Config{MaxAttempts: 2, BaseDelay: -1}, // retry at once
	})
	require.NoError(t, err)
	opts := append([]grpc.DialOption{
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(
			otelgrpc.WithTracerProvider(tr.tp),
			otelgrpc.WithPropagators(propagation.TraceContext{}))),
	}, ic.DialOptions()...)
	conn, err := grpc.NewClient("passthrough:///health", opts...)
	require.NoError(t, err)
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)

	parent := tr.span(t, "check", func(ctx context.Context) {
		resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
		require.NoError(t, err, "the retry's answer")
		assert.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.GetStatus())
	})

	attempts := clientSpans(tr)
	require.Len(t, attempts, 2, "a span per attempt")
	got := h.headers()
	require.Len(t, got, 2, "the server saw both attempts")
	assert.NotEqual(t, got[0], got[1], "each attempt sends its own span")
	for i, a := range attempts {
		assert.Equal(t, parent.SpanContext().TraceID(), a.SpanContext().TraceID(), "attempt %d: same trace", i+1)
		assert.Equal(t, parent.SpanContext().SpanID(), a.Parent().SpanID(), "attempt %d: child of the caller's span", i+1)
		assert.Equal(t, traceparent(a.SpanContext()), got[i], "attempt %d: the server got its span's context", i+1)
	}
	require.Len(t, events(parent), 1)
	assert.Equal(t, "resilience.retry", events(parent)[0].Name, "the retry decision is on the caller's span")
	assert.Equal(t, int64(2), events(parent)[0].Attrs["resilience.attempt"])
}
