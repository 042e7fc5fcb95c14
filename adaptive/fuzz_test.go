package adaptive_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/go-resilience/resilience/adaptive"
)

// FuzzNew checks New against a plain statement of which configurations are
// valid: it never panics, accepts exactly those, names the offending field
// in its error, and a limiter it makes starts within its bounds.
func FuzzNew(f *testing.F) {
	f.Add(uint8(0), 0, 0, 0, int64(0), int64(0), 0.0, 0.0, 0, 0.0, 0)
	f.Add(uint8(1), 100, 1, 200, int64(1), int64(1), 0.5, 1.5, 4, 0.2, 600)
	f.Add(uint8(2), 0, 0, 0, int64(0), int64(0), 0.0, 0.0, 0, 0.0, 0)
	f.Add(uint8(0), 0, 10, 5, int64(0), int64(0), 0.0, 0.0, 0, 0.0, 0)  // min > max
	f.Add(uint8(0), 50, 1, 10, int64(0), int64(0), 0.0, 0.0, 0, 0.0, 0) // initial > max
	f.Add(uint8(0), 5, 10, 20, int64(0), int64(0), 0.0, 0.0, 0, 0.0, 0) // initial < min
	f.Add(uint8(0), 0, 0, 0, int64(0), int64(0), 0.0, 0.0, 0, math.NaN(), 0)
	f.Add(uint8(0), 0, 0, 0, int64(0), int64(0), 0.0, math.NaN(), 0, 0.0, 0)
	f.Add(uint8(1), 0, 0, 0, int64(0), int64(0), math.NaN(), 0.0, 0, 0.0, 0)
	f.Add(uint8(1), 0, 0, 0, int64(0), int64(0), 1.0, 0.0, 0, 0.0, 0)
	f.Add(uint8(0), 0, 0, 0, int64(-1), int64(-1), 0.0, 0.5, -1, 2.0, -1)
	f.Add(uint8(0), 0, -1, math.MaxInt32+1, int64(0), int64(0), 0.0, math.Inf(1), 0, 0.0, 0)
	f.Fuzz(func(t *testing.T, alg uint8, initial, minL, maxL int, maxWait, slow int64, backoff, tolerance float64, queue int, smoothing float64, long int) {
		cfg := adaptive.Config{
			Name: "f", Algorithm: adaptive.Algorithm(alg),
			InitialLimit: initial, MinLimit: minL, MaxLimit: maxL,
			MaxWait: time.Duration(maxWait), SlowCallThreshold: time.Duration(slow),
			Backoff: backoff, Tolerance: tolerance, QueueSize: queue, Smoothing: smoothing, LongWindow: long,
		}
		l, err := adaptive.New(cfg)

		effMin, effMax := minL, maxL
		if effMin == 0 {
			effMin = 1
		}
		if effMax == 0 {
			effMax = 1000
		}
		effInit := initial
		if effInit == 0 {
			effInit = min(max(20, effMin), effMax)
		}
		var field string
		switch {
		case alg > 1:
			field = "Algorithm"
		case effMax < 0 || effMax > math.MaxInt32:
			field = "MaxLimit"
		case effMin < 0 || effMin > effMax:
			field = "MinLimit"
		case effInit < effMin || effInit > effMax:
			field = "InitialLimit"
		case maxWait < 0:
			field = "MaxWait"
		case slow < 0:
			field = "SlowCallThreshold"
		case backoff != 0 && !(backoff > 0 && backoff < 1):
			field = "Backoff"
		case tolerance != 0 && !(tolerance >= 1 && !math.IsInf(tolerance, 1)):
			field = "Tolerance"
		case queue < 0:
			field = "QueueSize"
		case smoothing != 0 && !(smoothing > 0 && smoothing <= 1):
			field = "Smoothing"
		case long < 0:
			field = "LongWindow"
		}
		if field != "" {
			if err == nil || l != nil {
				t.Fatalf("New(%+v) = %v, %v; want an error naming %s", cfg, l, err, field)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "adaptive: Config."+field+" must be") {
				t.Fatalf("New(%+v): error %q does not name %s", cfg, msg, field)
			}
			return
		}
		if err != nil {
			t.Fatalf("New(%+v): %v", cfg, err)
		}
		if l.Limit() != effInit || l.MinLimit() != effMin || l.MaxLimit() != effMax {
			t.Fatalf("limit %d in [%d, %d]; want %d in [%d, %d]", l.Limit(), l.MinLimit(), l.MaxLimit(), effInit, effMin, effMax)
		}
		if err := l.Execute(context.Background(), nop); err != nil {
			t.Fatalf("first call: %v", err)
		}
		if lim := l.Limit(); lim < effMin || lim > effMax {
			t.Fatalf("limit %d left [%d, %d]", lim, effMin, effMax)
		}
	})
}

// FuzzNewThrottler is FuzzNew for NewThrottler.
func FuzzNewThrottler(f *testing.F) {
	f.Add(0.0, int64(0), 0.0, 0)
	f.Add(2.0, int64(time.Minute), 0.8, 20)
	f.Add(-1.0, int64(0), 0.0, 0)
	f.Add(math.NaN(), int64(0), 0.0, 0)
	f.Add(math.Inf(1), int64(0), 0.0, 0)
	f.Add(0.0, int64(9), 0.0, 0)
	f.Add(0.0, int64(-1), 0.0, 0)
	f.Add(0.0, int64(0), 1.01, 0)
	f.Add(0.0, int64(0), math.NaN(), 0)
	f.Add(0.0, int64(0), 0.0, -1)
	f.Fuzz(func(t *testing.T, k float64, window int64, maxP float64, minReq int) {
		cfg := adaptive.ThrottlerConfig{K: k, Window: time.Duration(window), MaxRejectionProbability: maxP, MinRequests: minReq}
		th, err := adaptive.NewThrottler(cfg)
		var field string
		switch {
		case k != 0 && !(k >= 1 && !math.IsInf(k, 1)):
			field = "K"
		case window != 0 && window < 10:
			field = "Window"
		case maxP != 0 && !(maxP > 0 && maxP <= 1):
			field = "MaxRejectionProbability"
		case minReq < 0:
			field = "MinRequests"
		}
		if field != "" {
			if err == nil || th != nil {
				t.Fatalf("NewThrottler(%+v) = %v, %v; want an error naming %s", cfg, th, err, field)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "adaptive: ThrottlerConfig."+field+" must be") {
				t.Fatalf("NewThrottler(%+v): error %q does not name %s", cfg, msg, field)
			}
			return
		}
		if err != nil {
			t.Fatalf("NewThrottler(%+v): %v", cfg, err)
		}
		if err := th.Execute(context.Background(), nop); err != nil {
			t.Fatalf("first call: %v", err)
		}
		if p := th.RejectionProbability(); p != 0 {
			t.Fatalf("rejection probability %v after one success", p)
		}
	})
}
