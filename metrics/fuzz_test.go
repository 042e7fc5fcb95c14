package metrics_test

import (
	"testing"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzConfig checks that New never panics, and that whatever it accepts
// yields a collector whose every series gathers without error, for any
// policy name and key.
func FuzzConfig(f *testing.F) {
	f.Add("", 0.0, 0.0, "", "", 0, "payments", "")
	f.Add("shop", 0.1, 1.0, "service", "checkout", 1, "p", "k")
	f.Add("9bad", 1.0, 1.0, "a-b", "x", -1, "\xff", "\xfe")
	f.Add("ns:sub", -1.0, 1e300, "__x", "\xff", 3, "", "_other")
	f.Fuzz(func(t *testing.T, ns string, b1, b2 float64, label, value string, maxKeys int, policy, key string) {
		cfg := metrics.Config{Namespace: ns, Buckets: []float64{b1, b2}, MaxKeys: maxKeys}
		if label != "" {
			cfg.ConstLabels = prometheus.Labels{label: value}
		}
		c, err := metrics.New(cfg)
		if err != nil {
			assert.Nil(t, c)
			assert.Regexp(t, `^metrics: Config\.`, err.Error())
			return
		}
		for k := resilience.EventCall; k <= resilience.EventFallback; k++ {
			c.Observe(resilience.Event{Kind: k, Policy: policy, Key: key, From: policy, To: key, Latency: 1})
		}
		reg := prometheus.NewPedanticRegistry()
		require.NoError(t, reg.Register(c))
		_, err = reg.Gather()
		require.NoError(t, err)
	})
}
