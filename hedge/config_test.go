package hedge_test

import (
	"math"
	"testing"
	"time"

	"github.com/go-resilience/resilience/hedge"
	"github.com/go-resilience/resilience/retry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewRejectsBadFieldsByName(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   hedge.Config
		field string
	}{
		{"negative delay", hedge.Config{Delay: -time.Millisecond}, "Config.Delay"},
		{"percentile zero or less", hedge.Config{Percentile: -0.5}, "Config.Percentile"},
		{"percentile one", hedge.Config{Percentile: 1}, "Config.Percentile"},
		{"percentile above one", hedge.Config{Percentile: 1.5}, "Config.Percentile"},
		{"percentile NaN", hedge.Config{Percentile: math.NaN()}, "Config.Percentile"},
		{"percentile with a fixed delay", hedge.Config{Delay: time.Millisecond, Percentile: 0.9}, "Config.Percentile"},
		{"negative floor", hedge.Config{MinDelay: -1}, "Config.MinDelay"},
		{"negative ceiling", hedge.Config{MaxDelay: -1}, "Config.MaxDelay"},
		{"ceiling under floor", hedge.Config{MinDelay: time.Second, MaxDelay: time.Millisecond}, "Config.MaxDelay"},
		{"ceiling under default floor", hedge.Config{MaxDelay: time.Microsecond}, "Config.MaxDelay"},
		{"negative window", hedge.Config{Window: -1}, "Config.Window"},
		{"huge window", hedge.Config{Window: 1 << 20}, "Config.Window"},
		{"negative MaxHedges", hedge.Config{MaxHedges: -1}, "Config.MaxHedges"},
		{"huge MaxHedges", hedge.Config{MaxHedges: 1000}, "Config.MaxHedges"},
		{"zero Budget", hedge.Config{Budget: &retry.Budget{}}, "Config.Budget"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := hedge.New(tc.cfg)
			require.Error(t, err)
			assert.Nil(t, h)
			assert.Contains(t, err.Error(), "hedge: "+tc.field)
		})
	}
}

func TestZeroConfigIsPercentileDelayAtItsCeiling(t *testing.T) {
	h, err := hedge.New(hedge.Config{})
	require.NoError(t, err)
	assert.Equal(t, hedge.DefaultMaxDelay, h.Delay(), "no latency seen yet: the ceiling")
	assert.NotNil(t, h.Budget())

	h, err = hedge.New(hedge.Config{Delay: 7 * time.Millisecond})
	require.NoError(t, err)
	assert.Equal(t, 7*time.Millisecond, h.Delay())
}

// FuzzConfig checks New against the rules written in Config's doc: it
// accepts exactly the configs they allow, and never panics.
func FuzzConfig(f *testing.F) {
	f.Add(int64(0), 0.0, int64(0), int64(0), 0, 0)
	f.Add(int64(-1), 0.5, int64(1), int64(2), 10, 2)
	f.Add(int64(5), 0.95, int64(0), int64(0), 1024, 16)
	f.Fuzz(func(t *testing.T, delay int64, q float64, lo, hi int64, window, hedges int) {
		cfg := hedge.Config{Delay: time.Duration(delay), Percentile: q, MinDelay: time.Duration(lo), MaxDelay: time.Duration(hi), Window: window, MaxHedges: hedges}
		floor := cfg.MinDelay
		if floor == 0 {
			floor = hedge.DefaultMinDelay
		}
		valid := delay >= 0 && !math.IsNaN(q) && q >= 0 && q < 1 && !(delay > 0 && q != 0) &&
			lo >= 0 && hi >= 0 && (hi == 0 || time.Duration(hi) >= floor) &&
			window >= 0 && window <= 1024 && hedges >= 0 && hedges <= 16
		h, err := hedge.New(cfg)
		if valid {
			require.NoError(t, err)
			d := h.Delay()
			if delay > 0 {
				assert.Equal(t, cfg.Delay, d)
			} else {
				assert.GreaterOrEqual(t, d, floor)
			}
		} else {
			require.Error(t, err)
			assert.Contains(t, err.Error(), "hedge: Config.")
		}
	})
}
