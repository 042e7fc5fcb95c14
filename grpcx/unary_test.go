package grpcx_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/fallback"
	"github.com/go-resilience/resilience/grpcx"
	"github.com/go-resilience/resilience/timeout"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// trip3 opens a breaker after three consecutive failures and keeps it open
// long enough that no test sees it probe unless it asks for that.
var trip3 = breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 3, OpenTimeout: time.Minute}}

func TestFailingCodesOpenTheBreakerOfThatMethodOnly(t *testing.T) {
	for _, code := range []codes.Code{
		codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted,
		codes.Internal, codes.Unknown, codes.DataLoss,
	} {
		t.Run(code.String(), func(t *testing.T) {
			h := newHarness(t)
			h.srv.setCheck(answer(code))
			ic := mustNew(t, grpcx.Config{Breaker: trip3})
			client := h.client(t, ic.DialOptions()...)
			ctx := bounded(t)

			for range 3 {
				_, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
				require.Equal(t, code, status.Code(err), "the server's own status reaches the caller")
			}
			_, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
			assert.ErrorIs(t, err, breaker.ErrOpen)
			assert.Equal(t, codes.Unavailable, status.Code(err))
			assert.Equal(t, 3, h.srv.callsTo(checkMethod), "the refused call did not reach the server")
			assert.Equal(t, breaker.Open, ic.Breakers().Get(checkMethod).State())

			_, err = client.List(ctx, &healthpb.HealthListRequest{})
			require.NoError(t, err, "another method is not cut off")
			assert.Equal(t, breaker.Closed, ic.Breakers().Get(listMethod).State())
		})
	}
}

func TestNonFailureCodesNeverOpenTheBreaker(t *testing.T) {
	for _, code := range []codes.Code{
		codes.OK, codes.Canceled, codes.InvalidArgument, codes.NotFound, codes.AlreadyExists,
		codes.PermissionDenied, codes.Unauthenticated, codes.FailedPrecondition,
		codes.Aborted, codes.OutOfRange, codes.Unimplemented,
	} {
		t.Run(code.String(), func(t *testing.T) {
			h := newHarness(t)
			h.srv.setCheck(answer(code))
			ic := mustNew(t, grpcx.Config{Breaker: trip3})
			client := h.client(t, ic.DialOptions()...)
			ctx := bounded(t)

			const calls = 10
			for range calls {
				_, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
				require.Equal(t, code, status.Code(err))
			}
			assert.Equal(t, calls, h.srv.callsTo(checkMethod), "every call reached the server")
			b := ic.Breakers().Get(checkMethod)
			assert.Equal(t, breaker.Closed, b.State())
			assert.Zero(t, b.Counts().TotalFailures)
		})
	}
}

func TestCallerCancellationIsNotAFailure(t *testing.T) {
	h := newHarness(t)
	started := make(chan struct{}, 1)
	h.srv.setCheck(func(ctx context.Context) error {
		started <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	})
	ic := mustNew(t, grpcx.Config{Breaker: breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 1}}})
	client := h.client(t, ic.DialOptions()...)

	ctx, cancel := context.WithCancel(bounded(t))
	go func() {
		<-started
		cancel()
	}()
	_, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
	assert.Equal(t, codes.Canceled, status.Code(err))
	b := ic.Breakers().Get(checkMethod)
	assert.Equal(t, breaker.Closed, b.State())
	assert.Zero(t, b.Counts().TotalFailures)
}

func TestBreakerRecoversThroughHalfOpen(t *testing.T) {
	h := newHarness(t)
	h.srv.setCheck(answer(codes.Unavailable))
	rec := new(recorder)
	ic := mustNew(t, grpcx.Config{
		Breaker:  breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 2, OpenTimeout: 20 * time.Millisecond}},
		Observer: rec,
	})
	client := h.client(t, ic.DialOptions()...)
	ctx := bounded(t)
	check := func() error {
		_, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
		return err
	}

	for range 2 {
		require.Equal(t, codes.Unavailable, status.Code(check()))
	}
	require.ErrorIs(t, check(), breaker.ErrOpen)

	// While the server still fails, a probe reopens the breaker: drive calls
	// until one reaches the server as a probe.
	require.Eventually(t, func() bool {
		_ = check()
		return h.srv.callsTo(checkMethod) == 3
	}, 2*time.Second, 5*time.Millisecond)

	h.srv.setCheck(nil) // the server recovers
	require.Eventually(t, func() bool { return check() == nil }, 2*time.Second, 5*time.Millisecond)
	assert.Equal(t, breaker.Closed, ic.Breakers().Get(checkMethod).State())
	require.NoError(t, check())
	assert.Equal(t, []string{
		"closed>open", "open>half-open", "half-open>open", "open>half-open", "half-open>closed",
	}, transitions(rec, checkMethod))
}

