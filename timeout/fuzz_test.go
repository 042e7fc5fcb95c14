package timeout_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/go-resilience/resilience/timeout"
)

// FuzzNew checks New against a plain statement of which configurations are
// valid: it never panics, accepts exactly those, and names the offending
// field in its error.
func FuzzNew(f *testing.F) {
	f.Add(int64(time.Second), false, 0)
	f.Add(int64(0), false, 0)
	f.Add(int64(-1), true, 5)
	f.Add(int64(1), true, -1)
	f.Add(int64(time.Second), false, 3)
	f.Add(int64(time.Second), true, 0)
	f.Add(int64(math.MaxInt64), true, math.MaxInt)
	f.Add(int64(math.MinInt64), false, math.MinInt)
	f.Fuzz(func(t *testing.T, d int64, abandon bool, maxAbandoned int) {
		cfg := timeout.Config{Name: "f", Timeout: time.Duration(d), Abandon: abandon, MaxAbandoned: maxAbandoned}
		p, err := timeout.New(cfg)

		var field string // the field New must complain about, "" if none
		switch {
		case d <= 0:
			field = "Config.Timeout"
		case abandon && maxAbandoned <= 0, !abandon && maxAbandoned != 0:
			field = "Config.MaxAbandoned"
		}
		if field != "" {
			if err == nil {
				t.Fatalf("New(%+v) accepted a bad config", cfg)
			}
			if p != nil {
				t.Fatalf("New(%+v) returned a policy with an error", cfg)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "timeout: "+field+" must be") {
				t.Fatalf("New(%+v): error %q does not name %s", cfg, msg, field)
			}
			return
		}
		if err != nil {
			t.Fatalf("New(%+v): %v", cfg, err)
		}
		if p.Timeout() != time.Duration(d) {
			t.Fatalf("Timeout() = %v, want %v", p.Timeout(), time.Duration(d))
		}
		// A call that returns at once passes through, or, when the
		// duration is shorter than the call took, times out.
		if err := p.Execute(context.Background(), func(context.Context) error { return nil }); err != nil && !errors.Is(err, timeout.ErrTimeout) {
			t.Fatalf("Execute: %v", err)
		}
	})
}
