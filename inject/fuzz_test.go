package inject_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/go-resilience/resilience/inject"
)

// FuzzNew checks New against a plain statement of which configurations
// are valid: it never panics, accepts exactly those, names the offending
// field in its error, and an accepted Injector's faults stay within the
// configured latency.
func FuzzNew(f *testing.F) {
	f.Add(0.5, int64(time.Millisecond), int64(0), false, uint64(0))
	f.Add(0.0, int64(0), int64(0), true, uint64(1))
	f.Add(1.0, int64(time.Second), int64(2*time.Second), false, uint64(7))
	f.Add(math.Copysign(0, -1), int64(-1), int64(0), false, uint64(0))
	f.Add(math.NaN(), int64(0), int64(0), false, uint64(0))
	f.Add(math.Inf(-1), int64(0), int64(0), false, uint64(0))
	f.Add(1.0000001, int64(0), int64(0), false, uint64(0))
	f.Add(0.3, int64(5), int64(4), false, uint64(0))
	f.Add(0.3, int64(0), int64(math.MaxInt64), false, uint64(3))
	f.Add(0.3, int64(math.MinInt64), int64(math.MinInt64), false, uint64(0))
	f.Fuzz(func(t *testing.T, share float64, delay, delayMax int64, markedOnly bool, seed uint64) {
		cfg := inject.Config{Share: share, Delay: time.Duration(delay), DelayMax: time.Duration(delayMax),
			MarkedOnly: markedOnly, Seed: seed, Err: inject.ErrInjected}
		in, err := inject.New(cfg)

		var field string
		switch {
		case !(share >= 0 && share <= 1):
			field = "Config.Share"
		case delay < 0:
			field = "Config.Delay"
		case delayMax != 0 && delayMax < delay:
			field = "Config.DelayMax"
		}
		if field != "" {
			if err == nil || in != nil {
				t.Fatalf("New(%+v) accepted a bad config", cfg)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "inject: "+field+" must be") {
				t.Fatalf("New(%+v): error %q does not name %s", cfg, msg, field)
			}
			return
		}
		if err != nil {
			t.Fatalf("New(%+v): %v", cfg, err)
		}
		in.Enable()
		hi := max(time.Duration(delay), time.Duration(delayMax))
		for range 20 {
			fl, ok := in.Decide("", true)
			if !ok {
				if share == 1 {
					t.Fatalf("share 1 missed")
				}
				continue
			}
			if share == 0 {
				t.Fatalf("share 0 hit")
			}
			if fl.Delay < time.Duration(delay) || fl.Delay > hi {
				t.Fatalf("delay %v outside [%v, %v]", fl.Delay, time.Duration(delay), hi)
			}
			if fl.Err != inject.ErrInjected {
				t.Fatalf("err %v", fl.Err)
			}
		}
		if !markedOnly {
			return
		}
		if _, ok := in.Decide("", false); ok {
			t.Fatalf("MarkedOnly faulted an unmarked call")
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := in.Execute(ctx, func(context.Context) error { return nil }); err != nil && err != context.Canceled {
			t.Fatalf("unmarked Execute: %v", err)
		}
	})
}