func TestServerSeesTheEarlierDeadline(t *testing.T) {
	const (
		short = 2 * time.Second
		long  = time.Hour
	)
	for _, tc := range []struct {
		name           string
		caller, policy time.Duration // zero: none
		want           time.Duration // from when the call starts
	}{
		{"policy earlier", long, short, short},
		{"caller earlier", short, long, short},
		{"policy only", 0, short, short},
		{"caller only", short, 0, short},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			seen := make(chan time.Time, 1)
			h.srv.setCheck(func(ctx context.Context) error {
				dl, ok := ctx.Deadline()
				if !ok {
					dl = time.Time{}
				}
				seen <- dl
				return nil
			})
			ic := mustNew(t, grpcx.Config{Timeout: tc.policy})
			conn := h.dial(t, ic.DialOptions()...)
			ready(t, conn)
			client := healthpb.NewHealthClient(conn)
			ctx := context.Background() // bounded by one of the deadlines
			if tc.caller > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(context.Background(), tc.caller)
				defer cancel()
			}
			start := time.Now()
			_, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
			require.NoError(t, err)
			got := <-seen
			require.False(t, got.IsZero(), "the server saw no deadline")
			// The server's deadline is its clock at arrival plus the time
			// left when the call was sent: no earlier than the wanted one
			// (give or take the encoding's rounding), a little later at most,
			// and far from the other one.
			assert.WithinRange(t, got, start.Add(tc.want-time.Millisecond), start.Add(tc.want+time.Second))
		})
	}
}

func TestPolicyTimeoutIsAFailureAndTheCallersIsNot(t *testing.T) {
	for _, tc := range []struct {
		name         string
		caller       time.Duration
		wantTimeout  bool // the error matches timeout.ErrTimeout
		wantFailures uint32
	}{
		{"policy deadline passes", time.Minute, true, 1},
		{"caller deadline passes", 50 * time.Millisecond, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.srv.setCheck(outlive(t))
			rec := new(recorder)
			ic := mustNew(t, grpcx.Config{Timeout: 100 * time.Millisecond, Observer: rec})
			conn := h.dial(t, ic.DialOptions()...)
			ready(t, conn)
			client := healthpb.NewHealthClient(conn)
			ctx, cancel := context.WithTimeout(context.Background(), tc.caller)
			defer cancel()

			_, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
			assert.Equal(t, codes.DeadlineExceeded, status.Code(err))
			assert.Equal(t, tc.wantTimeout, errors.Is(err, timeout.ErrTimeout), "%v", err)
			if tc.wantTimeout {
				assert.ErrorIs(t, err, context.DeadlineExceeded)
			}
			assert.Equal(t, tc.wantFailures, ic.Breakers().Get(checkMethod).Counts().TotalFailures)
			timeouts := rec.OfKind(resilience.EventTimeout)
			require.Len(t, timeouts, int(tc.wantFailures))
			for _, ev := range timeouts {
				assert.Equal(t, checkMethod, ev.Key)
				assert.ErrorIs(t, ev.Err, timeout.ErrTimeout)
			}
		})
	}
}

