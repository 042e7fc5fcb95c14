package grpcx

import (
	"context"
	"errors"

	"github.com/go-resilience/resilience"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Classify is the default classifier of the interceptors: it says what a
// call's error tells about the server's health, by its gRPC status code.
//
//   - nil (OK) is a Success.
//   - Unavailable, DeadlineExceeded, ResourceExhausted, Internal, Unknown
//     and DataLoss are Failures: the server is down, slow, overloaded or
//     broken.
//   - Canceled is Ignored: someone gave up on the call.
//   - Every other code (InvalidArgument, NotFound, AlreadyExists,
//     PermissionDenied, Unauthenticated, FailedPrecondition, Aborted,
//     OutOfRange, Unimplemented) is a Success: the server answered, the
//     request was wrong.
//   - A code outside the gRPC range (17 and up) is a Failure, as Unknown is.
//
// The code is found with errors.As on GRPCStatus() *status.Status, so
// wrapped status errors are classified by their code. An error without a
// status is classified as gRPC would report it: context.Canceled as
// Canceled, context.DeadlineExceeded (timeout.ErrTimeout included) as
// DeadlineExceeded, anything else as Unknown.
//
// The breaker applies two rules first that no classifier overrides (see
// resilience.Classifier.Classify): an error of a call whose caller's own
// context is done, and a refusal of this library, are Ignored.
//
// To change the verdict for some codes, wrap Classify:
//
//	cfg.Classifier = func(err error) resilience.Outcome {
//		if status.Code(err) == codes.NotFound {
//			return resilience.Failure // a missing record means a broken replica here
//		}
//		return grpcx.Classify(err)
//	}
//
// Classify is safe for concurrent use and allocates nothing for a nil error.
func Classify(err error) resilience.Outcome {
	if err == nil {
		return resilience.Success
	}
	return classifyCode(codeOf(err))
}

// statusError is an error that carries a gRPC status, what
// status.FromError looks for.
type statusError interface {
	error
	GRPCStatus() *status.Status
}

// codeOf returns the gRPC code err carries, or the code gRPC would give an
// error without one.
func codeOf(err error) codes.Code {
	if se, ok := errors.AsType[statusError](err); ok {
		if st := se.GRPCStatus(); st != nil {
			return st.Code()
		}
		return codes.Unknown // what status.FromError makes of a nil status
	}
	switch {
	case errors.Is(err, context.Canceled):
		return codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	}
	return codes.Unknown
}

func classifyCode(c codes.Code) resilience.Outcome {
	switch c {
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted,
		codes.Internal, codes.Unknown, codes.DataLoss:
		return resilience.Failure
	case codes.Canceled:
		return resilience.Ignored
	case codes.OK, codes.InvalidArgument, codes.NotFound, codes.AlreadyExists,
		codes.PermissionDenied, codes.Unauthenticated, codes.FailedPrecondition,
		codes.Aborted, codes.OutOfRange, codes.Unimplemented:
		return resilience.Success
	}
	return resilience.Failure
}
