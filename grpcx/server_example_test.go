package grpcx_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/grpcx"
	"github.com/go-resilience/resilience/ratelimit"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	grpchealth "google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
)

// A server limited to one call every 10 seconds per method refuses the
// second List at once with ResourceExhausted and tells the client when to
// come back; Check, the probe of load balancers, is exempt and always
// answered.
func ExampleNewServer() {
	limits, err := ratelimit.NewSet(ratelimit.SetConfig{Config: ratelimit.Config{Rate: 0.1, Burst: 1}})
	if err != nil {
		fmt.Println(err)
		return
	}
	shed, err := grpcx.NewServer(grpcx.ServerConfig{
		Name:      "api",
		PolicyFor: func(method string) resilience.Policy { return limits.Get(method) },
		Exempt:    []string{healthpb.Health_Check_FullMethodName},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	lis := bufconn.Listen(1 << 16)
	srv := grpc.NewServer(shed.ServerOptions()...)
	healthpb.RegisterHealthServer(srv, grpchealth.NewServer())
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	conn, err := grpc.NewClient("passthrough:///api",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)

	for range 2 {
		var trailer metadata.MD
		_, err := client.List(context.Background(), &healthpb.HealthListRequest{}, grpc.Trailer(&trailer))
		pushback := "none"
		if v := trailer.Get(grpcx.PushbackTrailer); len(v) == 1 {
			ms, _ := strconv.Atoi(v[0])
			pushback = (time.Duration(ms) * time.Millisecond).Round(time.Second).String()
		}
		fmt.Printf("List: %v, pushback %s\n", status.Code(err), pushback)
	}
	_, err = client.Check(context.Background(), &healthpb.HealthCheckRequest{})
	fmt.Printf("Check: %v\n", status.Code(err))
	// Output:
	// List: OK, pushback none
	// List: ResourceExhausted, pushback 10s
	// Check: OK
}
