package grpcx_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/grpcx"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// benchConfigs are the clients compared in one run: gRPC alone, gRPC with
// a deadline of the caller's own on every call (what the timeout policy
// replaces), and gRPC with the interceptors (breaker only, and the whole
// chain).
var benchConfigs = []struct {
	name     string
	cfg      *grpcx.Config // nil: no interceptors
	deadline bool          // the caller sets a deadline on each call
}{
	{name: "plain"},
	{name: "plain+deadline", deadline: true},
	{name: "breaker", cfg: &grpcx.Config{}},
	{name: "breaker+bulkhead+timeout", cfg: &grpcx.Config{
		Bulkhead: bulkhead.Config{MaxConcurrent: 1024},
		Timeout:  10 * time.Second,
	}},
}

// check makes one Check, with a deadline of its own when deadline is set.
func check(ctx context.Context, client healthpb.HealthClient, req *healthpb.HealthCheckRequest, deadline bool) error {
	if deadline {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	_, err := client.Check(ctx, req)
	return err
}

func benchClient(b *testing.B, cfg *grpcx.Config) (healthpb.HealthClient, *grpcx.Interceptors) {
	h := newHarness(b)
	if cfg == nil {
		return h.client(b), nil
	}
	ic := mustNew(b, *cfg)
	return h.client(b, ic.DialOptions()...), ic
}

// BenchmarkUnaryCheck is a unary Check over bufconn, with and without the
// interceptors.
func BenchmarkUnaryCheck(b *testing.B) {
	for _, bc := range benchConfigs {
		b.Run(bc.name+"/serial", func(b *testing.B) {
			client, _ := benchClient(b, bc.cfg)
			ctx, req := context.Background(), &healthpb.HealthCheckRequest{}
			b.ReportAllocs()
			for b.Loop() {
				if err := check(ctx, client, req, bc.deadline); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+"/parallel", func(b *testing.B) {
			client, _ := benchClient(b, bc.cfg)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				ctx, req := context.Background(), &healthpb.HealthCheckRequest{}
				for pb.Next() {
					if err := check(ctx, client, req, bc.deadline); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkUnaryRefused is a Check refused by an open breaker: the whole
// cost of a refusal seen from the caller, gRPC's client side included.
func BenchmarkUnaryRefused(b *testing.B) {
	run := func(b *testing.B, body func(client healthpb.HealthClient)) {
		client, ic := benchClient(b, benchConfigs[3].cfg)
		ic.Breakers().Get(checkMethod).ForceOpen()
		b.ReportAllocs()
		body(client)
	}
	b.Run("serial", func(b *testing.B) {
		run(b, func(client healthpb.HealthClient) {
			ctx, req := context.Background(), &healthpb.HealthCheckRequest{}
			for b.Loop() {
				if _, err := client.Check(ctx, req); !errors.Is(err, resilience.ErrRejected) {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("parallel", func(b *testing.B) {
		run(b, func(client healthpb.HealthClient) {
			b.RunParallel(func(pb *testing.PB) {
				ctx, req := context.Background(), &healthpb.HealthCheckRequest{}
				for pb.Next() {
					if _, err := client.Check(ctx, req); !errors.Is(err, resilience.ErrRejected) {
						b.Error(err)
						return
					}
				}
			})
		})
	})
}

// BenchmarkWatch opens a Watch stream and reads it to its end (one message,
// then OK), with and without the interceptors.
func BenchmarkWatch(b *testing.B) {
	for _, bc := range benchConfigs {
		if bc.deadline {
			continue
		}
		b.Run(bc.name, func(b *testing.B) {
			client, _ := benchClient(b, bc.cfg)
			ctx, req := context.Background(), &healthpb.HealthCheckRequest{}
			b.ReportAllocs()
			for b.Loop() {
				stream, err := client.Watch(ctx, req)
				if err != nil {
					b.Fatal(err)
				}
				if err := drain(stream); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The interceptors' own cost, without gRPC: an invoker that returns at once.
func BenchmarkInterceptorOverhead(b *testing.B) {
	invoker := func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error { return nil }
	for _, bc := range benchConfigs[2:] {
		b.Run(bc.name, func(b *testing.B) {
			unary := mustNew(b, *bc.cfg).UnaryClientInterceptor()
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := unary(ctx, checkMethod, nil, nil, nil, invoker); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("refused", func(b *testing.B) {
		ic := mustNew(b, grpcx.Config{Breaker: breaker.KeyedConfig{}})
		ic.Breakers().Get(checkMethod).ForceOpen()
		unary := ic.UnaryClientInterceptor()
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if err := unary(ctx, checkMethod, nil, nil, nil, invoker); err == nil {
				b.Fatal("not refused")
			}
		}
	})
}
