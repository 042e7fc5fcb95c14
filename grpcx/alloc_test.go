//go:build !race

package grpcx_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/grpcx"
)

// The interceptor's calls are pooled, and under the race detector
// sync.Pool drops a quarter of what it is given, so these run without it
// (.ci/run runs the allocation tests again without -race).
func TestUnaryInterceptorAllocations(t *testing.T) {
	ctx := context.Background()
	t.Run("success through the breaker allocates nothing", func(t *testing.T) {
		unary := mustNew(t, grpcx.Config{}).UnaryClientInterceptor()
		assert.Zero(t, testing.AllocsPerRun(200, func() { _ = unary(ctx, checkMethod, nil, nil, nil, okInvoker) }))
	})
	t.Run("success through breaker and bulkhead allocates nothing", func(t *testing.T) {
		unary := mustNew(t, grpcx.Config{Bulkhead: bulkhead.Config{MaxConcurrent: 4}}).UnaryClientInterceptor()
		assert.Zero(t, testing.AllocsPerRun(200, func() { _ = unary(ctx, checkMethod, nil, nil, nil, okInvoker) }))
	})
	t.Run("a refusal allocates its error only", func(t *testing.T) {
		ic := mustNew(t, grpcx.Config{})
		ic.Breakers().Get(checkMethod).ForceOpen()
		unary := ic.UnaryClientInterceptor()
		assert.Equal(t, 1.0, testing.AllocsPerRun(200, func() { _ = unary(ctx, checkMethod, nil, nil, nil, okInvoker) }))
	})
}
