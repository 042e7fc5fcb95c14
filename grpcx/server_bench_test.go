package grpcx_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/grpcx"
)

// BenchmarkServerUnary: the unary server interceptor in process, admitting
// (next to calling the handler directly) and refusing.
func BenchmarkServerUnary(b *testing.B) {
	info := &grpc.UnaryServerInfo{FullMethod: "/pkg.Service/Method"}
	handler := func(context.Context, any) (any, error) { return nil, nil }
	newShed := func(b *testing.B, slots int) grpc.UnaryServerInterceptor {
		bh, err := bulkhead.New(bulkhead.Config{MaxConcurrent: slots})
		if err != nil {
			b.Fatal(err)
		}
		s, err := grpcx.NewServer(grpcx.ServerConfig{Policy: bh, RetryAfter: time.Second})
		if err != nil {
			b.Fatal(err)
		}
		if slots == 1 {
			if err := bh.Acquire(context.Background()); err != nil { // every slot taken
				b.Fatal(err)
			}
			b.Cleanup(bh.Release)
		}
		return s.UnaryServerInterceptor()
	}
	ctx := context.Background()
	b.Run("bare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = handler(ctx, nil)
		}
	})
	b.Run("admitted", func(b *testing.B) {
		ic := newShed(b, 1<<20)
		b.ReportAllocs()
		for b.Loop() {
			_, _ = ic(ctx, nil, info, handler)
		}
	})
	b.Run("admitted/parallel", func(b *testing.B) {
		ic := newShed(b, 1<<20)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, _ = ic(ctx, nil, info, handler)
			}
		})
	})
	b.Run("refused", func(b *testing.B) {
		ic := newShed(b, 1)
		ctx := grpc.NewContextWithServerTransportStream(ctx, trailerStream{})
		b.ReportAllocs()
		for b.Loop() {
			_, _ = ic(ctx, nil, info, handler)
		}
	})
}

// trailerStream is the transport stream a real server puts in a call's
// context, keeping nothing, so that setting the trailer costs what it
// costs a real server.
type trailerStream struct{}

func (trailerStream) Method() string               { return "/pkg.Service/Method" }
func (trailerStream) SetHeader(metadata.MD) error  { return nil }
func (trailerStream) SendHeader(metadata.MD) error { return nil }
func (trailerStream) SetTrailer(metadata.MD) error { return nil }
