package fleet_test

import (
	"cmp"
	"strings"
	"testing"
	"time"

	"github.com/go-resilience/resilience/fleet"
	"github.com/redis/go-redis/v9"
)

// FuzzConfig checks New against a plain statement of the rules: it
// returns an error naming the field exactly when a value is out of range,
// and never panics.
func FuzzConfig(f *testing.F) {
	f.Add("", int64(0), int64(0), int64(0), int64(0))
	f.Add("svc", int64(time.Second), int64(time.Second), int64(time.Minute), int64(time.Hour))
	f.Add("a{b", int64(time.Millisecond), int64(-1), int64(-1), int64(-1))
	f.Add("ns", int64(10*time.Millisecond), int64(1), int64(1), int64(1))
	f.Add("ns", int64(10*time.Millisecond), int64(1), int64(20*time.Millisecond), int64(1))
	f.Add("", int64(0), int64(0), int64(2*time.Second-1), int64(0))
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer func() { _ = c.Close() }()
	f.Fuzz(func(t *testing.T, ns string, interval, timeout, lease, ttl int64) {
		cfg := fleet.Config{Client: c, Namespace: ns, SyncInterval: time.Duration(interval),
			Timeout: time.Duration(timeout), ProbeLease: time.Duration(lease), RecordTTL: time.Duration(ttl)}
		var want string
		switch {
		case strings.ContainsAny(ns, "{}"):
			want = "Config.Namespace"
		case interval < 0 || (interval > 0 && interval < int64(10*time.Millisecond)):
			want = "Config.SyncInterval"
		case timeout < 0:
			want = "Config.Timeout"
		case lease < 0 || (lease > 0 && lease/2 < cmp.Or(interval, int64(time.Second))):
			want = "Config.ProbeLease" // at least two sync intervals, or zero
		case ttl < 0:
			want = "Config.RecordTTL"
		}
		fl, err := fleet.New(cfg)
		if want == "" {
			if err != nil {
				t.Fatalf("valid config refused: %v", err)
			}
			_ = fl.Close()
			return
		}
		if err == nil {
			_ = fl.Close()
			t.Fatalf("invalid config (%s) accepted", want)
		}
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not name %s", err, want)
		}
	})
}