func TestRefusalsAreUnavailableAndMatchTheirSentinels(t *testing.T) {
	for _, tc := range []struct {
		name      string
		cfg       grpcx.Config
		setup     func(t *testing.T, ic *grpcx.Interceptors, h *harness, client healthpb.HealthClient)
		sentinel  error
		wantDelay bool
	}{
		{
			name: "breaker forced open",
			cfg:  grpcx.Config{},
			setup: func(_ *testing.T, ic *grpcx.Interceptors, _ *harness, _ healthpb.HealthClient) {
				ic.Breakers().Get(checkMethod).ForceOpen()
			},
			sentinel: breaker.ErrOpen,
		},
		{
			name: "breaker open after failures",
			cfg:  grpcx.Config{Breaker: trip3},
			setup: func(t *testing.T, _ *grpcx.Interceptors, h *harness, client healthpb.HealthClient) {
				h.srv.setCheck(answer(codes.Internal))
				for range 3 {
					_, err := client.Check(bounded(t), &healthpb.HealthCheckRequest{})
					require.Equal(t, codes.Internal, status.Code(err))
				}
			},
			sentinel:  breaker.ErrOpen,
			wantDelay: true,
		},
		{
			name: "half-open with its probe out",
			cfg:  grpcx.Config{Breaker: breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 1, OpenTimeout: 10 * time.Millisecond, HalfOpenTimeout: time.Minute}}},
			setup: func(t *testing.T, _ *grpcx.Interceptors, h *harness, client healthpb.HealthClient) {
				holdProbe(t, h, client)
			},
			sentinel:  breaker.ErrTooManyProbes,
			wantDelay: true,
		},
		{
			name: "bulkhead full",
			cfg:  grpcx.Config{Bulkhead: bulkhead.Config{MaxConcurrent: 1}},
			setup: func(t *testing.T, _ *grpcx.Interceptors, _ *harness, client healthpb.HealthClient) {
				stream, err := client.Watch(bounded(t), &healthpb.HealthCheckRequest{})
				require.NoError(t, err)
				_, err = stream.Recv()
				require.NoError(t, err)
			},
			sentinel: bulkhead.ErrFull,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.srv.setWatch(watchHold)
			ic := mustNew(t, tc.cfg)
			client := h.client(t, ic.DialOptions()...)
			tc.setup(t, ic, h, client)
			before := h.srv.callsTo(checkMethod)

			_, err := client.Check(bounded(t), &healthpb.HealthCheckRequest{})
			require.Error(t, err)
			assert.Equal(t, before, h.srv.callsTo(checkMethod), "a refused call does not reach the server")
			assert.Equal(t, codes.Unavailable, status.Code(err))
			assert.ErrorIs(t, err, resilience.ErrRejected)
			assert.ErrorIs(t, err, tc.sentinel)
			var re *grpcx.RejectedError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, checkMethod, re.Key)
			st, ok := status.FromError(err)
			require.True(t, ok)
			assert.Equal(t, err.Error(), st.Message())
			if tc.wantDelay {
				assert.Positive(t, re.RetryAfter())
				assert.Contains(t, st.Message(), "retry after")
			} else {
				assert.NotContains(t, st.Message(), "retry after")
			}
		})
	}
}

// holdProbe makes the breaker of Check, open after one failure, let a
// probe through and keeps that probe running on the server until the test
// ends.
func holdProbe(t *testing.T, h *harness, client healthpb.HealthClient) {
	t.Helper()
	h.srv.setCheck(answer(codes.Internal))
	_, err := client.Check(bounded(t), &healthpb.HealthCheckRequest{})
	require.Equal(t, codes.Internal, status.Code(err))

	started, release, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	h.srv.setCheck(func(context.Context) error {
		close(started)
		<-release
		return nil
	})
	ctx := bounded(t)
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			_, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
			if !errors.Is(err, resilience.ErrRejected) {
				return // it was the probe
			}
			time.Sleep(time.Millisecond) // pace the attempts while it is open
		}
	}()
	t.Cleanup(func() {
		close(release)
		<-done
	})
	select {
	case <-started:
	case <-ctx.Done():
		t.Fatal("no probe reached the server")
	}
}

func TestUnaryFallbackFillsTheReply(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    grpcx.Config
		script unaryScript
	}{
		{"after a failure", grpcx.Config{}, answer(codes.Unavailable)},
		{"after a refusal", grpcx.Config{Breaker: breaker.KeyedConfig{Config: breaker.Config{ConsecutiveFailures: 1, OpenTimeout: time.Minute}}}, answer(codes.Unavailable)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.srv.setCheck(tc.script)
			rec := new(recorder)
			var answered []error
			cfg := tc.cfg
			cfg.Observer = rec
			cfg.UnaryFallback = func(_ context.Context, method string, req, reply any, err error) error {
				answered = append(answered, err)
				assert.Equal(t, checkMethod, method)
				assert.Equal(t, "svc", req.(*healthpb.HealthCheckRequest).GetService())
				reply.(*healthpb.HealthCheckResponse).Status = healthpb.HealthCheckResponse_NOT_SERVING
				return nil
			}
			ic := mustNew(t, cfg)
			client := h.client(t, ic.DialOptions()...)

			for range 2 {
				resp, err := client.Check(bounded(t), &healthpb.HealthCheckRequest{Service: "svc"})
				require.NoError(t, err)
				assert.Equal(t, healthpb.HealthCheckResponse_NOT_SERVING, resp.GetStatus())
			}
			require.Len(t, answered, 2)
			assert.Equal(t, codes.Unavailable, status.Code(answered[0]))
			fallbacks := rec.OfKind(resilience.EventFallback)
			require.Len(t, fallbacks, 2)
			assert.Equal(t, checkMethod, fallbacks[0].Key)
			if strings.Contains(tc.name, "refusal") {
				assert.ErrorIs(t, answered[1], resilience.ErrRejected, "the second call was refused")
			}
		})
	}
}

