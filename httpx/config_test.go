package httpx_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/httpx"
)

func TestNewRejectsInvalidConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  httpx.Config
		want string
	}{
		{"negative timeout", httpx.Config{Timeout: -time.Second}, "httpx: Config.Timeout must be >= 0, got -1s"},
		{"breaker classifier", httpx.Config{Breaker: breaker.KeyedConfig{Config: breaker.Config{
			Classifier: resilience.DefaultClassifier,
		}}}, "Config.Breaker.Classifier"},
		{"negative max keys", httpx.Config{Breaker: breaker.KeyedConfig{MaxKeys: -1}}, "Config.Breaker.MaxKeys"},
		{"max wait without bulkhead", httpx.Config{Bulkhead: bulkhead.Config{MaxWait: time.Second}}, "Config.Bulkhead.MaxConcurrent is zero"},
		{"per key without bulkhead", httpx.Config{BulkheadPerKey: true}, "Config.BulkheadPerKey"},
		{"invalid bulkhead", httpx.Config{Bulkhead: bulkhead.Config{MaxConcurrent: -1}}, "httpx: Config.Bulkhead: bulkhead: Config.MaxConcurrent"},
		{"invalid breaker", httpx.Config{Breaker: breaker.KeyedConfig{Config: breaker.Config{FailureRate: 1.5}}}, "httpx: Config.Breaker: breaker: Config.FailureRate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := httpx.New(tt.cfg)
			require.Error(t, err)
			assert.Nil(t, tr)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestZeroConfigUsesDefaultTransport(t *testing.T) {
	h := newStatusHandler(200)
	s := newServer(t, false, h)
	tr, err := httpx.New(httpx.Config{})
	require.NoError(t, err)
	t.Cleanup(tr.CloseIdleConnections) // http.DefaultTransport's, via the Transport
	code, err := fetch(t, &http.Client{Transport: tr}, s.URL)
	require.NoError(t, err)
	assert.Equal(t, 200, code)
	assert.Equal(t, 1, tr.Breakers().Len())
	tr.Breakers().Range(func(key string, b *breaker.Breaker) bool {
		assert.Equal(t, httpx.HostKey(mustRequest(t, s.URL)), key)
		assert.Equal(t, "httpx", b.Name())
		return true
	})
	for range tr.Bulkheads() {
		t.Fatal("no bulkhead by default")
	}
}
