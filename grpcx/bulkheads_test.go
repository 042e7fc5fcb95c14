package grpcx_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"google.golang.org/grpc"

	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/grpcx"
)

func TestBulkheadsYieldsEachOnceAndStopsWhenAsked(t *testing.T) {
	ic := mustNew(t, grpcx.Config{Bulkhead: bulkhead.Config{MaxConcurrent: 2}, BulkheadPerKey: true})
	ok := func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error { return nil }
	for _, m := range []string{"/s/A", "/s/B", "/s/C"} {
		assert.NoError(t, ic.UnaryClientInterceptor()(context.Background(), m, nil, nil, nil, ok))
	}
	keys := map[string]int{}
	for key := range ic.Bulkheads() {
		keys[key]++
	}
	assert.Equal(t, map[string]int{"/s/A": 1, "/s/B": 1, "/s/C": 1, "": 1}, keys, "per-key ones, then the overflow one")

	n := 0
	for range ic.Bulkheads() {
		n++
		break // yield returns false: no further call
	}
	assert.Equal(t, 1, n)

	none := mustNew(t, grpcx.Config{})
	for key := range none.Bulkheads() {
		t.Errorf("no bulkhead configured, yet %q yielded", key)
	}
}
