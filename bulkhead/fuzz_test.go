package bulkhead_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/go-resilience/resilience/bulkhead"
)

// FuzzNew checks New against a plain statement of which configurations are
// valid: it never panics, accepts exactly those, and names the offending
// field in its error.
func FuzzNew(f *testing.F) {
	f.Add(1, int64(0))
	f.Add(0, int64(0))
	f.Add(-1, int64(time.Second))
	f.Add(10, int64(-1))
	f.Add(math.MaxInt32, int64(math.MaxInt64))
	f.Add(math.MaxInt32+1, int64(0))
	f.Add(math.MinInt, int64(math.MinInt64))
	f.Fuzz(func(t *testing.T, maxConcurrent int, maxWait int64) {
		cfg := bulkhead.Config{Name: "f", MaxConcurrent: maxConcurrent, MaxWait: time.Duration(maxWait)}
		b, err := bulkhead.New(cfg)

		var field string // the field a valid New must complain about, "" if none
		switch {
		case maxConcurrent <= 0 || maxConcurrent > math.MaxInt32:
			field = "Config.MaxConcurrent"
		case maxWait < 0:
			field = "Config.MaxWait"
		}
		if field != "" {
			if err == nil {
				t.Fatalf("New(%+v) accepted a bad config", cfg)
			}
			if b != nil {
				t.Fatalf("New(%+v) returned a bulkhead with an error", cfg)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "bulkhead: "+field+" must be") {
				t.Fatalf("New(%+v): error %q does not name %s", cfg, msg, field)
			}
			return
		}
		if err != nil {
			t.Fatalf("New(%+v): %v", cfg, err)
		}
		if b.MaxConcurrent() != maxConcurrent {
			t.Fatalf("MaxConcurrent() = %d, want %d", b.MaxConcurrent(), maxConcurrent)
		}
		if err := b.Acquire(context.Background()); err != nil {
			t.Fatalf("Acquire on an empty bulkhead: %v", err)
		}
		b.Release()
		if b.InFlight() != 0 {
			t.Fatalf("InFlight() = %d after Release", b.InFlight())
		}
	})
}
