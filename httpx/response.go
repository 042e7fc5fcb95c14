package httpx

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"
)

// discard drains a bounded amount of resp's body and closes it. A body of
// the Transport's own (a failure response) is drained by its Close, within
// the bounds of drain; another is read up to maxDrain bytes.
func discard(resp *http.Response) {
	switch resp.Body.(type) {
	case nil:
		return
	case *call, rwBody:
		resp.Body.Close()
		return
	}
	io.CopyN(io.Discard, resp.Body, maxDrain)
	resp.Body.Close()
}

// refusalResponse is the synthesized 503 for a request the Transport
// refused with err.
func refusalResponse(req *http.Request, err error) *http.Response {
	h := make(http.Header, 1)
	var ra interface{ RetryAfter() time.Duration }
	if errors.As(err, &ra) {
		if d := ra.RetryAfter(); d > 0 {
			h["Retry-After"] = []string{strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)}
		}
	}
	return &http.Response{
		Status:        "503 Service Unavailable",
		StatusCode:    http.StatusServiceUnavailable,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          http.NoBody,
		ContentLength: 0,
		Request:       req,
	}
}
