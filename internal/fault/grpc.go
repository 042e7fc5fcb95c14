package fault

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
)

// GRPCConfig configures NewGRPC. The zero value answers OK, seeded from the
// test's name, and Watch sends one message.
type GRPCConfig struct {
	// Fault is how the server answers until Set changes it; nil: OK().
	Fault Fault
	// Seed seeds the server's generator; zero: a hash of the test's name.
	Seed uint64
	// WatchMessages is how many SERVING messages Watch sends for OK()
	// before it ends the stream with status OK; zero: 1. (A real health
	// server keeps the stream open; a finite one lets a test read it to
	// io.EOF.)
	WatchMessages int
}

// A GRPCServer is an in-process gRPC server on a bufconn listener that
// implements grpc_health_v1.HealthServer, unary Check and server-streaming
// Watch, each call answered as the fault in force says. No code generation
// is needed: clients use healthpb.NewHealthClient. Its methods are safe for
// concurrent use. It is closed at the end of the test that made it.
type GRPCServer struct {
	*core
	tb            testing.TB
	lis           *bufconn.Listener
	srv           *grpc.Server
	watchMessages int
}

// NewGRPC starts a fault server for the test tb and stops it when the test
// ends (tb.Cleanup).
func NewGRPC(tb testing.TB, cfg GRPCConfig) *GRPCServer {
	tb.Helper()
	s := &GRPCServer{
		core:          newCore(tb.Name(), cfg.Seed, cfg.Fault),
		tb:            tb,
		lis:           bufconn.Listen(1 << 20),
		watchMessages: cfg.WatchMessages,
	}
	if s.watchMessages <= 0 {
		s.watchMessages = 1
	}
	s.srv = grpc.NewServer(grpc.StatsHandler(connCounter{s.tracker}), grpc.WaitForHandlers(true))
	healthpb.RegisterHealthServer(s.srv, health{s: s})
	go func() { _ = s.srv.Serve(s.lis) }()
	tb.Cleanup(s.Close)
	return s
}

// Dial returns a client connection to the server, with opts after the
// package's own (a bufconn dialer, insecure credentials), so a test passes
// its interceptors. The connection is closed when the test ends, before the
// server. A failure to create it fails the test; call Dial from the test's
// goroutine.
func (s *GRPCServer) Dial(opts ...grpc.DialOption) *grpc.ClientConn {
	s.tb.Helper()
	opts = append([]grpc.DialOption{
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return s.lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	}, opts...)
	cc, err := grpc.NewClient("passthrough:///fault", opts...)
	if err != nil {
		s.tb.Fatalf("fault: dial: %v", err)
	}
	s.tb.Cleanup(func() { _ = cc.Close() })
	return cc
}

// Close ends every hang, delay and slow stream at once (each call fails
// with Unavailable), stops the server, closing its connections, and waits
// for its handlers to return. It is idempotent.
func (s *GRPCServer) Close() {
	s.signalClose()
	s.srv.Stop()
}

// connCounter counts the server's connections for Stats.Conns.
type connCounter struct{ t *tracker }

func (connCounter) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }
func (connCounter) HandleRPC(context.Context, stats.RPCStats)                       {}
func (connCounter) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}

func (c connCounter) HandleConn(_ context.Context, st stats.ConnStats) {
	switch st.(type) {
	case *stats.ConnBegin:
		c.t.connBegin()
	case *stats.ConnEnd:
		c.t.connEnd()
	}
}

// health is the fault server's HealthServer.
type health struct {
	healthpb.UnimplementedHealthServer
	s *GRPCServer
}

var serving = &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}

// Check answers as the fault in force says.
func (h health) Check(ctx context.Context, _ *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	s := h.s
	s.begin()
	var record func(*Stats)
	defer func() { s.end(record) }()

	a := s.next()
	abort := func() error {
		rec, err := s.aborted(ctx)
		record = rec
		return err
	}
	if !s.sleep(ctx, a.delay) {
		return nil, abort()
	}
	switch a.kind {
	case kindAnswer:
		record = countCode(a.code)
		if a.code == codes.OK {
			return serving, nil
		}
		return nil, status.Error(a.code, "fault: "+a.code.String())
	case kindHang, kindHangMid:
		s.update(func(st *Stats) { st.Hangs++ })
		s.hang(ctx)
		return nil, abort()
	case kindReset, kindDrop:
		record = func(st *Stats) { st.Resets++; st.Codes[codes.Unavailable]++ }
		return nil, status.Error(codes.Unavailable, "fault: reset")
	case kindSlow:
		if !s.sleep(ctx, time.Duration(a.n)*a.every) {
			return nil, abort()
		}
		record = countCode(codes.OK)
		return serving, nil
	}
	return serving, nil
}

// Watch streams as the fault in force says.
func (h health) Watch(_ *healthpb.HealthCheckRequest, stream grpc.ServerStreamingServer[healthpb.HealthCheckResponse]) error {
	s := h.s
	ctx := stream.Context()
	s.begin()
	var record func(*Stats)
	defer func() { s.end(record) }()
	abort := func() error {
		rec, err := s.aborted(ctx)
		record = rec
		return err
	}
	send := func(n int, every time.Duration) bool {
		for range n {
			if every > 0 && !s.sleep(ctx, every) {
				return false
			}
			if stream.Send(serving) != nil {
				return false
			}
		}
		return true
	}

	a := s.next()
	if !s.sleep(ctx, a.delay) {
		return abort()
	}
	switch a.kind {
	case kindAnswer:
		if a.code != codes.OK {
			record = countCode(a.code)
			return status.Error(a.code, "fault: "+a.code.String())
		}
		if !send(s.watchMessages, 0) {
			return abort()
		}
	case kindHang, kindHangMid:
		if a.kind == kindHangMid && !send(a.n, 0) {
			return abort()
		}
		s.update(func(st *Stats) { st.Hangs++ })
		s.hang(ctx)
		return abort()
	case kindReset, kindDrop:
		if a.kind == kindReset && !send(a.n, 0) {
			return abort()
		}
		record = func(st *Stats) { st.Resets++; st.Codes[codes.Unavailable]++ }
		return status.Error(codes.Unavailable, "fault: reset")
	case kindSlow:
		if !send(a.n, a.every) {
			return abort()
		}
	}
	record = countCode(codes.OK)
	return nil
}

func countCode(c codes.Code) func(*Stats) { return func(st *Stats) { st.Codes[c]++ } }

// aborted is how a call ends that the client gave up on or the server's
// Close cut short.
func (s *GRPCServer) aborted(ctx context.Context) (func(*Stats), error) {
	record := func(st *Stats) { st.Aborted++ }
	if err := ctx.Err(); err != nil {
		return record, status.FromContextError(err).Err()
	}
	return record, status.Error(codes.Unavailable, "fault: server closed")
}