func TestUnaryFallbackDeclinesOrFails(t *testing.T) {
	boom := errors.New("cache down")
	for _, tc := range []struct {
		name     string
		fb       func(err error) error
		wantBoom bool
	}{
		{"declining returns the call's error", func(err error) error { return err }, false},
		{"failing returns both errors", func(error) error { return boom }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.srv.setCheck(answer(codes.Internal))
			ic := mustNew(t, grpcx.Config{UnaryFallback: func(_ context.Context, _ string, _, _ any, err error) error { return tc.fb(err) }})
			client := h.client(t, ic.DialOptions()...)

			_, err := client.Check(bounded(t), &healthpb.HealthCheckRequest{})
			assert.Equal(t, codes.Internal, status.Code(err), "the caller sees the call's code")
			assert.Equal(t, tc.wantBoom, errors.Is(err, boom))
			var fe *fallback.Error
			assert.Equal(t, tc.wantBoom, errors.As(err, &fe))
		})
	}
}

func TestUnaryFallbackIsNotAskedForACallerWhoGaveUp(t *testing.T) {
	h := newHarness(t)
	h.srv.setCheck(outlive(t))
	asked := false
	ic := mustNew(t, grpcx.Config{UnaryFallback: func(context.Context, string, any, any, error) error { asked = true; return nil }})
	client := h.client(t, ic.DialOptions()...)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()

	_, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
	assert.Equal(t, codes.DeadlineExceeded, status.Code(err))
	assert.False(t, asked)
}

func TestKeyFunctionGroupsMethods(t *testing.T) {
	h := newHarness(t)
	h.srv.setCheck(answer(codes.Unavailable))
	perService := func(method string) string { return method[:strings.LastIndexByte(method, '/')] }
	ic := mustNew(t, grpcx.Config{Key: perService, Breaker: trip3})
	client := h.client(t, ic.DialOptions()...)
	ctx := bounded(t)

	for range 3 {
		_, _ = client.Check(ctx, &healthpb.HealthCheckRequest{})
	}
	_, err := client.List(ctx, &healthpb.HealthListRequest{})
	assert.ErrorIs(t, err, breaker.ErrOpen, "List shares Check's breaker")
	var re *grpcx.RejectedError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "/grpc.health.v1.Health", re.Key)
	assert.Equal(t, "/grpc.health.v1.Health", ic.Key(listMethod))
	assert.Equal(t, 1, ic.Breakers().Len())
	assert.Zero(t, h.srv.callsTo(listMethod))
}

func TestClassifierOverridesTheDefault(t *testing.T) {
	notFoundFails := func(err error) resilience.Outcome {
		if status.Code(err) == codes.NotFound {
			return resilience.Failure
		}
		return grpcx.Classify(err)
	}
	for _, tc := range []struct {
		name string
		cfg  grpcx.Config
	}{
		{"Config.Classifier", grpcx.Config{Classifier: notFoundFails, Breaker: trip3}},
		{"Config.Breaker.Classifier", grpcx.Config{Breaker: breaker.KeyedConfig{Config: breaker.Config{
			ConsecutiveFailures: 3, OpenTimeout: time.Minute, Classifier: notFoundFails,
		}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.srv.setCheck(answer(codes.NotFound))
			ic := mustNew(t, tc.cfg)
			client := h.client(t, ic.DialOptions()...)
			for range 3 {
				_, err := client.Check(bounded(t), &healthpb.HealthCheckRequest{})
				require.Equal(t, codes.NotFound, status.Code(err))
			}
			_, err := client.Check(bounded(t), &healthpb.HealthCheckRequest{})
			assert.ErrorIs(t, err, breaker.ErrOpen)
		})
	}
}
