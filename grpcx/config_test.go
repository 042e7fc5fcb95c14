package grpcx_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/grpcx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func TestNewRejectsInvalidConfigNamingTheField(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   grpcx.Config
		field string
	}{
		{"negative timeout", grpcx.Config{Timeout: -time.Second}, "Config.Timeout"},
		{"negative stream timeout", grpcx.Config{StreamTimeout: -1}, "Config.StreamTimeout"},
		{"two classifiers", grpcx.Config{
			Classifier: grpcx.Classify,
			Breaker:    breaker.KeyedConfig{Config: breaker.Config{Classifier: grpcx.Classify}},
		}, "Config.Breaker.Classifier"},
		{"wait without a bulkhead", grpcx.Config{Bulkhead: bulkhead.Config{MaxWait: time.Second}}, "Config.Bulkhead.MaxWait"},
		{"negative bulkhead size", grpcx.Config{Bulkhead: bulkhead.Config{MaxConcurrent: -1}}, "MaxConcurrent"},
		{"negative bulkhead wait", grpcx.Config{Bulkhead: bulkhead.Config{MaxConcurrent: 1, MaxWait: -1}}, "MaxWait"},
		{"negative max keys", grpcx.Config{Breaker: breaker.KeyedConfig{MaxKeys: -1}}, "MaxKeys"},
		{"bad breaker rate", grpcx.Config{Breaker: breaker.KeyedConfig{Config: breaker.Config{FailureRate: 1.5}}}, "FailureRate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ic, err := grpcx.New(tc.cfg)
			require.Error(t, err)
			assert.Nil(t, ic)
			assert.Contains(t, err.Error(), tc.field)
			assert.Contains(t, err.Error(), "grpcx: ")
		})
	}
}

func TestZeroConfigIsUsable(t *testing.T) {
	h := newHarness(t)
	ic := mustNew(t, grpcx.Config{})
	client := h.client(t, ic.DialOptions()...)

	resp, err := client.Check(bounded(t), &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	assert.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.GetStatus())
	assert.Nil(t, ic.Bulkhead(checkMethod), "no bulkhead by default")
	assert.Equal(t, "grpcx", ic.Breakers().Get(checkMethod).Name())
	assert.Equal(t, checkMethod, ic.Key(checkMethod))
}

func TestBulkheadPerKeyIsolatesMethods(t *testing.T) {
	h := newHarness(t)
	started, release := make(chan struct{}, 1), make(chan struct{})
	h.srv.setList(func(context.Context) error {
		started <- struct{}{}
		<-release
		return nil
	})
	rec := new(recorder)
	ic := mustNew(t, grpcx.Config{
		Bulkhead:       bulkhead.Config{MaxConcurrent: 1},
		BulkheadPerKey: true,
		Breaker:        breaker.KeyedConfig{MaxKeys: 2},
		Observer:       rec,
	})
	client := h.client(t, ic.DialOptions()...)
	assert.Nil(t, ic.Bulkhead(listMethod), "made on first use")

	listed := make(chan error, 1)
	go func() {
		_, err := client.List(bounded(t), &healthpb.HealthListRequest{})
		listed <- err
	}()
	<-started
	_, err := client.List(bounded(t), &healthpb.HealthListRequest{})
	require.ErrorIs(t, err, bulkhead.ErrFull, "List's own slot is taken")
	_, err = client.Check(bounded(t), &healthpb.HealthCheckRequest{})
	require.NoError(t, err, "Check has a slot of its own")
	close(release)
	require.NoError(t, <-listed)

	list, check := ic.Bulkhead(listMethod), ic.Bulkhead(checkMethod)
	require.NotNil(t, list)
	require.NotNil(t, check)
	assert.NotSame(t, list, check)

	// Keys beyond Breaker.MaxKeys share the overflow bulkhead.
	stream, err := client.Watch(bounded(t), &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	require.NoError(t, drain(stream))
	assert.NotNil(t, ic.Bulkhead(watchMethod), "the overflow bulkhead")

	seen := map[string]*bulkhead.Bulkhead{}
	for key, b := range ic.Bulkheads() {
		seen[key] = b
	}
	assert.Len(t, seen, 3)
	assert.Same(t, list, seen[listMethod])
	assert.Same(t, check, seen[checkMethod])
	assert.Same(t, ic.Bulkhead(watchMethod), seen[""], "the overflow bulkhead")
	assert.Equal(t, 1, len(rec.OfKind(resilience.EventRejected)))
	for _, ev := range rec.OfKind(resilience.EventAcquire) {
		assert.Contains(t, []string{listMethod, checkMethod, ""}, ev.Key, "per-key bulkheads report their key")
	}
}
