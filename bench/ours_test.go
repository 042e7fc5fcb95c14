package bench

import (
	"context"
	"testing"

	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/timeout"
)

// The resilience rows of every scenario, named lib=resilience.

func ourBulkheadLibs(b *testing.B) []lib {
	bh, err := bulkhead.New(bulkhead.Config{Name: "bench", MaxConcurrent: maxConcurrent})
	if err != nil {
		b.Fatal(err)
	}
	return []lib{{name: "resilience", op: func(ctx context.Context) error { return bh.Execute(ctx, work) }}}
}

func ourTimeoutLibs(b *testing.B) []lib {
	t, err := timeout.New(timeout.Config{Name: "bench", Timeout: policyTimeout})
	if err != nil {
		b.Fatal(err)
	}
	return []lib{{name: "resilience", op: func(ctx context.Context) error { return t.Execute(ctx, work) }}}
}

func ourBreakerLibs(b *testing.B, open bool) []lib                         { return nil }
func ourChainLibs(b *testing.B, ctx context.Context, mode chainMode) []lib { return nil }
func ourHTTPLibs(b *testing.B, url string) []lib                           { return nil }
