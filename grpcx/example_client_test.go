package grpcx_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/grpcx"
	"github.com/go-resilience/resilience/health"
	"github.com/go-resilience/resilience/metrics"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// maintenance is a gRPC health service that is down.
type maintenance struct {
	healthpb.UnimplementedHealthServer
}

func (maintenance) Check(context.Context, *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	return nil, status.Error(codes.Unavailable, "down for maintenance")
}

// The first program of a service that calls a gRPC API: a connection whose
// interceptors give each method a breaker, share a bulkhead, bound each
// call, answer refused calls from a fallback, and are watched by health
// and metrics as they are.
func Example_client() {
	// The server, on loopback.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, maintenance{})
	go srv.Serve(lis)
	defer srv.Stop()

	m, err := metrics.New(metrics.Config{})
	if err != nil {
		panic(err)
	}
	ic, err := grpcx.New(grpcx.Config{
		Name:     "health",
		Breaker:  breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 2, OpenTimeout: time.Minute}},
		Bulkhead: bulkhead.Config{MaxConcurrent: 64},
		Timeout:  time.Second,
		// Refused calls answer NOT_SERVING; the server's errors reach the
		// caller.
		UnaryFallback: func(_ context.Context, _ string, _, reply any, err error) error {
			resp, ok := reply.(*healthpb.HealthCheckResponse)
			if !ok || !errors.Is(err, resilience.ErrRejected) {
				return err // decline
			}
			resp.Status = healthpb.HealthCheckResponse_NOT_SERVING
			return nil
		},
		Observer: m,
	})
	if err != nil {
		panic(err)
	}
	m.WatchSource(ic)
	checker, err := health.New(health.Config{Sources: []health.Source{ic}, Covered: []string{"health"}})
	if err != nil {
		panic(err)
	}

	opts := append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, ic.DialOptions()...)
	conn, err := grpc.NewClient(lis.Addr().String(), opts...)
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)

	for i := 1; i <= 3; i++ {
		resp, err := client.Check(context.Background(), &healthpb.HealthCheckRequest{})
		fmt.Printf("call %d: %v %v\n", i, status.Code(err), resp.GetStatus())
	}
	fmt.Println("health:", checker.Report().Status)
	// Output:
	// call 1: Unavailable UNKNOWN
	// call 2: Unavailable UNKNOWN
	// call 3: OK NOT_SERVING
	// health: degraded
}
