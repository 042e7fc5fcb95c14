package httpx

import (
	"context"
	"errors"
	"net/http"

	"github.com/go-resilience/resilience"
)

// DefaultClassify is the classifier a Transport uses when Config.Classify is
// nil. It is called with a response and a nil error, or with a nil response
// and the error the base transport returned:
//
//   - a response with a 5xx status or 429 Too Many Requests is a Failure;
//   - any other response (1xx, 2xx, 3xx, and 4xx other than 429) is a
//     Success: the server answered, the fault is the request's;
//   - an error matching context.Canceled is Ignored (someone gave up on the
//     request; the server did not fail);
//   - any other error (refused connection, reset, TLS failure, the
//     Transport's own timeout) is a Failure;
//   - a nil response with a nil error (a broken base transport) is a Failure.
//
// A custom classifier may call it for the cases it does not handle:
//
//	Classify: func(resp *http.Response, err error) resilience.Outcome {
//		if resp != nil && resp.StatusCode == http.StatusNotImplemented {
//			return resilience.Success // a missing feature, not a sick server
//		}
//		return httpx.DefaultClassify(resp, err)
//	}
//
// It never reads the body and is safe for concurrent use.
func DefaultClassify(resp *http.Response, err error) resilience.Outcome {
	switch {
	case err != nil:
		if errors.Is(err, context.Canceled) {
			return resilience.Ignored
		}
		return resilience.Failure
	case resp == nil:
		return resilience.Failure
	case resp.StatusCode >= 500 && resp.StatusCode <= 599,
		resp.StatusCode == http.StatusTooManyRequests:
		return resilience.Failure
	}
	return resilience.Success
}
