package breaker_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/go-resilience/resilience/breaker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewRefusesBadConfigNamingTheField(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  breaker.KeyedConfig
		want string
	}{
		{"rate above one", breaker.KeyedConfig{Config: breaker.Config{FailureRate: 1.5}}, "breaker: Config.FailureRate must be in (0, 1] (or zero: off), got 1.5"},
		{"negative rate", breaker.KeyedConfig{Config: breaker.Config{FailureRate: -0.1}}, "breaker: Config.FailureRate must be in (0, 1]"},
		{"NaN rate", breaker.KeyedConfig{Config: breaker.Config{FailureRate: math.NaN()}}, "breaker: Config.FailureRate must be in (0, 1]"},
		{"negative window", breaker.KeyedConfig{Config: breaker.Config{FailureRate: 0.5, Window: -time.Second}}, "breaker: Config.Window must be positive"},
		{"window too long", breaker.KeyedConfig{Config: breaker.Config{FailureRate: 0.5, Window: math.MaxInt64}}, "breaker: Config.Window must be positive and at most 100 years"},
		{"negative slow threshold", breaker.KeyedConfig{Config: breaker.Config{SlowCallThreshold: -1}}, "breaker: Config.SlowCallThreshold must be positive"},
		{"negative open timeout", breaker.KeyedConfig{Config: breaker.Config{OpenTimeout: -time.Second}}, "breaker: Config.OpenTimeout must be positive (or zero: 30s), got -1s"},
		{"negative max open timeout", breaker.KeyedConfig{Config: breaker.Config{MaxOpenTimeout: -time.Second}}, "breaker: Config.MaxOpenTimeout must be positive"},
		{"max open timeout under open timeout", breaker.KeyedConfig{Config: breaker.Config{OpenTimeout: time.Minute, MaxOpenTimeout: time.Second}}, "breaker: Config.MaxOpenTimeout must be zero or at least OpenTimeout (1m0s), got 1s"},
		{"max open timeout under the default open timeout", breaker.KeyedConfig{Config: breaker.Config{MaxOpenTimeout: time.Second}}, "breaker: Config.MaxOpenTimeout must be zero or at least OpenTimeout (30s), got 1s"},
		{"negative half-open timeout", breaker.KeyedConfig{Config: breaker.Config{HalfOpenTimeout: -1}}, "breaker: Config.HalfOpenTimeout must be positive"},
		{"negative MaxKeys", breaker.KeyedConfig{MaxKeys: -1}, "breaker: KeyedConfig.MaxKeys must be positive (or zero: 1024), got -1"},
		{"min calls without a failure rate", breaker.KeyedConfig{Config: breaker.Config{MinCalls: 20}}, "breaker: Config.MinCalls must be zero when Config.FailureRate is zero (it belongs to that rule, which is off), got 20"},
		{"window without a failure rate", breaker.KeyedConfig{Config: breaker.Config{Window: time.Minute}}, "breaker: Config.Window must be zero when Config.FailureRate is zero"},
		{"window too short to hold a bucket", breaker.KeyedConfig{Config: breaker.Config{FailureRate: 0.5, Window: time.Nanosecond}}, "breaker: Config.Window must be at least 10ms, ten buckets of 1ms (or zero: 60s), got 1ns"},
		{"window just under ten buckets of 1ms", breaker.KeyedConfig{Config: breaker.Config{FailureRate: 0.5, Window: 10*time.Millisecond - 1}}, "breaker: Config.Window must be at least 10ms"},
		{"negative IdleTimeout", breaker.KeyedConfig{IdleTimeout: -time.Minute}, "breaker: KeyedConfig.IdleTimeout must be positive (or zero: no idle expiry), got -1m0s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := breaker.NewSet(tc.cfg)
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), tc.want), "got %q, want it to start with %q", err, tc.want)
			if tc.cfg.MaxKeys == 0 && tc.cfg.IdleTimeout == 0 {
				b, err := breaker.New(tc.cfg.Config)
				assert.Nil(t, b)
				require.Error(t, err)
				assert.True(t, strings.HasPrefix(err.Error(), tc.want), "New: got %q", err)
			}
		})
	}
}

func TestZeroConfigIsValid(t *testing.T) {
	b, err := breaker.New(breaker.Config{})
	require.NoError(t, err)
	assert.Equal(t, breaker.Closed, b.State())
	s, err := breaker.NewSet(breaker.KeyedConfig{})
	require.NoError(t, err)
	assert.Zero(t, s.Len())
}

