// Server protects an HTTP server and a gRPC server from more load than
// they can serve: each runs its requests under a bulkhead of 4 slots and a
// rate limit, refuses the rest at once (HTTP 503 or 429 with Retry-After;
// gRPC Unavailable or ResourceExhausted with grpc-retry-pushback-ms),
// never refuses its health endpoints, and says in its readiness report
// when it is shedding. It starts both on loopback, offers them a burst of
// 3× what they can serve, and prints what the clients saw:
//
//	go run ./examples/server
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	grpchealth "google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/grpcx"
	"github.com/go-resilience/resilience/health"
	"github.com/go-resilience/resilience/httpx"
	"github.com/go-resilience/resilience/metrics"
	"github.com/go-resilience/resilience/ratelimit"
)

// work is what one request costs the server: 20ms, 4 at a time.
const (
	slots = 4
	work  = 20 * time.Millisecond
)

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	collector, err := metrics.New(metrics.Config{})
	if err != nil {
		return err
	}
	api, err := newHTTPServer(collector)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: api, ReadHeaderTimeout: time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	base := "http://" + ln.Addr().String()

	fmt.Println("HTTP: 60 requests at once to a server that serves 4 at a time")
	answers := burst(60, func() string {
		resp, err := http.Get(base + "/work")
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			return fmt.Sprintf("%d (Retry-After: %s)", resp.StatusCode, ra)
		}
		return fmt.Sprint(resp.StatusCode)
	})
	printCounts(answers)
	resp, err := http.Get(base + "/ready")
	if err != nil {
		return err
	}
	var rep health.Report
	err = json.NewDecoder(resp.Body).Decode(&rep)
	resp.Body.Close()
	if err != nil {
		return err
	}
	fmt.Printf("  /ready right after: %d, status %v, shedding: %d server(s)\n", resp.StatusCode, rep.Status, len(rep.Shedding))

	return runGRPC()
}

// newHTTPServer is the HTTP side: /work under a rate limit and a bulkhead,
// /ready (the health report) and /metrics exempt.
func newHTTPServer(obs resilience.Observer) (http.Handler, error) {
	limit, err := ratelimit.New(ratelimit.Config{Name: "api", Rate: 1000, Burst: 100})
	if err != nil {
		return nil, err
	}
	bh, err := bulkhead.New(bulkhead.Config{Name: "api", MaxConcurrent: slots})
	if err != nil {
		return nil, err
	}
	shed, err := httpx.NewServer(httpx.ServerConfig{
		Name:   "api",
		Policy: resilience.Chain(limit, bh),
		// Never shed the probes.
		Exempt: []string{"/ready", "/metrics"},
		// A client may say how long it will wait; one with less than 5ms
		// left is refused before any work.
		TimeoutHeader: "X-Request-Timeout-Ms",
		MinDeadline:   5 * time.Millisecond,
		// A refused request may come back in a second.
		RetryAfter: time.Second,
		Observer:   obs,
	})
	if err != nil {
		return nil, err
	}
	ready, err := health.New(health.Config{Bulkheads: []*bulkhead.Bulkhead{bh}, Shedders: []health.Shedder{shed}})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(work):
			_, _ = io.WriteString(w, "done\n")
		case <-r.Context().Done(): // the client left: stop, and give the slot back
		}
	})
	mux.Handle("/ready", ready)
	return shed.Middleware(mux), nil
}

// runGRPC is the gRPC side: the same limits as interceptors.
func runGRPC() error {
	bh, err := bulkhead.New(bulkhead.Config{Name: "grpc", MaxConcurrent: slots})
	if err != nil {
		return err
	}
	shed, err := grpcx.NewServer(grpcx.ServerConfig{
		Name:       "grpc",
		Policy:     bh,
		RetryAfter: 250 * time.Millisecond,
		// The health service is exempt by default; List stands for work.
		Exempt: []string{healthpb.Health_Check_FullMethodName},
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := grpc.NewServer(append(shed.ServerOptions(), grpc.ChainUnaryInterceptor(slow))...)
	healthpb.RegisterHealthServer(srv, grpchealth.NewServer())
	go func() { _ = srv.Serve(ln) }()
	defer srv.Stop()

	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	ctx := context.Background()
	if _, err := client.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil { // connect first
		return err
	}

	fmt.Println("gRPC: 60 calls at once to a server that serves 4 at a time")
	var checked sync.Once
	printCounts(burst(60, func() string {
		var trailer metadata.MD
		_, err := client.List(ctx, &healthpb.HealthListRequest{}, grpc.Trailer(&trailer))
		if p := trailer.Get(grpcx.PushbackTrailer); len(p) > 0 {
			return fmt.Sprintf("%v (%s: %s)", status.Code(err), grpcx.PushbackTrailer, p[0])
		}
		if status.Code(err) != codes.OK {
			return status.Code(err).String()
		}
		// Once a call has been served, check health amid the burst.
		checked.Do(func() {
			_, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
			fmt.Printf("  health Check amid the burst: %v\n", status.Code(err))
		})
		return "OK"
	}))
	return nil
}

// slow makes every List take work, as real handlers do.
func slow(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if info.FullMethod == healthpb.Health_List_FullMethodName {
		select {
		case <-time.After(work):
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}
	return handler(ctx, req)
}

// burst runs n calls of f at once and returns what each answered.
func burst(n int, f func() string) []string {
	out := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { out[i] = f() })
	}
	wg.Wait()
	return out
}

func printCounts(answers []string) {
	counts := map[string]int{}
	var order []string
	for _, a := range answers {
		if counts[a] == 0 {
			order = append(order, a)
		}
		counts[a]++
	}
	for _, a := range order {
		fmt.Printf("  %2d × %s\n", counts[a], a)
	}
}
