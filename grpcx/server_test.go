package grpcx_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
)

// Method names of the health service, the server every test talks to.
const (
	checkMethod = healthpb.Health_Check_FullMethodName
	listMethod  = healthpb.Health_List_FullMethodName
	watchMethod = healthpb.Health_Watch_FullMethodName
)

// callTimeout bounds every call a test makes, so that a bug shows up as a
// failed assertion rather than a hung test.
const callTimeout = 5 * time.Second

// A unaryScript answers a unary call (Check or List): nil for SERVING, or
// the error to return. It runs on the server, with the server's context.
type unaryScript func(ctx context.Context) error

// A watchScript runs a Watch stream on the server: it may send messages and
// returns the stream's final status.
type watchScript func(ctx context.Context, send func(healthpb.HealthCheckResponse_ServingStatus) error) error

// healthServer is the standard health service with answers scripted by the
// test: each method runs the script last set for it (nil: answer SERVING at
// once, and end a Watch after one message with OK).
type healthServer struct {
	healthpb.UnimplementedHealthServer

	mu    sync.Mutex
	check unaryScript
	list  unaryScript
	watch watchScript
	calls map[string]int
}

func (s *healthServer) setCheck(f unaryScript) { s.mu.Lock(); s.check = f; s.mu.Unlock() }
func (s *healthServer) setList(f unaryScript)  { s.mu.Lock(); s.list = f; s.mu.Unlock() }
func (s *healthServer) setWatch(f watchScript) { s.mu.Lock(); s.watch = f; s.mu.Unlock() }

// callsTo returns how many calls of the method (a full method name) reached
// the server.
func (s *healthServer) callsTo(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

func (s *healthServer) record(method string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.calls == nil {
		s.calls = make(map[string]int)
	}
	s.calls[method]++
}

func (s *healthServer) Check(ctx context.Context, _ *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	s.mu.Lock()
	f := s.check
	s.mu.Unlock()
	s.record(checkMethod)
	return serving(ctx, f)
}

func (s *healthServer) List(ctx context.Context, _ *healthpb.HealthListRequest) (*healthpb.HealthListResponse, error) {
	s.mu.Lock()
	f := s.list
	s.mu.Unlock()
	s.record(listMethod)
	if f != nil {
		if err := f(ctx); err != nil {
			return nil, err
		}
	}
	return &healthpb.HealthListResponse{}, nil
}

func (s *healthServer) Watch(_ *healthpb.HealthCheckRequest, stream grpc.ServerStreamingServer[healthpb.HealthCheckResponse]) error {
	s.mu.Lock()
	f := s.watch
	s.mu.Unlock()
	s.record(watchMethod)
	send := func(st healthpb.HealthCheckResponse_ServingStatus) error {
		return stream.Send(&healthpb.HealthCheckResponse{Status: st})
	}
	if f == nil {
		return send(healthpb.HealthCheckResponse_SERVING)
	}
	return f(stream.Context(), send)
}

func serving(ctx context.Context, f unaryScript) (*healthpb.HealthCheckResponse, error) {
	if f != nil {
		if err := f(ctx); err != nil {
			return nil, err
		}
	}
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
}

// answer is a script that fails with code c (or succeeds for codes.OK).
func answer(c codes.Code) unaryScript {
	return func(context.Context) error { return status.Error(c, "scripted "+c.String()) }
}

// watchThen sends one SERVING message and ends the stream with code c.
func watchThen(c codes.Code) watchScript {
	return func(_ context.Context, send func(healthpb.HealthCheckResponse_ServingStatus) error) error {
		if err := send(healthpb.HealthCheckResponse_SERVING); err != nil {
			return err
		}
		return status.Error(c, "scripted "+c.String())
	}
}

// watchHold sends one SERVING message and keeps the stream open until the
// client goes away.
func watchHold(ctx context.Context, send func(healthpb.HealthCheckResponse_ServingStatus) error) error {
	if err := send(healthpb.HealthCheckResponse_SERVING); err != nil {
		return err
	}
	<-ctx.Done()
	return status.FromContextError(ctx.Err()).Err()
}

// outlive is a script that answers only after the test has ended, so that
// the call ends by the client's deadline, never by the server's (whose
// timer may fire first although it is no earlier).
func outlive(t testing.TB) unaryScript {
	gone := make(chan struct{})
	t.Cleanup(func() { close(gone) })
	return func(context.Context) error {
		<-gone
		return status.Error(codes.Unavailable, "too late")
	}
}

// harness is a real gRPC server on an in-memory listener, serving srv.
type harness struct {
	srv *healthServer
	lis *bufconn.Listener
	gs  *grpc.Server
}

// newHarness starts a server; it is stopped when the test ends.
func newHarness(t testing.TB) *harness {
	t.Helper()
	h := &harness{srv: new(healthServer), lis: bufconn.Listen(1 << 20), gs: grpc.NewServer()}
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

// dial connects a client to the harness with opts (the interceptors); the
// connection is closed when the test ends, before the server stops.
func (h *harness) dial(t testing.TB, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	opts = append([]grpc.DialOption{
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return h.lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	}, opts...)
	conn, err := grpc.NewClient("passthrough:///bufconn", opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// ready waits until conn is connected, so that a test timing its calls
// does not time the connection's setup.
func ready(t testing.TB, conn *grpc.ClientConn) {
	t.Helper()
	ctx := bounded(t)
	conn.Connect()
	for st := conn.GetState(); st != connectivity.Ready; st = conn.GetState() {
		require.True(t, conn.WaitForStateChange(ctx, st), "the connection did not become ready")
	}
}

// client is dial wrapped in the generated health client.
func (h *harness) client(t testing.TB, opts ...grpc.DialOption) healthpb.HealthClient {
	t.Helper()
	return healthpb.NewHealthClient(h.dial(t, opts...))
}

// bounded returns a context that ends after callTimeout, and ends with the
// test.
func bounded(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	t.Cleanup(cancel)
	return ctx
}
