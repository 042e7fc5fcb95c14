package retry_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/go-resilience/resilience/retry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewRejectsEachBadFieldByName(t *testing.T) {
	cases := []struct {
		name  string
		cfg   retry.Config
		field string
	}{
		{"negative MaxAttempts", retry.Config{MaxAttempts: -1}, "Config.MaxAttempts"},
		{"huge MaxAttempts", retry.Config{MaxAttempts: 1001}, "Config.MaxAttempts"},
		{"negative MaxDelay", retry.Config{MaxDelay: -time.Second}, "Config.MaxDelay"},
		{"MaxDelay below BaseDelay", retry.Config{BaseDelay: time.Second, MaxDelay: time.Millisecond}, "Config.MaxDelay"},
		{"NaN Multiplier", retry.Config{Multiplier: math.NaN()}, "Config.Multiplier"},
		{"infinite Multiplier", retry.Config{Multiplier: math.Inf(1)}, "Config.Multiplier"},
		{"Multiplier below 1", retry.Config{Multiplier: 0.5}, "Config.Multiplier"},
		{"negative Multiplier", retry.Config{Multiplier: -2}, "Config.Multiplier"},
		{"negative MaxDuration", retry.Config{MaxDuration: -1}, "Config.MaxDuration"},
		{"zero Budget", retry.Config{Budget: &retry.Budget{}}, "Config.Budget"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := retry.New(c.cfg)
			require.Error(t, err)
			assert.Nil(t, r)
			assert.Contains(t, err.Error(), "retry: "+c.field)
		})
	}
}

func TestZeroAndEdgeValuesAreAccepted(t *testing.T) {
	for _, cfg := range []retry.Config{
		{},
		{MaxAttempts: 1},
		{MaxAttempts: 1000},
		{BaseDelay: -1}, // no delay
		{BaseDelay: time.Second, MaxDelay: time.Second},
		{BaseDelay: time.Minute}, // MaxDelay defaults to at least BaseDelay
		{Multiplier: 1},
	} {
		r, err := retry.New(cfg)
		require.NoError(t, err, "%+v", cfg)
		require.NotNil(t, r.Budget())
	}
	r, err := retry.New(retry.Config{})
	require.NoError(t, err)
	assert.Equal(t, retry.DefaultMaxAttempts, r.MaxAttempts(), "MaxAttempts 0 means the default, 3")
}

func TestNewBudgetRejectsEachBadFieldByName(t *testing.T) {
	cases := []struct {
		name  string
		cfg   retry.BudgetConfig
		field string
	}{
		{"negative Ratio", retry.BudgetConfig{Ratio: -0.1}, "BudgetConfig.Ratio"},
		{"NaN Ratio", retry.BudgetConfig{Ratio: math.NaN()}, "BudgetConfig.Ratio"},
		{"huge Ratio", retry.BudgetConfig{Ratio: 11}, "BudgetConfig.Ratio"},
		{"negative MinConcurrent", retry.BudgetConfig{MinConcurrent: -1}, "BudgetConfig.MinConcurrent"},
		{"negative MinPerSecond", retry.BudgetConfig{MinPerSecond: -1}, "BudgetConfig.MinPerSecond"},
		{"NaN MinPerSecond", retry.BudgetConfig{MinPerSecond: math.NaN()}, "BudgetConfig.MinPerSecond"},
		{"negative Window", retry.BudgetConfig{Window: -time.Second}, "BudgetConfig.Window"},
		{"tiny Window", retry.BudgetConfig{Window: time.Millisecond}, "BudgetConfig.Window"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := retry.NewBudget(c.cfg)
			require.Error(t, err)
			assert.Nil(t, b)
			assert.Contains(t, err.Error(), "retry: "+c.field)
		})
	}
}

// FuzzConfig checks New against a plain reference of the rules: it
// accepts exactly the valid configs, and a refusal names a field.
func FuzzConfig(f *testing.F) {
	f.Add(0, int64(0), int64(0), 0.0, int64(0))
	f.Add(-1, int64(-1), int64(5), math.NaN(), int64(-3))
	f.Add(3, int64(time.Second), int64(time.Millisecond), 0.5, int64(0))
	f.Add(1001, int64(1), int64(1), 1.0, int64(1))
	f.Fuzz(func(t *testing.T, attempts int, base, maxDelay int64, mult float64, maxDur int64) {
		cfg := retry.Config{MaxAttempts: attempts, BaseDelay: time.Duration(base), MaxDelay: time.Duration(maxDelay), Multiplier: mult, MaxDuration: time.Duration(maxDur)}
		valid := attempts >= 0 && attempts <= 1000 &&
			maxDelay >= 0 && !(maxDelay > 0 && base > 0 && maxDelay < base) &&
			(mult == 0 || (mult >= 1 && !math.IsInf(mult, 0))) && !math.IsNaN(mult) &&
			maxDur >= 0
		r, err := retry.New(cfg)
		if valid {
			require.NoError(t, err)
			require.NotNil(t, r)
			return
		}
		require.Error(t, err)
		assert.True(t, strings.HasPrefix(err.Error(), "retry: Config."), err.Error())
	})
}

// FuzzBudgetConfig checks NewBudget against a plain reference of its
// rules, and that a budget it makes grants and refuses without panicking.
func FuzzBudgetConfig(f *testing.F) {
	f.Add(0.0, 0, 0.0, int64(0))
	f.Add(0.2, 3, 10.0, int64(10*time.Second))
	f.Add(math.NaN(), -1, math.Inf(1), int64(time.Millisecond))
	f.Add(11.0, 1, -1.0, int64(-1))
	f.Fuzz(func(t *testing.T, ratio float64, minConc int, perSec float64, window int64) {
		cfg := retry.BudgetConfig{Ratio: ratio, MinConcurrent: minConc, MinPerSecond: perSec, Window: time.Duration(window)}
		valid := !math.IsNaN(ratio) && ratio >= 0 && ratio <= 10 &&
			minConc >= 0 && minConc <= math.MaxInt32 &&
			!math.IsNaN(perSec) && !math.IsInf(perSec, 0) && perSec >= 0 &&
			(window == 0 || window >= int64(10*time.Millisecond))
		b, err := retry.NewBudget(cfg)
		if !valid {
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), "retry: BudgetConfig."), err.Error())
			return
		}
		require.NoError(t, err)
		b.CallStart()
		if b.TryAcquire() {
			b.Release()
		}
		b.CallEnd()
		calls, extra := b.InFlight()
		assert.Zero(t, calls)
		assert.Zero(t, extra)
	})
}
