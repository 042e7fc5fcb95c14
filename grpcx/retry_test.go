package grpcx_test

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/grpcx"
	"github.com/go-resilience/resilience/retry"
)

func retryCfg(t *testing.T) *retry.Config {
	b, err := retry.NewBudget(retry.BudgetConfig{MinConcurrent: 1 << 20, MinPerSecond: 1e9})
	require.NoError(t, err)
	return &retry.Config{MaxAttempts: 3, BaseDelay: time.Millisecond, Budget: b}
}

// failFirst fails the first n calls with err, then answers SERVING; it
// records when each call arrived.
type failFirst struct {
	mu  sync.Mutex
	n   int
	err func(ctx context.Context) error
	at  []time.Time
}

func (f *failFirst) script(ctx context.Context) error {
	f.mu.Lock()
	f.at = append(f.at, time.Now())
	i := len(f.at)
	f.mu.Unlock()
	if i <= f.n {
		return f.err(ctx)
	}
	return nil
}

func (f *failFirst) times() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.at...)
}

// withPushback fails with code c and a grpc-retry-pushback-ms trailer.
func withPushback(c codes.Code, ms string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		_ = grpc.SetTrailer(ctx, metadata.Pairs("grpc-retry-pushback-ms", ms))
		return status.Error(c, "scripted "+c.String())
	}
}

func TestUnaryRetries(t *testing.T) {
	cases := []struct {
		name    string
		fail    func(ctx context.Context) error
		calls   int
		code    codes.Code
		minGap  time.Duration // between the first and second call
		bounded time.Duration // caller deadline, 0: the test's
	}{
		{"Unavailable is retried", func(context.Context) error { return status.Error(codes.Unavailable, "down") }, 3, codes.OK, 0, 0},
		{"InvalidArgument is not", func(context.Context) error { return status.Error(codes.InvalidArgument, "bad") }, 1, codes.InvalidArgument, 0, 0},
		{"ResourceExhausted without pushback is not", func(context.Context) error { return status.Error(codes.ResourceExhausted, "full") }, 1, codes.ResourceExhausted, 0, 0},
		{"ResourceExhausted with pushback is, after it", withPushback(codes.ResourceExhausted, "300"), 3, codes.OK, 300 * time.Millisecond, 0},
		{"pushback sets the delay of Unavailable", withPushback(codes.Unavailable, "200"), 3, codes.OK, 200 * time.Millisecond, 0},
		{"negative pushback means do not retry", withPushback(codes.Unavailable, "-1"), 1, codes.Unavailable, 0, 0},
		{"pushback past the deadline ends the retries", withPushback(codes.Unavailable, "2000"), 1, codes.Unavailable, 0, time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			f := &failFirst{n: 2, err: tc.fail}
			h.srv.setCheck(f.script)
			ic := mustNew(t, grpcx.Config{Breaker: breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 100}}, Retry: retryCfg(t)})
			client := h.client(t, ic.DialOptions()...)
			ctx := bounded(t)
			if tc.bounded > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.bounded)
				defer cancel()
			}
			start := time.Now()
			_, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
			assert.Equal(t, tc.code, status.Code(err), "%v", err)
			assert.Equal(t, tc.calls, h.srv.callsTo(checkMethod))
			at := f.times()
			if tc.minGap > 0 && len(at) > 1 {
				gap := at[1].Sub(at[0])
				t.Logf("second call %v after the first", gap)
				assert.GreaterOrEqual(t, gap, tc.minGap-5*time.Millisecond)
			}
			if tc.bounded > 0 {
				assert.Less(t, time.Since(start), tc.bounded/2, "gave up at once, not at the deadline")
			}
		})
	}
}

// An open breaker ends the retries: its refusal has code Unavailable but
// is not retried.
func TestUnaryRetryStopsAtAnOpenBreaker(t *testing.T) {
	h := newHarness(t)
	h.srv.setCheck(answer(codes.Unavailable))
	rec := &recorder{}
	cfg := retryCfg(t)
	cfg.MaxAttempts = 5
	ic := mustNew(t, grpcx.Config{Breaker: breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 2, OpenTimeout: time.Minute}}, Retry: cfg, Observer: rec})
	client := h.client(t, ic.DialOptions()...)
	_, err := client.Check(bounded(t), &healthpb.HealthCheckRequest{})
	assert.True(t, errors.Is(err, breaker.ErrOpen), "%v", err)
	assert.Equal(t, codes.Unavailable, status.Code(err))
	assert.Equal(t, 2, h.srv.callsTo(checkMethod))
	assert.Len(t, rec.OfKind(resilience.EventRetry), 2)
}

// Streams are never retried.
func TestStreamsAreNotRetried(t *testing.T) {
	h := newHarness(t)
	h.srv.setWatch(func(context.Context, func(healthpb.HealthCheckResponse_ServingStatus) error) error {
		return status.Error(codes.Unavailable, "down")
	})
	ic := mustNew(t, grpcx.Config{Retry: retryCfg(t)})
	client := h.client(t, ic.DialOptions()...)
	st, err := client.Watch(bounded(t), &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	_, err = st.Recv()
	assert.Equal(t, codes.Unavailable, status.Code(err))
	_, err = st.Recv()
	assert.NotErrorIs(t, err, io.EOF)
	assert.Equal(t, 1, h.srv.callsTo(watchMethod))
}

func TestRetryConfigErrorNamesTheField(t *testing.T) {
	_, err := grpcx.New(grpcx.Config{Retry: &retry.Config{Multiplier: 0.5}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "grpcx: Config.Retry: retry: Config.Multiplier")
}
