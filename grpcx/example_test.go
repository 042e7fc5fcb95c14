package grpcx_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/grpcx"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
)

// downServer is a health server that is down for maintenance.
type downServer struct {
	healthpb.UnimplementedHealthServer
}

func (downServer) Check(context.Context, *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	return nil, status.Error(codes.Unavailable, "down for maintenance")
}

// serveDown starts downServer on an in-memory listener and returns the
// options to dial it, and a function that stops it.
func serveDown() ([]grpc.DialOption, func()) {
	lis := bufconn.Listen(1 << 16)
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, downServer{})
	go func() { _ = srv.Serve(lis) }()
	return []grpc.DialOption{
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	}, srv.Stop
}

// After two failures the breaker of the Check method opens, and the third
// call is refused without reaching the server: still a gRPC error with code
// Unavailable, and one that errors.Is tells from the server's own.
func Example() {
	dial, stop := serveDown()
	defer stop()

	ic, err := grpcx.New(grpcx.Config{
		Name:    "health",
		Breaker: breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 2, OpenTimeout: time.Minute}},
		Timeout: time.Second,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	conn, err := grpc.NewClient("passthrough:///health", append(dial, ic.DialOptions()...)...)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)

	for i := 1; i <= 3; i++ {
		_, err := client.Check(context.Background(), &healthpb.HealthCheckRequest{})
		fmt.Printf("call %d: %v, refused here: %v\n", i, status.Code(err), errors.Is(err, resilience.ErrRejected))
	}
	fmt.Println("breaker:", ic.Breakers().Get(ic.Key(healthpb.Health_Check_FullMethodName)).State())
	// Output:
	// call 1: Unavailable, refused here: false
	// call 2: Unavailable, refused here: false
	// call 3: Unavailable, refused here: true
	// breaker: open
}

// A unary fallback answers in place of the server by filling the reply:
// here, calls refused by the open breaker get a cached NOT_SERVING, and the
// server's own failures reach the caller.
func ExampleConfig_unaryFallback() {
	dial, stop := serveDown()
	defer stop()

	ic, err := grpcx.New(grpcx.Config{
		Breaker: breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 1, OpenTimeout: time.Minute}},
		UnaryFallback: func(_ context.Context, method string, _, reply any, err error) error {
			resp, ok := reply.(*healthpb.HealthCheckResponse)
			if !ok || !errors.Is(err, resilience.ErrRejected) {
				return err // decline
			}
			resp.Status = healthpb.HealthCheckResponse_NOT_SERVING
			return nil
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	conn, err := grpc.NewClient("passthrough:///health", append(dial, ic.DialOptions()...)...)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)

	for i := 1; i <= 2; i++ {
		resp, err := client.Check(context.Background(), &healthpb.HealthCheckRequest{})
		fmt.Printf("call %d: %v, %v\n", i, status.Code(err), resp.GetStatus())
	}
	// Output:
	// call 1: Unavailable, UNKNOWN
	// call 2: OK, NOT_SERVING
}
