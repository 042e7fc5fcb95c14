package grpcx_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/go-resilience/resilience"
	"github.com/go-resilience/resilience/grpcx"
	"github.com/stretchr/testify/assert"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// referenceOutcome is the rule of the package, written as plainly as it is
// stated: the failure codes, the caller's cancellation, and the rest.
func referenceOutcome(c codes.Code) resilience.Outcome {
	failures := map[codes.Code]bool{
		codes.Unavailable: true, codes.DeadlineExceeded: true, codes.ResourceExhausted: true,
		codes.Internal: true, codes.Unknown: true, codes.DataLoss: true,
	}
	answered := map[codes.Code]bool{
		codes.OK: true, codes.InvalidArgument: true, codes.NotFound: true, codes.AlreadyExists: true,
		codes.PermissionDenied: true, codes.Unauthenticated: true, codes.FailedPrecondition: true,
		codes.Aborted: true, codes.OutOfRange: true, codes.Unimplemented: true,
	}
	switch {
	case failures[c]:
		return resilience.Failure
	case c == codes.Canceled:
		return resilience.Ignored
	case answered[c]:
		return resilience.Success
	}
	return resilience.Failure // outside the gRPC range: as Unknown
}

func TestClassifyByStatusCode(t *testing.T) {
	for _, tc := range []struct {
		code codes.Code
		want resilience.Outcome
	}{
		{codes.Unavailable, resilience.Failure},
		{codes.DeadlineExceeded, resilience.Failure},
		{codes.ResourceExhausted, resilience.Failure},
		{codes.Internal, resilience.Failure},
		{codes.Unknown, resilience.Failure},
		{codes.DataLoss, resilience.Failure},
		{codes.Canceled, resilience.Ignored},
		{codes.InvalidArgument, resilience.Success},
		{codes.NotFound, resilience.Success},
		{codes.AlreadyExists, resilience.Success},
		{codes.PermissionDenied, resilience.Success},
		{codes.Unauthenticated, resilience.Success},
		{codes.FailedPrecondition, resilience.Success},
		{codes.Aborted, resilience.Success},
		{codes.OutOfRange, resilience.Success},
		{codes.Unimplemented, resilience.Success},
		{codes.Code(17), resilience.Failure},
		{codes.Code(1000), resilience.Failure},
	} {
		t.Run(tc.code.String(), func(t *testing.T) {
			err := status.Error(tc.code, "x")
			assert.Equal(t, tc.want, grpcx.Classify(err), "status error")
			assert.Equal(t, tc.want, grpcx.Classify(fmt.Errorf("wrapped: %w", err)), "wrapped status error")
		})
	}
}

func TestClassifyErrorsWithoutStatusAsGRPCWould(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want resilience.Outcome
	}{
		{"nil is success", nil, resilience.Success},
		{"canceled is ignored", fmt.Errorf("op: %w", context.Canceled), resilience.Ignored},
		{"deadline is a failure", fmt.Errorf("op: %w", context.DeadlineExceeded), resilience.Failure},
		{"plain error is unknown, a failure", errors.New("boom"), resilience.Failure},
		{"nil status is unknown, a failure", nilStatusError{}, resilience.Failure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, grpcx.Classify(tc.err))
		})
	}
}

func TestClassifyAllocatesNothingOnSuccess(t *testing.T) {
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = grpcx.Classify(nil) }))
}

// nilStatusError claims a status and has none; gRPC calls that Unknown.
type nilStatusError struct{}

func (nilStatusError) Error() string              { return "nil status" }
func (nilStatusError) GRPCStatus() *status.Status { return nil }

// FuzzClassify checks Classify against referenceOutcome for any code,
// message and way of carrying the code.
func FuzzClassify(f *testing.F) {
	for c := range uint32(18) {
		for how := range uint8(5) {
			f.Add(c, "msg", how)
		}
	}
	f.Add(uint32(1<<31), "", uint8(0))
	f.Fuzz(func(t *testing.T, code uint32, msg string, how uint8) {
		c := codes.Code(code)
		se := status.Error(c, msg) // nil for codes.OK
		var err error
		want := referenceOutcome(c)
		switch how % 5 {
		case 0: // a status error
			err = se
		case 1: // wrapped once
			if se != nil {
				err = fmt.Errorf("%s: %w", msg, se)
			}
		case 2: // joined with a plain error after it
			if se != nil {
				err = errors.Join(se, errors.New(msg))
			}
		case 3: // no status: gRPC would call it Unknown
			err = errors.New(msg)
			want = resilience.Failure
		case 4: // the caller's cancellation, wrapped
			err = fmt.Errorf("%s: %w", msg, context.Canceled)
			want = resilience.Ignored
		}
		if err == nil { // status.Error with codes.OK is nil
			want = resilience.Success
		}
		assert.Equal(t, want, grpcx.Classify(err), "code %v, carried as %d: %v", c, how%5, err)
	})
}
