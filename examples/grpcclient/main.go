// Grpcclient calls a gRPC service through a connection guarded by grpcx: a
// breaker per method, a bulkhead, a deadline that reaches the server, and a
// fallback that fills the reply when a call is refused. It starts the
// standard gRPC health service on loopback, made to fail for a while, so
// it runs as it is:
//
//	go run ./examples/grpcclient
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"sync/atomic"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/grpcx"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	grpchealth "google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

func main() {
	addr, stop, err := startServer()
	if err != nil {
		log.Fatal(err)
	}
	defer stop()
	if err := run(context.Background(), addr); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, addr string) error {
	ic, err := grpcx.New(grpcx.Config{
		// A breaker per method: after 3 failing calls in a row
		// (Unavailable, DeadlineExceeded, Internal, ...), refuse that
		// method's calls at once for 500ms, then let one probe through.
		Breaker: breaker.KeyedConfig{Config: breaker.Config{
			ConsecutiveFailures: 3,
			OpenTimeout:         500 * time.Millisecond,
		}},
		// At most 100 calls and open streams at once.
		Bulkhead: bulkhead.Config{MaxConcurrent: 100},
		// Each unary call gets at most 1s; the server sees the deadline.
		Timeout: time.Second,
		// A refused health check answers UNKNOWN instead of failing.
		UnaryFallback: func(ctx context.Context, method string, req, reply any, err error) error {
			r, ok := reply.(*healthpb.HealthCheckResponse)
			if !ok || !errors.Is(err, resilience.ErrRejected) {
				return err // decline: the caller gets the error
			}
			r.Status = healthpb.HealthCheckResponse_UNKNOWN
			return nil
		},
	})
	if err != nil {
		return err
	}
	opts := append(ic.DialOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		return err
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)

	// The breaker that guards Check, to print its state.
	checks := ic.Breakers().Get(ic.Key(healthpb.Health_Check_FullMethodName))
	for i := 1; i <= 10; i++ {
		resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: "inventory"})
		if err != nil {
			// A failure is a status error, as gRPC always returns.
			fmt.Printf("check %2d: code %v: %v (breaker %v)\n", i, status.Code(err), status.Convert(err).Message(), checks.State())
		} else {
			fmt.Printf("check %2d: %v (breaker %v)\n", i, resp.GetStatus(), checks.State())
		}
		time.Sleep(100 * time.Millisecond)
	}

	// A refusal is a gRPC status error too (code Unavailable), and it still
	// matches the library's errors: force the breaker open to see one.
	method := healthpb.Health_Watch_FullMethodName
	ic.Breakers().Get(ic.Key(method)).ForceOpen()
	_, err = client.Watch(ctx, &healthpb.HealthCheckRequest{Service: "inventory"})
	fmt.Printf("watch with its breaker forced open: code %v; matches breaker.ErrOpen: %v, resilience.ErrRejected: %v\n",
		status.Code(err), errors.Is(err, breaker.ErrOpen), errors.Is(err, resilience.ErrRejected))
	return nil
}

// startServer serves the standard health service on a loopback port. Its
// Check fails with Unavailable from its 2nd to its 4th call, as a service
// does while it restarts.
func startServer() (addr string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	var calls atomic.Int64
	flaky := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if n := calls.Add(1); n >= 2 && n <= 4 {
			return nil, status.Error(codes.Unavailable, "restarting")
		}
		return handler(ctx, req)
	}
	srv := grpc.NewServer(grpc.UnaryInterceptor(flaky))
	hs := grpchealth.NewServer()
	hs.SetServingStatus("inventory", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	return ln.Addr().String(), func() {
		srv.Stop()
		<-done
	}, nil
}
