package grpcx_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/grpcx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// hinted is a refusal that says when to try again.
type hinted struct{ d time.Duration }

func (h hinted) Error() string             { return "hinted refusal" }
func (h hinted) Unwrap() error             { return resilience.ErrRejected }
func (h hinted) RetryAfter() time.Duration { return h.d }

func TestRejectedErrorIsAStatusAndAnErrorChain(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       *grpcx.RejectedError
		message   string
		sentinel  error
		wantDelay time.Duration
	}{
		{"bulkhead full", &grpcx.RejectedError{Err: bulkhead.ErrFull, Key: "/s/M"}, "grpcx: /s/M: bulkhead: full", bulkhead.ErrFull, 0},
		{"with a hint", &grpcx.RejectedError{Err: hinted{1500 * time.Millisecond}, Key: "k"}, "grpcx: k: hinted refusal; retry after 1.5s", resilience.ErrRejected, 1500 * time.Millisecond},
		{"no key", &grpcx.RejectedError{Err: bulkhead.ErrFull}, "grpcx: bulkhead: full", bulkhead.ErrFull, 0},
		{"zero value", &grpcx.RejectedError{}, "grpcx: resilience: rejected", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error = tc.err
			assert.Equal(t, tc.message, err.Error())
			assert.Equal(t, codes.Unavailable, status.Code(err))
			st, ok := status.FromError(fmt.Errorf("wrapped: %w", err))
			require.True(t, ok)
			assert.Equal(t, codes.Unavailable, st.Code())
			if tc.sentinel != nil {
				assert.ErrorIs(t, err, tc.sentinel)
				assert.ErrorIs(t, err, resilience.ErrRejected)
			}
			assert.Equal(t, tc.wantDelay, tc.err.RetryAfter())
		})
	}
}

func TestRejectedErrorKeepsTheDelayOfItsRefusal(t *testing.T) {
	ic := mustNew(t, grpcx.Config{Breaker: breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 1, OpenTimeout: time.Minute}}})
	unary := ic.UnaryClientInterceptor()
	fail := func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error {
		return status.Error(codes.Unavailable, "down")
	}
	require.Equal(t, codes.Unavailable, status.Code(unary(context.Background(), checkMethod, nil, nil, nil, fail)))

	err := unary(context.Background(), checkMethod, nil, nil, nil, fail)
	re, ok := errors.AsType[*grpcx.RejectedError](err)
	require.True(t, ok, "%v", err)
	d := re.RetryAfter()
	assert.InDelta(t, time.Minute, d, float64(5*time.Second))
	assert.Equal(t, d, re.RetryAfter(), "the delay is the one at the refusal")
	assert.ErrorIs(t, err, breaker.ErrOpen)
	var be *breaker.RejectedError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, checkMethod, be.Key)
	assert.Equal(t, 1, countSubstrings(err.Error(), checkMethod), "the key is named once: %v", err)
}

func countSubstrings(s, sub string) int {
	n := 0
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			n++
		}
	}
	return n
}

// okInvoker stands for gRPC: it answers at once.
func okInvoker(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error {
	return nil
}

func TestPanicInTheInvokerReachesTheCallerAndFreesTheSlot(t *testing.T) {
	ic := mustNew(t, grpcx.Config{Bulkhead: bulkhead.Config{MaxConcurrent: 1}, Timeout: time.Minute})
	unary := ic.UnaryClientInterceptor()
	type sentinel struct{}
	boom := func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error { panic(sentinel{}) }

	assert.PanicsWithValue(t, sentinel{}, func() { _ = unary(context.Background(), checkMethod, nil, nil, nil, boom) })
	assert.Zero(t, ic.Bulkhead(checkMethod).InFlight())
	assert.NoError(t, unary(context.Background(), checkMethod, nil, nil, nil, okInvoker), "the pool and the slot still work")
}

func TestPanicInTheStreamerReachesTheCallerAndFreesTheSlot(t *testing.T) {
	rec := new(recorder)
	ic := mustNew(t, grpcx.Config{Bulkhead: bulkhead.Config{MaxConcurrent: 1}, StreamTimeout: time.Minute, Observer: rec})
	stream := ic.StreamClientInterceptor()
	type sentinel struct{}
	boom := func(context.Context, *grpc.StreamDesc, *grpc.ClientConn, string, ...grpc.CallOption) (grpc.ClientStream, error) {
		panic(sentinel{})
	}

	assert.PanicsWithValue(t, sentinel{}, func() {
		_, _ = stream(context.Background(), &grpc.StreamDesc{ServerStreams: true}, nil, watchMethod, boom)
	})
	assert.Zero(t, ic.Bulkhead(watchMethod).InFlight())
	calls := rec.OfKind(resilience.EventCall)
	require.Len(t, calls, 1)
	assert.Equal(t, resilience.Failure, calls[0].Outcome)
}
