package ratelimit_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/go-resilience/resilience/ratelimit"
)

// FuzzNew checks New against a plain statement of which configurations are
// valid: it never panics, accepts exactly those, and names the offending
// field in its error.
func FuzzNew(f *testing.F) {
	f.Add(1.0, 0, int64(0))
	f.Add(0.0, 1, int64(0))
	f.Add(-1.0, 1, int64(0))
	f.Add(math.NaN(), 1, int64(0))
	f.Add(math.Inf(1), 1, int64(0))
	f.Add(1e-300, 0, int64(0))
	f.Add(100.0, -1, int64(0))
	f.Add(100.0, 10, int64(-1))
	f.Add(1e308, math.MaxInt, int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, r float64, burst int, maxWait int64) {
		cfg := ratelimit.Config{Name: "f", Rate: r, Burst: burst, MaxWait: time.Duration(maxWait)}
		l, err := ratelimit.New(cfg)

		var field string
		switch {
		case math.IsNaN(r) || r <= 0 || math.IsInf(r, 0):
			field = "Config.Rate"
		case burst < 0:
			field = "Config.Burst"
		case maxWait < 0:
			field = "Config.MaxWait"
		}
		if field != "" {
			if err == nil || l != nil {
				t.Fatalf("New(%+v) = %v, %v; want an error", cfg, l, err)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "ratelimit: "+field+" must be") {
				t.Fatalf("New(%+v): error %q does not name %s", cfg, msg, field)
			}
			return
		}
		if err != nil {
			t.Fatalf("New(%+v): %v", cfg, err)
		}
		if burst == 0 {
			burst = 1
		}
		if l.Burst() != burst || l.Rate() != r {
			t.Fatalf("Burst, Rate = %d, %v; want %d, %v", l.Burst(), l.Rate(), burst, r)
		}
		// A new limiter holds its burst: the first call goes through.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := l.Take(ctx); err != nil {
			t.Fatalf("first Take: %v", err)
		}
	})
}
