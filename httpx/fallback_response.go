package httpx

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
)

// NewResponse returns a response to req with status code, header and body,
// complete as net/http would make it, for a Config.Fallback to answer with:
// Status is code and its text ("200 OK"), Proto HTTP/1.1, ContentLength and
// Content-Length the length of body, Request req. A nil header is an empty
// one; header is used as it is, not copied, so give each response its own.
// Body reads body, which must not change while it is read; an empty body
// is http.NoBody.
//
//	Fallback: func(req *http.Request, err error) (*http.Response, error) {
//		h := http.Header{"Content-Type": {"application/json"}}
//		return httpx.NewResponse(req, http.StatusOK, h, cachedPrices), nil
//	},
func NewResponse(req *http.Request, code int, header http.Header, body []byte) *http.Response {
	if header == nil {
		header = make(http.Header, 1)
	}
	header.Set("Content-Length", strconv.Itoa(len(body)))
	var rc io.ReadCloser = http.NoBody
	if len(body) > 0 {
		rc = io.NopCloser(bytes.NewReader(body))
	}
	status := strconv.Itoa(code)
	if text := http.StatusText(code); text != "" {
		status += " " + text
	}
	return &http.Response{
		Status:        status,
		StatusCode:    code,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		Body:          rc,
		ContentLength: int64(len(body)),
		Request:       req,
	}
}
