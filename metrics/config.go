package metrics

import (
	"fmt"
	"math"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// Config configures a Collector. The zero value is a valid configuration.
type Config struct {
	// Namespace is the prefix of every metric name, as in
	// "<Namespace>_breaker_state". Zero: "resilience". It must match
	// [a-zA-Z_:][a-zA-Z0-9_:]*.
	Namespace string

	// Buckets are the upper bounds, in seconds, of the call duration
	// histogram. Zero: prometheus.DefBuckets (5ms to 10s). They must be
	// finite and strictly increasing.
	Buckets []float64

	// WaitBuckets are the upper bounds, in seconds, of the bulkhead wait
	// histogram. Zero: 100µs to about 1.6s, doubling (a wait is usually
	// short: it is bounded by the bulkhead's MaxWait). They must be finite
	// and strictly increasing.
	WaitBuckets []float64

	// ConstLabels are added to every series, e.g. {"service": "checkout"}.
	// Zero: none. Names must be valid Prometheus label names and must not
	// be one of the labels the Collector sets itself (policy, key, outcome,
	// reason, state, from, to).
	ConstLabels prometheus.Labels

	// MaxKeys bounds how many distinct (policy, key) pairs get series of
	// their own, so that a keyed breaker set whose keys come and go cannot
	// grow the number of series without bound. Events of further pairs are
	// counted under the key "_other" of their policy (and have no breaker
	// state series). Forget frees a pair. Zero: 2048; negative: an error.
	MaxKeys int
}

const (
	defaultNamespace = "resilience"
	defaultMaxKeys   = 2048
	// otherKey is the key that pairs beyond Config.MaxKeys are counted under.
	otherKey = "_other"
)

// defaultWaitBuckets: 100µs doubling to 1.6384s.
func defaultWaitBuckets() []float64 { return prometheus.ExponentialBuckets(0.0001, 2, 15) }

// reservedLabels are the variable labels the Collector sets itself.
var reservedLabels = [...]string{labelPolicy, labelKey, labelOutcome, labelReason, labelState, labelFrom, labelTo}

const (
	labelPolicy  = "policy"
	labelKey     = "key"
	labelOutcome = "outcome"
	labelReason  = "reason"
	labelState   = "state"
	labelFrom    = "from"
	labelTo      = "to"
)

// withDefaults validates cfg and returns it with zero fields filled in.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Namespace == "" {
		cfg.Namespace = defaultNamespace
	} else if !validMetricName(cfg.Namespace) {
		return cfg, fmt.Errorf("metrics: Config.Namespace must match [a-zA-Z_:][a-zA-Z0-9_:]*, got %q", cfg.Namespace)
	}
	var err error
	if cfg.Buckets, err = checkBuckets("Buckets", cfg.Buckets, prometheus.DefBuckets); err != nil {
		return cfg, err
	}
	if cfg.WaitBuckets, err = checkBuckets("WaitBuckets", cfg.WaitBuckets, defaultWaitBuckets()); err != nil {
		return cfg, err
	}
	for name, value := range cfg.ConstLabels {
		if !validLabelName(name) {
			return cfg, fmt.Errorf("metrics: Config.ConstLabels: %q is not a valid label name", name)
		}
		for _, r := range reservedLabels {
			if name == r {
				return cfg, fmt.Errorf("metrics: Config.ConstLabels: %q is a label the collector sets itself", name)
			}
		}
		if !utf8Valid(value) {
			return cfg, fmt.Errorf("metrics: Config.ConstLabels: the value of %q is not valid UTF-8", name)
		}
	}
	switch {
	case cfg.MaxKeys == 0:
		cfg.MaxKeys = defaultMaxKeys
	case cfg.MaxKeys < 0:
		return cfg, fmt.Errorf("metrics: Config.MaxKeys must not be negative, got %d", cfg.MaxKeys)
	}
	return cfg, nil
}

func checkBuckets(field string, b, def []float64) ([]float64, error) {
	if len(b) == 0 {
		return def, nil
	}
	for i, v := range b {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("metrics: Config.%s must be finite, got %v at index %d", field, v, i)
		}
		if i > 0 && v <= b[i-1] {
			return nil, fmt.Errorf("metrics: Config.%s must be strictly increasing, got %v after %v", field, v, b[i-1])
		}
	}
	return append([]float64(nil), b...), nil
}

func validMetricName(s string) bool {
	for i, r := range s {
		ok := r == '_' || r == ':' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9')
		if !ok {
			return false
		}
	}
	return s != ""
}

func validLabelName(s string) bool {
	if s == "" || strings.HasPrefix(s, "__") {
		return false
	}
	for i, r := range s {
		ok := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9')
		if !ok {
			return false
		}
	}
	return true
}
