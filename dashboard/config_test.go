package dashboard_test

import (
	"strings"
	"testing"
	"time"

	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/dashboard"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewRejectsInvalidConfigNamingTheField(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   dashboard.Config
		field string
	}{
		{"nil breaker", dashboard.Config{Breakers: []*breaker.Breaker{nil}}, "Config.Breakers[0]"},
		{"nil set", dashboard.Config{Sets: []*breaker.Set{nil}}, "Config.Sets[0]"},
		{"nil bulkhead", dashboard.Config{Bulkheads: []*bulkhead.Bulkhead{nil}}, "Config.Bulkheads[0]"},
		{"interval below 100ms", dashboard.Config{Interval: 99 * time.Millisecond}, "Config.Interval"},
		{"negative interval", dashboard.Config{Interval: -time.Second}, "Config.Interval"},
		{"interval over an hour", dashboard.Config{Interval: time.Hour + 1}, "Config.Interval"},
		{"window below two intervals", dashboard.Config{Interval: time.Second, Window: 1999 * time.Millisecond}, "Config.Window"},
		{"negative window", dashboard.Config{Window: -time.Second}, "Config.Window"},
		{"negative max tiles", dashboard.Config{MaxTiles: -1}, "Config.MaxTiles"},
		{"too many tiles", dashboard.Config{MaxTiles: 10001}, "Config.MaxTiles"},
		{"negative max streams", dashboard.Config{MaxStreams: -1}, "Config.MaxStreams"},
		{"negative stream buffer", dashboard.Config{StreamBuffer: -1}, "Config.StreamBuffer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := dashboard.New(tc.cfg)
			require.Error(t, err)
			assert.Nil(t, d)
			assert.Contains(t, err.Error(), "dashboard: "+tc.field)
		})
	}
}

func TestNewAcceptsTheZeroConfigAndBounds(t *testing.T) {
	for _, cfg := range []dashboard.Config{
		{},
		{Interval: 100 * time.Millisecond},
		{Interval: 100 * time.Millisecond, Window: 200 * time.Millisecond},
		{Interval: 5 * time.Minute}, // the default window grows to two intervals
		{MaxTiles: 10000, MaxStreams: 1, StreamBuffer: 1},
	} {
		d, err := dashboard.New(cfg)
		require.NoError(t, err, "%+v", cfg)
		require.NotNil(t, d)
		require.NotNil(t, d.Recorder())
	}
}

func FuzzNew(f *testing.F) {
	f.Add(int64(0), int64(0), 0, 0, 0)
	f.Add(int64(time.Second), int64(time.Second), 5, -1, 3)
	f.Add(int64(99*time.Millisecond), int64(time.Minute), 1, 1, 1)
	f.Add(int64(1<<62), int64(0), 0, 0, 0)
	f.Fuzz(func(t *testing.T, interval, window int64, tiles, streams, buffer int) {
		cfg := dashboard.Config{Interval: time.Duration(interval), Window: time.Duration(window),
			MaxTiles: tiles, MaxStreams: streams, StreamBuffer: buffer}
		// The reference: each field on its own.
		iv := time.Duration(interval)
		if iv == 0 {
			iv = time.Second
		}
		valid := (interval == 0 || interval >= int64(100*time.Millisecond) && interval <= int64(time.Hour)) &&
			(window == 0 || window >= 2*int64(iv)) &&
			tiles >= 0 && tiles <= 10000 && streams >= 0 && buffer >= 0
		d, err := dashboard.New(cfg)
		if valid {
			require.NoError(t, err)
			require.NotNil(t, d)
			return
		}
		require.Error(t, err)
		require.True(t, strings.HasPrefix(err.Error(), "dashboard: Config."), err.Error())
	})
}
