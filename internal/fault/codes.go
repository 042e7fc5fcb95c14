package fault

import (
	"net/http"

	"google.golang.org/grpc/codes"
)

// codeForStatus is gRPC's mapping of an HTTP status to a code
// (doc/http-grpc-status-mapping.md in grpc/grpc), with 2xx as OK.
func codeForStatus(status int) codes.Code {
	switch {
	case status >= 200 && status <= 299:
		return codes.OK
	case status == http.StatusBadRequest:
		return codes.Internal
	case status == http.StatusUnauthorized:
		return codes.Unauthenticated
	case status == http.StatusForbidden:
		return codes.PermissionDenied
	case status == http.StatusNotFound:
		return codes.Unimplemented
	case status == http.StatusTooManyRequests, status == http.StatusBadGateway,
		status == http.StatusServiceUnavailable, status == http.StatusGatewayTimeout:
		return codes.Unavailable
	}
	return codes.Unknown
}

// statusForCode is the HTTP status commonly used for a gRPC code (as
// grpc-gateway maps them).
func statusForCode(c codes.Code) int {
	switch c {
	case codes.OK:
		return http.StatusOK
	case codes.Canceled:
		return 499
	case codes.InvalidArgument, codes.FailedPrecondition, codes.OutOfRange:
		return http.StatusBadRequest
	case codes.DeadlineExceeded:
		return http.StatusGatewayTimeout
	case codes.NotFound:
		return http.StatusNotFound
	case codes.AlreadyExists, codes.Aborted:
		return http.StatusConflict
	case codes.PermissionDenied:
		return http.StatusForbidden
	case codes.Unauthenticated:
		return http.StatusUnauthorized
	case codes.ResourceExhausted:
		return http.StatusTooManyRequests
	case codes.Unimplemented:
		return http.StatusNotImplemented
	case codes.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError // Unknown, Internal, DataLoss, any other
}
