//go:build !race

package grpcx_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/go-resilience/resilience/grpcx"
	"github.com/go-resilience/resilience/inject"
)

// A disabled injector adds no allocation to a call, on either side. (The
// race detector allocates on its own, so this runs without it.)
func TestInjectOffAddsNoAllocation(t *testing.T) {
	faults := newInjector(t, inject.Config{Share: 1, MarkedOnly: true, Err: inject.ErrInjected})
	ii := newInjectInterceptors(t, grpcx.InjectConfig{Injector: faults, Metadata: faultKey})
	ctx := metadata.AppendToOutgoingContext(context.Background(), faultKey, "1")
	invoker := func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error { return nil }
	handler := func(context.Context, any) (any, error) { return nil, nil }
	info := &grpc.UnaryServerInfo{FullMethod: checkMethod}
	client, server := ii.UnaryClientInterceptor(), ii.UnaryServerInterceptor()
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _ = client(ctx, checkMethod, nil, nil, nil, invoker) }))
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _, _ = server(ctx, nil, info, handler) }))
}