// badFields is the reference for config validation: the fields of cfg
// that are invalid, by the rules the Config documentation states.
func badFields(cfg breaker.KeyedConfig) []string {
	var bad []string
	r := cfg.FailureRate
	if r != 0 && !(r > 0 && r <= 1) {
		bad = append(bad, "Config.FailureRate")
	}
	for name, d := range map[string]time.Duration{
		"Config.Window": cfg.Window, "Config.SlowCallThreshold": cfg.SlowCallThreshold,
		"Config.OpenTimeout": cfg.OpenTimeout, "Config.MaxOpenTimeout": cfg.MaxOpenTimeout,
		"Config.HalfOpenTimeout": cfg.HalfOpenTimeout, "KeyedConfig.IdleTimeout": cfg.IdleTimeout,
	} {
		if d < 0 {
			bad = append(bad, name)
		}
	}
	if cfg.Window > 100*365*24*time.Hour || (cfg.Window > 0 && cfg.Window < 10*time.Millisecond) {
		bad = append(bad, "Config.Window")
	}
	if r == 0 && cfg.Window != 0 { // a setting of the rate rule, which is off
		bad = append(bad, "Config.Window")
	}
	if r == 0 && cfg.MinCalls != 0 {
		bad = append(bad, "Config.MinCalls")
	}
	open := cfg.OpenTimeout
	if open == 0 {
		open = 30 * time.Second
	}
	if cfg.MaxOpenTimeout > 0 && open > 0 && cfg.MaxOpenTimeout < open {
		bad = append(bad, "Config.MaxOpenTimeout")
	}
	if cfg.MaxKeys < 0 {
		bad = append(bad, "KeyedConfig.MaxKeys")
	}
	return bad
}

func FuzzConfig(f *testing.F) {
	f.Add(uint32(0), 0.0, uint32(0), int64(0), int64(0), int64(0), int64(0), uint32(0), int64(0), 0, int64(0))
	f.Add(uint32(3), 0.5, uint32(20), int64(time.Minute), int64(time.Second), int64(time.Second), int64(time.Minute), uint32(2), int64(time.Second), 10, int64(time.Hour))
	f.Add(uint32(1), 1.5, uint32(0), int64(0), int64(0), int64(0), int64(0), uint32(0), int64(0), 0, int64(0))
	f.Add(uint32(0), 1e-300, uint32(1), int64(1), int64(1), int64(1), int64(1), uint32(1), int64(1), 1, int64(1))
	f.Add(uint32(0), math.Inf(1), uint32(0), int64(-1), int64(-1), int64(-1), int64(-1), uint32(0), int64(-1), -1, int64(-1))
	f.Add(uint32(0), 0.0, uint32(0), int64(0), int64(0), int64(time.Minute), int64(time.Second), uint32(0), int64(0), 0, int64(0))
	f.Add(uint32(0), 0.0, uint32(0), int64(0), int64(0), int64(0), int64(time.Second), uint32(0), int64(0), 0, int64(0))
	f.Add(uint32(math.MaxUint32), 1.0, uint32(math.MaxUint32), int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MaxInt64), uint32(math.MaxUint32), int64(math.MaxInt64), math.MaxInt, int64(math.MaxInt64))
	f.Add(uint32(0), 0.3, uint32(0), int64(9), int64(0), int64(1), int64(0), uint32(0), int64(0), 0, int64(0))
	f.Fuzz(func(t *testing.T, consecutive uint32, rate float64, minCalls uint32, window, slow, open, maxOpen int64,
		probes uint32, halfOpen int64, maxKeys int, idle int64) {
		cfg := breaker.KeyedConfig{
			Config: breaker.Config{
				ConsecutiveFailures: consecutive, FailureRate: rate, MinCalls: minCalls,
				Window: time.Duration(window), SlowCallThreshold: time.Duration(slow),
				OpenTimeout: time.Duration(open), MaxOpenTimeout: time.Duration(maxOpen),
				HalfOpenProbes: probes, HalfOpenTimeout: time.Duration(halfOpen),
			},
			MaxKeys: maxKeys, IdleTimeout: time.Duration(idle),
		}
		bad := badFields(cfg)
		s, err := breaker.NewSet(cfg)
		if len(bad) == 0 {
			require.NoError(t, err)
			b := s.Get("k")
			require.NoError(t, b.Execute(context.Background(), succeed))
			if cfg.SlowCallThreshold == 0 { // else the call may have been slow
				require.Equal(t, breaker.Closed, b.State())
			}
			return
		}
		require.Error(t, err, "invalid fields %v", bad)
		named := false
		for _, field := range bad {
			named = named || strings.HasPrefix(err.Error(), "breaker: "+field+" must be ")
		}
		require.True(t, named, "%q names none of %v", err, bad)
	})
}
